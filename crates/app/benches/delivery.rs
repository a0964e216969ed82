//! Delivery throughput: `App::deliver_due` sending webhooks to an HTTP receiver and email to an
//! SMTP sink, both running in this process, against the same receivers hit directly (reqwest,
//! lettre) without the outbox, measured in the same run.
//!
//! Messages are queued through the real paths: email by the daily sweep (a 90-day reminder for
//! each of N credentials written with bulk SQL), webhooks by `App::send_test_event` on an
//! endpoint made with `App::create_webhook`. Both sides send one message at a time, so the time
//! between consecutive arrivals at the receiver is the time per message (for the first message:
//! from the start of the run).
//!
//! cargo bench -p accredit-app --bench delivery -- [--messages N] [--rounds R]
//!     [--database-url postgres://USER@HOST:PORT/accredit_bench_NAME]
//!
//! A PostgreSQL database is created for the run (dropped first if left over) and dropped at the
//! end, so its name must start with `accredit_bench_`.

use accredit_app::delivery::{Delivery, sign_webhook};
use accredit_app::outbox::RetryPolicy;
use accredit_app::{App, AppConfig, Backend, Ctx, Db, SystemClock};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use jiff::ToSpan as _;
use jiff::civil::Date;
use lettre::AsyncTransport as _;
use sqlx::Connection as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpListener;

const PROGRAM: &str = r#"
[program]
id = "bench"
name = "Bench Program"
version = "1"
job_roles = ["sales"]

[[modules]]
id = "m1"
title = "Module one"
hours = 1
job_roles = ["sales"]

[[tracks]]
id = "t1"
name = "Track one"
job_roles = ["sales"]
validity = { months = 12 }
renewal = { window_days = 30, requires = "full-track" }
requires = { module = "m1" }
"#;

const FROM: &str = "Accredit <noreply@bench.example>";

struct Options {
    messages: usize,
    rounds: usize,
    database_url: Option<String>,
}

fn options() -> Options {
    let mut options = Options {
        messages: 2000,
        rounds: 3,
        database_url: None,
    };
    let mut args = std::env::args().skip(1);
    let number = |v: Option<String>, name: &str| -> usize {
        v.and_then(|v| v.parse().ok())
            .filter(|n| *n > 0)
            .unwrap_or_else(|| panic!("{name} takes a positive number"))
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--messages" => options.messages = number(args.next(), "--messages"),
            "--rounds" => options.rounds = number(args.next(), "--rounds"),
            "--database-url" => options.database_url = args.next(),
            // cargo bench passes --bench; anything else is ignored.
            _ => {}
        }
    }
    options
}

/// When each message reached a receiver, and for email the time the client took between the
/// sink's acceptance of one message and the next `MAIL` command (on any connection: both
/// clients send one message at a time).
#[derive(Clone, Default)]
struct Arrivals(Arc<Mutex<Seen>>);

#[derive(Default)]
struct Seen {
    since: Option<Instant>,
    arrivals: Vec<Instant>,
    accepted: Option<Instant>,
    between: Vec<f64>,
}

impl Arrivals {
    /// Starts a measurement: forgets what came before.
    fn start(&self) -> Instant {
        let now = Instant::now();
        *self.0.lock().expect("arrivals") = Seen {
            since: Some(now),
            ..Seen::default()
        };
        now
    }

    fn record(&self) {
        self.0
            .lock()
            .expect("arrivals")
            .arrivals
            .push(Instant::now());
    }

    /// The sink answered 250 to a message's final dot.
    fn accepted(&self) {
        self.0.lock().expect("arrivals").accepted = Some(Instant::now());
    }

    /// The next message begins.
    fn mail(&self) {
        let mut seen = self.0.lock().expect("arrivals");
        if let Some(at) = seen.accepted.take() {
            seen.between.push(at.elapsed().as_secs_f64() * 1000.0);
        }
    }

    /// The time per message (gaps between consecutive arrivals, the first from the start), and
    /// the client's time between messages.
    fn take(&self) -> (Vec<f64>, Vec<f64>) {
        let seen = std::mem::take(&mut *self.0.lock().expect("arrivals"));
        let mut previous = seen.since.expect("started");
        let gaps = seen
            .arrivals
            .into_iter()
            .map(|at| {
                let gap = at.duration_since(previous).as_secs_f64() * 1000.0;
                previous = at;
                gap
            })
            .collect();
        (gaps, seen.between)
    }
}

/// The webhook receiver: accepts a signed POST with a 204.
async fn hook(State(arrivals): State<Arrivals>, headers: HeaderMap) -> StatusCode {
    if !["webhook-id", "webhook-timestamp", "webhook-signature"]
        .iter()
        .all(|h| headers.contains_key(*h))
    {
        return StatusCode::BAD_REQUEST;
    }
    arrivals.record();
    StatusCode::NO_CONTENT
}

/// An SMTP server that accepts every message: 220 on connect, 250 to each command, 354 to DATA
/// and 250 after the terminating dot, 221 to QUIT. No extensions are offered.
async fn smtp_sink(listener: TcpListener, arrivals: Arrivals) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let arrivals = arrivals.clone();
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut read = BufReader::new(read);
            let mut line = Vec::new();
            write.write_all(b"220 sink ESMTP\r\n").await?;
            loop {
                line.clear();
                if read.read_until(b'\n', &mut line).await? == 0 {
                    return Ok::<(), std::io::Error>(());
                }
                let verb = line
                    .get(..4)
                    .map(|v| v.to_ascii_uppercase())
                    .unwrap_or_default();
                match &verb[..] {
                    b"EHLO" | b"HELO" => write.write_all(b"250 sink\r\n").await?,
                    b"DATA" => {
                        write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                        loop {
                            line.clear();
                            if read.read_until(b'\n', &mut line).await? == 0 {
                                return Ok(());
                            }
                            if line == b".\r\n" || line == b".\n" {
                                break;
                            }
                        }
                        arrivals.record();
                        write.write_all(b"250 queued\r\n").await?;
                        arrivals.accepted();
                    }
                    b"MAIL" => {
                        arrivals.mail();
                        write.write_all(b"250 OK\r\n").await?;
                    }
                    b"QUIT" => {
                        write.write_all(b"221 bye\r\n").await?;
                        return Ok(());
                    }
                    _ => write.write_all(b"250 OK\r\n").await?,
                }
            }
        });
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Messages per second and the per-message percentiles of one measured batch.
#[derive(Clone)]
struct Measured {
    messages: usize,
    seconds: f64,
    gaps: Vec<f64>,
    /// Email only: the client's time between messages on one connection.
    between: Vec<f64>,
}

impl Measured {
    fn new(messages: usize, seconds: f64, (mut gaps, mut between): (Vec<f64>, Vec<f64>)) -> Self {
        assert_eq!(gaps.len(), messages, "every message reached the receiver");
        gaps.sort_by(f64::total_cmp);
        between.sort_by(f64::total_cmp);
        Self {
            messages,
            seconds,
            gaps,
            between,
        }
    }

    fn rate(&self) -> f64 {
        self.messages as f64 / self.seconds
    }

    fn cells(&self) -> String {
        format!(
            "{:.0} | {:.3} | {:.3} | {:.3}",
            self.rate(),
            percentile(&self.gaps, 0.5),
            percentile(&self.gaps, 0.95),
            percentile(&self.gaps, 0.99)
        )
    }

    fn between_cells(&self) -> String {
        if self.between.is_empty() {
            return "– | – | –".into();
        }
        format!(
            "{:.3} | {:.3} | {:.3}",
            percentile(&self.between, 0.5),
            percentile(&self.between, 0.95),
            percentile(&self.between, 0.99)
        )
    }
}

/// N people without a partner (so no account manager digest), each holding a credential whose
/// 90-day reminder falls on `day`.
async fn seed_due(db: &Db, from: usize, n: usize, day: Date, now: &str) {
    let last = from + n - 1;
    let (series, id, from_series) = match db.backend {
        Backend::Sqlite => (
            format!(
                "WITH RECURSIVE seq(i) AS (SELECT {from} UNION ALL SELECT i + 1 FROM seq WHERE i < {last})"
            ),
            "printf('%012d', i)",
            "FROM seq".to_owned(),
        ),
        Backend::Postgres => (
            String::new(),
            "lpad(CAST(i AS TEXT), 12, '0')",
            format!("FROM generate_series({from}, {last}) AS seq(i)"),
        ),
    };
    let valid_until = day + 89.days();
    let issued = (valid_until + 1.day()) - 12.months();
    let statements = [
        format!(
            "INSERT INTO people (id, display_name, email, job_role, created_at, updated_at)
             {series} SELECT '00000000-0000-7000-b000-' || {id}, 'Person ' || CAST(i AS TEXT),
             'person' || CAST(i AS TEXT) || '@bench.example', 'sales', '{now}', '{now}' {from_series}"
        ),
        format!(
            "INSERT INTO credentials (id, person_id, program_id, track_id, issued_on, valid_until, status, created_at, content_versions, status_index, next_due_on)
             {series} SELECT '00000000-0000-7000-c000-' || {id}, '00000000-0000-7000-b000-' || {id},
             'bench', 't1', '{issued}', '{valid_until}', 'active', '{now}', '{{}}', i + 1, '{day}' {from_series}"
        ),
    ];
    let mut tx = db.begin().await.expect("begin");
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await
            .expect("seed");
    }
    tx.commit().await.expect("commit");
}

/// Sends `n` signed webhooks straight to the receiver, the way `Delivery` would, without the
/// outbox.
async fn http_direct(url: &str, secret: &str, n: usize, arrivals: &Arrivals) -> Measured {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Accredit-Webhooks/1")
        .build()
        .expect("client");
    let start = arrivals.start();
    for i in 0..n {
        let body = serde_json::json!({
            "type": "webhook.test",
            "timestamp": jiff::Timestamp::now().to_string(),
            "data": { "subscription": "direct" },
        })
        .to_string();
        let id = format!("msg_direct_{i}");
        let timestamp = jiff::Timestamp::now().as_second();
        let signature = sign_webhook(secret, &id, timestamp, &body).expect("sign");
        let response = http
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .expect("POST");
        assert!(response.status().is_success());
    }
    let seconds = start.elapsed().as_secs_f64();
    Measured::new(n, seconds, arrivals.take())
}

/// Sends `n` emails straight to the sink with lettre, configured as `Delivery` configures it.
async fn smtp_direct(smtp_url: &str, n: usize, arrivals: &Arrivals) -> Measured {
    let smtp = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(smtp_url)
        .expect("SMTP URL")
        .timeout(Some(Duration::from_secs(20)))
        .build();
    let start = arrivals.start();
    for i in 0..n {
        let email = lettre::Message::builder()
            .from(FROM.parse().expect("from"))
            .to(format!("Person {i} <person{i}@bench.example>")
                .parse()
                .expect("to"))
            .subject("Your Track one credential lapses in 90 days")
            .message_id(Some(format!("<direct-{i}@bench.example>")))
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(format!(
                "Hello Person {i},\n\nYour Track one credential (Bench Program) lapses in 90 days.\n"
            ))
            .expect("email");
        smtp.send(email).await.expect("send");
    }
    let seconds = start.elapsed().as_secs_f64();
    Measured::new(n, seconds, arrivals.take())
}

async fn deliver(app: &App, delivery: &Delivery, n: usize, arrivals: &Arrivals) -> Measured {
    let start = arrivals.start();
    let report = app.deliver_due(delivery).await.expect("deliver");
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(report.delivered, n, "every message delivered: {report:?}");
    Measured::new(n, seconds, arrivals.take())
}

/// For PostgreSQL: the server URL with the maintenance database, and the bench database's name.
fn split_postgres_url(url: &str) -> (String, String) {
    let (base, rest) = url.rsplit_once('/').expect("postgres://USER@HOST:PORT/DB");
    let name = rest.split('?').next().unwrap_or_default().to_owned();
    assert!(
        name.starts_with("accredit_bench_")
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "the database is created and dropped by the bench: name it accredit_bench_SOMETHING"
    );
    (format!("{base}/postgres"), name)
}

async fn postgres_admin(server: &str, sql: &str) {
    let mut conn = sqlx::postgres::PgConnection::connect(server)
        .await
        .expect("PostgreSQL server");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    conn.close().await.ok();
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let options = options();
    let n = options.messages;

    let hooks = Arrivals::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let hook_url = format!("http://{}/hook", listener.local_addr().expect("address"));
    let router = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(hooks.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let mails = Arrivals::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let smtp_url = format!(
        "smtp://127.0.0.1:{}",
        listener.local_addr().expect("address").port()
    );
    tokio::spawn(smtp_sink(listener, mails.clone()));

    let dir = tempfile::tempdir().expect("temp dir");
    let url = options.database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("delivery.db").display()
        )
    });
    let postgres = url
        .starts_with("postgres")
        .then(|| split_postgres_url(&url));
    if let Some((server, name)) = &postgres {
        postgres_admin(server, &format!("DROP DATABASE IF EXISTS {name}")).await;
        postgres_admin(server, &format!("CREATE DATABASE {name}")).await;
    }
    let db = Db::connect_and_migrate(&url).await.expect("database");
    let backend_name = match db.backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };
    let app = App::new(db.clone(), Arc::new(SystemClock), AppConfig::default());
    let ctx = Ctx::system();
    app.apply_program(&ctx, PROGRAM).await.expect("program");
    let subscription = app
        .create_webhook(&ctx, &hook_url, &["credential.expired".to_owned()])
        .await
        .expect("webhook");
    let webhooks = Delivery::new(None, FROM, RetryPolicy::default()).expect("delivery");
    let emails = Delivery::new(Some(&smtp_url), FROM, RetryPolicy::default()).expect("delivery");
    let today = app.today();
    let now = accredit_app::clock::format_instant(app.now());

    println!(
        "{n} messages per channel and round, {backend_name}, {} rounds",
        options.rounds
    );
    let mut rows = Vec::new();
    for round in 0..options.rounds {
        let started = Instant::now();
        for _ in 0..n {
            app.send_test_event(&ctx, &subscription.id)
                .await
                .expect("test event");
        }
        let queued_hooks = started.elapsed().as_secs_f64();
        let direct_http = http_direct(&hook_url, &subscription.secret, n, &hooks).await;
        let delivered_hooks = deliver(&app, &webhooks, n, &hooks).await;

        // Today's sweep: a sweep of another day would date its messages that day.
        seed_due(&db, round * n, n, today, &now).await;
        let started = Instant::now();
        let report = app.run_sweep(&ctx, today).await.expect("sweep");
        assert_eq!(report.reminders, n, "one reminder email each");
        let queued_mails = started.elapsed().as_secs_f64();
        let direct_smtp = smtp_direct(&smtp_url, n, &mails).await;
        let delivered_mails = deliver(&app, &emails, n, &mails).await;
        println!(
            "round {}: queued {n} webhooks in {queued_hooks:.2} s (send_test_event), {n} emails in {queued_mails:.2} s (sweep)",
            round + 1
        );
        rows.push((round + 1, "webhook", delivered_hooks, direct_http));
        rows.push((round + 1, "email", delivered_mails, direct_smtp));
    }
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE state <> 'delivered'")
        .fetch_one(db.reader())
        .await
        .expect("outbox");
    assert_eq!(left, 0, "every message delivered");

    println!();
    println!("### {backend_name}: {n} messages per channel and round");
    println!();
    println!(
        "| round | channel | deliver_due msg/s | p50 ms | p95 ms | p99 ms | direct msg/s | p50 ms | p95 ms | p99 ms | deliver_due / direct |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for (round, channel, delivered, direct) in &rows {
        println!(
            "| {round} | {channel} | {} | {} | {:.2} |",
            delivered.cells(),
            direct.cells(),
            delivered.rate() / direct.rate()
        );
    }
    for channel in ["webhook", "email"] {
        let pool = |delivered: bool| {
            let picked: Vec<&Measured> = rows
                .iter()
                .filter(|r| r.1 == channel)
                .map(|r| if delivered { &r.2 } else { &r.3 })
                .collect();
            Measured::new(
                picked.iter().map(|m| m.messages).sum(),
                picked.iter().map(|m| m.seconds).sum(),
                (
                    picked.iter().flat_map(|m| m.gaps.iter().copied()).collect(),
                    picked
                        .iter()
                        .flat_map(|m| m.between.iter().copied())
                        .collect(),
                ),
            )
        };
        let (delivered, direct) = (pool(true), pool(false));
        println!(
            "| all | {channel} | {} | {} | {:.2} |",
            delivered.cells(),
            direct.cells(),
            delivered.rate() / direct.rate()
        );
    }

    println!();
    println!(
        "Email, the client's time between the sink accepting one message and the next MAIL (ms):"
    );
    println!();
    println!("| round | deliver_due p50 | p95 | p99 | direct p50 | p95 | p99 |");
    println!("|---|---|---|---|---|---|---|");
    for (round, _, delivered, direct) in rows.iter().filter(|r| r.1 == "email") {
        println!(
            "| {round} | {} | {} |",
            delivered.between_cells(),
            direct.between_cells()
        );
    }

    db.close().await;
    if let Some((server, name)) = &postgres {
        postgres_admin(server, &format!("DROP DATABASE {name} WITH (FORCE)")).await;
    }
}
