//! Issuing credentials when requirements are met (once, even when requests race), and revoking
//! or suspending them.

use crate::on_both_backends;
use crate::support::{Auth, PASSWORD, TestApp};
use accredit_app::Ctx;
use accredit_app::accounts::{NewPerson, Person};
use accredit_app::evidence::Evidence;
use accredit_domain::Role;

on_both_backends!(
    meeting_every_requirement_issues_one_credential,
    racing_evidence_still_issues_exactly_one_credential,
    revoked_and_suspended_credentials_stop_counting_and_are_not_reissued,
    an_issued_credential_verifies_until_it_is_revoked,
);

async fn developer(t: &TestApp, partner: &str, email: &str) -> Person {
    t.app
        .create_person(
            &Ctx::system(),
            NewPerson {
                email: email.into(),
                display_name: "Dana Developer".into(),
                roles: vec![Role::Learner],
                partner_id: Some(partner.into()),
                job_role: Some("developer".into()),
                password: Some(PASSWORD.into()),
            },
        )
        .await
        .unwrap()
}

async fn setup(t: &TestApp) -> (crate::support::World, Person) {
    let w = t.world().await;
    t.app
        .apply_program(&Ctx::system(), crate::exams::EXAM_PROGRAM)
        .await
        .unwrap();
    t.app
        .enroll_partner(&Ctx::system(), &w.acme.id, "exam-program")
        .await
        .unwrap();
    let dana = developer(t, &w.acme.id, "dana@acme.example").await;
    (w, dana)
}

fn passed(person: &Person) -> Evidence {
    Evidence::ExamPassed {
        person: person.id.clone(),
        exam: "written".into(),
    }
}

async fn meeting_every_requirement_issues_one_credential(t: TestApp) {
    let (w, dana) = setup(&t).await;
    let ctx = Ctx::system();
    assert!(
        t.app
            .credentials_of(&ctx, &dana.id)
            .await
            .unwrap()
            .is_empty()
    );
    // A learner without the developer job role earns nothing from the same exam.
    t.app
        .record_evidence(&ctx, "exam-program", passed(&w.acme_learner))
        .await
        .unwrap();
    assert!(
        t.app
            .credentials_of(&ctx, &w.acme_learner.id)
            .await
            .unwrap()
            .is_empty()
    );

    t.app
        .record_evidence(&ctx, "exam-program", passed(&dana))
        .await
        .unwrap();
    let held = t.app.credentials_of(&ctx, &dana.id).await.unwrap();
    assert_eq!(held.len(), 1);
    let credential = &held[0];
    assert_eq!(credential.track_id, "developer");
    assert_eq!(credential.status, "active");
    assert_eq!(credential.issued_on, t.app.today().to_string());
    // Twelve months, the last day being the day before the anniversary.
    let until: jiff::civil::Date = credential.valid_until.parse().unwrap();
    assert_eq!(
        until,
        t.app
            .today()
            .saturating_add(jiff::Span::new().months(12))
            .yesterday()
            .unwrap()
    );
    assert!(credential.status_index.is_some());
    // The partner reaches the tier the credential opens.
    let standing = t.app.partner_standings(&ctx, &w.acme.id).await.unwrap();
    assert_eq!(
        standing[0].tier.as_deref(),
        Some("certified"),
        "{standing:?}"
    );
    // Recording the same pass again issues nothing more.
    t.app
        .record_evidence(&ctx, "exam-program", passed(&dana))
        .await
        .unwrap();
    assert_eq!(t.app.credentials_of(&ctx, &dana.id).await.unwrap().len(), 1);
    let audit = t.app.list_audit_events(&ctx, 0, 1000).await.unwrap();
    let issued: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "credential.issued")
        .collect();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].summary["track"], "developer");
}

async fn racing_evidence_still_issues_exactly_one_credential(t: TestApp) {
    let (_, dana) = setup(&t).await;
    let ctx = Ctx::system();
    let attempts = (0..6).map(|_| {
        let app = t.app.clone();
        let evidence = passed(&dana);
        tokio::spawn(async move {
            app.record_evidence(&Ctx::system(), "exam-program", evidence)
                .await
        })
    });
    for attempt in futures_join(attempts).await {
        attempt
            .expect("task")
            .expect("recording the pass succeeds every time");
    }
    let held = t.app.credentials_of(&ctx, &dana.id).await.unwrap();
    assert_eq!(held.len(), 1, "{held:?}");
}

async fn futures_join<T>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<Result<T, tokio::task::JoinError>> {
    let mut out = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        out.push(handle.await);
    }
    out
}

async fn revoked_and_suspended_credentials_stop_counting_and_are_not_reissued(t: TestApp) {
    let (w, dana) = setup(&t).await;
    let ctx = Ctx::system();
    t.app
        .record_evidence(&ctx, "exam-program", passed(&dana))
        .await
        .unwrap();
    let id = t.app.credentials_of(&ctx, &dana.id).await.unwrap()[0]
        .id
        .clone();
    let no_reason = t
        .app
        .set_credential_status(&ctx, &id, "suspended", "")
        .await;
    assert!(no_reason.unwrap_err().to_string().contains("say why"));
    let suspended = t
        .app
        .set_credential_status(
            &ctx,
            &id,
            "suspended",
            "audit of the sample workload pending",
        )
        .await
        .unwrap();
    assert_eq!(suspended.status, "suspended");
    let standing = t.app.partner_standings(&ctx, &w.acme.id).await.unwrap();
    assert_eq!(
        standing[0].tier, None,
        "a suspended credential does not count"
    );
    // More evidence does not quietly issue a fresh credential over the suspension.
    let module = Evidence::ModuleCompleted {
        person: dana.id.clone(),
        module: "basics".into(),
    };
    t.app
        .record_evidence(&ctx, "exam-program", module)
        .await
        .unwrap();
    assert_eq!(t.app.credentials_of(&ctx, &dana.id).await.unwrap().len(), 1);
    let reinstated = t
        .app
        .set_credential_status(&ctx, &id, "active", "")
        .await
        .unwrap();
    assert_eq!(reinstated.status, "active");
    let revoked = t
        .app
        .set_credential_status(&ctx, &id, "revoked", "exam answers were shared")
        .await
        .unwrap();
    assert_eq!(
        revoked.status_reason.as_deref(),
        Some("exam answers were shared")
    );
    let again = t.app.set_credential_status(&ctx, &id, "active", "").await;
    assert!(
        again
            .unwrap_err()
            .to_string()
            .contains("a revoked credential cannot become active")
    );
    // Only program admins revoke.
    let learner = t
        .app
        .session(
            &t.app
                .login(None, &w.acme_learner.email, PASSWORD)
                .await
                .unwrap()
                .cookie_value,
        )
        .await
        .unwrap();
    let as_learner = Ctx::new(learner.principal, None);
    assert!(
        t.app
            .set_credential_status(&as_learner, &id, "revoked", "because I can")
            .await
            .is_err()
    );
}

async fn an_issued_credential_verifies_until_it_is_revoked(t: TestApp) {
    let (w, dana) = setup(&t).await;
    let ctx = Ctx::system();
    t.app
        .record_evidence(&ctx, "exam-program", passed(&dana))
        .await
        .unwrap();
    let id = t.app.credentials_of(&ctx, &dana.id).await.unwrap()[0]
        .id
        .clone();

    // The signed Open Badges 3.0 document, as anyone downloads it.
    let download = t
        .get(
            &format!("/credentials/{id}/credential.json"),
            &Auth::Anonymous,
        )
        .await;
    assert_eq!(download.status, 200);
    assert_eq!(
        download.header("content-type"),
        Some("application/vc+ld+json")
    );
    let document = download.json();
    assert_eq!(
        document["type"],
        serde_json::json!(["VerifiableCredential", "OpenBadgeCredential"])
    );
    assert_eq!(
        document["credentialSubject"]["achievement"]["name"],
        "Certified developer"
    );
    assert_eq!(document["proof"]["cryptosuite"], "eddsa-rdfc-2022");
    assert!(
        !download.body.contains("dana@acme.example"),
        "the email is hashed, not published"
    );
    assert!(
        document["credentialSubject"]["achievement"]["criteria"]["narrative"]
            .as_str()
            .unwrap()
            .contains("pass the exam Written exam")
    );

    // An independent check with nothing but the document and the DID document.
    let did = t
        .get("/.well-known/did.json", &Auth::Anonymous)
        .await
        .json();
    let resolve = |method: &str| accredit_credentials::key_from_did_document(&did, method);
    accredit_credentials::verify(&document, &resolve).expect("the proof verifies");
    let mut tampered = document.clone();
    tampered["validUntil"] = serde_json::json!("2099-12-31T23:59:59Z");
    assert!(accredit_credentials::verify(&tampered, &resolve).is_err());

    // The badge image carries the same signed credential; the JWT form verifies too.
    let badge = t
        .get(&format!("/credentials/{id}/badge.svg"), &Auth::Anonymous)
        .await;
    assert_eq!(badge.header("content-type"), Some("image/svg+xml"));
    let baked = badge
        .body
        .split("<openbadges:credential><![CDATA[")
        .nth(1)
        .and_then(|rest| rest.split("]]></openbadges:credential>").next())
        .expect("a baked credential");
    let baked: serde_json::Value = serde_json::from_str(baked).unwrap();
    assert_eq!(baked, document);
    let jwt = t
        .get(
            &format!("/credentials/{id}/credential.jwt"),
            &Auth::Anonymous,
        )
        .await;
    let payload = accredit_credentials::verify_jwt(&jwt.body, &resolve).expect("the JWT verifies");
    assert_eq!(payload["id"], document["id"]);

    let page = t.get(&format!("/verify/{id}"), &Auth::Anonymous).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("<span class=\"ok\">Valid</span>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("linkedin.com/profile/add"));
    let api = t
        .get(
            &format!("/api/v1/credentials/{id}/verification"),
            &Auth::Anonymous,
        )
        .await
        .json();
    assert_eq!(api["valid"], true);
    assert_eq!(api["checks"][0]["check"], "proof");

    // Offline, from files, with the command line.
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, value: &serde_json::Value| {
        std::fs::write(dir.path().join(name), serde_json::to_string(value).unwrap()).unwrap();
    };
    write("credential.json", &document);
    write("did.json", &did);
    let lists = |dir: &std::path::Path| {
        for purpose in ["revocation", "suspension"] {
            let list = futures_block(t.get(&format!("/status/{purpose}"), &Auth::Anonymous));
            std::fs::write(dir.join(format!("{purpose}.json")), list.body).unwrap();
        }
    };
    lists(dir.path());
    let offline = |dir: &std::path::Path| {
        crate::cli::accredit(
            dir,
            &[
                "credential",
                "verify",
                "credential.json",
                "--did-document",
                "did.json",
                "--status-list",
                "revocation.json",
                "--status-list",
                "suspension.json",
            ],
            &[],
        )
    };
    let ok = offline(dir.path());
    let out = crate::cli::stdout(&ok);
    assert!(ok.status.success(), "{out}{}", crate::cli::stderr(&ok));
    assert!(
        out.contains("proof   passed  eddsa-rdfc-2022 signature valid"),
        "{out}"
    );
    assert!(out.contains("status  passed  revocation: bit"), "{out}");
    assert!(out.trim_end().ends_with("VALID"), "{out}");
    write("credential.json", &tampered);
    let bad = offline(dir.path());
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        crate::cli::stdout(&bad).contains("proof   FAILED"),
        "{}",
        crate::cli::stdout(&bad)
    );
    write("credential.json", &document);

    // Online: the credential, DID document and status lists fetched from the running portal.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = t.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let credential_url = format!("{base}/credentials/{id}/credential.json");
    let online = tokio::task::spawn_blocking({
        let dir = dir.path().to_owned();
        let (credential_url, base) = (credential_url.clone(), base.clone());
        move || {
            crate::cli::accredit(
                &dir,
                &[
                    "credential",
                    "verify",
                    &credential_url,
                    "--did-document",
                    &format!("{base}/.well-known/did.json"),
                    "--status-list",
                    &format!("{base}/status/revocation"),
                    "--status-list",
                    &format!("{base}/status/suspension"),
                ],
                &[],
            )
        }
    })
    .await
    .unwrap();
    let out = crate::cli::stdout(&online);
    assert!(
        online.status.success(),
        "{out}{}",
        crate::cli::stderr(&online)
    );
    assert!(out.contains("status  passed  suspension: bit"), "{out}");
    assert!(out.trim_end().ends_with("VALID"), "{out}");
    let refused = crate::cli::accredit(
        dir.path(),
        &[
            "credential",
            "verify",
            &credential_url,
            "--offline",
            "--did-document",
            "did.json",
        ],
        &[],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        crate::cli::stderr(&refused).contains("is a URL and --offline fetches nothing"),
        "{}",
        crate::cli::stderr(&refused)
    );

    // Revoked: the verify page, the API and the status list say so.
    t.app
        .set_credential_status(&ctx, &id, "revoked", "the exam was taken by someone else")
        .await
        .unwrap();
    let page = t.get(&format!("/verify/{id}"), &Auth::Anonymous).await;
    assert!(page.body.contains("Not valid: revoked"), "{}", page.body);
    assert!(
        page.body
            .contains("revoked: the exam was taken by someone else")
    );
    let list = t.get("/status/revocation", &Auth::Anonymous).await.json();
    accredit_credentials::verify(&list, &resolve).expect("the status list is signed");
    let bits = accredit_credentials::StatusList::decode(
        list["credentialSubject"]["encodedList"].as_str().unwrap(),
    )
    .unwrap();
    let index: usize = document["credentialStatus"][0]["statusListIndex"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(bits.get(index).unwrap(), "the credential's bit is set");
    let suspension = t.get("/status/suspension", &Auth::Anonymous).await.json();
    let suspended = accredit_credentials::StatusList::decode(
        suspension["credentialSubject"]["encodedList"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert!(!suspended.get(index).unwrap());
    assert_eq!(t.get("/status/other", &Auth::Anonymous).await.status, 404);
    lists(dir.path());
    let revoked = offline(dir.path());
    assert_eq!(revoked.status.code(), Some(1));
    assert!(
        crate::cli::stdout(&revoked).contains(&format!(
            "status  FAILED  revocation: the credential's bit {index} is set"
        )),
        "{}",
        crate::cli::stdout(&revoked)
    );

    // A new key signs new credentials; the old one stays published and still verifies.
    let rotated = t.app.rotate_signing_key(&ctx).await.unwrap();
    assert_eq!(rotated, "key-2");
    let did = t
        .get("/.well-known/did.json", &Auth::Anonymous)
        .await
        .json();
    assert_eq!(did["verificationMethod"].as_array().unwrap().len(), 2);
    let resolve = |method: &str| accredit_credentials::key_from_did_document(&did, method);
    accredit_credentials::verify(&document, &resolve).expect("signed with key-1, still valid");

    // Another credential, left alone, expires with time.
    let other = developer(&t, &w.acme.id, "sam@acme.example").await;
    t.app
        .record_evidence(&ctx, "exam-program", passed(&other))
        .await
        .unwrap();
    let other_id = t.app.credentials_of(&ctx, &other.id).await.unwrap()[0]
        .id
        .clone();
    t.clock.advance(jiff::SignedDuration::from_hours(24 * 400));
    let expired = t.app.verify_issued(&other_id).await.unwrap();
    assert_eq!(expired.status, "expired");
    assert!(!expired.valid);
    assert!(expired.checks[0].passed, "the signature itself still holds");
}

/// Runs a future to completion from synchronous test code inside the test runtime.
fn futures_block<F: std::future::Future>(future: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(future))
}
