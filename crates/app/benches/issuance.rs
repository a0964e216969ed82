//! Issuance throughput: people pass the exam that completes their track, one after another,
//! each pass recorded by `App::record_evidence`, which issues the credential, signs its Open
//! Badges 3.0 document and re-evaluates the partner in one transaction.
//!
//! cargo bench -p accredit-app --bench issuance -- [--people N] [--database-url URL]

use accredit_app::accounts::{NewPartner, NewPerson};
use accredit_app::evidence::Evidence;
use accredit_app::{App, AppConfig, Ctx, Db, SystemClock};
use accredit_domain::Role;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PROGRAM: &str = r#"
[program]
id = "bench"
name = "Bench program"
version = "1"
job_roles = ["developer"]

[[exams]]
id = "exam"
title = "Exam"
job_roles = ["developer"]

[[tracks]]
id = "developer"
name = "Certified developer"
job_roles = ["developer"]
validity = { months = 12 }
renewal = { window_days = 30, requires = "full-track" }
requires = { exam = "exam" }
"#;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let mut people: usize = 300;
    let mut url = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--people" => {
                people = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--people N")
            }
            "--database-url" => url = args.next(),
            _ => {}
        }
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = url.unwrap_or_else(|| format!("sqlite://{}/issue.db?mode=rwc", dir.path().display()));
    let db = Db::connect_and_migrate(&url).await.expect("database");
    let app = App::new(db, Arc::new(SystemClock), AppConfig::default());
    let ctx = Ctx::system();
    app.apply_program(&ctx, PROGRAM).await.expect("program");
    // Partners of 20 people, as a large partner's roster would be re-evaluated.
    let mut ids = Vec::new();
    for p in 0..people.div_ceil(20) {
        let partner = app
            .create_partner(
                &ctx,
                NewPartner {
                    name: format!("Partner {p}"),
                    partner_type: "isv".into(),
                    region: "Europe".into(),
                    account_manager_id: None,
                },
            )
            .await
            .expect("partner");
        app.enroll_partner(&ctx, &partner.id, "bench")
            .await
            .expect("enrol");
        for n in 0..20_usize.min(people - ids.len()) {
            let person = app
                .create_person(
                    &ctx,
                    NewPerson {
                        email: format!("dev{p}-{n}@bench.example"),
                        display_name: format!("Developer {p}-{n}"),
                        roles: vec![Role::Learner],
                        partner_id: Some(partner.id.clone()),
                        job_role: Some("developer".into()),
                        password: None,
                    },
                )
                .await
                .expect("person");
            ids.push(person.id);
        }
    }
    let mut samples: Vec<Duration> = Vec::new();
    let started = Instant::now();
    for id in &ids {
        let t = Instant::now();
        app.record_evidence(
            &ctx,
            "bench",
            Evidence::ExamPassed {
                person: id.clone(),
                exam: "exam".into(),
            },
        )
        .await
        .expect("pass");
        samples.push(t.elapsed());
    }
    let total = started.elapsed();
    samples.sort();
    let at = |q: f64| {
        samples[((samples.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0
    };
    println!(
        "backend={} issued={} in {:.1} s: {:.0} credentials/s, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
        if url.starts_with("postgres") {
            "postgres"
        } else {
            "sqlite"
        },
        samples.len(),
        total.as_secs_f64(),
        samples.len() as f64 / total.as_secs_f64(),
        at(0.5),
        at(0.95),
        at(0.99)
    );
}
