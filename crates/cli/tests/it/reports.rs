//! Outcome reports checked against figures computed here from a fixed data set: pass rates,
//! first attempts, time to credential, renewals and lapses, certified vs other partners, and
//! the compliance table; an account manager sees only their partners.

use crate::on_both_backends;
use crate::support::{Auth, TEST_PROGRAM, TestApp};
use accredit_app::Ctx;
use accredit_app::accounts::{NewPartner, Person};
use accredit_app::evidence::Evidence;
use axum::http::StatusCode;
use jiff::civil::date;

on_both_backends!(reports_give_the_figures_of_a_fixed_data_set);

async fn seller(t: &TestApp, partner: &str, email: &str) -> Person {
    t.staff(partner, email, email, "sales").await
}

/// A scored attempt as the exam engine stores it.
async fn attempt(t: &TestApp, person: &Person, day: &str, passed: bool, domains: &[(&str, f64)]) {
    let result = serde_json::json!({
        "score": {
            "domains": domains.iter().map(|(d, p)| serde_json::json!({
                "domain": d, "name": d, "weight": 50, "answered_correctly": 0, "items": 1, "percent": p
            })).collect::<Vec<_>>(),
            "total_percent": 0.0, "passing_score": 70, "passed": passed,
        },
        "items": [],
    });
    let mut conn = t.app.db.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO attempts (id, person_id, program_id, exam_id, status, seed, form, blueprint, created_at, finished_at, score_percent, passed, result)
         VALUES ($1, $2, 'test-program', 'written', 'submitted', '1', '[]', '{}', $3, $3, 0, $4, $5)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(&person.id)
    .bind(format!("{day}T10:00:00.000000Z"))
    .bind(i64::from(passed))
    .bind(result.to_string())
    .execute(&mut *conn)
    .await
    .unwrap();
    conn.commit().await.unwrap();
}

async fn reports_give_the_figures_of_a_fixed_data_set(t: TestApp) {
    let ctx = Ctx::system();
    t.set_day(date(2026, 1, 5));
    let w = t.world().await;
    let initech = t
        .app
        .create_partner(
            &ctx,
            NewPartner {
                name: "Initech".into(),
                partner_type: "reseller".into(),
                region: "EMEA".into(),
                account_manager_id: None,
            },
        )
        .await
        .unwrap();
    t.app.apply_program(&ctx, TEST_PROGRAM).await.unwrap();
    for partner in [&w.acme.id, &w.globex.id, &initech.id] {
        t.app
            .enroll_partner(&ctx, partner, "test-program")
            .await
            .unwrap();
    }
    let ana = seller(&t, &w.acme.id, "ana@acme.example").await;
    let ben = seller(&t, &w.acme.id, "ben@acme.example").await;
    let cy = seller(&t, &w.globex.id, "cy@globex.example").await;

    // Exam attempts: Ana fails then passes, Ben passes, Cy fails in the next quarter.
    attempt(
        &t,
        &ana,
        "2026-01-20",
        false,
        &[("injection", 40.0), ("residency", 60.0)],
    )
    .await;
    attempt(
        &t,
        &ana,
        "2026-02-10",
        true,
        &[("injection", 90.0), ("residency", 80.0)],
    )
    .await;
    attempt(
        &t,
        &ben,
        "2026-02-12",
        true,
        &[("injection", 100.0), ("residency", 70.0)],
    )
    .await;
    attempt(
        &t,
        &cy,
        "2026-04-02",
        false,
        &[("injection", 20.0), ("residency", 30.0)],
    )
    .await;

    // Credentials 30 and 60 days after enrolment; Ana renews, Ben's expires.
    let complete = async |person: &Person| {
        t.app
            .record_evidence(
                &ctx,
                "test-program",
                Evidence::ModuleCompleted {
                    person: person.id.clone(),
                    module: "m1".into(),
                },
            )
            .await
            .unwrap();
    };
    t.set_day(date(2026, 2, 4));
    complete(&ana).await;
    t.set_day(date(2026, 3, 6));
    complete(&ben).await;
    t.set_day(date(2027, 1, 20));
    complete(&ana).await;
    t.app.run_sweep(&ctx, date(2027, 3, 6)).await.unwrap();
    t.set_day(date(2027, 3, 10));

    // Outcome metrics: at the end of 2026-Q1 only Acme holds a credential.
    let admin = t.login(&w.admin.email).await;
    let imported = t
        .post(
            "/api/v1/outcomes",
            &admin,
            serde_json::Value::String(
                "partner,quarter,metric,value\nAcme,2026-Q1,nps,50\nGlobex,2026-Q1,nps,10\nInitech,2026-Q1,nps,30\nAcme,2026-Q1,escalations,2\n".into(),
            ),
        )
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    assert_eq!(imported.json()["recorded"], 4);
    let bad = t
        .post(
            "/api/v1/outcomes",
            &admin,
            serde_json::Value::String(
                "partner,quarter,metric,value\nHooli,2026-Q1,nps,1\nAcme,Q1,nps,x\n".into(),
            ),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let problem = bad.json();
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["line 2", "line 3", "line 3"]);

    let report = t.app.program_report(&ctx, "test-program").await.unwrap();
    assert_eq!(report.partners, 3);
    // Q1: 3 attempts, 2 passed; Q2: 1 attempt, 0 passed.
    let rates: Vec<(&str, usize, usize, f64)> = report
        .pass_rates
        .iter()
        .map(|p| (p.quarter.as_str(), p.attempts, p.passed, p.rate))
        .collect();
    assert_eq!(
        rates,
        [("2026-Q1", 3, 2, 2.0 / 3.0 * 100.0), ("2026-Q2", 1, 0, 0.0)].map(|(q, a, p, r)| (
            q,
            a,
            p,
            (r * 10.0_f64).round() / 10.0
        ))
    );
    // First attempts: Ana failed, Ben passed, Cy failed.
    assert_eq!(
        (
            report.first_attempts[0].candidates,
            report.first_attempts[0].passed_first_time
        ),
        (3, 1)
    );
    // Injection in Q1: (40 + 90 + 100) / 3.
    let injection = report
        .domain_scores
        .iter()
        .find(|d| d.domain == "injection" && d.quarter == "2026-Q1")
        .unwrap();
    assert_eq!(
        injection.mean,
        ((40.0_f64 + 90.0 + 100.0) / 3.0 * 10.0).round() / 10.0
    );
    // Time to credential: 30 and 60 days after enrolment on 5 January.
    assert_eq!(report.time_to_credential.count, 2);
    assert_eq!(report.time_to_credential.median_days, Some(30));
    assert_eq!(report.time_to_credential.p90_days, Some(60));
    // One term renewed, one expired.
    assert_eq!(
        (
            report.renewals.ended,
            report.renewals.renewed,
            report.renewals.expired
        ),
        (2, 1, 1)
    );
    assert_eq!(
        (report.renewals.renewal_rate, report.renewals.lapse_rate),
        (50.0, 50.0)
    );
    // Certified (Acme, 50) against the others (Globex 10, Initech 30).
    let nps = report
        .comparisons
        .iter()
        .find(|c| c.metric == "nps")
        .unwrap();
    assert_eq!(
        (nps.certified_partners, nps.certified_mean),
        (1, Some(50.0))
    );
    assert_eq!((nps.other_partners, nps.other_mean), (2, Some(20.0)));
    // Compliance: Acme is certified through Ana's renewed credential.
    let acme = report
        .compliance
        .iter()
        .find(|c| c.partner_name == "Acme")
        .unwrap();
    assert_eq!(acme.tier.as_deref(), Some("Certified"));
    assert_eq!(acme.tracks[0].1, 1);
    assert!(
        acme.benefits
            .iter()
            .any(|(name, allowed)| name == "Deal registration" && *allowed)
    );

    // The page and its CSV tables.
    let page = t.get("/programs/test-program/reports", &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<svg class=\"chart\" role=\"img\""),
        "charts are drawn on the server"
    );
    assert!(
        page.body
            .contains("Of 2 credential terms that ended: 1 renewed (50%)"),
        "{}",
        page.body
    );
    let csv = t
        .get("/programs/test-program/reports/pass-rates.csv", &admin)
        .await;
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(
        csv.body,
        "exam,quarter,attempts,passed,pass_rate_percent\nwritten,2026-Q1,3,2,66.7\nwritten,2026-Q2,1,0,0\n"
    );
    let comparison = t
        .get("/programs/test-program/reports/comparison.csv", &admin)
        .await;
    assert!(
        comparison.body.contains("nps,2026-Q1,1,50,2,20\n"),
        "{}",
        comparison.body
    );
    assert_eq!(
        t.get("/programs/test-program/reports/nope.csv", &admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // The account manager sees only Acme; partner staff see no report.
    let pam = t.login(&w.pam.email).await;
    let pam_csv = t
        .get("/programs/test-program/reports/compliance.csv", &pam)
        .await;
    assert_eq!(pam_csv.status, StatusCode::OK);
    assert_eq!(pam_csv.body.lines().count(), 2, "{}", pam_csv.body);
    let learner = t.login(&w.acme_learner.email).await;
    assert_eq!(
        t.get("/programs/test-program/reports", &learner)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.get("/programs/test-program/reports", &Auth::Anonymous)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
}
