//! Authorization, endpoint by endpoint: who gets what, and that no partner ever sees another
//! partner's people or records.

use crate::on_both_backends;
use crate::support::{Auth, TestApp};
use axum::http::Method;
use serde_json::json;
use std::collections::BTreeSet;

on_both_backends!(
    every_api_endpoint_answers_each_caller_as_the_rules_say,
    lists_show_each_caller_only_what_they_may_see,
    pages_refuse_what_the_caller_may_not_do,
);

/// One row of the matrix: a request and the status each caller must get.
struct Case {
    method: Method,
    /// The route template as the OpenAPI document names it.
    template: &'static str,
    path: String,
    body: Option<serde_json::Value>,
    /// Expected status for: anonymous, program admin, PAM (manages Acme), reviewer, proctor,
    /// Acme partner admin, Acme learner, token with people:read + partners:read, token with
    /// audit:read only.
    expect: [u16; 9],
}

async fn every_api_endpoint_answers_each_caller_as_the_rules_say(t: TestApp) {
    let w = t.world().await;
    let callers = [
        ("anonymous", Auth::Anonymous),
        ("program admin", t.login(&w.admin.email).await),
        ("partner account manager", t.login(&w.pam.email).await),
        ("reviewer", t.login(&w.reviewer.email).await),
        ("proctor", t.login(&w.proctor.email).await),
        ("acme partner admin", t.login(&w.acme_admin.email).await),
        ("acme learner", t.login(&w.acme_learner.email).await),
        ("reader token", t.token("people:read partners:read").await),
        ("audit token", t.token("audit:read").await),
    ];
    let globex = &w.globex.id;
    let globex_person = &w.globex_learner.id;
    let acme_learner = &w.acme_learner.id;
    let tokens = t
        .app
        .list_api_tokens(&accredit_app::Ctx::system())
        .await
        .unwrap();
    let token_id = &tokens[0].id;
    t.app
        .apply_program(&accredit_app::Ctx::system(), crate::support::TEST_PROGRAM)
        .await
        .unwrap();
    let guide = accredit_app::content::ContentFile {
        file_name: "guide.md".into(),
        bytes: b"# Guide\n\nRead me.\n".to_vec(),
        recording_url: None,
    };
    t.app
        .import_content(&accredit_app::Ctx::system(), "test-program", "m1", &[guide])
        .await
        .unwrap();
    let guide_section = t
        .app
        .module_version(&accredit_app::Ctx::system(), "test-program", "m1", None)
        .await
        .unwrap()
        .documents[0]
        .sections[0]
        .id
        .clone();
    // An exam with a published blueprint, and an attempt the Acme learner has open.
    let system = accredit_app::Ctx::system();
    t.app
        .apply_program(&system, crate::exams::EXAM_PROGRAM)
        .await
        .unwrap();
    t.app
        .enroll_partner(&system, &w.acme.id, "exam-program")
        .await
        .unwrap();
    let items: Vec<accredit_domain::exam::Item> =
        serde_json::from_value(crate::exams::bank()["items"].clone()).unwrap();
    t.app
        .import_items(&system, "exam-program", items.clone(), "test")
        .await
        .unwrap();
    for item in &items {
        t.app
            .set_item_status(
                &system,
                "exam-program",
                &item.id,
                accredit_domain::exam::ItemStatus::Active,
            )
            .await
            .unwrap();
    }
    t.app
        .publish_exam(&system, "exam-program", "written")
        .await
        .unwrap();
    let basics = accredit_app::evidence::Evidence::ModuleCompleted {
        person: w.acme_learner.id.clone(),
        module: "basics".into(),
    };
    t.app
        .record_evidence(&system, "exam-program", basics)
        .await
        .unwrap();
    let attempt = t
        .post(
            "/api/v1/programs/exam-program/exams/written/attempts",
            &callers[6].1,
            json!({}),
        )
        .await
        .json();
    let attempt_id = attempt["id"].as_str().expect("an attempt").to_owned();
    let attempt_item = attempt["items"][0]["id"].as_str().unwrap().to_owned();
    // A practical submitted by the Acme learner.
    t.app
        .apply_program(&system, crate::practicals::PRACTICAL_PROGRAM)
        .await
        .unwrap();
    t.app
        .enroll_partner(&system, &w.acme.id, "practical-program")
        .await
        .unwrap();
    let submission_body = json!({
        "description": "Northwind rollout: lifecycle stages and dashboards.",
        "links": ["https://portfolio.acme.example/northwind"],
    });
    let submission = t
        .post(
            "/api/v1/programs/practical-program/practicals/portfolio/submissions",
            &callers[6].1,
            submission_body.clone(),
        )
        .await
        .json();
    let submission_id = submission["id"].as_str().expect("a submission").to_owned();

    let evidence = accredit_app::evidence::Evidence::CredentialIssued {
        person: w.globex_learner.id.clone(),
        track: "t1".into(),
        issued_on: t.app.today(),
    };
    t.app
        .record_evidence(&accredit_app::Ctx::system(), "test-program", evidence)
        .await
        .unwrap();
    let globex_credential = t
        .app
        .credentials_of(&accredit_app::Ctx::system(), &w.globex_learner.id)
        .await
        .unwrap()[0]
        .id
        .clone();
    let mut n = 0;
    let mut unique_email = move || {
        n += 1;
        format!("new{n}@example.com")
    };
    let cases = vec![
        Case {
            method: Method::GET,
            template: "/api/v1/me",
            path: "/api/v1/me".into(),
            body: None,
            expect: [401, 200, 200, 200, 200, 200, 200, 200, 200],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/partners",
            path: "/api/v1/partners".into(),
            body: None,
            expect: [401, 200, 200, 200, 200, 200, 200, 200, 403],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/partners",
            path: "/api/v1/partners".into(),
            body: Some(json!({"name": "New Partner", "partner_type": "msp", "region": "APAC"})),
            expect: [401, 201, 403, 403, 403, 403, 403, 403, 403],
        },
        // Another firm's organisation is "not found" to partner staff and to a PAM who does not manage it.
        Case {
            method: Method::GET,
            template: "/api/v1/partners/{id}",
            path: format!("/api/v1/partners/{globex}"),
            body: None,
            expect: [401, 200, 404, 200, 200, 404, 404, 200, 404],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/people",
            path: "/api/v1/people".into(),
            body: None,
            expect: [401, 200, 200, 200, 200, 200, 200, 200, 403],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/people",
            path: "/api/v1/people".into(),
            body: Some(
                json!({"email": "x@example.com", "display_name": "X", "roles": ["learner"], "partner_id": globex}),
            ),
            // Only the program admin may add someone to Globex; the Acme admin is refused.
            expect: [401, 201, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/people/{id}",
            path: format!("/api/v1/people/{globex_person}"),
            body: None,
            expect: [401, 200, 404, 200, 200, 404, 404, 200, 404],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/people/{id}/email-change",
            path: format!("/api/v1/people/{globex_person}/email-change"),
            body: Some(json!({"email": "moved@globex.example"})),
            expect: [401, 202, 404, 403, 403, 404, 404, 403, 404],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/people/{id}/email-change",
            path: format!("/api/v1/people/{acme_learner}/email-change"),
            body: Some(json!({"email": "PLACEHOLDER"})),
            // Acme's admin and the learner themself may change it; the PAM of Acme sees but may not.
            expect: [401, 202, 403, 403, 403, 202, 202, 403, 404],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/email-change/confirm",
            path: "/api/v1/email-change/confirm".into(),
            body: Some(json!({"token": "not-a-real-token"})),
            expect: [422, 422, 422, 422, 422, 422, 422, 422, 422],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/tokens",
            path: "/api/v1/tokens".into(),
            body: None,
            expect: [401, 200, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/tokens",
            path: "/api/v1/tokens".into(),
            body: Some(json!({"name": "crm", "scopes": ["people:read"]})),
            expect: [401, 201, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::DELETE,
            template: "/api/v1/tokens/{id}",
            path: "/api/v1/tokens/does-not-exist".into(),
            body: None,
            expect: [401, 404, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/audit/events",
            path: "/api/v1/audit/events".into(),
            body: None,
            expect: [401, 200, 403, 403, 403, 403, 403, 403, 200],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/programs",
            path: "/api/v1/programs".into(),
            body: None,
            expect: [401, 200, 200, 200, 200, 200, 200, 200, 200],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/programs/{id}",
            path: "/api/v1/programs/test-program".into(),
            body: None,
            expect: [401, 200, 200, 200, 200, 200, 200, 200, 200],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/programs/validate",
            path: "/api/v1/programs/validate".into(),
            body: Some(json!({"source": crate::support::TEST_PROGRAM})),
            expect: [401, 200, 200, 200, 200, 200, 200, 200, 200],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/programs/apply",
            path: "/api/v1/programs/apply?dry_run=true".into(),
            body: Some(json!({"source": crate::support::TEST_PROGRAM})),
            expect: [401, 200, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/partners/{id}/enrolments",
            path: format!("/api/v1/partners/{globex}/enrolments"),
            body: Some(json!({"program_id": "test-program"})),
            expect: [401, 201, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/partners/{id}/standing",
            path: format!("/api/v1/partners/{globex}/standing"),
            body: None,
            expect: [401, 200, 404, 200, 200, 404, 404, 200, 404],
        },
        Case {
            method: Method::PATCH,
            template: "/api/v1/partners/{id}",
            path: format!("/api/v1/partners/{globex}"),
            body: Some(json!({"region": "APAC"})),
            expect: [401, 200, 404, 403, 403, 404, 404, 403, 404],
        },
        Case {
            method: Method::PATCH,
            template: "/api/v1/people/{id}",
            path: format!("/api/v1/people/{globex_person}"),
            body: Some(json!({"display_name": "Renamed"})),
            expect: [401, 200, 404, 403, 403, 404, 404, 403, 404],
        },
        // A partner's entitlements are visible to whoever may see the partner.
        Case {
            method: Method::GET,
            template: "/api/v1/entitlements/check",
            path: format!(
                "/api/v1/entitlements/check?partner={globex}&entitlement=deal-registration"
            ),
            body: None,
            expect: [401, 200, 404, 200, 200, 404, 404, 200, 404],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/entitlements/check",
            path: "/api/v1/entitlements/check".into(),
            body: Some(
                json!({"checks": [{"partner": globex, "entitlement": "deal-registration"}]}),
            ),
            expect: [401, 200, 200, 200, 200, 200, 200, 200, 200],
        },
        // Only the program admin may import into Globex; the CSV body is a bare string.
        Case {
            method: Method::POST,
            template: "/api/v1/people/import",
            path: format!("/api/v1/people/import?partner={globex}"),
            body: Some(json!(
                "email,display_name,roles\nnewcomer@globex.example,Newcomer,learner\n"
            )),
            expect: [401, 200, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/people/export",
            path: format!("/api/v1/people/export?partner={globex}"),
            body: None,
            expect: [401, 200, 404, 200, 200, 404, 404, 200, 404],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/programs/{program}/modules/{module}/content",
            path: "/api/v1/programs/test-program/modules/m1/content".into(),
            body: None,
            expect: [401, 200, 200, 200, 200, 200, 200, 200, 200],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/programs/{program}/modules/{module}/compare",
            path: "/api/v1/programs/test-program/modules/m1/compare?from=1&to=1".into(),
            body: None,
            expect: [401, 200, 200, 200, 200, 200, 200, 200, 200],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/people/{id}/changes",
            path: format!("/api/v1/people/{globex_person}/changes?program=test-program&module=m1"),
            body: None,
            expect: [401, 200, 404, 200, 200, 404, 404, 200, 404],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/search",
            path: "/api/v1/search?q=read".into(),
            body: None,
            expect: [401, 200, 200, 200, 200, 200, 200, 200, 200],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/search/reindex",
            path: "/api/v1/search/reindex".into(),
            body: None,
            expect: [401, 200, 403, 403, 403, 403, 403, 403, 403],
        },
        // Progress belongs to people: tokens have none; completion counts for partner staff.
        Case {
            method: Method::POST,
            template: "/api/v1/sections/{id}/read",
            path: format!("/api/v1/sections/{guide_section}/read"),
            body: None,
            expect: [401, 204, 204, 204, 204, 204, 204, 403, 403],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/programs/{program}/modules/{module}/time",
            path: "/api/v1/programs/test-program/modules/m1/time".into(),
            body: Some(json!({"seconds": 60})),
            expect: [401, 200, 200, 200, 200, 200, 200, 403, 403],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/programs/{program}/modules/{module}/progress",
            path: "/api/v1/programs/test-program/modules/m1/progress".into(),
            body: None,
            expect: [401, 200, 200, 200, 200, 200, 200, 403, 403],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/programs/{program}/modules/{module}/complete",
            path: "/api/v1/programs/test-program/modules/m1/complete".into(),
            body: None,
            expect: [401, 403, 403, 403, 403, 200, 200, 403, 403],
        },
        // Exams: blueprints are public; the bank and publishing are the program admin's;
        // attempts are their candidate's, and the proctors'.
        Case {
            method: Method::GET,
            template: "/api/v1/exams",
            path: "/api/v1/exams".into(),
            body: None,
            expect: [200; 9],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/programs/{program}/exams/{exam}/blueprint",
            path: "/api/v1/programs/exam-program/exams/written/blueprint".into(),
            body: None,
            expect: [200; 9],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/programs/{program}/exams/{exam}/publish",
            path: "/api/v1/programs/exam-program/exams/written/publish".into(),
            body: None,
            expect: [401, 200, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/programs/{program}/items",
            path: "/api/v1/programs/exam-program/items".into(),
            body: Some(crate::exams::bank()),
            expect: [401, 200, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/programs/{program}/items",
            path: "/api/v1/programs/exam-program/items".into(),
            body: None,
            expect: [401, 200, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/programs/{program}/items/{item}/qti",
            path: "/api/v1/programs/exam-program/items/escape-fix/qti".into(),
            body: None,
            expect: [401, 200, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::PUT,
            template: "/api/v1/programs/{program}/items/{item}/status",
            path: "/api/v1/programs/exam-program/items/escape-fix/status".into(),
            body: Some(json!({"status": "active"})),
            expect: [401, 200, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/programs/{program}/exams/{exam}/eligibility",
            path: "/api/v1/programs/exam-program/exams/written/eligibility".into(),
            body: None,
            expect: [401, 403, 403, 403, 403, 200, 200, 403, 403],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/programs/{program}/exams/{exam}/attempts",
            path: "/api/v1/programs/exam-program/exams/written/attempts".into(),
            body: None,
            // The partner admin lacks the prerequisite; the learner has an attempt open.
            expect: [401, 403, 403, 403, 403, 409, 409, 403, 403],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/attempts/{id}",
            path: format!("/api/v1/attempts/{attempt_id}"),
            body: None,
            expect: [401, 200, 404, 404, 200, 404, 200, 404, 404],
        },
        Case {
            method: Method::PUT,
            template: "/api/v1/attempts/{id}/answers/{item}",
            path: format!("/api/v1/attempts/{attempt_id}/answers/{attempt_item}"),
            body: Some(json!({"response": {"type": "bool", "value": true}})),
            expect: [401, 403, 403, 403, 403, 404, 204, 403, 403],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/attempts/{id}/events",
            path: format!("/api/v1/attempts/{attempt_id}/events"),
            body: Some(json!({"kind": "focus_lost"})),
            expect: [401, 403, 403, 403, 403, 404, 204, 403, 403],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/proctoring/attempts",
            path: "/api/v1/proctoring/attempts".into(),
            body: None,
            expect: [401, 200, 403, 403, 200, 403, 403, 403, 403],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/attempts/{id}/approve",
            path: format!("/api/v1/attempts/{attempt_id}/approve"),
            body: None,
            // Not proctored, so nothing to approve, but only proctors learn that.
            expect: [401, 409, 403, 403, 409, 403, 403, 403, 403],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/attempts/{id}/invalidate",
            path: format!("/api/v1/attempts/{attempt_id}/invalidate"),
            body: Some(json!({"reason": ""})),
            expect: [401, 422, 403, 403, 422, 403, 403, 403, 403],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/attempts/{id}/submit",
            path: format!("/api/v1/attempts/{attempt_id}/submit"),
            body: None,
            expect: [401, 403, 403, 403, 403, 404, 200, 403, 403],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/programs/{program}/practicals/{practical}/submissions",
            path: "/api/v1/programs/practical-program/practicals/portfolio/submissions".into(),
            body: Some(submission_body.clone()),
            expect: [401, 403, 403, 403, 403, 201, 201, 403, 403],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/submissions/{id}",
            path: format!("/api/v1/submissions/{submission_id}"),
            body: None,
            expect: [401, 200, 404, 200, 404, 200, 200, 404, 404],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/submissions/{id}/resubmit",
            path: format!("/api/v1/submissions/{submission_id}/resubmit"),
            body: Some(submission_body.clone()),
            // Only a submission sent back for changes can be revised.
            expect: [401, 403, 403, 403, 403, 409, 409, 403, 403],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/reviews/queue",
            path: "/api/v1/reviews/queue".into(),
            body: None,
            expect: [401, 200, 403, 200, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/submissions/{id}/reviews",
            path: format!("/api/v1/submissions/{submission_id}/reviews"),
            body: Some(
                json!({"verdict": "approve", "scores": [["lifecycle", 1], ["reporting", 1]], "password": "not the password"}),
            ),
            // Reviewers get as far as the signature, which needs their password.
            expect: [401, 422, 403, 422, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/programs/{program}/practicals/{practical}/agreement",
            path: "/api/v1/programs/practical-program/practicals/portfolio/agreement".into(),
            body: None,
            expect: [401, 200, 403, 200, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/people/{id}/credentials",
            path: format!("/api/v1/people/{globex_person}/credentials"),
            body: None,
            expect: [401, 200, 404, 200, 200, 404, 404, 200, 404],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/credentials/{id}/verification",
            path: format!("/api/v1/credentials/{globex_credential}/verification"),
            body: None,
            expect: [200; 9],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/credentials/{id}",
            path: format!("/api/v1/credentials/{globex_credential}"),
            body: None,
            expect: [401, 200, 404, 200, 200, 404, 404, 200, 404],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/credentials/{id}/status",
            path: format!("/api/v1/credentials/{globex_credential}/status"),
            body: Some(json!({"status": "suspended", "reason": ""})),
            expect: [401, 422, 404, 403, 403, 404, 404, 403, 404],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/credentials/{id}/renewal",
            path: format!("/api/v1/credentials/{globex_credential}/renewal"),
            body: None,
            expect: [401, 200, 404, 200, 200, 404, 404, 200, 404],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/credentials/{id}/renewal/delta-read",
            path: format!("/api/v1/credentials/{globex_credential}/renewal/delta-read"),
            body: Some(json!({})),
            expect: [401, 403, 404, 403, 403, 404, 404, 403, 404],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/programs/{program}/triggers",
            path: "/api/v1/programs/test-program/triggers".into(),
            body: Some(
                json!({"kind": "major-release", "reason": "Spring release", "tracks": ["t9"], "deadline": "2030-01-01"}),
            ),
            expect: [401, 422, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/programs/{program}/triggers",
            path: "/api/v1/programs/test-program/triggers".into(),
            body: None,
            expect: [401, 200, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/programs/{program}/health-scores",
            path: "/api/v1/programs/test-program/health-scores".into(),
            body: Some(json!({"scores": []})),
            expect: [401, 409, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/programs/{program}/remediation",
            path: "/api/v1/programs/test-program/remediation".into(),
            body: None,
            expect: [401, 200, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/outcomes",
            path: "/api/v1/outcomes".into(),
            body: Some(serde_json::Value::String(
                "partner,quarter,metric,value\n".into(),
            )),
            expect: [401, 422, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/directory",
            path: "/api/v1/directory".into(),
            body: None,
            expect: [200; 9],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/jobs/sweep",
            path: "/api/v1/jobs/sweep".into(),
            body: Some(json!({"as_of": "2026-01-01"})),
            expect: [401, 200, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/webhooks",
            path: "/api/v1/webhooks".into(),
            body: None,
            expect: [401, 200, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/webhooks",
            path: "/api/v1/webhooks".into(),
            body: Some(json!({"url": "ftp://example.com/hook", "events": ["credential.issued"]})),
            expect: [401, 422, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/webhooks/{id}/disable",
            path: "/api/v1/webhooks/missing/disable".into(),
            body: Some(json!({})),
            expect: [401, 404, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/webhooks/{id}/test",
            path: "/api/v1/webhooks/missing/test".into(),
            body: Some(json!({})),
            expect: [401, 404, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/outbox",
            path: "/api/v1/outbox?state=dead".into(),
            body: None,
            expect: [401, 200, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::POST,
            template: "/api/v1/outbox/{id}/replay",
            path: "/api/v1/outbox/999999/replay".into(),
            body: Some(json!({})),
            expect: [401, 404, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/me/notifications",
            path: "/api/v1/me/notifications".into(),
            body: None,
            expect: [401, 200, 200, 200, 200, 200, 200, 403, 403],
        },
        Case {
            method: Method::GET,
            template: "/api/v1/programs/{program}/exams/{exam}/item-stats",
            path: "/api/v1/programs/exam-program/exams/written/item-stats".into(),
            body: None,
            expect: [401, 200, 403, 403, 403, 403, 403, 403, 403],
        },
    ];

    let mut failures = Vec::new();
    for case in &cases {
        for ((who, auth), expected) in callers.iter().zip(case.expect) {
            let body = case.body.clone().map(|mut b| {
                if b.get("email").is_some() {
                    b["email"] = json!(unique_email());
                }
                if b.get("name").is_some_and(|n| n == "New Partner") {
                    b["name"] = json!(format!("New Partner {}", unique_email()));
                }
                b
            });
            let response = t.request(case.method.clone(), &case.path, auth, body).await;
            if response.status.as_u16() != expected {
                failures.push(format!(
                    "{} {} as {who}: expected {expected}, got {} {}",
                    case.method, case.path, response.status, response.body
                ));
            }
            if !response.status.is_success() {
                assert_eq!(
                    response.header("content-type"),
                    Some("application/problem+json"),
                    "{} {} as {who}",
                    case.method,
                    case.path
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authorization mismatches:\n{}",
        failures.join("\n")
    );

    // Revoking a real token is the admin's alone.
    let admin = &callers[1].1;
    let revoke = t
        .request(
            Method::DELETE,
            &format!("/api/v1/tokens/{token_id}"),
            admin,
            None,
        )
        .await;
    assert_eq!(revoke.status, 200, "{}", revoke.body);

    // Every operation the API documents has a row above, so a new endpoint cannot skip this test.
    let documented: BTreeSet<(String, String)> = accredit_web::openapi()
        .paths
        .paths
        .iter()
        .flat_map(|(path, item)| {
            [
                ("GET", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
            ]
            .into_iter()
            .filter(|(_, present)| *present)
            .map(move |(method, _)| (method.to_owned(), path.clone()))
        })
        .collect();
    let tested: BTreeSet<(String, String)> = cases
        .iter()
        .map(|c| (c.method.to_string(), c.template.to_owned()))
        .collect();
    // Multipart uploads have their own authorization test in content.rs.
    let covered_elsewhere = [
        (
            "POST".to_owned(),
            "/api/v1/programs/{program}/modules/{module}/content".to_owned(),
        ),
        (
            "POST".to_owned(),
            "/api/v1/programs/{program}/items/import".to_owned(),
        ),
        (
            "POST".to_owned(),
            "/api/v1/submissions/{id}/files".to_owned(),
        ),
        (
            "GET".to_owned(),
            "/api/v1/submissions/{id}/files/{file}".to_owned(),
        ),
    ];
    let untested: Vec<_> = documented
        .difference(&tested)
        .filter(|endpoint| !covered_elsewhere.contains(endpoint))
        .collect();
    assert!(
        untested.is_empty(),
        "endpoints without authorization cases: {untested:?}"
    );
}

fn emails(response: &crate::support::TestResponse) -> BTreeSet<String> {
    response
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|p| p["email"].as_str().unwrap().to_owned())
        .collect()
}

fn names(response: &crate::support::TestResponse) -> BTreeSet<String> {
    response
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn lists_show_each_caller_only_what_they_may_see(t: TestApp) {
    let w = t.world().await;
    let set = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();

    let acme_admin = t.login(&w.acme_admin.email).await;
    let people = t.get("/api/v1/people", &acme_admin).await;
    assert_eq!(
        emails(&people),
        set(&[&w.acme_admin.email, &w.acme_learner.email])
    );
    assert!(!people.body.contains("globex"), "{}", people.body);
    assert_eq!(
        names(&t.get("/api/v1/partners", &acme_admin).await),
        set(&["Acme"])
    );

    let learner = t.login(&w.acme_learner.email).await;
    assert_eq!(
        emails(&t.get("/api/v1/people", &learner).await),
        set(&[&w.acme_learner.email])
    );
    assert_eq!(
        names(&t.get("/api/v1/partners", &learner).await),
        set(&["Acme"])
    );

    let pam = t.login(&w.pam.email).await;
    assert_eq!(
        emails(&t.get("/api/v1/people", &pam).await),
        set(&[&w.acme_admin.email, &w.acme_learner.email])
    );
    assert_eq!(
        names(&t.get("/api/v1/partners", &pam).await),
        set(&["Acme"])
    );

    let globex_admin = t.login(&w.globex_admin.email).await;
    assert_eq!(
        emails(&t.get("/api/v1/people", &globex_admin).await),
        set(&[&w.globex_admin.email, &w.globex_learner.email])
    );

    let admin = t.login(&w.admin.email).await;
    assert_eq!(emails(&t.get("/api/v1/people", &admin).await).len(), 8);
    assert_eq!(
        names(&t.get("/api/v1/partners", &admin).await),
        set(&["Acme", "Globex"])
    );

    // The home page of a partner admin lists their firm and colleagues, and nothing of Globex.
    let home = t.get("/", &acme_admin).await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains(&w.acme_learner.email), "{}", home.body);
    assert!(
        !home.body.contains("Globex") && !home.body.contains("globex.example"),
        "{}",
        home.body
    );
}

async fn pages_refuse_what_the_caller_may_not_do(t: TestApp) {
    let w = t.world().await;
    let anonymous = t.get("/", &Auth::Anonymous).await;
    assert_eq!(anonymous.status, 303);
    assert_eq!(anonymous.header("location"), Some("/login"));
    assert_eq!(t.get("/admin/tokens", &Auth::Anonymous).await.status, 303);

    for email in [
        &w.pam.email,
        &w.reviewer.email,
        &w.proctor.email,
        &w.acme_admin.email,
        &w.acme_learner.email,
    ] {
        let auth = t.login(email).await;
        assert_eq!(t.get("/", &auth).await.status, 200, "{email}");
        let tokens = t.get("/admin/tokens", &auth).await;
        assert_eq!(tokens.status, 403, "{email}: {}", tokens.body);
        assert!(
            tokens.body.contains("only program admins"),
            "{}",
            tokens.body
        );
    }
    let admin = t.login(&w.admin.email).await;
    let tokens = t.get("/admin/tokens", &admin).await;
    assert_eq!(tokens.status, 200);
    assert!(tokens.body.contains("Create a token"));

    // Form posts are authorized like the API, even with a valid CSRF token.
    let issued = t
        .app
        .create_api_token(&accredit_app::Ctx::system(), "kept", "people:read")
        .await
        .unwrap();
    let Auth::Session(learner) = t.login(&w.acme_learner.email).await else {
        unreachable!()
    };
    let form = |path: String, body: String| crate::support::session_form(&path, &learner, body);
    let create = t
        .send(form(
            "/admin/tokens".into(),
            format!("csrf={}&name=x&scope=audit%3Aread", learner.csrf),
        ))
        .await;
    assert_eq!(create.status, 403);
    let revoke = t
        .send(form(
            format!("/admin/tokens/{}/revoke", issued.token.id),
            format!("csrf={}", learner.csrf),
        ))
        .await;
    assert_eq!(revoke.status, 403);
    assert!(
        t.app.token_principal(&issued.secret).await.is_ok(),
        "still valid"
    );
    assert_eq!(
        t.app
            .list_api_tokens(&accredit_app::Ctx::system())
            .await
            .unwrap()
            .len(),
        1
    );

    // Signing out needs a session; the login and confirmation forms need none.
    let logout = t
        .send(
            axum::http::Request::builder()
                .method(Method::POST)
                .uri("/logout")
                .header(
                    axum::http::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(axum::body::Body::from("csrf=x"))
                .unwrap(),
        )
        .await;
    assert_eq!(logout.status, 303);
    assert_eq!(logout.header("location"), Some("/login"));
    assert_eq!(t.get("/login", &Auth::Anonymous).await.status, 200);
    assert_eq!(
        t.get("/email/confirm?token=abc", &Auth::Anonymous)
            .await
            .status,
        200
    );
}
