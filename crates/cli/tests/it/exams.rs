//! Exams end to end over the API: publishing against the bank, eligibility, attempts with
//! autosave, the time limit, scoring, the retake wait, proctoring and item statistics.

use crate::on_both_backends;
use crate::support::{Auth, Session, TestApp, TestResponse, World, session_form};
use accredit_app::Ctx;
use accredit_app::evidence::Evidence;
use axum::http::Method;
use serde_json::{Value, json};

on_both_backends!(
    a_full_attempt_fails_waits_thirty_days_then_passes,
    the_time_limit_submits_the_attempt_and_answers_stop,
    proctored_attempts_wait_for_approval_and_can_be_invalidated,
    publishing_names_what_the_bank_lacks,
    the_exam_pages_take_a_candidate_from_blueprint_to_result,
    proctors_and_admins_work_from_their_pages,
    the_demo_publishes_the_example_exams_with_scenario_items,
    item_files_import_through_cli_api_and_page_naming_file_and_line,
    passing_again_in_the_renewal_window_renews_the_credential,
);

const ITEM_FILE: &str = r#"
[[items]]
id = "region-check"
domain = "residency"
stem = "Data may leave the customer's region for backups."
body = { type = "true_false", correct = false }

[[items]]
id = "bind-variable"
domain = "injection"
stem = "Which operator marks a bind variable in SOQL? (one character)"
body = { type = "short_text", accepted = [{ kind = "exact", value = ":" }] }
"#;

pub const EXAM_PROGRAM: &str = r#"
[program]
id = "exam-program"
name = "Exam Program"
version = "1"
job_roles = ["developer"]

[[modules]]
id = "basics"
title = "Basics"
hours = 2
job_roles = ["developer"]

[[exams]]
id = "written"
title = "Written exam"
job_roles = ["developer"]
passing_score = 85
time_limit_minutes = 30
prerequisites = ["basics"]
retake = { wait_days = 30, max_attempts = 3, period_days = 365 }
domains = [
  { id = "injection", name = "Injection", weight = 60, items = 2 },
  { id = "residency", name = "Data residency", weight = 40, items = 1 },
]

[[exams]]
id = "proctored"
title = "Proctored exam"
job_roles = ["developer"]
proctored = true
passing_score = 50
time_limit_minutes = 60
domains = [{ id = "injection", name = "Injection", weight = 100, items = 1 }]

[[tracks]]
id = "developer"
name = "Certified developer"
job_roles = ["developer"]
validity = { months = 12 }
renewal = { window_days = 30, requires = "full-track" }
requires = { exam = "written" }

[[tiers]]
id = "certified"
name = "Certified"
requires = { people_holding = "developer", at_least = 1 }
"#;

/// Three scenario items and a spare: their keys are what a correct candidate answers.
pub fn bank() -> Value {
    json!({ "items": [
        {
            "id": "soql-concat", "domain": "injection",
            "stem": "Which line of this Apex method lets a caller inject SOQL?",
            "artifact": { "kind": "code", "language": "java", "content": "public List<Account> find(String name) {\n  String q = 'SELECT Id FROM Account WHERE Name = \\'' + name + '\\'';\n  return Database.query(q);\n}" },
            "body": { "type": "faulty_lines", "lines": [2] },
            "rationale": "Concatenating user input into dynamic SOQL; use a bind variable."
        },
        {
            "id": "escape-fix", "domain": "injection",
            "stem": "What fixes the injection with the least change?",
            "body": { "type": "single_choice", "choices": [
                { "id": "a", "text": "Use a bind variable (:name)" },
                { "id": "b", "text": "Trim the input" },
                { "id": "c", "text": "Run the query without sharing" }
            ], "correct": "a" },
            "rationale": "Bind variables are never parsed as SOQL."
        },
        {
            "id": "webhook-region", "domain": "residency",
            "stem": "An EU customer's record is sent to a US endpoint by a webhook. Allowed?",
            "body": { "type": "true_false", "correct": false },
            "rationale": "Data must stay in the region the customer chose."
        },
        {
            "id": "escape-quote", "domain": "injection",
            "stem": "Which function escapes single quotes in Apex?",
            "body": { "type": "short_text", "accepted": [{ "kind": "exact", "value": "String.escapeSingleQuotes" }] }
        }
    ]})
}

fn right_answer(item: &Value) -> Value {
    match item["kind"].as_str().unwrap() {
        "faulty_lines" => json!({ "type": "lines", "value": [2] }),
        "single_choice" => json!({ "type": "choice", "value": "a" }),
        "true_false" => json!({ "type": "bool", "value": false }),
        "short_text" => json!({ "type": "text", "value": "string.escapesinglequotes" }),
        other => panic!("unexpected item kind {other}"),
    }
}

fn wrong_answer(item: &Value) -> Value {
    match item["kind"].as_str().unwrap() {
        "faulty_lines" => json!({ "type": "lines", "value": [3] }),
        "single_choice" => json!({ "type": "choice", "value": "b" }),
        "true_false" => json!({ "type": "bool", "value": true }),
        _ => json!({ "type": "text", "value": "trim()" }),
    }
}

async fn prepared(t: &TestApp) -> (World, Auth, Auth) {
    let w = t.world().await;
    t.app
        .apply_program(&Ctx::system(), EXAM_PROGRAM)
        .await
        .unwrap();
    t.app
        .enroll_partner(&Ctx::system(), &w.acme.id, "exam-program")
        .await
        .unwrap();
    let admin = t.login(&w.admin.email).await;
    let added = t
        .post("/api/v1/programs/exam-program/items", &admin, bank())
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(added.json()["created"].as_array().unwrap().len(), 4);
    for item in [
        "soql-concat",
        "escape-fix",
        "webhook-region",
        "escape-quote",
    ] {
        let activated = t
            .request(
                Method::PUT,
                &format!("/api/v1/programs/exam-program/items/{item}/status"),
                &admin,
                Some(json!({ "status": "active" })),
            )
            .await;
        assert_eq!(activated.status, 200, "{}", activated.body);
    }
    for exam in ["written", "proctored"] {
        let published = t
            .post(
                &format!("/api/v1/programs/exam-program/exams/{exam}/publish"),
                &admin,
                json!({}),
            )
            .await;
        assert_eq!(published.status, 200, "{}", published.body);
    }
    let learner = t.login(&w.acme_learner.email).await;
    (w, admin, learner)
}

async fn complete_basics(t: &TestApp, w: &World) {
    let evidence = Evidence::ModuleCompleted {
        person: w.acme_learner.id.clone(),
        module: "basics".into(),
    };
    t.app
        .record_evidence(&Ctx::system(), "exam-program", evidence)
        .await
        .unwrap();
}

async fn answer_all(t: &TestApp, learner: &Auth, attempt: &Value, right: bool) {
    let id = attempt["id"].as_str().unwrap();
    for item in attempt["items"].as_array().unwrap() {
        let response = if right {
            right_answer(item)
        } else {
            wrong_answer(item)
        };
        let saved = t
            .request(
                Method::PUT,
                &format!(
                    "/api/v1/attempts/{id}/answers/{}",
                    item["id"].as_str().unwrap()
                ),
                learner,
                Some(json!({ "response": response, "flagged": false })),
            )
            .await;
        assert_eq!(saved.status, 204, "{}", saved.body);
    }
}

fn assert_no_keys(response: &TestResponse) {
    for secret in [
        "\"correct\":",
        "\"lines\":",
        "\"accepted\":",
        "rationale",
        "bind variable.",
        "String.escapeSingleQuotes",
    ] {
        assert!(
            !response.body.contains(secret),
            "the candidate's view leaks `{secret}`: {}",
            response.body
        );
    }
}

async fn a_full_attempt_fails_waits_thirty_days_then_passes(t: TestApp) {
    let (w, _, learner) = prepared(&t).await;
    let blueprint = t
        .get(
            "/api/v1/programs/exam-program/exams/written/blueprint",
            &Auth::Anonymous,
        )
        .await;
    assert_eq!(blueprint.status, 200, "anyone reads the blueprint");
    let b = blueprint.json();
    assert_eq!(b["blueprint"]["passing_score"], 85);
    assert_eq!(b["blueprint"]["retake"]["wait_days"], 30);
    assert_eq!(b["total_items"], 3);
    assert_eq!(b["blueprint"]["domains"][0]["weight"], 60);

    let eligibility = "/api/v1/programs/exam-program/exams/written/eligibility";
    let before = t.get(eligibility, &learner).await.json();
    assert_eq!(before["eligible"], false);
    assert_eq!(
        before["reason"],
        "complete the prerequisite module first: basics"
    );
    let refused = t
        .post(
            "/api/v1/programs/exam-program/exams/written/attempts",
            &learner,
            json!({}),
        )
        .await;
    assert_eq!(refused.status, 409);
    complete_basics(&t, &w).await;
    assert_eq!(t.get(eligibility, &learner).await.json()["eligible"], true);

    // First attempt: everything wrong.
    let started = t
        .post(
            "/api/v1/programs/exam-program/exams/written/attempts",
            &learner,
            json!({}),
        )
        .await;
    assert_eq!(started.status, 201, "{}", started.body);
    assert_no_keys(&started);
    let attempt = started.json();
    assert_eq!(attempt["status"], "in_progress");
    assert_eq!(attempt["seconds_left"], 30 * 60);
    let items = attempt["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    let injection = items.iter().filter(|i| i["id"] != "webhook-region").count();
    assert_eq!(injection, 2, "the blueprint's counts per domain");
    let scenario = items.iter().find(|i| i["id"] == "soql-concat");
    if let Some(scenario) = scenario {
        assert!(
            scenario["artifact"]["content"]
                .as_str()
                .unwrap()
                .contains("Database.query(q)")
        );
    }
    let id = attempt["id"].as_str().unwrap().to_owned();
    // Another candidate cannot see or change it.
    let other = t.login(&w.globex_learner.email).await;
    assert_eq!(
        t.get(&format!("/api/v1/attempts/{id}"), &other)
            .await
            .status,
        404
    );
    answer_all(&t, &learner, &attempt, false).await;
    let reread = t.get(&format!("/api/v1/attempts/{id}"), &learner).await;
    assert_no_keys(&reread);
    assert_eq!(reread.json()["answers"].as_array().unwrap().len(), 3);

    let submitted = t
        .post(
            &format!("/api/v1/attempts/{id}/submit"),
            &learner,
            json!({}),
        )
        .await;
    assert_eq!(submitted.status, 200, "{}", submitted.body);
    assert_no_keys(&submitted);
    let result = &submitted.json()["result"];
    assert_eq!(result["passed"], false);
    assert_eq!(result["total_percent"], 0.0);
    assert_eq!(result["domains"][0]["domain"], "injection");
    assert_eq!(result["domains"][0]["items"], 2);

    // Retake refused for 30 days, with the date.
    let wait = t.get(eligibility, &learner).await.json();
    assert_eq!(wait["eligible"], false);
    assert!(
        wait["reason"]
            .as_str()
            .unwrap()
            .contains("asks for 30 days between a failed attempt and the next"),
        "{wait}"
    );
    let retake = t
        .post(
            "/api/v1/programs/exam-program/exams/written/attempts",
            &learner,
            json!({}),
        )
        .await;
    assert_eq!(retake.status, 409);
    assert!(
        retake.json()["detail"]
            .as_str()
            .unwrap()
            .contains("the next attempt is possible from"),
        "{}",
        retake.body
    );

    t.clock.advance(jiff::SignedDuration::from_hours(24 * 30));
    let learner = t.login(&w.acme_learner.email).await;
    let second = t
        .post(
            "/api/v1/programs/exam-program/exams/written/attempts",
            &learner,
            json!({}),
        )
        .await;
    assert_eq!(second.status, 201, "{}", second.body);
    let attempt = second.json();
    answer_all(&t, &learner, &attempt, true).await;
    let id = attempt["id"].as_str().unwrap();
    let passed = t
        .post(
            &format!("/api/v1/attempts/{id}/submit"),
            &learner,
            json!({}),
        )
        .await
        .json();
    assert_eq!(passed["result"]["passed"], true, "{passed}");
    assert_eq!(passed["result"]["total_percent"], 100.0);
    // The pass is recorded as evidence for the learner's tracks.
    let audit = t
        .app
        .list_audit_events(&Ctx::system(), 0, 1000)
        .await
        .unwrap();
    let pass = audit
        .iter()
        .find(|e| e.action == "exam.passed")
        .expect("the pass is evidence");
    assert_eq!(pass.subject, format!("person:{}", w.acme_learner.id));
    assert_eq!(pass.summary["exam"], "written");
    let again = t.get(eligibility, &learner).await.json();
    assert!(
        again["reason"]
            .as_str()
            .unwrap()
            .starts_with("already passed on")
    );

    let admin = t.login(&w.admin.email).await;
    let stats = t
        .get(
            "/api/v1/programs/exam-program/exams/written/item-stats",
            &admin,
        )
        .await;
    assert_eq!(stats.status, 200, "{}", stats.body);
    let stats = stats.json();
    assert_eq!(stats["attempts"], 2);
    assert_eq!(stats["pass_rate"], 0.5);
}

async fn the_time_limit_submits_the_attempt_and_answers_stop(t: TestApp) {
    let (w, _admin, learner) = prepared(&t).await;
    complete_basics(&t, &w).await;
    let attempt = t
        .post(
            "/api/v1/programs/exam-program/exams/written/attempts",
            &learner,
            json!({}),
        )
        .await
        .json();
    let id = attempt["id"].as_str().unwrap();
    let first = attempt["items"][0]["id"].as_str().unwrap();
    t.clock.advance(jiff::SignedDuration::from_mins(29));
    assert_eq!(
        t.app.expire_attempts().await.unwrap(),
        0,
        "still within the limit"
    );
    t.clock.advance(jiff::SignedDuration::from_mins(2));
    // The server's minute tick scores it without anyone opening it.
    assert_eq!(t.app.expire_attempts().await.unwrap(), 1);
    assert_eq!(t.app.expire_attempts().await.unwrap(), 0, "once only");
    let late = t
        .request(
            Method::PUT,
            &format!("/api/v1/attempts/{id}/answers/{first}"),
            &learner,
            Some(json!({ "response": { "type": "bool", "value": true } })),
        )
        .await;
    assert_eq!(late.status, 409, "{}", late.body);
    let view = t
        .get(&format!("/api/v1/attempts/{id}"), &learner)
        .await
        .json();
    assert_eq!(view["status"], "timed_out");
    assert_eq!(view["result"]["passed"], false);
    assert!(
        t.app
            .list_audit_events(&Ctx::system(), 0, 1000)
            .await
            .unwrap()
            .iter()
            .any(|e| e.action == "attempt.timed_out")
    );
}

async fn proctored_attempts_wait_for_approval_and_can_be_invalidated(t: TestApp) {
    let (w, admin, learner) = prepared(&t).await;
    let proctor = t.login(&w.proctor.email).await;
    let started = t
        .post(
            "/api/v1/programs/exam-program/exams/proctored/attempts",
            &learner,
            json!({}),
        )
        .await;
    assert_eq!(started.status, 201, "{}", started.body);
    let attempt = started.json();
    assert_eq!(attempt["status"], "awaiting_proctor");
    assert!(
        attempt["items"].as_array().unwrap().is_empty(),
        "no questions before approval"
    );
    let id = attempt["id"].as_str().unwrap();
    let early = t
        .post(
            &format!("/api/v1/attempts/{id}/submit"),
            &learner,
            json!({}),
        )
        .await;
    assert_eq!(early.status, 409);
    assert!(
        early
            .body
            .contains("a proctor has not approved the start yet")
    );
    // The candidate cannot approve themselves; the proctor can.
    assert_eq!(
        t.post(
            &format!("/api/v1/attempts/{id}/approve"),
            &learner,
            json!({})
        )
        .await
        .status,
        403
    );
    let approved = t
        .post(
            &format!("/api/v1/attempts/{id}/approve"),
            &proctor,
            json!({}),
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.body);
    assert_eq!(approved.json()["status"], "in_progress");
    assert_no_keys(&approved);
    let view = t
        .get(&format!("/api/v1/attempts/{id}"), &learner)
        .await
        .json();
    assert_eq!(view["items"].as_array().unwrap().len(), 1);

    for kind in ["focus_lost", "paste"] {
        let reported = t
            .post(
                &format!("/api/v1/attempts/{id}/events"),
                &learner,
                json!({ "kind": kind, "detail": "left the exam tab" }),
            )
            .await;
        assert_eq!(reported.status, 204, "{}", reported.body);
    }
    let live = t.get("/api/v1/proctoring/attempts", &proctor).await;
    assert_eq!(live.status, 200);
    let live = live.json();
    assert_eq!(live[0]["id"], id);
    assert_eq!(live[0]["events"][0]["kind"], "focus_lost");
    assert_eq!(live[0]["events"][1]["kind"], "paste");
    assert_eq!(
        t.get("/api/v1/proctoring/attempts", &learner).await.status,
        403
    );

    let no_reason = t
        .post(
            &format!("/api/v1/attempts/{id}/invalidate"),
            &proctor,
            json!({ "reason": "" }),
        )
        .await;
    assert_eq!(no_reason.status, 422);
    let invalidated = t
        .post(
            &format!("/api/v1/attempts/{id}/invalidate"),
            &proctor,
            json!({ "reason": "a second person was answering" }),
        )
        .await;
    assert_eq!(invalidated.status, 200, "{}", invalidated.body);
    let view = invalidated.json();
    assert_eq!(view["status"], "invalidated");
    assert_eq!(view["invalidated_reason"], "a second person was answering");
    let audit = t
        .app
        .list_audit_events(&Ctx::system(), 0, 1000)
        .await
        .unwrap();
    let event = audit
        .iter()
        .find(|e| e.action == "attempt.invalidated")
        .expect("audited");
    assert_eq!(event.summary["reason"], "a second person was answering");
    // Invalidated attempts are no evidence and leave no score for the statistics.
    let stats = t
        .get(
            "/api/v1/programs/exam-program/exams/proctored/item-stats",
            &admin,
        )
        .await
        .json();
    assert_eq!(stats["attempts"], 0);
}

async fn publishing_names_what_the_bank_lacks(t: TestApp) {
    let w = t.world().await;
    t.app
        .apply_program(&Ctx::system(), EXAM_PROGRAM)
        .await
        .unwrap();
    let admin = t.login(&w.admin.email).await;
    let added = t
        .post("/api/v1/programs/exam-program/items", &admin, bank())
        .await;
    assert_eq!(added.status, 200);
    // All four are drafts: nothing can be drawn yet.
    let refused = t
        .post(
            "/api/v1/programs/exam-program/exams/written/publish",
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    let problems = refused.json()["errors"].clone();
    assert_eq!(problems[0]["field"], "domains.injection");
    assert_eq!(
        problems[0]["message"],
        "domain `injection` needs 2 active items and the bank has 0"
    );
    assert_eq!(problems[1]["field"], "domains.residency");
    assert_eq!(
        t.get(
            "/api/v1/programs/exam-program/exams/written/blueprint",
            &Auth::Anonymous
        )
        .await
        .status,
        404
    );
    // An item in a domain no blueprint has is refused, and nothing of that import is kept.
    let stray = t
        .post(
            "/api/v1/programs/exam-program/items",
            &admin,
            json!({ "items": [
                { "id": "ok", "domain": "injection", "stem": "?", "body": { "type": "true_false", "correct": true } },
                { "id": "stray", "domain": "networking", "stem": "?", "body": { "type": "true_false", "correct": true } }
            ]}),
        )
        .await;
    assert_eq!(stray.status, 422);
    assert_eq!(stray.json()["errors"][0]["field"], "items.stray.domain");
    let items = t
        .get("/api/v1/programs/exam-program/items", &admin)
        .await
        .json();
    assert_eq!(items.as_array().unwrap().len(), 4);
    // Re-importing a changed item makes a new version; an unchanged one is left alone.
    let mut changed = bank();
    changed["items"][1]["stem"] = json!("What fixes the injection?");
    let report = t
        .post("/api/v1/programs/exam-program/items", &admin, changed)
        .await
        .json();
    assert_eq!(report["revised"], json!(["escape-fix"]));
    assert_eq!(report["unchanged"].as_array().unwrap().len(), 3);
    // Candidates never read the bank.
    let learner = t.login(&w.acme_learner.email).await;
    assert_eq!(
        t.get("/api/v1/programs/exam-program/items", &learner)
            .await
            .status,
        403
    );
}

fn session(auth: &Auth) -> Session {
    match auth {
        Auth::Session(s) => s.clone(),
        _ => unreachable!("a signed-in person"),
    }
}

/// The exam page's form fields that answer every item right (or wrong).
fn form_answers(attempt: &Value, right: bool) -> String {
    let mut fields = Vec::new();
    for item in attempt["items"].as_array().unwrap() {
        let id = item["id"].as_str().unwrap();
        let value = match (item["kind"].as_str().unwrap(), right) {
            ("faulty_lines", true) => "2",
            ("faulty_lines", false) => "3",
            ("single_choice", true) => "a",
            ("single_choice", false) => "b",
            ("true_false", true) => "false",
            ("true_false", false) => "true",
            ("short_text", true) => "String.escapeSingleQuotes",
            _ => "no idea",
        };
        fields.push(format!("r%3A{id}={value}"));
    }
    fields.join("&")
}

async fn the_exam_pages_take_a_candidate_from_blueprint_to_result(t: TestApp) {
    let (w, _, learner) = prepared(&t).await;
    let public = t.get("/exams/exam-program/written", &Auth::Anonymous).await;
    assert_eq!(public.status, 200);
    assert!(
        public
            .body
            .contains("<td>Injection</td><td>60%</td><td>2</td>"),
        "{}",
        public.body
    );
    assert!(public.body.contains("85% of the weighted score"));
    assert!(public.body.contains("wait 30 days"));
    assert!(
        !public.body.contains("Start the exam"),
        "anonymous visitors only read"
    );
    let listed = t.get("/exams", &Auth::Anonymous).await;
    assert!(listed.body.contains("href=\"/exams/exam-program/written\""));

    let page = t.get("/exams/exam-program/written", &learner).await;
    assert!(
        page.body
            .contains("Not yet: complete the prerequisite module first: basics."),
        "{}",
        page.body
    );
    complete_basics(&t, &w).await;
    let s = session(&learner);
    let started = t
        .send(session_form(
            "/exams/exam-program/written/attempts",
            &s,
            format!("csrf={}", s.csrf),
        ))
        .await;
    assert_eq!(started.status, 303, "{}", started.body);
    let location = started.header("location").unwrap().to_owned();
    let id = location.trim_start_matches("/attempts/").to_owned();
    let exam = t.get(&location, &learner).await;
    assert_eq!(exam.status, 200);
    assert!(exam.body.contains("Question 1 of 3"));
    assert!(exam.body.contains("role=\"timer\""));
    assert!(exam.body.contains("Flag for review"));
    assert!(exam.body.contains("src=\"/assets/exam.js\""));
    for secret in ["bind variable.", "String.escapeSingleQuotes", "rationale"] {
        assert!(!exam.body.contains(secret), "the exam page leaks {secret}");
    }
    let attempt = t
        .get(&format!("/api/v1/attempts/{id}"), &learner)
        .await
        .json();

    // Without JavaScript: save with a flag, then submit wrong answers.
    let first = attempt["items"][0]["id"].as_str().unwrap();
    let saved = t
        .send(session_form(
            &format!("/attempts/{id}/answers"),
            &s,
            format!(
                "csrf={}&{}&f%3A{first}=1",
                s.csrf,
                form_answers(&attempt, false)
            ),
        ))
        .await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert!(saved.body.contains("Your answers are saved."));
    assert!(saved.body.contains("<span class=\"flag\">flagged</span>"));
    let view = t
        .get(&format!("/api/v1/attempts/{id}"), &learner)
        .await
        .json();
    assert_eq!(view["answers"].as_array().unwrap().len(), 3);
    // The script's autosave gets an empty answer.
    let mut autosave = session_form(
        &format!("/attempts/{id}/answers"),
        &s,
        format!("csrf={}&{}", s.csrf, form_answers(&attempt, false)),
    );
    autosave
        .headers_mut()
        .insert("x-autosave", "1".parse().unwrap());
    assert_eq!(t.send(autosave).await.status, 204);

    let submitted = t
        .send(session_form(
            &format!("/attempts/{id}/submit"),
            &s,
            format!("csrf={}", s.csrf),
        ))
        .await;
    assert_eq!(submitted.status, 303);
    let result = t.get(&format!("/attempts/{id}"), &learner).await;
    assert!(
        result.body.contains("Not passed</span>: 0%"),
        "{}",
        result.body
    );
    assert!(
        result
            .body
            .contains("<td>Injection</td><td>60%</td><td>0 of 2</td>"),
        "{}",
        result.body
    );
    assert!(
        result.body.contains("You may try again from <strong>"),
        "{}",
        result.body
    );
    let again = t
        .send(session_form(
            "/exams/exam-program/written/attempts",
            &s,
            format!("csrf={}", s.csrf),
        ))
        .await;
    assert_eq!(again.status, 409);
    assert!(again.body.contains("asks for 30 days"), "{}", again.body);

    t.clock.advance(jiff::SignedDuration::from_hours(24 * 31));
    let learner = t.login(&w.acme_learner.email).await;
    let s = session(&learner);
    let started = t
        .send(session_form(
            "/exams/exam-program/written/attempts",
            &s,
            format!("csrf={}", s.csrf),
        ))
        .await;
    assert_eq!(started.status, 303, "{}", started.body);
    let id = started
        .header("location")
        .unwrap()
        .trim_start_matches("/attempts/")
        .to_owned();
    let attempt = t
        .get(&format!("/api/v1/attempts/{id}"), &learner)
        .await
        .json();
    // Submitting saves what the form holds first.
    let submitted = t
        .send(session_form(
            &format!("/attempts/{id}/submit"),
            &s,
            format!("csrf={}&{}", s.csrf, form_answers(&attempt, true)),
        ))
        .await;
    assert_eq!(submitted.status, 303);
    let result = t.get(&format!("/attempts/{id}"), &learner).await;
    assert!(
        result.body.contains("Passed</span>: 100%"),
        "{}",
        result.body
    );
}

async fn proctors_and_admins_work_from_their_pages(t: TestApp) {
    let (w, admin, learner) = prepared(&t).await;
    let started = t
        .post(
            "/api/v1/programs/exam-program/exams/proctored/attempts",
            &learner,
            json!({}),
        )
        .await
        .json();
    let id = started["id"].as_str().unwrap();
    let waiting = t.get(&format!("/attempts/{id}"), &learner).await;
    assert!(waiting.body.contains("Waiting for a proctor"));
    assert!(!waiting.body.contains("Question 1"));

    let proctor = t.login(&w.proctor.email).await;
    let p = session(&proctor);
    let live = t.get("/proctoring", &proctor).await;
    assert_eq!(live.status, 200);
    assert!(live.body.contains("Waiting for approval"), "{}", live.body);
    assert_eq!(t.get("/proctoring", &learner).await.status, 403);
    let approved = t
        .send(session_form(
            &format!("/attempts/{id}/approve"),
            &p,
            format!("csrf={}", p.csrf),
        ))
        .await;
    assert_eq!(approved.status, 303);
    t.post(
        &format!("/api/v1/attempts/{id}/events"),
        &learner,
        json!({"kind": "paste", "detail": "212 characters pasted"}),
    )
    .await;
    let live = t.get("/proctoring", &proctor).await;
    assert!(
        live.body.contains("pasted text (212 characters pasted)"),
        "{}",
        live.body
    );
    let invalidated = t
        .send(session_form(
            &format!("/attempts/{id}/invalidate"),
            &p,
            format!("csrf={}&reason=answers+read+from+a+phone", p.csrf),
        ))
        .await;
    assert_eq!(invalidated.status, 200);
    assert!(invalidated.body.contains("is invalidated"));
    let view = t.get(&format!("/attempts/{id}"), &learner).await;
    assert!(
        view.body.contains("Reason: answers read from a phone"),
        "{}",
        view.body
    );

    // The item bank and item quality pages are the program admin's.
    let a = session(&admin);
    let bank = t.get("/programs/exam-program/items", &admin).await;
    assert_eq!(bank.status, 200);
    assert!(bank.body.contains("4 items"));
    assert!(bank.body.contains("<code>soql-concat</code>"));
    assert_eq!(
        t.get("/programs/exam-program/items", &learner).await.status,
        403
    );
    let retired = t
        .send(session_form(
            "/programs/exam-program/items/webhook-region/status",
            &a,
            format!("csrf={}&status=retired", a.csrf),
        ))
        .await;
    assert_eq!(retired.status, 303);
    let republish = t
        .send(session_form(
            "/programs/exam-program/exams/written/publish",
            &a,
            format!("csrf={}", a.csrf),
        ))
        .await;
    assert_eq!(republish.status, 422);
    assert!(
        republish
            .body
            .contains("domain `residency` needs 1 active item and the bank has 0"),
        "{}",
        republish.body
    );
    let quality = t
        .get("/programs/exam-program/exams/written/quality", &admin)
        .await;
    assert_eq!(quality.status, 200);
    assert!(quality.body.contains("0 scored attempts"));
    let csv = t
        .get("/programs/exam-program/exams/written/quality.csv", &admin)
        .await;
    assert!(
        csv.body
            .starts_with("item_id,responses,p_value,point_biserial,option_rates,flags")
    );
}

async fn the_demo_publishes_the_example_exams_with_scenario_items(t: TestApp) {
    t.app.load_demo("demo-password-123").await.unwrap();
    let published = t.app.published_exams().await.unwrap();
    let ids: Vec<&str> = published.iter().map(|e| e.exam_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "associate-architect-exam",
            "msp-operational-assessment",
            "crm-implementation-exam",
            "marketing-hub-exam",
            "sales-hub-exam",
            "security-review-scenarios-exam",
            "sales-written-exam",
            "technical-written-exam"
        ]
    );
    let sales = published
        .iter()
        .find(|e| e.exam_id == "sales-written-exam")
        .unwrap();
    assert_eq!(sales.blueprint.passing_score, 85);
    assert_eq!(sales.blueprint.retake.wait_days, 30);
    let items = t
        .app
        .list_items(&Ctx::system(), "isv-platform-security")
        .await
        .unwrap();
    let scenario = items.iter().find(|i| i.id == "soql-string-concat").unwrap();
    assert!(
        scenario
            .artifact
            .as_ref()
            .unwrap()
            .content
            .contains("Database.query(q)")
    );
    assert!(
        items
            .iter()
            .all(|i| i.status == accredit_domain::exam::ItemStatus::Active)
    );
    let page = t
        .get(
            "/exams/isv-platform-security/security-review-scenarios-exam",
            &Auth::Anonymous,
        )
        .await;
    assert!(
        page.body
            .contains("Proctored: a proctor approves the start"),
        "{}",
        page.body
    );
}

async fn item_files_import_through_cli_api_and_page_naming_file_and_line(t: TestApp) {
    let w = t.world().await;
    t.app
        .apply_program(&Ctx::system(), EXAM_PROGRAM)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bank.toml"), ITEM_FILE).unwrap();
    std::fs::write(
        dir.path().join("broken.toml"),
        ITEM_FILE.replace("correct = false", "correct = \"no\""),
    )
    .unwrap();
    let url = t.db.url.clone();
    let run = |files: &[&str]| {
        let mut args = vec![
            "items",
            "import",
            "--database-url",
            &url,
            "--program",
            "exam-program",
        ];
        args.extend(files);
        crate::cli::accredit(dir.path(), &args, &[])
    };
    let bad = run(&["bank.toml", "broken.toml"]);
    assert_eq!(bad.status.code(), Some(1));
    let message = crate::cli::stderr(&bad);
    assert!(
        message.contains("nothing was imported") && message.contains("broken.toml: line 6"),
        "{message}"
    );
    assert!(
        t.app
            .list_items(&Ctx::system(), "exam-program")
            .await
            .unwrap()
            .is_empty()
    );
    let ok = run(&["bank.toml"]);
    assert!(ok.status.success(), "{}", crate::cli::stderr(&ok));
    assert!(crate::cli::stdout(&ok).contains("2 new item(s) as drafts, 0 revised, 0 unchanged"));
    // Moodle GIFT: the category names the domain.
    std::fs::write(
        dir.path().join("moodle.gift"),
        "$CATEGORY: $course$/top/Injection\n\n::Concatenation::Concatenating input into SOQL is safe. {F}\n",
    )
    .unwrap();
    let gift = run(&["moodle.gift"]);
    assert!(gift.status.success(), "{}", crate::cli::stderr(&gift));
    let items = t
        .app
        .list_items(&Ctx::system(), "exam-program")
        .await
        .unwrap();
    let imported = items
        .iter()
        .find(|i| i.id == "concatenation")
        .expect("the GIFT item");
    assert_eq!(imported.domain, "injection");
    assert_eq!(
        imported.body,
        accredit_domain::exam::ItemBody::TrueFalse { correct: false }
    );

    // Over the API, as multipart; an unknown format is refused by name.
    let admin = t.login(&w.admin.email).await;
    let Auth::Session(admin_session) = &admin else {
        unreachable!()
    };
    let boundary = "item-upload";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.docx\"\r\n\r\nnot items\r\n--{boundary}--\r\n"
    );
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/api/v1/programs/exam-program/items/import")
        .header(
            "cookie",
            format!("accredit_session={}", admin_session.cookie),
        )
        .header("x-csrf-token", admin_session.csrf.clone())
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(axum::body::Body::from(body))
        .unwrap();
    let refused = t.send(request).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    // Only program admins import.
    let Auth::Session(learner) = t.login(&w.acme_learner.email).await else {
        unreachable!()
    };
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bank.toml\"\r\n\r\n{ITEM_FILE}\r\n--{boundary}--\r\n"
    );
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/api/v1/programs/exam-program/items/import")
        .header("cookie", format!("accredit_session={}", learner.cookie))
        .header("x-csrf-token", learner.csrf.clone())
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(axum::body::Body::from(body))
        .unwrap();
    assert_eq!(t.send(request).await.status, 403);
    assert!(refused.body.contains("notes.docx"), "{}", refused.body);

    // From the item bank page.
    let revised = ITEM_FILE.replace("for backups", "for nightly backups");
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bank.toml\"\r\n\r\n{revised}\r\n--{boundary}--\r\n",
        admin_session.csrf
    );
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/programs/exam-program/items/import")
        .header(
            "cookie",
            format!("accredit_session={}", admin_session.cookie),
        )
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(axum::body::Body::from(body))
        .unwrap();
    let page = t.send(request).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("Imported: 0 new item(s) as drafts, 1 revised, 1 unchanged."),
        "{}",
        page.body
    );
    let items = t
        .app
        .list_items(&Ctx::system(), "exam-program")
        .await
        .unwrap();
    let region = items.iter().find(|i| i.id == "region-check").unwrap();
    assert_eq!(region.version, 2);
}

/// A pass blocks further attempts while the credential it earned is in its term; once the
/// renewal window opens, the candidate may sit the exam again, and passing renews.
async fn passing_again_in_the_renewal_window_renews_the_credential(t: TestApp) {
    let (w, _, learner) = prepared(&t).await;
    complete_basics(&t, &w).await;
    let developer = accredit_app::accounts::PersonUpdate {
        job_role: Some("developer".into()),
        ..Default::default()
    };
    t.app
        .update_person(&Ctx::system(), &w.acme_learner.id, developer)
        .await
        .unwrap();
    let start = "/api/v1/programs/exam-program/exams/written/attempts";
    let eligibility = "/api/v1/programs/exam-program/exams/written/eligibility";
    let pass = async |learner: &Auth| {
        let attempt = t.post(start, learner, json!({})).await;
        assert_eq!(attempt.status, 201, "{}", attempt.body);
        let attempt = attempt.json();
        answer_all(&t, learner, &attempt, true).await;
        let id = attempt["id"].as_str().unwrap();
        let done = t
            .post(&format!("/api/v1/attempts/{id}/submit"), learner, json!({}))
            .await
            .json();
        assert_eq!(done["result"]["passed"], true, "{done}");
    };
    pass(&learner).await;
    let held = t
        .app
        .credentials_of(&Ctx::system(), &w.acme_learner.id)
        .await
        .unwrap();
    assert_eq!(held.len(), 1);
    let until: jiff::civil::Date = held[0].valid_until.parse().unwrap();

    // Before the 30-day window the pass still blocks.
    t.set_day(until - jiff::Span::new().days(40));
    let learner = t.login(&w.acme_learner.email).await;
    let blocked = t.get(eligibility, &learner).await.json();
    assert_eq!(blocked["eligible"], false, "{blocked}");
    assert!(
        blocked["reason"]
            .as_str()
            .unwrap()
            .starts_with("already passed on")
    );

    // Inside the window it does not, and passing again renews.
    t.set_day(until - jiff::Span::new().days(10));
    let learner = t.login(&w.acme_learner.email).await;
    let open = t.get(eligibility, &learner).await.json();
    assert_eq!(open["eligible"], true, "{open}");
    pass(&learner).await;
    let mut held = t
        .app
        .credentials_of(&Ctx::system(), &w.acme_learner.id)
        .await
        .unwrap();
    held.sort_by(|a, b| a.issued_on.cmp(&b.issued_on));
    let statuses: Vec<&str> = held.iter().map(|c| c.status.as_str()).collect();
    assert_eq!(statuses, ["superseded", "active"]);
    assert!(held[1].valid_until > held[0].valid_until);
}
