//! Practical assessments over the API: submission, the blind double review with a third
//! reviewer deciding, signatures that need the password, changes requested, and agreement.

use crate::on_both_backends;
use crate::support::{Auth, PASSWORD, TestApp, session_form};
use accredit_app::Ctx;
use accredit_app::accounts::NewPerson;
use accredit_domain::Role;
use serde_json::json;

on_both_backends!(
    a_double_reviewed_submission_is_decided_by_a_third_reviewer_and_issues_the_credential,
    changes_requested_start_a_new_round,
    reviewers_sign_from_the_queue_page_and_holders_see_their_credentials,
    files_attach_to_submissions_and_only_those_who_may_see_them_download,
);

pub const PRACTICAL_PROGRAM: &str = r#"
[program]
id = "practical-program"
name = "Practical Program"
version = "1"
job_roles = ["implementation"]

[[practicals]]
id = "portfolio"
title = "Client implementation portfolio"
second_review = true
criteria = [
  { id = "lifecycle", name = "Lifecycle stages", max_score = 4 },
  { id = "reporting", name = "Reporting", max_score = 4 },
]

[[tracks]]
id = "implementer"
name = "Certified implementer"
job_roles = ["implementation"]
validity = { months = 12 }
renewal = { window_days = 30, requires = "full-track" }
requires = { practical = "portfolio" }
"#;

struct Setup {
    w: crate::support::World,
    consultant: Auth,
    consultant_id: String,
    reviewers: Vec<Auth>,
}

async fn setup(t: &TestApp) -> Setup {
    let w = t.world().await;
    let system = Ctx::system();
    t.app
        .apply_program(&system, PRACTICAL_PROGRAM)
        .await
        .unwrap();
    t.app
        .enroll_partner(&system, &w.acme.id, "practical-program")
        .await
        .unwrap();
    let consultant = t
        .app
        .create_person(
            &system,
            NewPerson {
                email: "consultant@acme.example".into(),
                display_name: "Casey Consultant".into(),
                roles: vec![Role::Learner],
                partner_id: Some(w.acme.id.clone()),
                job_role: Some("implementation".into()),
                password: Some(PASSWORD.into()),
            },
        )
        .await
        .unwrap();
    let third = t
        .person("third-reviewer@vendor.example", Role::Reviewer, None)
        .await;
    let reviewers = vec![
        t.login(&w.reviewer.email).await,
        t.login(&w.admin.email).await,
        t.login(&third.email).await,
    ];
    Setup {
        consultant: t.login("consultant@acme.example").await,
        consultant_id: consultant.id,
        w,
        reviewers,
    }
}

fn review(verdict: &str, password: &str) -> serde_json::Value {
    json!({
        "verdict": verdict,
        "scores": [["lifecycle", 3], ["reporting", 4]],
        "comment": "Lifecycle stages map the client's funnel; dashboards answer the brief.",
        "password": password,
    })
}

async fn submit(t: &TestApp, who: &Auth) -> String {
    let created = t
        .post(
            "/api/v1/programs/practical-program/practicals/portfolio/submissions",
            who,
            json!({
                "description": "Northwind rollout: lifecycle stages, lead scoring and three dashboards.",
                "links": ["https://portfolio.acme.example/northwind"],
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.json()["status"], "submitted");
    created.json()["id"].as_str().unwrap().to_owned()
}

async fn a_double_reviewed_submission_is_decided_by_a_third_reviewer_and_issues_the_credential(
    t: TestApp,
) {
    let s = setup(&t).await;
    // Bad input names the field.
    let bad = t
        .post(
            "/api/v1/programs/practical-program/practicals/portfolio/submissions",
            &s.consultant,
            json!({ "description": "short", "links": ["not a link"] }),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.json()["errors"][0]["field"], "description");
    assert_eq!(bad.json()["errors"][1]["field"], "links[0]");
    let id = submit(&t, &s.consultant).await;

    // Reviewers see it; other firms and learners do not review.
    let queue = t.get("/api/v1/reviews/queue", &s.reviewers[0]).await.json();
    assert_eq!(queue[0]["id"], id);
    assert_eq!(queue[0]["rubric"]["criteria"][1]["id"], "reporting");
    assert_eq!(
        t.get("/api/v1/reviews/queue", &s.consultant).await.status,
        403
    );
    let globex = t.login(&s.w.globex_admin.email).await;
    assert_eq!(
        t.get(&format!("/api/v1/submissions/{id}"), &globex)
            .await
            .status,
        404
    );

    // No signature without the password; nothing is recorded.
    let unsigned = t
        .post(
            &format!("/api/v1/submissions/{id}/reviews"),
            &s.reviewers[0],
            review("approve", "wrong password"),
        )
        .await;
    assert_eq!(unsigned.status, 422, "{}", unsigned.body);
    assert_eq!(unsigned.json()["errors"][0]["field"], "password");
    let out_of_range = t
        .post(
            &format!("/api/v1/submissions/{id}/reviews"),
            &s.reviewers[0],
            json!({ "verdict": "approve", "scores": [["lifecycle", 9]], "password": PASSWORD }),
        )
        .await;
    assert_eq!(out_of_range.status, 422);
    assert!(
        out_of_range.body.contains("score criterion `reporting`"),
        "{}",
        out_of_range.body
    );

    let first = t
        .post(
            &format!("/api/v1/submissions/{id}/reviews"),
            &s.reviewers[0],
            review("approve", PASSWORD),
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    let first = first.json();
    assert_eq!(first["meaning"], "approved");
    assert_eq!(
        first["submission"]["status"], "submitted",
        "a second review is due"
    );
    // Reviewed this round: gone from the first reviewer's queue, not from the second's.
    assert!(
        t.get("/api/v1/reviews/queue", &s.reviewers[0])
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    let blind = t.get("/api/v1/reviews/queue", &s.reviewers[1]).await;
    assert!(blind.body.contains(&id));
    assert!(
        !blind.body.contains("approve"),
        "the second reviewer does not see the first verdict"
    );
    let again = t
        .post(
            &format!("/api/v1/submissions/{id}/reviews"),
            &s.reviewers[0],
            review("approve", PASSWORD),
        )
        .await;
    assert_eq!(again.status, 409);

    let second = t
        .post(
            &format!("/api/v1/submissions/{id}/reviews"),
            &s.reviewers[1],
            review("reject", PASSWORD),
        )
        .await
        .json();
    assert_eq!(
        second["submission"]["status"], "submitted",
        "disagreement: a third decides"
    );
    let third = t
        .post(
            &format!("/api/v1/submissions/{id}/reviews"),
            &s.reviewers[2],
            review("approve", PASSWORD),
        )
        .await;
    assert_eq!(third.status, 201, "{}", third.body);
    assert_eq!(third.json()["submission"]["status"], "approved");

    // The signatures are in the audit trail with name, meaning and time.
    let audit = t
        .app
        .list_audit_events(&Ctx::system(), 0, 1000)
        .await
        .unwrap();
    let signed: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "practical.review_signed")
        .collect();
    assert_eq!(signed.len(), 3);
    assert_eq!(signed[1].summary["meaning"], "rejected");
    assert_eq!(
        signed[2].summary["signed_by"],
        "reviewer third-reviewer@vendor.example"
    );
    assert!(
        signed[2].summary["signed_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    // The approval completes the track: a credential is issued to the consultant.
    let held = t
        .app
        .credentials_of(&Ctx::system(), &s.consultant_id)
        .await
        .unwrap();
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0].track_id, "implementer");

    let agreement = t
        .get(
            "/api/v1/programs/practical-program/practicals/portfolio/agreement",
            &s.reviewers[1],
        )
        .await
        .json();
    assert_eq!(agreement["pairs"], 1);
    assert_eq!(
        agreement["kappa"], 0.0,
        "one pair that disagrees: no agreement beyond chance"
    );
}

async fn changes_requested_start_a_new_round(t: TestApp) {
    let s = setup(&t).await;
    let id = submit(&t, &s.consultant).await;
    for reviewer in &s.reviewers[..2] {
        let r = t
            .post(
                &format!("/api/v1/submissions/{id}/reviews"),
                reviewer,
                review("request_changes", PASSWORD),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let sent_back = t
        .get(&format!("/api/v1/submissions/{id}"), &s.consultant)
        .await
        .json();
    assert_eq!(sent_back["status"], "changes_requested");
    assert!(
        t.get("/api/v1/reviews/queue", &s.reviewers[0])
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    let revised = t
        .post(
            &format!("/api/v1/submissions/{id}/resubmit"),
            &s.consultant,
            json!({ "description": "Northwind rollout, with the lead scoring model explained.", "links": [] }),
        )
        .await;
    assert_eq!(revised.status, 200, "{}", revised.body);
    assert_eq!(revised.json()["round"], 2);
    // The same reviewers review the new round.
    let queue = t.get("/api/v1/reviews/queue", &s.reviewers[0]).await.json();
    assert_eq!(queue[0]["id"], id);
    let twice = t
        .post(
            &format!("/api/v1/submissions/{id}/resubmit"),
            &s.consultant,
            json!({ "description": "Another revision with more words in it." }),
        )
        .await;
    assert_eq!(twice.status, 409);
}

fn session(auth: &Auth) -> crate::support::Session {
    match auth {
        Auth::Session(s) => s.clone(),
        _ => unreachable!("signed in"),
    }
}

async fn reviewers_sign_from_the_queue_page_and_holders_see_their_credentials(t: TestApp) {
    let s = setup(&t).await;
    let consultant = session(&s.consultant);
    let page = t.get("/practicals", &s.consultant).await;
    assert!(
        page.body.contains("Client implementation portfolio"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Lifecycle stages (0–4)"));
    let submitted = t
        .send(session_form(
            "/programs/practical-program/practicals/portfolio/submissions",
            &consultant,
            format!(
                "csrf={}&description=Northwind+rollout+with+lifecycle+stages+and+dashboards&links=https%3A%2F%2Fportfolio.acme.example%2Fnorthwind",
                consultant.csrf
            ),
        ))
        .await;
    assert_eq!(submitted.status, 201, "{}", submitted.body);
    assert!(submitted.body.contains("is waiting for review"));

    let id = t.get("/api/v1/reviews/queue", &s.reviewers[0]).await.json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let queue = t.get("/reviews", &s.reviewers[0]).await;
    assert!(queue.body.contains("Northwind rollout"), "{}", queue.body);
    assert!(queue.body.contains("Your password, to sign"));
    for (n, reviewer) in s.reviewers[..2].iter().enumerate() {
        let r = session(reviewer);
        let form = |password: &str| {
            format!(
                "csrf={}&score%3Alifecycle=4&score%3Areporting=3&verdict=approve&comment=Solid&password={}",
                r.csrf,
                password.replace(' ', "+")
            )
        };
        if n == 0 {
            let wrong = t
                .send(session_form(
                    &format!("/submissions/{id}/review"),
                    &r,
                    form("guess"),
                ))
                .await;
            assert_eq!(wrong.status, 422);
            assert!(
                wrong
                    .body
                    .contains("the password does not match your account; nothing was signed")
            );
        }
        let signed = t
            .send(session_form(
                &format!("/submissions/{id}/review"),
                &r,
                form(PASSWORD),
            ))
            .await;
        assert_eq!(signed.status, 200, "{}", signed.body);
        assert!(
            signed.body.contains(": approved. The submission is now"),
            "{}",
            signed.body
        );
    }
    let mine = t.get("/credentials", &s.consultant).await;
    assert!(mine.body.contains("implementer"), "{}", mine.body);
    assert!(mine.body.contains("Verify and share"));
    assert!(!mine.body.contains("Revoke"), "holders do not revoke");

    let admin = session(&s.reviewers[1]);
    let found = t.get("/credentials?q=casey", &s.reviewers[1]).await;
    assert!(found.body.contains("Casey Consultant"), "{}", found.body);
    let credential = t
        .app
        .credentials_of(&Ctx::system(), &s.consultant_id)
        .await
        .unwrap()[0]
        .id
        .clone();
    let revoked = t
        .send(session_form(
            &format!("/credentials/{credential}/status"),
            &admin,
            format!(
                "csrf={}&status=revoked&reason=portfolio+was+not+their+work",
                admin.csrf
            ),
        ))
        .await;
    assert!(
        revoked.body.contains("credential is now revoked"),
        "{}",
        revoked.body
    );
    let verify = t
        .get(&format!("/verify/{credential}"), &Auth::Anonymous)
        .await;
    assert!(verify.body.contains("Not valid: revoked"));
}

fn upload(
    path: &str,
    auth: &Auth,
    name: &str,
    content: &[u8],
) -> axum::http::Request<axum::body::Body> {
    let boundary = "file-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut request = axum::http::Request::builder()
        .method(axum::http::Method::POST)
        .uri(path)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        );
    if let Auth::Session(s) = auth {
        request = request
            .header("cookie", format!("accredit_session={}", s.cookie))
            .header("x-csrf-token", s.csrf.clone());
    }
    request.body(axum::body::Body::from(body)).unwrap()
}

async fn files_attach_to_submissions_and_only_those_who_may_see_them_download(t: TestApp) {
    let s = setup(&t).await;
    let id = submit(&t, &s.consultant).await;
    let path = format!("/api/v1/submissions/{id}/files");
    let pdf = b"%PDF-1.4\n% Northwind implementation report\n";
    let attached = t
        .send(upload(&path, &s.consultant, "reports/northwind.pdf", pdf))
        .await;
    assert_eq!(attached.status, 200, "{}", attached.body);
    let file = attached.json()["files"][0].clone();
    assert_eq!(file["file_name"], "northwind.pdf");
    assert_eq!(file["content_type"], "application/pdf");
    assert_eq!(file["size"], pdf.len());

    let binary = t
        .send(upload(
            &path,
            &s.consultant,
            "setup.exe",
            b"MZ\x90\x00binary",
        ))
        .await;
    assert_eq!(binary.status, 422);
    assert!(
        binary
            .body
            .contains("`setup.exe` is not a PDF, PNG, JPEG or UTF-8 text file"),
        "{}",
        binary.body
    );
    let empty = t.send(upload(&path, &s.consultant, "notes.txt", b"")).await;
    assert!(
        empty.body.contains("`notes.txt` is empty"),
        "{}",
        empty.body
    );
    // Reviewers read files but do not attach them; other firms do not even see them.
    assert_eq!(
        t.send(upload(&path, &s.reviewers[0], "x.txt", b"hello"))
            .await
            .status,
        403
    );
    let globex = t.login(&s.w.globex_admin.email).await;
    assert_eq!(
        t.send(upload(&path, &globex, "x.txt", b"hello"))
            .await
            .status,
        404
    );
    let download = format!(
        "/api/v1/submissions/{id}/files/{}",
        file["id"].as_str().unwrap()
    );
    let got = t.get(&download, &s.reviewers[0]).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("application/pdf"));
    assert_eq!(
        got.header("content-disposition"),
        Some("attachment; filename=\"northwind.pdf\"")
    );
    assert_eq!(got.body.as_bytes(), pdf);
    assert_eq!(t.get(&download, &globex).await.status, 404);
    assert_eq!(t.get(&download, &Auth::Anonymous).await.status, 401);
    let queue = t.get("/reviews", &s.reviewers[0]).await;
    assert!(queue.body.contains("northwind.pdf"), "{}", queue.body);

    // Once decided, the submission is closed to new files.
    for reviewer in &s.reviewers[..2] {
        t.post(
            &format!("/api/v1/submissions/{id}/reviews"),
            reviewer,
            review("approve", PASSWORD),
        )
        .await;
    }
    let late = t
        .send(upload(&path, &s.consultant, "late.txt", b"one more thing"))
        .await;
    assert_eq!(late.status, 409, "{}", late.body);
}
