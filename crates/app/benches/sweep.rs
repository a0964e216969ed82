//! The daily sweep at scale: 1,000,000 active credentials, one in a hundred due on the sweep day
//! for its 90-day reminder, the rest due later. Measures (a) the sweep of the due day, (b) the
//! same sweep run again, (c) the sweep of a day when nothing is due, repeated; all on several
//! freshly generated data sets.
//!
//! The data is written with `INSERT ... SELECT` over a generated series (a recursive CTE on
//! SQLite, `generate_series` on PostgreSQL); only the program goes through `App::apply_program`.
//!
//! cargo bench -p accredit-app --bench sweep -- [--credentials N] [--data-sets S]
//!     [--due-days K] [--quiet-runs M] [--webhooks W] [--statements] [--keep]
//!     [--database-url postgres://USER@HOST:PORT/accredit_bench_NAME]
//!
//! `--due-days K` makes another one in a hundred due on each of the K - 1 following days, swept
//! in turn. `--webhooks W` subscribes W endpoints to `credential.expiring`, so each reminder
//! also queues W webhooks (none are delivered here). A PostgreSQL database is created for each
//! data set (dropped first if left over) and dropped at the end, so its name must start with
//! `accredit_bench_`. `--statements` records every statement the due-day sweeps and their
//! re-runs execute (count and time each, as sqlx reports them); that adds overhead, so its wall
//! times are not the headline figures. `--keep` leaves the last data set's database in place
//! (after its sweeps) to inspect query plans.

use accredit_app::lifecycle::SweepReport;
use accredit_app::{App, AppConfig, Backend, Ctx, Db, SystemClock};
use jiff::ToSpan as _;
use jiff::civil::Date;
use sqlx::Connection as _;
use std::sync::Arc;
use std::time::Instant;

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

[[tiers]]
id = "certified"
name = "Certified"
requires = { people_holding = "t1", at_least = 1 }

[[benefits]]
id = "deal-registration"
name = "Deal registration"
subject = "partner"
requires = { tier = "certified" }
"#;

/// One credential in this many is due on each sweep day.
const DUE_EVERY: usize = 100;
const PEOPLE_PER_PARTNER: usize = 100;
const PARTNERS_PER_MANAGER: usize = 100;

struct Options {
    credentials: usize,
    due_days: usize,
    quiet_runs: usize,
    data_sets: usize,
    statements: bool,
    keep: bool,
    webhooks: usize,
    database_url: Option<String>,
}

fn options() -> Options {
    let mut options = Options {
        credentials: 1_000_000,
        due_days: 1,
        quiet_runs: 20,
        data_sets: 3,
        statements: false,
        keep: false,
        webhooks: 0,
        database_url: None,
    };
    let mut args = std::env::args().skip(1);
    let number = |v: Option<String>, name: &str| -> usize {
        v.and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} takes a number"))
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--credentials" => options.credentials = number(args.next(), "--credentials"),
            "--due-days" => options.due_days = number(args.next(), "--due-days"),
            "--quiet-runs" => options.quiet_runs = number(args.next(), "--quiet-runs"),
            "--data-sets" => options.data_sets = number(args.next(), "--data-sets"),
            "--statements" => options.statements = true,
            "--keep" => options.keep = true,
            "--webhooks" => options.webhooks = number(args.next(), "--webhooks"),
            "--database-url" => options.database_url = args.next(),
            // cargo bench passes --bench; anything else is ignored.
            _ => {}
        }
    }
    assert!(
        options
            .credentials
            .is_multiple_of(PEOPLE_PER_PARTNER * PARTNERS_PER_MANAGER),
        "--credentials must be a multiple of {}",
        PEOPLE_PER_PARTNER * PARTNERS_PER_MANAGER
    );
    // Due days and the quiet day must come before the first day the other credentials are due.
    assert!(
        (1..=8).contains(&options.due_days),
        "--due-days must be 1 to 8"
    );
    assert!(options.quiet_runs >= 1, "--quiet-runs must be at least 1");
    assert!(options.data_sets >= 1, "--data-sets must be at least 1");
    options
}

/// Records, while switched on, each statement sqlx runs with its duration: sqlx reports every
/// statement as a `sqlx::query` tracing event carrying the SQL and `elapsed_secs`.
mod statements {
    use std::collections::BTreeMap;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};
    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::subscriber::Interest;
    use tracing::{Event, Metadata, Subscriber};

    static RECORDING: AtomicBool = AtomicBool::new(false);
    static SEEN: Mutex<BTreeMap<String, (u64, f64)>> = Mutex::new(BTreeMap::new());

    pub struct Statements;

    pub fn install() {
        tracing::subscriber::set_global_default(Statements).expect("statement recorder");
    }

    pub fn record(on: bool) {
        RECORDING.store(on, Ordering::SeqCst);
    }

    /// A statement, how many times it ran and its total seconds.
    pub type Seen = (String, u64, f64);

    /// What was recorded since the last call, busiest first.
    pub fn take() -> Vec<Seen> {
        let seen = std::mem::take(&mut *SEEN.lock().expect("statements"));
        let mut out: Vec<Seen> = seen.into_iter().map(|(sql, (n, s))| (sql, n, s)).collect();
        out.sort_by(|a, b| b.2.total_cmp(&a.2));
        out
    }

    /// One key for a statement whatever its number of rows: a multi-row `VALUES` list and a
    /// long `IN (...)` list are cut after their first item, and the key says so up front.
    fn shape(sql: &str) -> String {
        let mut out = sql.to_owned();
        let mut many = false;
        if let Some(start) = out.find("), (") {
            let end = out[start..]
                .rfind("), (")
                .map(|last| start + last + 4)
                .and_then(|from| out[from..].find(')').map(|close| from + close))
                .unwrap_or(start);
            out.replace_range(start + 1..=end, ", …");
            many = true;
        }
        if let Some(start) = out.find("IN ($")
            && let Some(len) = out[start..].find(')')
            && out[start..start + len].matches(", $").count() > 2
        {
            let first = out[start..].find(',').map_or(start + len, |c| start + c);
            out.replace_range(first..start + len, ", …");
            many = true;
        }
        if many {
            format!("(many rows) {out}")
        } else {
            out
        }
    }

    #[derive(Default)]
    struct Fields {
        summary: String,
        statement: String,
        elapsed: f64,
    }

    impl Visit for Fields {
        fn record_str(&mut self, field: &Field, value: &str) {
            match field.name() {
                "summary" => self.summary = value.to_owned(),
                "db.statement" => self.statement = value.to_owned(),
                _ => {}
            }
        }
        fn record_f64(&mut self, field: &Field, value: f64) {
            if field.name() == "elapsed_secs" {
                self.elapsed = value;
            }
        }
        fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
    }

    impl Subscriber for Statements {
        fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
            // Asked again at every event, so switching recording on and off takes effect.
            if meta.target() == "sqlx::query" {
                Interest::sometimes()
            } else {
                Interest::never()
            }
        }
        fn enabled(&self, meta: &Metadata<'_>) -> bool {
            meta.target() == "sqlx::query" && RECORDING.load(Ordering::Relaxed)
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut fields = Fields::default();
            event.record(&mut fields);
            // Short statements come as the summary alone.
            let sql = if fields.statement.trim().is_empty() {
                fields.summary
            } else {
                fields.statement
            };
            let sql = shape(&sql.split_whitespace().collect::<Vec<_>>().join(" "));
            let mut seen = SEEN.lock().expect("statements");
            let entry = seen.entry(sql).or_default();
            entry.0 += 1;
            entry.1 += fields.elapsed;
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }
}

/// The SQL that differs between the backends for generating rows.
struct Gen {
    backend: Backend,
    /// The first sweep day.
    day0: Date,
}

impl Gen {
    /// `SELECT {columns}` over `i` = 0..n.
    fn select(&self, n: usize, columns: &str) -> String {
        match self.backend {
            Backend::Sqlite => format!(
                "WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < {})
                 SELECT {columns} FROM seq",
                n - 1
            ),
            Backend::Postgres => format!(
                "SELECT {columns} FROM generate_series(0, {}) AS seq(i)",
                n - 1
            ),
        }
    }

    /// A UUID-shaped id: the fixed `prefix` and the number zero-padded to 12 digits.
    fn id(&self, prefix: &str, expr: &str) -> String {
        match self.backend {
            Backend::Sqlite => format!("'{prefix}' || printf('%012d', {expr})"),
            Backend::Postgres => format!("'{prefix}' || lpad(CAST({expr} AS TEXT), 12, '0')"),
        }
    }

    /// `YYYY-MM-DD` of the first sweep day plus `expr` days.
    fn day(&self, expr: &str) -> String {
        match self.backend {
            Backend::Sqlite => format!("date('{}', printf('%+d days', {expr}))", self.day0),
            Backend::Postgres => format!("CAST(DATE '{}' + ({expr}) AS TEXT)", self.day0),
        }
    }

    /// The issue date of a credential valid for 12 months through the first sweep day plus
    /// `expr` days.
    fn issued(&self, expr: &str) -> String {
        match self.backend {
            Backend::Sqlite => format!(
                "date('{}', printf('%+d days', ({expr}) + 1), '-12 months')",
                self.day0
            ),
            Backend::Postgres => format!(
                "CAST(CAST(DATE '{}' + (({expr}) + 1) - INTERVAL '12 months' AS DATE) AS TEXT)",
                self.day0
            ),
        }
    }
}

async fn exec(db: &Db, what: &str, sql: String) {
    let started = Instant::now();
    let mut tx = db.begin().await.expect("begin");
    let done = sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut *tx)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    tx.commit().await.expect("commit");
    println!(
        "  {what}: {} rows in {:.1} s",
        done.rows_affected(),
        started.elapsed().as_secs_f64()
    );
}

/// Writes the partners, people and credentials. Person `i` belongs to partner
/// `i / PEOPLE_PER_PARTNER` and holds one credential; when `i % DUE_EVERY` is `d` < `due_days`,
/// the credential lapses 90 days after sweep day `d`, so that day is its 90-day reminder, and
/// it is due then; otherwise it lapses 101 to 400 days after the first sweep day and is first
/// due for its 90-day reminder 11 to 310 days after it.
async fn seed(db: &Db, g: &Gen, credentials: usize, due_days: usize, now: &str) {
    let partners = credentials / PEOPLE_PER_PARTNER;
    let managers = partners / PARTNERS_PER_MANAGER;
    exec(
        db,
        "account managers",
        format!(
            "INSERT INTO people (id, partner_id, display_name, email, job_role, created_at, updated_at) {}",
            g.select(
                managers,
                &format!(
                    "{}, NULL, 'Account manager ' || CAST(i AS TEXT), 'pam' || CAST(i AS TEXT) || '@vendor.example', NULL, '{now}', '{now}'",
                    g.id("00000000-0000-7000-a000-", "i")
                )
            )
        ),
    )
    .await;
    exec(
        db,
        "account manager roles",
        format!(
            "INSERT INTO person_roles (person_id, role) {}",
            g.select(
                managers,
                &format!(
                    "{}, 'partner_account_manager'",
                    g.id("00000000-0000-7000-a000-", "i")
                )
            )
        ),
    )
    .await;
    exec(
        db,
        "partners",
        format!(
            "INSERT INTO partners (id, name, partner_type, region, account_manager_id, created_at, updated_at) {}",
            g.select(
                partners,
                &format!(
                    "{}, 'Partner ' || CAST(i AS TEXT), 'reseller', 'EMEA', {}, '{now}', '{now}'",
                    g.id("00000000-0000-7000-8000-", "i"),
                    g.id("00000000-0000-7000-a000-", &format!("i % {managers}"))
                )
            )
        ),
    )
    .await;
    exec(
        db,
        "enrolments",
        format!(
            "INSERT INTO partner_programs (partner_id, program_id, enrolled_at) {}",
            g.select(
                partners,
                &format!(
                    "{}, 'bench', '{now}'",
                    g.id("00000000-0000-7000-8000-", "i")
                )
            )
        ),
    )
    .await;
    exec(
        db,
        "people",
        format!(
            "INSERT INTO people (id, partner_id, display_name, email, job_role, created_at, updated_at) {}",
            g.select(
                credentials,
                &format!(
                    "{}, {}, 'Person ' || CAST(i AS TEXT), 'person' || CAST(i AS TEXT) || '@partner' || CAST(i / {PEOPLE_PER_PARTNER} AS TEXT) || '.example', 'sales', '{now}', '{now}'",
                    g.id("00000000-0000-7000-b000-", "i"),
                    g.id("00000000-0000-7000-8000-", &format!("i / {PEOPLE_PER_PARTNER}"))
                )
            )
        ),
    )
    .await;
    let due = format!("i % {DUE_EVERY} < {due_days}");
    let valid_until = format!("CASE WHEN {due} THEN i % {DUE_EVERY} + 89 ELSE 100 + i % 300 END");
    let next_due = format!("CASE WHEN {due} THEN i % {DUE_EVERY} ELSE 11 + i % 300 END");
    exec(
        db,
        "credentials",
        format!(
            "INSERT INTO credentials (id, person_id, program_id, track_id, issued_on, valid_until, status, created_at, content_versions, status_index, next_due_on) {}",
            g.select(
                credentials,
                &format!(
                    "{}, {}, 'bench', 't1', {}, {}, 'active', '{now}', '{{}}', i + 1, {}",
                    g.id("00000000-0000-7000-c000-", "i"),
                    g.id("00000000-0000-7000-b000-", "i"),
                    g.issued(&valid_until),
                    g.day(&valid_until),
                    g.day(&next_due),
                )
            )
        ),
    )
    .await;
    sqlx::query("UPDATE counters SET value = $1 WHERE name = 'status_index'")
        .bind(credentials as i64)
        .execute(db.writer())
        .await
        .expect("counter");
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

struct Run {
    label: String,
    day: Date,
    due: i64,
    seconds: f64,
    report: SweepReport,
}

async fn due_on(db: &Db, day: Date) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM credentials WHERE next_due_on <= $1 AND status = 'active'",
    )
    .bind(day.to_string())
    .fetch_one(db.reader())
    .await
    .expect("count due")
}

async fn sweep(app: &App, ctx: &Ctx, label: &str, day: Date) -> Run {
    let due = due_on(&app.db, day).await;
    let started = Instant::now();
    let report = app.run_sweep(ctx, day).await.expect("sweep");
    let seconds = started.elapsed().as_secs_f64();
    Run {
        label: label.to_owned(),
        day,
        due,
        seconds,
        report,
    }
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

/// What one data set measured.
struct DataSet {
    seed_seconds: f64,
    due: Vec<Run>,
    again: Vec<Run>,
    quiet: Vec<Run>,
    /// Per recorded sweep: what it was, due credentials, wall seconds, statements.
    recorded: Vec<(String, usize, f64, Vec<statements::Seen>)>,
}

/// Creates and seeds a database, sweeps its due days (each twice) and then a quiet day.
async fn data_set(
    options: &Options,
    url: &str,
    postgres: Option<&(String, String)>,
    last: bool,
) -> DataSet {
    if let Some((server, name)) = postgres {
        postgres_admin(server, &format!("DROP DATABASE IF EXISTS {name}")).await;
        postgres_admin(server, &format!("CREATE DATABASE {name}")).await;
    }
    let db = Db::connect_and_migrate(url).await.expect("database");
    let app = App::new(db.clone(), Arc::new(SystemClock), AppConfig::default());
    let ctx = Ctx::system();
    app.apply_program(&ctx, PROGRAM).await.expect("program");
    for n in 0..options.webhooks {
        app.create_webhook(
            &ctx,
            &format!("http://127.0.0.1:9/hook/{n}"),
            &["credential.expiring".to_owned()],
        )
        .await
        .expect("webhook");
    }
    let day0 = app.today();
    let g = Gen {
        backend: db.backend,
        day0,
    };
    let now = accredit_app::clock::format_instant(app.now());
    let started = Instant::now();
    seed(&db, &g, options.credentials, options.due_days, &now).await;
    if db.backend == Backend::Postgres {
        // What autovacuum would do after a bulk load, done now so it does not run mid-measurement.
        sqlx::raw_sql("VACUUM ANALYZE")
            .execute(db.writer())
            .await
            .expect("vacuum");
    }
    let seed_seconds = started.elapsed().as_secs_f64();
    println!("  seeded in {seed_seconds:.1} s");

    let mut set = DataSet {
        seed_seconds,
        due: Vec::new(),
        again: Vec::new(),
        quiet: Vec::new(),
        recorded: Vec::new(),
    };
    for d in 0..options.due_days {
        let day = day0 + (d as i64).days();
        statements::record(options.statements);
        let run = sweep(&app, &ctx, &format!("due day {}", d + 1), day).await;
        statements::record(false);
        if options.statements {
            set.recorded.push((
                run.label.clone(),
                run.report.credentials,
                run.seconds,
                statements::take(),
            ));
        }
        assert_eq!(
            run.report.credentials as i64, run.due,
            "every due credential handled"
        );
        assert_eq!(run.report.reminders as i64, run.due, "one reminder each");
        println!(
            "  {}: {day}: {} due, {:.3} s",
            run.label, run.due, run.seconds
        );
        set.due.push(run);
        statements::record(options.statements);
        let run = sweep(&app, &ctx, &format!("due day {} again", d + 1), day).await;
        statements::record(false);
        if options.statements {
            // Per credential of the first run, to compare.
            let handled = set.due.last().map_or(0, |r| r.report.credentials);
            set.recorded
                .push((run.label.clone(), handled, run.seconds, statements::take()));
        }
        assert_eq!(run.report.credentials, 0, "nothing due after the sweep");
        println!("  {}: {:.3} s", run.label, run.seconds);
        set.again.push(run);
    }
    // Every credential swept is next due 30 days later (its 60-day reminder); the others not
    // before day 11.
    let quiet_day = day0 + (options.due_days as i64 + 1).days();
    for n in 0..options.quiet_runs {
        let run = sweep(&app, &ctx, &format!("quiet day, run {}", n + 1), quiet_day).await;
        assert_eq!(run.report.credentials, 0, "nothing due on the quiet day");
        set.quiet.push(run);
    }
    let outbox: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
        .fetch_one(db.reader())
        .await
        .expect("outbox");
    let notifications: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notifications")
        .fetch_one(db.reader())
        .await
        .expect("notifications");
    println!("  outbox messages: {outbox}; notifications: {notifications}");
    db.close().await;
    if let Some((server, name)) = postgres.filter(|_| !last || !options.keep) {
        postgres_admin(server, &format!("DROP DATABASE {name} WITH (FORCE)")).await;
    }
    set
}

fn summary_row(what: &str, unit: f64, decimals: usize, runs: &[&Run]) -> String {
    let mut values: Vec<f64> = runs.iter().map(|r| r.seconds * unit).collect();
    values.sort_by(f64::total_cmp);
    format!(
        "| {what} | {} | {:.decimals$} | {:.decimals$} | {:.decimals$} | {:.decimals$} |",
        values.len(),
        values[0],
        percentile(&values, 0.5),
        percentile(&values, 0.95),
        values[values.len() - 1]
    )
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let options = options();
    if options.statements {
        statements::install();
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let postgres = options
        .database_url
        .as_deref()
        .filter(|url| url.starts_with("postgres"))
        .map(split_postgres_url);
    let backend_name = if postgres.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let mut sets = Vec::new();
    for n in 0..options.data_sets {
        let url = options.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join(format!("sweep-{n}.db")).display()
            )
        });
        println!(
            "data set {}: {} credentials on {backend_name}, {} due on each of {} sweep day(s)",
            n + 1,
            options.credentials,
            options.credentials / DUE_EVERY,
            options.due_days
        );
        let last = n + 1 == options.data_sets;
        sets.push(data_set(&options, &url, postgres.as_ref(), last).await);
        if last && options.keep {
            match &postgres {
                Some((_, name)) => println!("kept the PostgreSQL database {name}"),
                None => println!(
                    "kept {}",
                    dir.keep().join(format!("sweep-{n}.db")).display()
                ),
            }
            break;
        }
        if postgres.is_none() {
            std::fs::remove_dir_all(dir.path()).ok();
            std::fs::create_dir_all(dir.path()).expect("temp dir");
        }
    }

    println!();
    println!(
        "### {backend_name}: {} active credentials, {} due per sweep day{}",
        options.credentials,
        options.credentials / DUE_EVERY,
        if options.statements {
            " (statements recorded: wall times include the recording)"
        } else {
            ""
        }
    );
    println!();
    println!(
        "| data set | run | sweep date | due | credentials | reminders | digests | passed over | wall s | ms per due credential |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (n, set) in sets.iter().enumerate() {
        for run in set.due.iter().chain(&set.again) {
            println!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {:.3} | {} |",
                n + 1,
                run.label,
                run.day,
                run.due,
                run.report.credentials,
                run.report.reminders,
                run.report.digests,
                run.report.passed_over,
                run.seconds,
                if run.due > 0 {
                    format!("{:.3}", run.seconds * 1000.0 / run.due as f64)
                } else {
                    "–".into()
                }
            );
        }
    }
    let all = |pick: fn(&DataSet) -> &Vec<Run>| -> Vec<&Run> {
        sets.iter().flat_map(|s| pick(s).iter()).collect()
    };
    println!();
    println!("| measurement | runs | min | p50 | p95 | max |");
    println!("|---|---|---|---|---|---|");
    println!(
        "{}",
        summary_row("(a) due day, s", 1.0, 3, &all(|s| &s.due))
    );
    println!(
        "{}",
        summary_row("(b) due day again, ms", 1000.0, 1, &all(|s| &s.again))
    );
    println!(
        "{}",
        summary_row(
            "(c) day with nothing due, ms",
            1000.0,
            1,
            &all(|s| &s.quiet)
        )
    );
    let seeds: Vec<String> = sets
        .iter()
        .map(|s| format!("{:.1}", s.seed_seconds))
        .collect();
    println!();
    println!("Seeding (not measured above), s: {}", seeds.join(", "));

    for (n, set) in sets.iter().enumerate() {
        for (label, handled, seconds, seen) in &set.recorded {
            let total: f64 = seen.iter().map(|s| s.2).sum();
            println!();
            println!(
                "Statements of data set {}, {label} ({seconds:.3} s wall, {total:.3} s inside statements; per credential: of the {handled} due):",
                n + 1,
            );
            println!();
            println!("| statement | count | per credential | total ms | mean µs | share of wall |");
            println!("|---|---|---|---|---|---|");
            for (sql, count, secs) in seen {
                let shown: String = sql.chars().take(110).collect();
                println!(
                    "| `{}{}` | {count} | {:.3} | {:.0} | {:.0} | {:.1}% |",
                    shown.replace('|', "\\|"),
                    if shown.len() < sql.len() { "…" } else { "" },
                    *count as f64 / (*handled).max(1) as f64,
                    secs * 1000.0,
                    secs * 1e6 / *count as f64,
                    secs * 100.0 / seconds
                );
            }
        }
    }
}
