//! Seeds a database for the autosave load test: the demo (programs, item banks, published
//! exams), then CANDIDATES partner staff, each signed in and with an attempt open on the medical
//! distributor's sales exam. Writes one line per candidate for the wrk script:
//! `session-cookie csrf-token attempt-id item-id item-id ...`.
//!
//! cargo bench -p accredit-app --bench autosave -- --database-url URL --out FILE [--candidates N]

use accredit_app::accounts::{NewPartner, NewPerson};
use accredit_app::evidence::Evidence;
use accredit_app::{App, AppConfig, Ctx, Db, SystemClock};
use accredit_domain::Role;
use std::fmt::Write as _;
use std::sync::Arc;

const PASSWORD: &str = "bench-password-123";

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let mut url = None;
    let mut out = None;
    let mut candidates = 200;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--database-url" => url = args.next(),
            "--out" => out = args.next(),
            "--candidates" => {
                candidates = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--candidates N")
            }
            _ => {}
        }
    }
    let url = url.expect("--database-url URL");
    let out = out.expect("--out FILE");
    let db = Db::connect_and_migrate(&url).await.expect("database");
    let app = App::new(db, Arc::new(SystemClock), AppConfig::default());
    let system = Ctx::system();
    app.load_demo(PASSWORD).await.expect("demo");
    let partner = app
        .create_partner(
            &system,
            NewPartner {
                name: "Load Test Distribution".into(),
                partner_type: "distributor".into(),
                region: "Europe".into(),
                account_manager_id: None,
            },
        )
        .await
        .expect("partner");
    app.enroll_partner(&system, &partner.id, "medical-software-distributor")
        .await
        .expect("enrol");
    let mut lines = String::new();
    for n in 0..candidates {
        let email = format!("candidate{n}@load.example");
        let person = app
            .create_person(
                &system,
                NewPerson {
                    email: email.clone(),
                    display_name: format!("Candidate {n}"),
                    roles: vec![Role::Learner],
                    partner_id: Some(partner.id.clone()),
                    job_role: Some("sales".into()),
                    password: Some(PASSWORD.into()),
                },
            )
            .await
            .expect("person");
        let prerequisite = Evidence::ModuleCompleted {
            person: person.id.clone(),
            module: "indications-for-use".into(),
        };
        app.record_evidence(&system, "medical-software-distributor", prerequisite)
            .await
            .expect("prerequisite");
        let login = app.login(None, &email, PASSWORD).await.expect("login");
        let session = app.session(&login.cookie_value).await.expect("session");
        let ctx = Ctx::new(session.principal, None);
        let attempt = app
            .start_attempt(&ctx, "medical-software-distributor", "sales-written-exam")
            .await
            .expect("attempt");
        let items: Vec<&str> = attempt.items.iter().map(|i| i.id.as_str()).collect();
        let _ = writeln!(
            lines,
            "{} {} {} {}",
            login.cookie_value,
            login.csrf_token,
            attempt.id,
            items.join(" ")
        );
        if (n + 1) % 50 == 0 {
            eprintln!("{} candidates ready", n + 1);
        }
    }
    std::fs::write(&out, lines).expect("write the candidates file");
}
