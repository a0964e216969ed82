//! Triggered recertification and health-score remediation: who is affected, deadlines met and
//! missed, and bad input refused with nothing written.

use crate::on_both_backends;
use crate::support::{Auth, TEST_PROGRAM, TestApp, World};
use accredit_app::Ctx;
use accredit_app::accounts::Person;
use accredit_app::evidence::Evidence;
use axum::http::StatusCode;
use jiff::civil::date;

on_both_backends!(
    a_trigger_gives_affected_holders_a_deadline_and_lapses_those_who_miss_it,
    a_trigger_naming_what_does_not_exist_is_refused_and_records_nothing,
    a_low_health_score_opens_remediation_and_a_missed_deadline_drops_the_tier,
    malformed_health_scores_are_refused_line_by_line_and_nothing_is_recorded,
    a_validity_change_says_what_happens_to_current_holders_and_does_it,
);

async fn seller(t: &TestApp, partner: &str, email: &str, name: &str) -> Person {
    t.staff(partner, email, name, "sales").await
}

async fn complete(t: &TestApp, program: &str, person: &Person, module: &str) {
    t.app
        .record_evidence(
            &Ctx::system(),
            program,
            Evidence::ModuleCompleted {
                person: person.id.clone(),
                module: module.into(),
            },
        )
        .await
        .unwrap();
}

async fn enrolled(t: &TestApp, program: &str) -> World {
    let w = t.world().await;
    t.app.apply_program(&Ctx::system(), program).await.unwrap();
    let id = if program == TEST_PROGRAM {
        "test-program"
    } else {
        "health-program"
    };
    t.app
        .enroll_partner(&Ctx::system(), &w.acme.id, id)
        .await
        .unwrap();
    w
}

async fn topics_to(t: &TestApp, topic: &str) -> Vec<String> {
    let mut recipients: Vec<String> = t
        .app
        .outbox(&Ctx::system(), None, Some(topic), 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.recipient)
        .collect();
    recipients.sort();
    recipients
}

async fn a_trigger_gives_affected_holders_a_deadline_and_lapses_those_who_miss_it(t: TestApp) {
    let w = enrolled(&t, TEST_PROGRAM).await;
    let ctx = Ctx::system();
    t.set_day(date(2026, 3, 2));
    let ana = seller(&t, &w.acme.id, "ana@acme.example", "Ana").await;
    let ben = seller(&t, &w.acme.id, "ben@acme.example", "Ben").await;
    let cy = seller(&t, &w.acme.id, "cy@acme.example", "Cy").await;
    for p in [&ana, &ben, &cy] {
        complete(&t, "test-program", p, "m1").await;
    }

    t.set_day(date(2026, 6, 1));
    let admin = t.login(&w.admin.email).await;
    let recorded = t
        .post(
            "/api/v1/programs/test-program/triggers",
            &admin,
            serde_json::json!({
                "kind": "regulatory-update",
                "reason": "Module one was rewritten for the new data-protection regulation.",
                "tracks": ["t1"], "modules": ["m1"], "deadline": "2026-07-31",
            }),
        )
        .await;
    assert_eq!(recorded.status, StatusCode::CREATED, "{}", recorded.body);
    let trigger = recorded.json();
    assert_eq!(trigger["affected"], 3);
    assert_eq!(trigger["open"], 3);
    assert_eq!(
        topics_to(&t, "lifecycle.recertification").await,
        ["ana@acme.example", "ben@acme.example", "cy@acme.example"]
    );
    let notice = t.app.notifications(&ben.id, 10).await.unwrap();
    assert_eq!(
        notice[0].title,
        "Recertify your Track one credential by 2026-07-31"
    );
    assert!(notice[0].body.contains("new data-protection regulation"));
    assert!(
        notice[0]
            .body
            .contains("To recertify: complete the updated module Module one.")
    );

    // Ana recertifies in time.
    t.set_day(date(2026, 6, 15));
    complete(&t, "test-program", &ana, "m1").await;
    let admin = t.login(&w.admin.email).await;
    let progress = t
        .get("/api/v1/programs/test-program/triggers", &admin)
        .await
        .json();
    assert_eq!(
        (progress[0]["done"].as_i64(), progress[0]["open"].as_i64()),
        (Some(1), Some(2))
    );

    // The sweep the day after the deadline lapses Ben's and Cy's credentials.
    let mut day = date(2026, 7, 30);
    let mut lapsed_on = Vec::new();
    while day <= date(2026, 8, 3) {
        let report = t.app.run_sweep(&ctx, day).await.unwrap();
        if report.lapsed > 0 {
            lapsed_on.push((day, report.lapsed));
        }
        day = day.tomorrow().unwrap();
    }
    assert_eq!(lapsed_on, [(date(2026, 8, 1), 2)]);
    for (person, status) in [(&ana, "active"), (&ben, "lapsed"), (&cy, "lapsed")] {
        let held = t.app.credentials_of(&ctx, &person.id).await.unwrap();
        assert_eq!(held[0].status, status, "{}", person.email);
    }
    assert_eq!(
        topics_to(&t, "lifecycle.lapsed").await,
        ["ben@acme.example", "cy@acme.example"]
    );
    let progress = t
        .app
        .trigger(&ctx, trigger["id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!((progress.done, progress.lapsed, progress.open), (1, 2, 0));
    // Acme keeps its tier through Ana.
    assert_eq!(
        t.app.partner_standings(&ctx, &w.acme.id).await.unwrap()[0]
            .tier
            .as_deref(),
        Some("certified")
    );

    // Cy recertifies late: a new credential in the same lineage; Ben's stays lapsed.
    t.set_day(date(2026, 8, 10));
    complete(&t, "test-program", &cy, "m1").await;
    let held = t.app.credentials_of(&ctx, &cy.id).await.unwrap();
    let current = held
        .iter()
        .find(|c| c.status == "active")
        .expect("restored");
    assert_eq!(current.issued_on, "2026-08-10");
    assert_eq!(current.valid_until, "2027-08-09");
    assert!(current.renewed_from.is_some());
    assert_eq!(
        t.app.credentials_of(&ctx, &ben.id).await.unwrap()[0].status,
        "lapsed"
    );
    let events = t.app.list_audit_events(&ctx, 0, 1000).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.action == "recertification.triggered")
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "credential.lapsed")
            .count(),
        2
    );
}

async fn a_trigger_naming_what_does_not_exist_is_refused_and_records_nothing(t: TestApp) {
    let w = enrolled(&t, TEST_PROGRAM).await;
    let admin = t.login(&w.admin.email).await;
    for (body, field, words) in [
        (
            serde_json::json!({"kind": "major-release", "reason": "Spring release", "tracks": ["t9"], "deadline": "2026-12-31"}),
            "tracks",
            "program `test-program` has no track `t9`; it has t1",
        ),
        (
            serde_json::json!({"kind": "major-release", "reason": "Spring release", "tracks": ["t1"], "modules": ["m7"], "deadline": "2026-12-31"}),
            "modules",
            "has no module `m7`",
        ),
        (
            serde_json::json!({"kind": "major-release", "reason": "x", "tracks": ["t1"], "deadline": "2026-12-31"}),
            "reason",
            "at least 5 characters",
        ),
        (
            serde_json::json!({"kind": "major-release", "reason": "Spring release", "tracks": ["t1"], "deadline": "2026-01-01"}),
            "deadline",
            "is not after today",
        ),
        (
            serde_json::json!({"kind": "major-release", "reason": "Spring release", "tracks": [], "deadline": "2026-12-31"}),
            "tracks",
            "at least one affected track",
        ),
    ] {
        let response = t
            .post("/api/v1/programs/test-program/triggers", &admin, body)
            .await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            response.body
        );
        let problem = response.json();
        assert!(
            problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field && e["message"].as_str().unwrap().contains(words)),
            "{problem}"
        );
    }
    let missing = t
        .post(
            "/api/v1/programs/nope/triggers",
            &admin,
            serde_json::json!({"kind": "major-release", "reason": "Spring release", "tracks": ["t1"], "deadline": "2026-12-31"}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let listed = t
        .get("/api/v1/programs/test-program/triggers", &admin)
        .await
        .json();
    assert!(listed.as_array().unwrap().is_empty());
    let learner = t.login(&w.acme_learner.email).await;
    assert_eq!(
        t.get("/api/v1/programs/test-program/triggers", &learner)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

const HEALTH_PROGRAM: &str = r#"
[program]
id = "health-program"
name = "Health Program"
version = "1"
job_roles = ["sales"]

[[modules]]
id = "m1"
title = "Module one"
hours = 1
job_roles = ["sales"]

[[modules]]
id = "delivery-remediation"
title = "Delivery remediation"
hours = 2
job_roles = ["sales"]

[[tracks]]
id = "t1"
name = "Track one"
job_roles = ["sales"]
validity = { months = 12 }
renewal = { window_days = 30, requires = "full-track" }
requires = { module = "m1" }

[[tiers]]
id = "registered"
name = "Registered"
requires = { people_holding = "t1", at_least = 1 }

[[tiers]]
id = "gold"
name = "Gold"
requires = { people_holding = "t1", at_least = 2 }

[[benefits]]
id = "co-marketing"
name = "Co-marketing funds"
subject = "partner"
requires = { tier = "gold" }

[health]
metric = "NPS"
threshold = 30
remediation_modules = ["delivery-remediation"]
remediation_days = 90
"#;

async fn a_low_health_score_opens_remediation_and_a_missed_deadline_drops_the_tier(t: TestApp) {
    let w = enrolled(&t, HEALTH_PROGRAM).await;
    let ctx = Ctx::system();
    t.set_day(date(2026, 3, 2));
    let ana = seller(&t, &w.acme.id, "ana@acme.example", "Ana").await;
    let ben = seller(&t, &w.acme.id, "ben@acme.example", "Ben").await;
    complete(&t, "health-program", &ana, "m1").await;
    complete(&t, "health-program", &ben, "m1").await;
    let tier = |t: &TestApp| {
        let app = t.app.clone();
        let partner = w.acme.id.clone();
        async move {
            app.partner_standings(&Ctx::system(), &partner)
                .await
                .unwrap()[0]
                .tier
                .clone()
        }
    };
    assert_eq!(tier(&t).await.as_deref(), Some("gold"));

    t.set_day(date(2026, 4, 1));
    let admin = t.login(&w.admin.email).await;
    let imported = t
        .post(
            "/api/v1/programs/health-program/health-scores",
            &admin,
            serde_json::Value::String(
                "partner,quarter,score\nAcme,2025-Q4,45\nAcme,2026-Q1,22\n".into(),
            ),
        )
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    assert_eq!(imported.json()["recorded"], 2);
    assert_eq!(
        imported.json()["remediation_opened"],
        serde_json::json!(["Acme"])
    );
    assert_eq!(
        topics_to(&t, "lifecycle.remediation").await,
        [w.acme_admin.email.clone(), w.pam.email.clone()]
    );
    let message = &t
        .app
        .outbox(&ctx, None, Some("lifecycle.remediation"), 10)
        .await
        .unwrap()[0];
    let body = message.payload["body"].as_str().unwrap();
    assert!(
        body.contains("Your NPS for 2026-Q1 is 22, below the program's threshold of 30."),
        "{body}"
    );
    assert!(
        body.contains("Complete by 2026-06-30: Delivery remediation."),
        "{body}"
    );
    assert!(body.contains("Co-marketing funds"), "{body}");
    let cases = t
        .get("/api/v1/programs/health-program/remediation", &admin)
        .await
        .json();
    assert_eq!(cases[0]["state"], "open");
    assert_eq!(cases[0]["deadline"], "2026-06-30");
    // The open case changes nothing yet.
    assert_eq!(tier(&t).await.as_deref(), Some("gold"));

    // The day after the deadline the partner drops a tier, and with it the co-marketing funds.
    assert_eq!(
        t.app
            .run_sweep(&ctx, date(2026, 6, 30))
            .await
            .unwrap()
            .remediation_missed,
        0
    );
    assert_eq!(
        t.app
            .run_sweep(&ctx, date(2026, 7, 1))
            .await
            .unwrap()
            .remediation_missed,
        1
    );
    assert_eq!(tier(&t).await.as_deref(), Some("registered"));
    let standing = &t.app.partner_standings(&ctx, &w.acme.id).await.unwrap()[0];
    let gold = standing.tiers.iter().find(|x| x.tier == "gold").unwrap();
    assert!(
        gold.missing
            .iter()
            .any(|m| m.contains("complete the overdue remediation")),
        "{gold:?}"
    );
    t.set_day(date(2026, 7, 2));
    match t
        .app
        .check_entitlement(
            accredit_app::entitlements::Subjectee::Partner(&w.acme.id),
            "co-marketing",
            None,
        )
        .await
        .unwrap()
    {
        accredit_app::entitlements::Lookup::Answer(answer) => assert!(!answer.decision.allowed),
        other => panic!("no answer: {other:?}"),
    }

    // Completing the training later closes the case and restores the tier.
    t.set_day(date(2026, 7, 10));
    complete(&t, "health-program", &ben, "delivery-remediation").await;
    assert_eq!(tier(&t).await.as_deref(), Some("gold"));
    let cases = t
        .app
        .remediation_cases(&ctx, "health-program")
        .await
        .unwrap();
    assert_eq!(cases[0].state, "completed");
    assert_eq!(cases[0].closed_on.as_deref(), Some("2026-07-10"));
    let events = t.app.list_audit_events(&ctx, 0, 1000).await.unwrap();
    for action in [
        "remediation.opened",
        "remediation.missed",
        "remediation.completed",
    ] {
        assert!(events.iter().any(|e| e.action == action), "{action}");
    }
}

async fn malformed_health_scores_are_refused_line_by_line_and_nothing_is_recorded(t: TestApp) {
    let w = enrolled(&t, HEALTH_PROGRAM).await;
    let admin = t.login(&w.admin.email).await;
    let path = "/api/v1/programs/health-program/health-scores";
    let first = t
        .post(
            path,
            &admin,
            serde_json::json!({"scores": [{"partner": "Acme", "quarter": "2026-Q1", "score": 50}]}),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    for (csv, field, words) in [
        (
            "partner,quarter,score\nInitech,2026-Q2,40\n",
            "line 2",
            "no partner `Initech` is enrolled",
        ),
        (
            "partner,quarter,score\nAcme,2026-Q2,140\n",
            "line 2",
            "140 is outside -100 to 100",
        ),
        (
            "partner,quarter,score\nAcme,2026-Q2,40\nAcme,2026-Q2,41\n",
            "line 3",
            "already has a score for 2026-Q2 on line 2",
        ),
        (
            "partner,quarter,score\nAcme,2026-Q1,40\n",
            "line 2",
            "already has a NPS score of 50 for 2026-Q1",
        ),
        (
            "partner,quarter,score\nAcm\u{e9},2026-Q2,40\n",
            "line 2",
            "no partner `Acmé`",
        ),
        (
            "partner;quarter;score\nAcme;2026-Q2;40\n",
            "line 1",
            "header: missing column(s)",
        ),
    ] {
        let response = t
            .post(path, &admin, serde_json::Value::String(csv.into()))
            .await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{csv}: {}",
            response.body
        );
        let problem = response.json();
        assert!(
            problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field && e["message"].as_str().unwrap().contains(words)),
            "{csv}: {problem}"
        );
    }
    // Bytes that are not UTF-8 (Latin-1 from a spreadsheet).
    let latin1 = axum::http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "text/csv")
        .header(
            "authorization",
            match &t.token("programs:write").await {
                Auth::Bearer(token) => format!("Bearer {token}"),
                _ => unreachable!(),
            },
        )
        .body(axum::body::Body::from(
            b"partner,quarter,score\nCaf\xE9,2026-Q2,40\n".to_vec(),
        ))
        .unwrap();
    let response = t.send(latin1).await;
    assert_eq!(
        response.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        response.body
    );
    assert!(
        response.body.contains("not UTF-8 text"),
        "{}",
        response.body
    );
    // JSON rows are named by position.
    let json = t
        .post(
            path,
            &admin,
            serde_json::json!({"scores": [{"partner": "Acme", "quarter": "Q2", "score": 1}]}),
        )
        .await;
    assert_eq!(json.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json.json()["errors"][0]["field"], "scores[0]");
    // Only the first, valid import was recorded, and no case opened.
    let cases = t
        .app
        .remediation_cases(&Ctx::system(), "health-program")
        .await
        .unwrap();
    assert!(cases.is_empty());
    let events = t
        .app
        .list_audit_events(&Ctx::system(), 0, 1000)
        .await
        .unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "health_score.recorded")
            .count(),
        1
    );
    // A program without a health policy takes no scores.
    t.app
        .apply_program(&Ctx::system(), TEST_PROGRAM)
        .await
        .unwrap();
    let none = t
        .post(
            "/api/v1/programs/test-program/health-scores",
            &admin,
            serde_json::Value::String("partner,quarter,score\nAcme,2026-Q2,40\n".into()),
        )
        .await;
    assert_eq!(none.status, StatusCode::CONFLICT, "{}", none.body);
}

async fn a_validity_change_says_what_happens_to_current_holders_and_does_it(t: TestApp) {
    let w = enrolled(&t, TEST_PROGRAM).await;
    let ctx = Ctx::system();
    t.set_day(date(2026, 3, 2));
    let ana = seller(&t, &w.acme.id, "ana@acme.example", "Ana").await;
    complete(&t, "test-program", &ana, "m1").await;
    t.set_day(date(2026, 5, 10));
    let ben = seller(&t, &w.acme.id, "ben@acme.example", "Ben").await;
    complete(&t, "test-program", &ben, "m1").await;
    t.set_day(date(2026, 6, 1));

    let two_years = TEST_PROGRAM
        .replace("version = \"1\"", "version = \"2\"")
        .replace("validity = { months = 12 }", "validity = { months = 24 }");
    let silent = t.app.plan_program(&ctx, &two_years).await.unwrap_err();
    assert!(
        silent.to_string().contains(
            "track `t1`: this version changes its validity; say what happens to current holders"
        ),
        "{silent}"
    );
    let recompute = two_years.replace(
        "validity = { months = 24 }",
        "validity = { months = 24 }\nexisting_holders = \"recompute\"",
    );
    let plan = t.app.plan_program(&ctx, &recompute).await.unwrap();
    let change = &plan.holder_changes[0];
    assert_eq!(
        (change.track.as_str(), change.policy.as_str()),
        ("t1", "recompute")
    );
    assert_eq!(
        (
            change.holders,
            change.later,
            change.earlier,
            change.unchanged
        ),
        (2, 2, 0, 0)
    );
    // Both end a year later, a year that includes 29 February 2028.
    assert_eq!(change.largest_move_days, 366);
    assert_eq!(
        t.app.credentials_of(&ctx, &ana.id).await.unwrap()[0].valid_until,
        "2027-03-01",
        "a dry run changes nothing"
    );

    t.app.apply_program(&ctx, &recompute).await.unwrap();
    let credential = t.app.credentials_of(&ctx, &ana.id).await.unwrap()[0].clone();
    assert_eq!(credential.valid_until, "2028-03-01");
    let verified = t.app.verify_issued(&credential.id).await.unwrap();
    assert!(
        verified.valid,
        "re-signed with the new end date: {verified:?}"
    );
    let document = t
        .get(
            &format!("/credentials/{}/credential.json", credential.id),
            &Auth::Anonymous,
        )
        .await
        .json();
    assert!(
        document["validUntil"]
            .as_str()
            .unwrap()
            .starts_with("2028-03-01")
    );

    // Back to 12 months for new credentials only.
    let keep = TEST_PROGRAM
        .replace("version = \"1\"", "version = \"3\"")
        .replace(
            "validity = { months = 12 }",
            "validity = { months = 12 }\nexisting_holders = \"keep\"",
        );
    let plan = t.app.apply_program(&ctx, &keep).await.unwrap();
    assert_eq!(plan.holder_changes[0].policy, "keep");
    assert_eq!(plan.holder_changes[0].holders, 2);
    assert_eq!(
        t.app.credentials_of(&ctx, &ana.id).await.unwrap()[0].valid_until,
        "2028-03-01"
    );
    // The sweep follows the moved dates: no reminder at the old 90-day mark.
    let old_mark = date(2027, 3, 2)
        .checked_sub(jiff::Span::new().days(90))
        .unwrap();
    assert_eq!(t.app.run_sweep(&ctx, old_mark).await.unwrap().reminders, 0);
    assert_eq!(
        t.app.credentials_of(&ctx, &ben.id).await.unwrap()[0].valid_until,
        "2028-05-09"
    );
}
