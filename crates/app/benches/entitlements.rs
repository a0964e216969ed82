//! Entitlement snapshot at scale: seeds partners and people into a database, then measures
//! (1) the in-process decision, (3) the time to rebuild the snapshot from the database, and
//! leaves the database for the HTTP benchmark in `scripts/bench-entitlements`.
//!
//! cargo bench -p accredit-app --bench entitlements -- [--partners N] [--people-per-partner M]
//!     [--database-url URL] [--ids-file PATH]

use accredit_app::demo::EXAMPLE_PROGRAMS;
use accredit_app::entitlements::{Lookup, Subjectee};
use accredit_app::{App, AppConfig, Ctx, Db, SystemClock};
use std::sync::Arc;
use std::time::Instant;

struct Options {
    partners: usize,
    people_per_partner: usize,
    database_url: Option<String>,
    ids_file: Option<String>,
}

fn options() -> Options {
    let mut options = Options {
        partners: 100_000,
        people_per_partner: 10,
        database_url: None,
        ids_file: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--partners" => {
                options.partners = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--partners N")
            }
            "--people-per-partner" => {
                options.people_per_partner = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--people-per-partner M")
            }
            "--database-url" => options.database_url = args.next(),
            "--ids-file" => options.ids_file = args.next(),
            // cargo bench passes --bench; anything else is ignored.
            _ => {}
        }
    }
    options
}

/// Inserts rows in multi-row statements inside one transaction.
async fn insert_batched(
    db: &Db,
    table: &str,
    columns: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) {
    let per_statement = 4000 / columns.len();
    let mut tx = db.begin().await.expect("begin");
    let mut batch: Vec<Vec<String>> = Vec::with_capacity(per_statement);
    let flush = async |tx: &mut sqlx::Transaction<'static, sqlx::Any>,
                       batch: &mut Vec<Vec<String>>| {
        if batch.is_empty() {
            return;
        }
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut n = 0;
        for (i, _) in batch.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for c in 0..columns.len() {
                if c > 0 {
                    sql.push_str(", ");
                }
                n += 1;
                sql.push_str(&format!("${n}"));
            }
            sql.push(')');
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in batch.drain(..) {
            for value in row {
                query = query.bind(value);
            }
        }
        query.execute(&mut **tx).await.expect("insert batch");
    };
    for row in rows {
        batch.push(row);
        if batch.len() == per_statement {
            flush(&mut tx, &mut batch).await;
        }
    }
    flush(&mut tx, &mut batch).await;
    tx.commit().await.expect("commit");
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let options = options();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = options.database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        )
    });
    let db = Db::connect_and_migrate(&url).await.expect("database");
    let app = App::new(db.clone(), Arc::new(SystemClock), AppConfig::default());
    let ctx = Ctx::system();
    app.apply_program(&ctx, EXAMPLE_PROGRAMS[3].1)
        .await
        .expect("program");
    let program = "medical-software-distributor";

    let today = app.today();
    let now = accredit_app::clock::format_instant(app.now());
    let partners = options.partners;
    let per = options.people_per_partner;
    let started = Instant::now();
    let partner_id = |p: usize| format!("00000000-0000-7000-8000-{p:012}");
    let person_id = |p: usize, i: usize| format!("00000000-0000-7000-9{i:03}-{p:012}");
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM partners")
        .fetch_one(db.reader())
        .await
        .expect("count");
    if existing == partners as i64 {
        println!("reusing the {existing} partners already in the database");
    } else {
        insert_batched(
            &db,
            "partners",
            &[
                "id",
                "name",
                "partner_type",
                "region",
                "created_at",
                "updated_at",
            ],
            (0..partners).map(|p| {
                vec![
                    partner_id(p),
                    format!("Partner {p}"),
                    "distributor".into(),
                    "EMEA".into(),
                    now.clone(),
                    now.clone(),
                ]
            }),
        )
        .await;
        insert_batched(
            &db,
            "partner_programs",
            &["partner_id", "program_id", "enrolled_at"],
            (0..partners).map(|p| vec![partner_id(p), program.into(), now.clone()]),
        )
        .await;
        insert_batched(
            &db,
            "people",
            &[
                "id",
                "partner_id",
                "display_name",
                "email",
                "job_role",
                "created_at",
                "updated_at",
            ],
            (0..partners).flat_map(|p| {
                let now = now.clone();
                (0..per).map(move |i| {
                    let role = if i % 2 == 0 { "sales" } else { "technical" };
                    vec![
                        person_id(p, i),
                        partner_id(p),
                        format!("Person {p}-{i}"),
                        format!("p{p}-{i}@example.com"),
                        role.into(),
                        now.clone(),
                        now.clone(),
                    ]
                })
            }),
        )
        .await;
        // Everyone holds a credential of their role; one partner in five has its technical
        // credentials lapsed, so answers are mixed.
        let ends_ok = (today + jiff::Span::new().months(6)).to_string();
        let ends_lapsed = (today - jiff::Span::new().days(10)).to_string();
        let issued = (today - jiff::Span::new().months(6)).to_string();
        insert_batched(
            &db,
            "credentials",
            &[
                "id",
                "person_id",
                "program_id",
                "track_id",
                "issued_on",
                "valid_until",
                "status",
                "created_at",
            ],
            (0..partners).flat_map(|p| {
                let (now, ends_ok, ends_lapsed, issued) = (
                    now.clone(),
                    ends_ok.clone(),
                    ends_lapsed.clone(),
                    issued.clone(),
                );
                (0..per).map(move |i| {
                    let technical = i % 2 == 1;
                    let ends = if technical && p % 5 == 0 {
                        ends_lapsed.clone()
                    } else {
                        ends_ok.clone()
                    };
                    vec![
                        format!("c{p}-{i}"),
                        person_id(p, i),
                        program.into(),
                        if technical { "technical" } else { "sales" }.into(),
                        issued.clone(),
                        ends,
                        "active".into(),
                        now.clone(),
                    ]
                })
            }),
        )
        .await;
        println!(
            "seeded {partners} partners and {} people on {} in {:.1} s",
            partners * per,
            if url.starts_with("sqlite") {
                "SQLite"
            } else {
                "PostgreSQL"
            },
            started.elapsed().as_secs_f64()
        );
    }

    let mut rebuilds = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        app.rebuild_entitlements().await.expect("rebuild");
        rebuilds.push(started.elapsed().as_secs_f64());
    }
    rebuilds.sort_by(f64::total_cmp);
    let (held_partners, held_people) = app.entitlements.size();
    println!(
        "(3) snapshot rebuild from the database ({held_partners} partners, {held_people} people): min {:.2} s, median {:.2} s, max {:.2} s over 3 runs",
        rebuilds[0], rebuilds[1], rebuilds[2]
    );

    // (1) The in-process decision: samples of 1,000 lookups of random partners.
    let ids: Vec<String> = (0..partners).map(partner_id).collect();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut allowed = 0_usize;
    let mut samples = Vec::with_capacity(2000);
    for _ in 0..2000 {
        let picks: Vec<&str> = (0..1000)
            .map(|_| ids[(next() % ids.len() as u64) as usize].as_str())
            .collect();
        let started = Instant::now();
        for id in &picks {
            if let Lookup::Answer(answer) =
                app.entitlements
                    .lookup(Subjectee::Partner(id), "order-processing", None, today)
            {
                allowed += usize::from(answer.decision.allowed);
            }
        }
        samples.push(started.elapsed().as_nanos() as f64 / 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    println!(
        "(1) in-process decision (ns per lookup, 2,000 samples of 1,000 random partners): p50 {:.0}, p95 {:.0}, p99 {:.0}; {:.0}% allowed",
        percentile(&samples, 0.50),
        percentile(&samples, 0.95),
        percentile(&samples, 0.99),
        allowed as f64 * 100.0 / 2_000_000.0
    );

    if let Some(path) = &options.ids_file {
        std::fs::write(path, ids.join("\n")).expect("write ids");
        println!("partner ids written to {path}");
    }
}
