//! Partners and people: validation that names every problem, and email changes that keep the
//! person (and so all their records).

use crate::on_both_backends;
use crate::support::{Auth, PASSWORD, TestApp};
use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::json;

on_both_backends!(
    a_verified_email_change_keeps_the_person_and_their_records,
    confirmation_links_work_once_and_expire,
    invalid_people_are_refused_with_every_problem_named,
    malformed_json_bodies_are_refused_with_line_and_field,
    partner_admins_add_staff_to_their_own_firm,
    a_duplicate_email_is_a_conflict_and_nothing_is_written,
    the_confirmation_page_changes_the_address,
    invitations_are_for_a_firms_own_admins_and_work_once,
);

async fn a_verified_email_change_keeps_the_person_and_their_records(t: TestApp) {
    let w = t.world().await;
    let learner = t.login(&w.acme_learner.email).await;
    let requested = t
        .post(
            &format!("/api/v1/people/{}/email-change", w.acme_learner.id),
            &learner,
            json!({"email": "Sam.New@Acme.example"}),
        )
        .await;
    assert_eq!(requested.status, 202, "{}", requested.body);
    assert_eq!(requested.json()["new_email"], "sam.new@acme.example");

    // Nothing changes until the new address confirms; the link went to the new address only.
    let person = t
        .get(&format!("/api/v1/people/{}", w.acme_learner.id), &learner)
        .await
        .json();
    assert_eq!(person["email"], w.acme_learner.email.as_str());
    let messages = t
        .app
        .pending_messages(Some("email.confirm_address"))
        .await
        .unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].recipient, "sam.new@acme.example");
    let token = messages[0].payload["token"].as_str().unwrap().to_owned();

    let confirmed = t
        .post(
            "/api/v1/email-change/confirm",
            &Auth::Anonymous,
            json!({"token": token}),
        )
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    let after = confirmed.json();
    assert_eq!(after["id"], w.acme_learner.id.as_str(), "same person");
    assert_eq!(after["email"], "sam.new@acme.example");
    assert_eq!(after["roles"], json!(["learner"]));
    assert_eq!(after["partner_id"], w.acme.id.as_str());

    // Signing in works with the new address only, and lands on the same person.
    assert!(
        t.app
            .login(None, &w.acme_learner.email, PASSWORD)
            .await
            .is_err()
    );
    let new_session = t.login("sam.new@acme.example").await;
    let me = t.get("/api/v1/me", &new_session).await.json();
    assert_eq!(me["person"]["id"], w.acme_learner.id.as_str());

    // The person's history is one history: creation and the change are both under their id.
    let events = t
        .app
        .list_audit_events(&accredit_app::Ctx::system(), 0, 1000)
        .await
        .unwrap();
    let subject = format!("person:{}", w.acme_learner.id);
    let actions: Vec<_> = events
        .iter()
        .filter(|e| e.subject == subject)
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "person.created",
            "login.succeeded",
            "person.email_change_requested",
            "person.email_changed",
            "login.succeeded"
        ]
    );
    let change = events
        .iter()
        .find(|e| e.action == "person.email_changed")
        .unwrap();
    assert_eq!(
        change.summary,
        json!({"from": w.acme_learner.email, "to": "sam.new@acme.example"})
    );
    assert_eq!(change.actor, subject);
}

async fn confirmation_links_work_once_and_expire(t: TestApp) {
    let w = t.world().await;
    let ctx = accredit_app::Ctx::system();
    t.app
        .request_email_change(&ctx, &w.acme_admin.id, "first@acme.example")
        .await
        .unwrap();
    t.app
        .request_email_change(&ctx, &w.globex_admin.id, "second@globex.example")
        .await
        .unwrap();
    let messages = t.app.pending_messages(None).await.unwrap();
    let token_of = |to: &str| {
        messages.iter().find(|m| m.recipient == to).unwrap().payload["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    let first = token_of("first@acme.example");
    assert_eq!(
        t.post(
            "/api/v1/email-change/confirm",
            &Auth::Anonymous,
            json!({"token": first})
        )
        .await
        .status,
        200
    );
    let reused = t
        .post(
            "/api/v1/email-change/confirm",
            &Auth::Anonymous,
            json!({"token": first}),
        )
        .await;
    assert_eq!(reused.status, 422);
    assert!(
        reused.json()["detail"]
            .as_str()
            .unwrap()
            .contains("already used")
    );

    t.clock.advance(jiff::SignedDuration::from_hours(25));
    let late = t
        .post(
            "/api/v1/email-change/confirm",
            &Auth::Anonymous,
            json!({"token": token_of("second@globex.example")}),
        )
        .await;
    assert_eq!(late.status, 422);
    assert_eq!(late.json()["errors"][0]["field"], "token");
    assert!(late.body.contains("expired"));
    let globex_admin = t.app.get_person(&ctx, &w.globex_admin.id).await.unwrap();
    assert_eq!(globex_admin.email, w.globex_admin.email);
}

async fn invalid_people_are_refused_with_every_problem_named(t: TestApp) {
    let w = t.world().await;
    let admin = t.login(&w.admin.email).await;
    let response = t
        .post("/api/v1/people", &admin, json!({"email": "not-an-address", "display_name": "  ", "roles": ["learner"], "password": "short"}))
        .await;
    assert_eq!(response.status, 422);
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json")
    );
    let problem = response.json();
    let fields: Vec<_> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "display_name", "partner_id", "password"]);
    assert_eq!(problem["type"], "/problems/invalid-input");
    assert_eq!(problem["status"], 422);

    let mixed = t
        .post("/api/v1/people", &admin, json!({"email": "x@example.com", "display_name": "X", "roles": ["learner", "reviewer"], "partner_id": w.acme.id}))
        .await;
    assert_eq!(mixed.status, 422);
    assert_eq!(mixed.json()["errors"][0]["field"], "roles");

    let unknown_partner = t
        .post("/api/v1/people", &admin, json!({"email": "y@example.com", "display_name": "Y", "roles": ["learner"], "partner_id": "nope"}))
        .await;
    assert_eq!(unknown_partner.status, 422);
    assert!(
        unknown_partner
            .body
            .contains("no active partner organisation `nope`")
    );
}

async fn malformed_json_bodies_are_refused_with_line_and_field(t: TestApp) {
    t.world().await;
    let Auth::Bearer(token) = t.token("people:write partners:write").await else {
        unreachable!()
    };
    let send = |body: &'static str, content_type: Option<&'static str>| {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/partners")
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        if let Some(ct) = content_type {
            request = request.header(header::CONTENT_TYPE, ct);
        }
        request.body(Body::from(body)).unwrap()
    };
    let broken = t
        .send(send(
            "{\n  \"name\": \"Initech\",\n  \"region\": \n}",
            Some("application/json"),
        ))
        .await;
    assert_eq!(broken.status, 400);
    assert_eq!(
        broken.header("content-type"),
        Some("application/problem+json")
    );
    let detail = broken.json()["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("line 4"), "{detail}");

    let wrong_type = t
        .send(send(
            r#"{"name": 5, "partner_type": "msp", "region": "EMEA"}"#,
            Some("application/json"),
        ))
        .await;
    assert_eq!(wrong_type.status, 422);
    assert_eq!(
        wrong_type.json()["errors"][0]["field"],
        "name",
        "{}",
        wrong_type.body
    );

    let unknown = t
        .send(send(
            r#"{"name": "I", "partner_type": "msp", "region": "EMEA", "tier": "gold"}"#,
            Some("application/json"),
        ))
        .await;
    assert_eq!(unknown.status, 422);
    assert_eq!(
        unknown.json()["errors"][0]["field"],
        "tier",
        "{}",
        unknown.body
    );

    let missing = t
        .send(send(
            r#"{"name": "I", "region": "EMEA"}"#,
            Some("application/json"),
        ))
        .await;
    assert_eq!(missing.status, 422);
    assert_eq!(missing.json()["errors"][0]["field"], "partner_type");

    let bad_type = t
        .send(send(
            r#"{"name": "I", "partner_type": "spaceship", "region": "EMEA"}"#,
            Some("application/json"),
        ))
        .await;
    assert_eq!(bad_type.status, 422);
    assert!(bad_type.body.contains("unknown partner type `spaceship`"));

    let no_content_type = t.send(send(r#"{}"#, None)).await;
    assert_eq!(no_content_type.status, 415);

    let partners = t
        .app
        .list_partners(&accredit_app::Ctx::system())
        .await
        .unwrap();
    assert_eq!(partners.len(), 2, "nothing was written: {partners:?}");
}

async fn partner_admins_add_staff_to_their_own_firm(t: TestApp) {
    let w = t.world().await;
    let acme_admin = t.login(&w.acme_admin.email).await;
    let created = t
        .post("/api/v1/people", &acme_admin, json!({"email": "new@acme.example", "display_name": "New Hire", "roles": ["learner"], "partner_id": w.acme.id}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let listed = t.get("/api/v1/people", &acme_admin).await;
    assert!(listed.body.contains("new@acme.example"));
    let vendor_role = t
        .post("/api/v1/people", &acme_admin, json!({"email": "x@acme.example", "display_name": "X", "roles": ["reviewer"], "partner_id": w.acme.id}))
        .await;
    assert_eq!(vendor_role.status, 403);
    assert!(vendor_role.body.contains("cannot grant vendor roles"));
}

async fn a_duplicate_email_is_a_conflict_and_nothing_is_written(t: TestApp) {
    let w = t.world().await;
    let admin = t.login(&w.admin.email).await;
    let before = t
        .app
        .list_audit_events(&accredit_app::Ctx::system(), 0, 1000)
        .await
        .unwrap()
        .len();
    let duplicate = t
        .post("/api/v1/people", &admin, json!({"email": w.acme_learner.email.to_uppercase(), "display_name": "Twin", "roles": ["learner"], "partner_id": w.acme.id}))
        .await;
    assert_eq!(duplicate.status, 409, "{}", duplicate.body);
    assert!(duplicate.body.contains("already in use"));
    let after = t
        .app
        .list_audit_events(&accredit_app::Ctx::system(), 0, 1000)
        .await
        .unwrap()
        .len();
    assert_eq!(before, after);
    let people = t.get("/api/v1/people", &admin).await.json();
    assert_eq!(people.as_array().unwrap().len(), 8);
}

async fn the_confirmation_page_changes_the_address(t: TestApp) {
    let w = t.world().await;
    let ctx = accredit_app::Ctx::system();
    t.app
        .request_email_change(&ctx, &w.globex_learner.id, "renamed@globex.example")
        .await
        .unwrap();
    let token = t.app.pending_messages(None).await.unwrap()[0].payload["token"]
        .as_str()
        .unwrap()
        .to_owned();

    // Opening the link changes nothing (mail scanners open links); the button does.
    let page = t
        .get(&format!("/email/confirm?token={token}"), &Auth::Anonymous)
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&format!("value=\"{token}\"")));
    let csrf = page
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("accredit_csrf="))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .expect("form cookie");
    assert_eq!(
        t.app
            .get_person(&ctx, &w.globex_learner.id)
            .await
            .unwrap()
            .email,
        w.globex_learner.email
    );

    let confirm = |csrf_field: String| {
        Request::builder()
            .method(Method::POST)
            .uri("/email/confirm")
            .header(header::COOKIE, format!("accredit_csrf={csrf}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("token={token}&csrf={csrf_field}")))
            .unwrap()
    };
    assert_eq!(t.send(confirm("forged".into())).await.status, 403);
    let done = t.send(confirm(csrf.clone())).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.body
            .contains("You now sign in as renamed@globex.example")
    );
    let person = t.app.get_person(&ctx, &w.globex_learner.id).await.unwrap();
    assert_eq!(person.email, "renamed@globex.example");
}

/// Partner admins invite into their own firm only; the invited person sets a password through
/// the emailed link, which works once; learners cannot change people's access.
async fn invitations_are_for_a_firms_own_admins_and_work_once(t: TestApp) {
    let w = t.world().await;
    let invite = |session: &crate::support::Session, partner: &str, email: &str| {
        crate::support::session_form(
            &format!("/partners/{partner}/people/invite"),
            session,
            format!(
                "csrf={}&display_name=Noor+Haddad&email={email}&job_role=&role=partner_admin",
                session.csrf
            ),
        )
    };
    let Auth::Session(learner) = t.login(&w.acme_learner.email).await else {
        unreachable!()
    };
    let Auth::Session(admin) = t.login(&w.acme_admin.email).await else {
        unreachable!()
    };
    // A learner may not invite; an admin may not invite into another firm.
    let refused = t
        .send(invite(&learner, &w.acme.id, "a%40acme.example"))
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let refused = t
        .send(invite(&admin, &w.globex.id, "b%40globex.example"))
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    // A learner may not grant themselves partner admin.
    let refused = t
        .send(crate::support::session_form(
            &format!("/people/{}", w.acme_learner.id),
            &learner,
            format!(
                "csrf={}&display_name=Me&job_role=&role=partner_admin",
                learner.csrf
            ),
        ))
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    // Another firm's person page is not shown.
    let other = t
        .get(
            &format!("/people/{}", w.globex_learner.id),
            &Auth::Session(admin.clone()),
        )
        .await;
    assert!(
        matches!(other.status.as_u16(), 403 | 404),
        "{}",
        other.status
    );

    let sent = t
        .send(invite(&admin, &w.acme.id, "noor%40acme.example"))
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert!(
        sent.body.contains("Invitation sent to Noor Haddad"),
        "{}",
        sent.body
    );
    let mail = t
        .app
        .pending_messages(Some("email.invitation"))
        .await
        .unwrap();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].recipient, "noor@acme.example");
    let body = mail[0].payload["body"].as_str().unwrap();
    let token = body
        .split("/invitations/")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the link is in the email");

    let page = t
        .get(&format!("/invitations/{token}"), &Auth::Anonymous)
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("noor@acme.example"));
    let csrf = page
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("accredit_csrf="))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .expect("form cookie");
    let accept = |password: &str, again: &str| {
        Request::builder()
            .method(Method::POST)
            .uri(format!("/invitations/{token}"))
            .header(header::COOKIE, format!("accredit_csrf={csrf}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "csrf={csrf}&password={password}&password_again={again}"
            )))
            .unwrap()
    };
    let differ = t
        .send(accept("a+long+password+1", "another+password"))
        .await;
    assert_eq!(differ.status, 422);
    assert!(
        differ.body.contains("the two passwords differ"),
        "{}",
        differ.body
    );
    let short = t.send(accept("short", "short")).await;
    assert_eq!(short.status, 422);
    assert!(
        short.body.contains(r#"id="password-error""#),
        "{}",
        short.body
    );
    let done = t
        .send(accept("a+long+password+1", "a+long+password+1"))
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(
        t.app
            .login(None, "noor@acme.example", "a long password 1")
            .await
            .is_ok()
    );
    let again = t
        .send(accept("a+long+password+2", "a+long+password+2"))
        .await;
    assert_eq!(again.status, 422);
    assert!(again.body.contains("already used"), "{}", again.body);
    assert!(
        t.app
            .login(None, "noor@acme.example", "a long password 2")
            .await
            .is_err()
    );
}
