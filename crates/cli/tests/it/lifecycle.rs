//! Keeping certification current: the daily sweep's reminders, renewal notices and expiries,
//! exactly once; delivery by email and signed webhooks with retries and a dead-letter state.

use crate::on_both_backends;
use crate::sinks::{SmtpBehaviour, SmtpSink, WebhookReceiver};
use crate::support::{Auth, TEST_PROGRAM, TestApp, World, session_form};
use accredit_app::accounts::Person;
use accredit_app::delivery::Delivery;
use accredit_app::evidence::Evidence;
use accredit_app::outbox::RetryPolicy;
use accredit_app::{App, Ctx};
use axum::http::StatusCode;
use jiff::civil::{Date, date};
use jiff::{SignedDuration, ToSpan as _};
use std::collections::BTreeSet;

on_both_backends!(
    a_year_of_daily_sweeps_sends_every_message_once_and_expires_on_time,
    racing_sweeps_send_each_reminder_once,
    reminders_reach_an_smtp_server_with_recipient_subject_and_body,
    an_smtp_server_that_refuses_the_recipient_makes_the_message_dead_with_the_reason,
    webhooks_are_signed_retried_dead_lettered_and_replayed,
    webhook_urls_must_be_http_and_events_known,
    only_program_admins_run_the_sweep_and_see_the_outbox,
    a_sweep_killed_in_the_middle_of_delivery_and_restarted_sends_each_message_once,
    renewing_by_the_full_track_supersedes_the_credential_and_extends_its_lineage,
    renewing_by_delta_module_shows_what_changed_and_renews_once_read,
    lifecycle_pages_show_what_is_due_and_keep_what_was_typed,
);

async fn salesperson(t: &TestApp, world: &World, email: &str, name: &str) -> Person {
    t.staff(&world.acme.id, email, name, "sales").await
}

async fn setup(t: &TestApp) -> World {
    let w = t.world().await;
    t.app
        .apply_program(&Ctx::system(), TEST_PROGRAM)
        .await
        .unwrap();
    t.app
        .enroll_partner(&Ctx::system(), &w.acme.id, "test-program")
        .await
        .unwrap();
    w
}

async fn complete_module(t: &TestApp, person: &Person) {
    t.app
        .record_evidence(
            &Ctx::system(),
            "test-program",
            Evidence::ModuleCompleted {
                person: person.id.clone(),
                module: "m1".into(),
            },
        )
        .await
        .unwrap();
}

/// (day written, topic, recipient) of every outbox message, in order.
async fn outbox_log(app: &App) -> Vec<(String, String, String)> {
    app.outbox(&Ctx::system(), None, None, 1000)
        .await
        .unwrap()
        .into_iter()
        .rev()
        .map(|m| (m.created_at[..10].to_owned(), m.topic, m.recipient))
        .collect()
}

async fn a_year_of_daily_sweeps_sends_every_message_once_and_expires_on_time(t: TestApp) {
    let w = setup(&t).await;
    let ctx = Ctx::system();
    let ana = salesperson(&t, &w, "ana@acme.example", "Ana Seller").await;
    let ben = salesperson(&t, &w, "ben@acme.example", "Ben Seller").await;
    let hook = t
        .app
        .create_webhook(
            &ctx,
            "http://127.0.0.1:9/hook",
            &[
                "credential.expired".into(),
                "credential.expiring".into(),
                "tier.changed".into(),
            ],
        )
        .await
        .unwrap();

    // Ana earns the credential on the first day, Ben on 10 May; 440 days of daily sweeps follow.
    let start = date(2026, 3, 2);
    let ben_day = date(2026, 5, 10);
    let mut day = start;
    t.set_day(day);
    complete_module(&t, &ana).await;
    let before: BTreeSet<_> = outbox_log(&t.app).await.into_iter().collect();
    for _ in 0..440 {
        t.set_day(day);
        if day == ben_day {
            complete_module(&t, &ben).await;
        }
        t.app.run_sweep(&ctx, day).await.unwrap();
        day = day.tomorrow().unwrap();
    }

    // Expected, computed here from the policy: valid 12 months (through the day before the
    // anniversary), lapsing on the anniversary; reminders 90, 60 and 30 days before it; the
    // 30-day renewal window opens with the 30-day reminder; the Partner Account Manager gets a
    // digest on each reminder day.
    let mut expected = Vec::new();
    for (person, earned) in [(&ana, start), (&ben, ben_day)] {
        let lapses = earned.checked_add(12.months()).unwrap();
        for days in [90, 60, 30] {
            let on = lapses.checked_sub(days.days()).unwrap();
            if days == 30 {
                expected.push((
                    on.to_string(),
                    "lifecycle.renewal".to_owned(),
                    person.email.clone(),
                ));
            }
            expected.push((
                on.to_string(),
                "lifecycle.reminder".to_owned(),
                person.email.clone(),
            ));
            expected.push((
                on.to_string(),
                "credential.expiring".to_owned(),
                hook.id.clone(),
            ));
            expected.push((
                on.to_string(),
                "lifecycle.pam_digest".to_owned(),
                w.pam.email.clone(),
            ));
        }
        expected.push((
            lapses.to_string(),
            "lifecycle.expiry".to_owned(),
            person.email.clone(),
        ));
        expected.push((
            lapses.to_string(),
            "credential.expired".to_owned(),
            hook.id.clone(),
        ));
    }
    // Acme holds the Certified tier while one credential is current: it drops when Ben's lapses.
    let ben_lapses = ben_day.checked_add(12.months()).unwrap();
    expected.push((
        ben_lapses.to_string(),
        "tier.changed".to_owned(),
        hook.id.clone(),
    ));
    expected.sort();

    let mut actual: Vec<_> = outbox_log(&t.app)
        .await
        .into_iter()
        .filter(|m| !before.contains(m))
        .collect();
    actual.sort();
    assert_eq!(actual, expected);

    // Every credential has expired, the tier is gone, and each person was told in the portal.
    for person in [&ana, &ben] {
        let credentials = t.app.credentials_of(&ctx, &person.id).await.unwrap();
        assert_eq!(credentials.len(), 1);
        assert_eq!(credentials[0].status, "expired");
        let notices = t.app.notifications(&person.id, 50).await.unwrap();
        let kinds: Vec<&str> = notices.iter().map(|n| n.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["expiry", "reminder", "renewal", "reminder", "reminder"],
            "newest first"
        );
    }
    let standing = t.app.partner_standings(&ctx, &w.acme.id).await.unwrap();
    assert_eq!(standing[0].tier, None);

    // Re-running the whole year changes nothing.
    let total = outbox_log(&t.app).await.len();
    let mut day = start;
    for _ in 0..440 {
        let report = t.app.run_sweep(&ctx, day).await.unwrap();
        assert_eq!(
            report.reminders + report.expired + report.digests,
            0,
            "{day}"
        );
        day = day.tomorrow().unwrap();
    }
    assert_eq!(outbox_log(&t.app).await.len(), total);
}

async fn racing_sweeps_send_each_reminder_once(t: TestApp) {
    let w = setup(&t).await;
    let ctx = Ctx::system();
    t.set_day(date(2026, 3, 2));
    let mut people = Vec::new();
    for i in 0..40 {
        let p = salesperson(
            &t,
            &w,
            &format!("s{i}@acme.example"),
            &format!("Seller {i}"),
        )
        .await;
        complete_module(&t, &p).await;
        people.push(p);
    }
    let reminder_day = date(2027, 3, 2).checked_sub(90.days()).unwrap();
    let sweeps: Vec<_> = (0..4)
        .map(|_| {
            let app = t.app.clone();
            let ctx = ctx.clone();
            tokio::spawn(async move { app.run_sweep(&ctx, reminder_day).await.unwrap() })
        })
        .collect();
    let mut reminders = 0;
    let mut digests = 0;
    for sweep in sweeps {
        let report = sweep.await.unwrap();
        reminders += report.reminders;
        digests += report.digests;
    }
    assert_eq!(reminders, 40, "each reminder written by exactly one sweep");
    assert_eq!(digests, 1, "one digest for the account manager");
    let messages = t
        .app
        .outbox(&ctx, None, Some("lifecycle.reminder"), 1000)
        .await
        .unwrap();
    let recipients: BTreeSet<_> = messages.iter().map(|m| m.recipient.clone()).collect();
    assert_eq!(messages.len(), 40);
    assert_eq!(recipients.len(), 40);
    let digest = t
        .app
        .outbox(&ctx, None, Some("lifecycle.pam_digest"), 10)
        .await
        .unwrap();
    assert_eq!(digest.len(), 1);
    let body = digest[0].payload["body"].as_str().unwrap();
    assert_eq!(body.matches("- Seller ").count(), 40, "{body}");
}

fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base: SignedDuration::from_secs(60),
        max_delay: SignedDuration::from_secs(600),
        lease: SignedDuration::from_secs(30),
    }
}

async fn reminders_reach_an_smtp_server_with_recipient_subject_and_body(t: TestApp) {
    let w = setup(&t).await;
    let ctx = Ctx::system();
    t.set_day(date(2026, 3, 2));
    let ana = salesperson(&t, &w, "ana@acme.example", "Ana Seller").await;
    complete_module(&t, &ana).await;
    let reminder_day = date(2027, 3, 2).checked_sub(90.days()).unwrap();
    t.app.run_sweep(&ctx, reminder_day).await.unwrap();

    let sink = SmtpSink::start(SmtpBehaviour::Accept).await;
    let delivery = Delivery::new(
        Some(&sink.url()),
        "Partner Program <program@vendor.example>",
        quick_retries(),
    )
    .unwrap();
    let report = t.app.at(reminder_day).deliver_due(&delivery).await.unwrap();
    assert_eq!(report.delivered, 2, "{report:?}");
    let mail = sink.accepted();
    assert_eq!(mail.len(), 2);
    let reminder = mail.iter().find(|m| m.to == ["ana@acme.example"]).unwrap();
    assert_eq!(reminder.from, "program@vendor.example");
    assert_eq!(
        reminder.subject,
        "Your Track one credential lapses in 90 days"
    );
    assert!(
        reminder.header_to.contains("Ana Seller"),
        "{}",
        reminder.header_to
    );
    assert!(
        reminder.body.contains("Hello Ana Seller"),
        "{}",
        reminder.body
    );
    assert!(
        reminder
            .body
            .contains("is valid until 2027-03-01. It lapses on 2027-03-02, in 90 days."),
        "{}",
        reminder.body
    );
    assert!(reminder.message_id.ends_with("@vendor.example>"));
    let digest = mail.iter().find(|m| m.to == [w.pam.email.clone()]).unwrap();
    assert_eq!(
        digest.subject,
        format!("1 of your partners' credentials due for renewal ({reminder_day})")
    );
    assert!(
        digest
            .body
            .contains("- Ana Seller (Acme): Track one, lapses on 2027-03-02 (in 90 days)"),
        "{}",
        digest.body
    );
    // Delivered messages are not sent again.
    let again = t.app.at(reminder_day).deliver_due(&delivery).await.unwrap();
    assert_eq!(again.delivered, 0);
    assert_eq!(sink.accepted().len(), 2);
    let delivered = t
        .app
        .outbox(&ctx, Some("delivered"), None, 10)
        .await
        .unwrap();
    assert!(delivered.iter().any(|m| m.topic == "lifecycle.reminder"));
}

async fn an_smtp_server_that_refuses_the_recipient_makes_the_message_dead_with_the_reason(
    t: TestApp,
) {
    let w = setup(&t).await;
    let ctx = Ctx::system();
    t.set_day(date(2026, 3, 2));
    let ana = salesperson(&t, &w, "ana@acme.example", "Ana Seller").await;
    complete_module(&t, &ana).await;
    let reminder_day = date(2027, 3, 2).checked_sub(90.days()).unwrap();
    t.app.run_sweep(&ctx, reminder_day).await.unwrap();
    let sink = SmtpSink::start(SmtpBehaviour::RefuseRecipients).await;
    let delivery =
        Delivery::new(Some(&sink.url()), "program@vendor.example", quick_retries()).unwrap();
    let report = t.app.at(reminder_day).deliver_due(&delivery).await.unwrap();
    assert_eq!(
        report.dead, 2,
        "a permanent refusal is not retried: {report:?}"
    );
    let dead = t.app.outbox(&ctx, Some("dead"), None, 10).await.unwrap();
    assert_eq!(dead.len(), 2);
    assert!(
        dead.iter().all(|m| m
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("mailbox unavailable")),
        "{dead:?}"
    );
    assert!(sink.accepted().is_empty());
    // An SMTP address that is not one is refused when the setting is read.
    let wrong = Delivery::new(Some("http://mail.example"), "x@y.example", quick_retries());
    assert!(wrong.is_err());
}

async fn webhooks_are_signed_retried_dead_lettered_and_replayed(t: TestApp) {
    let w = setup(&t).await;
    let ctx = Ctx::system();
    let receiver = WebhookReceiver::start().await;
    let admin = t.login(&w.admin.email).await;
    let created = t
        .post(
            "/api/v1/webhooks",
            &admin,
            serde_json::json!({ "url": receiver.url, "events": ["credential.issued"] }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let subscription = created.json();
    receiver.set_secret(subscription["secret"].as_str().unwrap());
    let delivery = Delivery::new(None, "x@vendor.example", quick_retries()).unwrap();

    // Two failures, then success: the backoff doubles and the third attempt lands.
    receiver.fail_next(2);
    t.set_day(date(2026, 3, 2));
    let ana = salesperson(&t, &w, "ana@acme.example", "Ana Seller").await;
    complete_module(&t, &ana).await;
    let first = t.app.deliver_due(&delivery).await.unwrap();
    assert_eq!(first.retrying, 1);
    assert_eq!(
        t.app.deliver_due(&delivery).await.unwrap().retrying,
        0,
        "not due before the backoff"
    );
    t.clock.advance(SignedDuration::from_secs(61));
    assert_eq!(t.app.deliver_due(&delivery).await.unwrap().retrying, 1);
    t.clock.advance(SignedDuration::from_secs(121));
    assert_eq!(t.app.deliver_due(&delivery).await.unwrap().delivered, 1);
    let received = receiver.received();
    assert_eq!(received.len(), 3);
    assert!(
        received.iter().all(|r| r.verified),
        "signatures verify independently"
    );
    assert_eq!(
        received[0].id, received[2].id,
        "the same webhook-id on every attempt"
    );
    assert_eq!(received[2].body["type"], "credential.issued");
    assert_eq!(received[2].body["data"]["person"], ana.id.as_str());

    // A receiver that keeps failing: dead after the last attempt, then replayed.
    receiver.always_fail(true);
    let test = t
        .post(
            &format!(
                "/api/v1/webhooks/{}/test",
                subscription["id"].as_str().unwrap()
            ),
            &admin,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(test.status, StatusCode::ACCEPTED, "{}", test.body);
    let message = test.json()["message"].as_i64().unwrap();
    for _ in 0..3 {
        t.app.deliver_due(&delivery).await.unwrap();
        t.clock.advance(SignedDuration::from_secs(700));
    }
    let dead = t.get("/api/v1/outbox?state=dead", &admin).await.json();
    assert_eq!(dead.as_array().unwrap().len(), 1, "{dead}");
    assert_eq!(dead[0]["id"], message);
    assert_eq!(dead[0]["attempts"], 3);
    assert!(dead[0]["last_error"].as_str().unwrap().contains("500"));

    receiver.always_fail(false);
    let replayed = t
        .post(
            &format!("/api/v1/outbox/{message}/replay"),
            &admin,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(replayed.status, StatusCode::OK, "{}", replayed.body);
    assert_eq!(replayed.json()["state"], "pending");
    assert_eq!(t.app.deliver_due(&delivery).await.unwrap().delivered, 1);
    let last = receiver.received().pop().unwrap();
    assert_eq!(last.body["type"], "webhook.test");
    assert_eq!(last.answered, 204);
    // Replaying a pending message is refused; the audit trail records the replay.
    let events = t.app.list_audit_events(&ctx, 0, 1000).await.unwrap();
    assert!(events.iter().any(|e| e.action == "outbox.replayed"));
}

async fn webhook_urls_must_be_http_and_events_known(t: TestApp) {
    let w = setup(&t).await;
    let admin = t.login(&w.admin.email).await;
    for (body, field, words) in [
        (
            serde_json::json!({ "url": "ftp://example.com/hook", "events": ["credential.issued"] }),
            "url",
            "http:// or https://",
        ),
        (
            serde_json::json!({ "url": "not a url", "events": ["credential.issued"] }),
            "url",
            "is not a URL",
        ),
        (
            serde_json::json!({ "url": "https://example.com/hook", "events": ["credential.exploded"] }),
            "events",
            "`credential.exploded` is not an event",
        ),
        (
            serde_json::json!({ "url": "https://example.com/hook", "events": [] }),
            "events",
            "at least one event",
        ),
    ] {
        let response = t.post("/api/v1/webhooks", &admin, body).await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            response.body
        );
        let problem = response.json();
        let errors = problem["errors"].as_array().unwrap();
        assert!(
            errors
                .iter()
                .any(|e| e["field"] == field && e["message"].as_str().unwrap().contains(words)),
            "{problem}"
        );
    }
    assert!(
        t.get("/api/v1/webhooks", &admin)
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
}

async fn only_program_admins_run_the_sweep_and_see_the_outbox(t: TestApp) {
    let w = setup(&t).await;
    for person in [&w.acme_admin, &w.pam, &w.acme_learner] {
        let auth = t.login(&person.email).await;
        for (path, body) in [
            ("/api/v1/jobs/sweep", Some(serde_json::json!({}))),
            ("/api/v1/outbox", None),
            ("/api/v1/webhooks", None),
        ] {
            let response = match body {
                Some(body) => t.post(path, &auth, body).await,
                None => t.get(path, &auth).await,
            };
            assert_eq!(
                response.status,
                StatusCode::FORBIDDEN,
                "{path}: {}",
                response.body
            );
        }
    }
    let admin = t.login(&w.admin.email).await;
    let swept = t
        .post(
            "/api/v1/jobs/sweep",
            &admin,
            serde_json::json!({ "as_of": "2027-01-01" }),
        )
        .await;
    assert_eq!(swept.status, StatusCode::OK, "{}", swept.body);
    assert_eq!(swept.json()["as_of"], "2027-01-01");
    let bad = t
        .post(
            "/api/v1/jobs/sweep",
            &admin,
            serde_json::json!({ "as_of": "2027-13-01" }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
}

/// `accredit jobs run` as a child process with delivery settings for `sink`.
fn jobs_run(t: &TestApp, dir: &std::path::Path, day: Date, sink: &SmtpSink) -> std::process::Child {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_accredit"));
    command
        .current_dir(dir)
        .args([
            "jobs",
            "run",
            "--as-of",
            &day.to_string(),
            "--database-url",
            &t.db.url,
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (key, _) in std::env::vars() {
        if key.starts_with("ACCREDIT_") {
            command.env_remove(key);
        }
    }
    command
        .env("ACCREDIT_SMTP_URL", sink.url())
        .env("ACCREDIT_MAIL_FROM", "program@vendor.example")
        .env("ACCREDIT_DELIVERY_LEASE_SECONDS", "1")
        .env("ACCREDIT_LOG", "warn");
    command.spawn().expect("start accredit jobs run")
}

async fn a_sweep_killed_in_the_middle_of_delivery_and_restarted_sends_each_message_once(
    t: TestApp,
) {
    let w = setup(&t).await;
    t.set_day(date(2026, 3, 2));
    let mut expected = BTreeSet::new();
    for i in 0..6 {
        let p = salesperson(
            &t,
            &w,
            &format!("s{i}@acme.example"),
            &format!("Seller {i}"),
        )
        .await;
        complete_module(&t, &p).await;
        expected.insert((
            p.email.clone(),
            "Your Track one credential lapses in 90 days".to_owned(),
        ));
    }
    let day = date(2027, 3, 2).checked_sub(90.days()).unwrap();
    expected.insert((
        w.pam.email.clone(),
        format!("6 of your partners' credentials due for renewal ({day})"),
    ));
    let dir = tempfile::tempdir().unwrap();

    // The first run sweeps, sends three messages, and hangs on the fourth: killed there.
    let first_sink = SmtpSink::start(SmtpBehaviour::StallAfter(3)).await;
    let mut first = jobs_run(&t, dir.path(), day, &first_sink);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !first_sink.stalled() {
        assert!(
            std::time::Instant::now() < deadline,
            "delivery never reached the fourth message"
        );
        assert!(first.try_wait().unwrap().is_none(), "jobs run ended early");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    first.kill().expect("SIGKILL");
    first.wait().unwrap();
    assert_eq!(first_sink.accepted().len(), 3);

    // Restarted after the dead worker's lease ran out: the sweep finds nothing new, delivery
    // sends exactly what the first run did not.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let second_sink = SmtpSink::start(SmtpBehaviour::Accept).await;
    let second = jobs_run(&t, dir.path(), day, &second_sink)
        .wait_with_output()
        .unwrap();
    let out = String::from_utf8_lossy(&second.stdout);
    assert!(
        second.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(out.contains("0 reminders"), "{out}");
    assert!(out.contains("4 delivered"), "{out}");

    let all: Vec<(String, String)> = first_sink
        .accepted()
        .into_iter()
        .chain(second_sink.accepted())
        .map(|m| (m.to[0].clone(), m.subject))
        .collect();
    assert_eq!(all.len(), 7, "no message twice: {all:?}");
    assert_eq!(
        all.into_iter().collect::<BTreeSet<_>>(),
        expected,
        "none skipped"
    );
}

async fn renewing_by_the_full_track_supersedes_the_credential_and_extends_its_lineage(t: TestApp) {
    let w = setup(&t).await;
    let ctx = Ctx::system();
    t.app
        .create_webhook(
            &ctx,
            "http://127.0.0.1:9/hook",
            &["credential.renewed".into()],
        )
        .await
        .unwrap();
    t.set_day(date(2026, 3, 2));
    let ana = salesperson(&t, &w, "ana@acme.example", "Ana Seller").await;
    complete_module(&t, &ana).await;
    let first = t.app.credentials_of(&ctx, &ana.id).await.unwrap()[0].clone();
    assert_eq!(first.valid_until, "2027-03-01");

    // Before the 30-day window opens, completing the module again renews nothing.
    t.set_day(date(2027, 1, 30));
    complete_module(&t, &ana).await;
    let status = t.app.renewal(&ctx, &first.id).await.unwrap();
    assert!(!status.open);
    assert_eq!(status.opens_on, "2027-01-31");
    assert_eq!(status.missing, ["complete the module Module one again"]);
    assert_eq!(t.app.credentials_of(&ctx, &ana.id).await.unwrap().len(), 1);

    // Inside the window it does: the new term starts where the old one ends.
    t.set_day(date(2027, 2, 5));
    complete_module(&t, &ana).await;
    let held = t.app.credentials_of(&ctx, &ana.id).await.unwrap();
    assert_eq!(held.len(), 2);
    let renewed = held.iter().find(|c| c.id != first.id).unwrap();
    let old = held.iter().find(|c| c.id == first.id).unwrap();
    assert_eq!(old.status, "superseded");
    assert_eq!(renewed.status, "active");
    assert_eq!(renewed.renewed_from.as_deref(), Some(first.id.as_str()));
    assert_eq!(renewed.issued_on, "2027-02-05");
    assert_eq!(renewed.valid_until, "2028-03-01");
    assert_eq!(
        t.app
            .renewal(&ctx, &first.id)
            .await
            .unwrap()
            .renewed_by
            .as_deref(),
        Some(renewed.id.as_str())
    );
    assert!(t.app.verify_issued(&renewed.id).await.unwrap().valid);
    let topics: Vec<String> = outbox_log(&t.app).await.into_iter().map(|m| m.1).collect();
    assert!(
        topics.contains(&"lifecycle.renewed".to_owned()),
        "{topics:?}"
    );
    assert!(
        topics.contains(&"credential.renewed".to_owned()),
        "{topics:?}"
    );

    // The superseded credential never expires; the renewed one is reminded a year later.
    let report = t.app.run_sweep(&ctx, date(2027, 3, 2)).await.unwrap();
    assert_eq!(report.expired, 0);
    let reminder = date(2028, 3, 2).checked_sub(90.days()).unwrap();
    let report = t.app.run_sweep(&ctx, reminder).await.unwrap();
    assert_eq!(report.reminders, 1, "{report:?}");
    // Acme kept its tier throughout.
    assert!(
        t.app.partner_standings(&ctx, &w.acme.id).await.unwrap()[0]
            .tier
            .is_some()
    );
}

const DELTA_PROGRAM: &str = r#"
[program]
id = "delta-program"
name = "Delta Program"
version = "1"
job_roles = ["sales"]

[[modules]]
id = "secure-coding"
title = "Secure coding"
hours = 2
job_roles = ["sales"]

[[tracks]]
id = "dev"
name = "Secure Developer"
job_roles = ["sales"]
validity = { months = 12 }
renewal = { window_days = 60, requires = "delta-module" }
requires = { module = "secure-coding" }
"#;

fn markdown(text: &str) -> Vec<accredit_app::content::ContentFile> {
    vec![accredit_app::content::ContentFile {
        file_name: "guide.md".into(),
        bytes: text.as_bytes().to_vec(),
        recording_url: None,
    }]
}

async fn renewing_by_delta_module_shows_what_changed_and_renews_once_read(t: TestApp) {
    let w = t.world().await;
    let ctx = Ctx::system();
    t.app.apply_program(&ctx, DELTA_PROGRAM).await.unwrap();
    t.app
        .enroll_partner(&ctx, &w.acme.id, "delta-program")
        .await
        .unwrap();
    t.set_day(date(2026, 3, 2));
    t.app
        .import_content(
            &ctx,
            "delta-program",
            "secure-coding",
            &markdown(
                "# Injection\n\nUse bind variables.\n\n# Sharing\n\nEnforce sharing rules.\n",
            ),
        )
        .await
        .unwrap();
    let ana = salesperson(&t, &w, "ana@acme.example", "Ana Seller").await;
    t.app
        .record_evidence(
            &ctx,
            "delta-program",
            Evidence::ModuleCompleted {
                person: ana.id.clone(),
                module: "secure-coding".into(),
            },
        )
        .await
        .unwrap();
    let credential = t.app.credentials_of(&ctx, &ana.id).await.unwrap()[0].clone();
    t.set_day(date(2026, 9, 1));
    t.app
        .import_content(
            &ctx,
            "delta-program",
            "secure-coding",
            &markdown(
                "# Injection\n\nUse bind variables.\n\n# Sharing\n\nEnforce sharing and field-level security.\n\n# Residency\n\nKeep data in its region.\n",
            ),
        )
        .await
        .unwrap();

    let holder = t.login(&ana.email).await;
    let path = format!("/api/v1/credentials/{}/renewal", credential.id);
    let status = t.get(&path, &holder).await.json();
    assert_eq!(status["open"], false);
    assert_eq!(status["opens_on"], "2027-01-01");
    let changes: Vec<(String, String)> = status["delta"][0]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["heading"].as_str().unwrap().to_owned(),
                s["change"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("Sharing".to_owned(), "changed".to_owned()),
            ("Residency".to_owned(), "added".to_owned())
        ],
        "only what changed since the credential was earned"
    );
    let early = t
        .post(
            &format!("{path}/delta-read"),
            &holder,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.body);
    assert!(
        early.body.contains("renewal opens on 2027-01-01"),
        "{}",
        early.body
    );

    t.set_day(date(2027, 1, 10));
    let holder = t.login(&ana.email).await;
    let partner_admin = t.login(&w.acme_admin.email).await;
    let not_holder = t
        .post(
            &format!("{path}/delta-read"),
            &partner_admin,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(
        not_holder.status,
        StatusCode::FORBIDDEN,
        "{}",
        not_holder.body
    );
    let done = t
        .post(
            &format!("{path}/delta-read"),
            &holder,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let done = done.json();
    assert_eq!(done["status"], "superseded");
    let renewed = done["renewed_by"].as_str().unwrap();
    let renewed = t.app.credential(&ctx, renewed).await.unwrap();
    assert_eq!(renewed.valid_until, "2028-03-01");
    assert_eq!(
        renewed.content_versions["secure-coding"], 2,
        "earned on the current content"
    );
    let again = t
        .post(
            &format!("{path}/delta-read"),
            &holder,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(again.body.contains("already renewed"), "{}", again.body);
}

fn session(auth: &Auth) -> &crate::support::Session {
    match auth {
        Auth::Session(session) => session,
        _ => panic!("not a session"),
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

async fn lifecycle_pages_show_what_is_due_and_keep_what_was_typed(t: TestApp) {
    let w = setup(&t).await;
    let ctx = Ctx::system();
    t.set_day(date(2026, 3, 2));
    let ana = salesperson(&t, &w, "ana@acme.example", "Ana Seller").await;
    complete_module(&t, &ana).await;
    let reminder = date(2027, 3, 2).checked_sub(90.days()).unwrap();
    t.set_day(reminder);
    t.app.run_sweep(&ctx, reminder).await.unwrap();
    let credential = t.app.credentials_of(&ctx, &ana.id).await.unwrap()[0]
        .id
        .clone();

    // The learner: notifications on the home page, certifications with the way to renew.
    let learner = t.login(&ana.email).await;
    let home = t.get("/", &learner).await;
    assert!(
        home.body
            .contains("Your Track one credential lapses in 90 days"),
        "{}",
        home.body
    );
    let mine = t.get("/certifications", &learner).await;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(
        mine.body.contains("Renewal opens on 2027-01-31"),
        "{}",
        mine.body
    );
    assert!(
        mine.body.contains("complete the module Module one again"),
        "{}",
        mine.body
    );
    let renew = t
        .get(&format!("/credentials/{credential}/renew"), &learner)
        .await;
    assert_eq!(renew.status, StatusCode::OK, "{}", renew.body);

    // The partner admin's compliance view; another partner's admin sees nothing.
    let acme_admin = t.login(&w.acme_admin.email).await;
    let compliance = t
        .get(&format!("/partners/{}/compliance", w.acme.id), &acme_admin)
        .await;
    assert_eq!(compliance.status, StatusCode::OK);
    assert!(
        compliance.body.contains("Ana Seller"),
        "{}",
        compliance.body
    );
    assert!(
        compliance.body.contains("2027-03-02"),
        "{}",
        compliance.body
    );
    let globex_admin = t.login(&w.globex_admin.email).await;
    assert_eq!(
        t.get(
            &format!("/partners/{}/compliance", w.acme.id),
            &globex_admin
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    // The program admin's lifecycle page: a refused trigger comes back with what was typed.
    let admin = t.login(&w.admin.email).await;
    assert_eq!(
        t.get("/programs/test-program/lifecycle", &learner)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let page = t.get("/programs/test-program/lifecycle", &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    let typed = "<script>alert(1)</script> rules changed";
    let refused = t
        .send(session_form(
            "/programs/test-program/lifecycle/triggers",
            session(&admin),
            form(&[
                ("csrf", &session(&admin).csrf),
                ("kind", "regulatory-update"),
                ("reason", typed),
                ("deadline", "2027-06-30"),
            ]),
        ))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("name at least one affected track"),
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains("value=\"&#60;script&#62;alert(1)&#60;/script&#62; rules changed\""),
        "{}",
        refused.body
    );
    assert!(!refused.body.contains("<script>alert(1)"));
    let recorded = t
        .send(session_form(
            "/programs/test-program/lifecycle/triggers",
            session(&admin),
            form(&[
                ("csrf", &session(&admin).csrf),
                ("kind", "regulatory-update"),
                ("reason", "Module one now covers the new rules"),
                ("track", "t1"),
                ("deadline", "2027-06-30"),
            ]),
        ))
        .await;
    assert_eq!(recorded.status, StatusCode::OK, "{}", recorded.body);
    assert!(
        recorded
            .body
            .contains("Recorded: 1 people must recertify by 2027-06-30.")
    );
    assert!(recorded.body.contains("0 of 1 done"), "{}", recorded.body);

    // Webhooks: a wrong URL is refused next to what was typed; a good one lists its secret.
    let bad = t
        .send(session_form(
            "/admin/webhooks",
            session(&admin),
            form(&[
                ("csrf", &session(&admin).csrf),
                ("url", "ftp://hooks.example"),
                ("event", "credential.expired"),
            ]),
        ))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body
            .contains("webhooks are sent over http:// or https://"),
        "{}",
        bad.body
    );
    assert!(
        bad.body.contains("value=\"ftp://hooks.example\""),
        "{}",
        bad.body
    );
    let good = t
        .send(session_form(
            "/admin/webhooks",
            session(&admin),
            form(&[
                ("csrf", &session(&admin).csrf),
                ("url", "https://hooks.example/accredit"),
                ("event", "credential.expired"),
            ]),
        ))
        .await;
    assert_eq!(good.status, StatusCode::OK, "{}", good.body);
    assert!(good.body.contains("whsec_"));
    assert_eq!(
        t.get("/admin/webhooks", &learner).await.status,
        StatusCode::FORBIDDEN
    );

    // The outbox page lists the reminder; forms without the session's CSRF token are refused.
    let outbox = t.get("/admin/outbox?state=pending", &admin).await;
    assert!(
        outbox.body.contains("lifecycle.reminder"),
        "{}",
        outbox.body
    );
    assert_eq!(
        t.get("/admin/outbox", &acme_admin).await.status,
        StatusCode::FORBIDDEN
    );
    let forged = t
        .send(session_form(
            "/programs/test-program/lifecycle/sweep",
            session(&admin),
            form(&[("csrf", "forged"), ("as_of", "2027-01-01")]),
        ))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}
