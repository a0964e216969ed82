//! The public partner directory: listed while the directory benefit holds, gone when it lapses.

use crate::on_both_backends;
use crate::support::{Auth, TestApp};
use accredit_app::Ctx;
use accredit_app::evidence::Evidence;
use axum::http::StatusCode;

on_both_backends!(partners_are_listed_while_the_directory_benefit_holds);

const DIRECTORY_PROGRAM: &str = r#"
[program]
id = "dir-program"
name = "Directory Program"
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
name = "Certified Partner"
requires = { people_holding = "t1", at_least = 1 }

[[benefits]]
id = "listing"
name = "Directory listing"
subject = "partner"
requires = { tier = "certified" }
directory = true
"#;

async fn partners_are_listed_while_the_directory_benefit_holds(t: TestApp) {
    let w = t.world().await;
    let ctx = Ctx::system();
    t.app.apply_program(&ctx, DIRECTORY_PROGRAM).await.unwrap();
    for partner in [&w.acme.id, &w.globex.id] {
        t.app
            .enroll_partner(&ctx, partner, "dir-program")
            .await
            .unwrap();
    }
    let ana = t
        .staff(&w.acme.id, "ana@acme.example", "Ana", "sales")
        .await;
    assert!(listed(&t, "").await.is_empty(), "nobody is certified yet");

    t.app
        .record_evidence(
            &ctx,
            "dir-program",
            Evidence::ModuleCompleted {
                person: ana.id.clone(),
                module: "m1".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(listed(&t, "").await, ["Acme"]);
    let entry = &t.get("/api/v1/directory", &Auth::Anonymous).await.json()[0];
    assert_eq!(entry["tier"], "Certified Partner");
    assert_eq!(entry["badges"][0]["track_name"], "Track one");
    assert_eq!(entry["badges"][0]["holders"], 1);
    assert_eq!(entry["listed_by"], "Directory listing");
    assert_eq!(listed(&t, "?q=acm").await, ["Acme"]);
    assert_eq!(listed(&t, "?track=t1&region=EMEA").await, ["Acme"]);
    assert!(listed(&t, "?region=APAC").await.is_empty());
    assert!(listed(&t, "?q=globex").await.is_empty());
    let unknown = t
        .get("/api/v1/directory?colour=red", &Auth::Anonymous)
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.body);

    let page = t.get("/directory?q=acme", &Auth::Anonymous).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Acme") && page.body.contains("Track one"),
        "{}",
        page.body
    );
    assert!(page.body.contains("1 partner listed."), "{}", page.body);

    // Revoking the one credential drops the tier, the benefit and the listing at once.
    let credential = t.app.credentials_of(&ctx, &ana.id).await.unwrap()[0]
        .id
        .clone();
    t.app
        .set_credential_status(&ctx, &credential, "revoked", "issued in error")
        .await
        .unwrap();
    assert!(listed(&t, "").await.is_empty());
    let page = t.get("/directory", &Auth::Anonymous).await;
    assert!(page.body.contains("0 partners listed."), "{}", page.body);
}

async fn listed(t: &TestApp, query: &str) -> Vec<String> {
    let response = t
        .get(&format!("/api/v1/directory{query}"), &Auth::Anonymous)
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    response
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect()
}
