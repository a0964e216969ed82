//! Training content: importing transcripts and documents as versions, comparing versions, and
//! what changed since a person was certified — through the use cases, the API and the CLI.

use crate::cli::{accredit, stderr, stdout};
use crate::on_both_backends;
use crate::support::{Auth, Session, TEST_PROGRAM, TestApp};
use accredit_app::Ctx;
use accredit_app::content::ContentFile;
use accredit_app::evidence::Evidence;
use axum::body::Body;
use axum::http::{Method, Request, header};

on_both_backends!(
    markdown_and_transcripts_become_sections_with_recording_moments,
    a_new_import_is_a_new_version_and_versions_compare_by_section,
    what_changed_since_certification_starts_from_the_version_earned_on,
    a_bad_file_rejects_the_whole_import_naming_file_and_line,
    content_is_imported_over_the_api_and_read_by_learners,
    the_cli_imports_content_and_reports_problems,
    search_ranks_sections_with_snippets_phrases_typos_and_filters,
    reading_every_section_completes_the_module_and_counts_for_the_track,
    the_reader_and_search_pages_show_content_and_progress,
    admins_publish_versions_from_the_page_and_learners_read_what_changed,
);

const GUIDE_V1: &str = "# Webhook guide\n\nHow partners deliver webhooks.\n\n## Signatures\n\nSign every webhook with the shared secret.\n\n## Retries\n\nRetry failed deliveries three times.\n\n```json\n{\"attempts\": 3}\n```\n";
const GUIDE_V2: &str = "# Webhook guide\n\nHow partners deliver webhooks.\n\n## Signatures\n\nSign every webhook with the shared secret.\n\n## Retries\n\nRetry failed deliveries five times with exponential backoff.\n\n## Dead letters\n\nPark undeliverable events for 7 days.\n";
const SESSION_VTT: &str = "WEBVTT\n\nNOTE Chapter: Permission scopes\n\n00:00:01.000 --> 00:00:04.000\n<v Maya Okafor>Ask for the narrowest permission scope that works.\n\n00:00:04.500 --> 00:00:07.000\n<v Maya Okafor>Broad scopes fail the security review.\n\nNOTE Chapter: Data residency\n\n00:02:00.000 --> 00:02:05.000\n<v Jonas Weber>Customer data stays in the region the customer chose.\n";

fn ctx() -> Ctx {
    Ctx::system()
}

fn file(name: &str, text: &str) -> ContentFile {
    ContentFile {
        file_name: name.into(),
        bytes: text.as_bytes().to_vec(),
        recording_url: None,
    }
}

async fn with_program(t: &TestApp) {
    t.app.apply_program(&ctx(), TEST_PROGRAM).await.unwrap();
}

async fn markdown_and_transcripts_become_sections_with_recording_moments(t: TestApp) {
    with_program(&t).await;
    let session = ContentFile {
        recording_url: Some("https://videos.example/session-1.mp4".into()),
        ..file("session.vtt", SESSION_VTT)
    };
    let version = t
        .app
        .import_content(
            &ctx(),
            "test-program",
            "m1",
            &[file("guide.md", GUIDE_V1), session],
        )
        .await
        .unwrap();
    assert_eq!(version.version, 1);
    let guide = &version.documents[0];
    assert_eq!(guide.title, "Webhook guide");
    assert_eq!(guide.source_kind, "markdown");
    let headings: Vec<_> = guide.sections.iter().map(|s| s.heading.as_str()).collect();
    assert_eq!(headings, ["Webhook guide", "Signatures", "Retries"]);
    assert_eq!(guide.sections[2].anchor, "retries");
    assert!(
        guide.sections[2]
            .body
            .contains("Retry failed deliveries three times.")
    );
    assert!(
        guide.sections[2].body.contains("{\"attempts\": 3}"),
        "code blocks are kept"
    );

    let transcript = &version.documents[1];
    assert_eq!(transcript.source_kind, "webvtt");
    let chapters: Vec<_> = transcript
        .sections
        .iter()
        .map(|s| (s.heading.as_str(), s.start_ms))
        .collect();
    assert_eq!(
        chapters,
        [
            ("Permission scopes", Some(1000)),
            ("Data residency", Some(120_000))
        ]
    );
    assert_eq!(
        transcript.sections[1].recording_link.as_deref(),
        Some("https://videos.example/session-1.mp4#t=120")
    );
    let first = &transcript.sections[0];
    assert!(first.body.contains("Ask for the narrowest permission scope that works. Broad scopes fail the security review."), "cues merge into a paragraph: {}", first.body);
    assert_eq!(first.blocks[0]["speaker"], "Maya Okafor");
    assert_eq!(first.blocks[0]["start_ms"], 1000);
}

async fn a_new_import_is_a_new_version_and_versions_compare_by_section(t: TestApp) {
    with_program(&t).await;
    t.app
        .import_content(&ctx(), "test-program", "m1", &[file("guide.md", GUIDE_V1)])
        .await
        .unwrap();
    let v2 = t
        .app
        .import_content(&ctx(), "test-program", "m1", &[file("guide.md", GUIDE_V2)])
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    assert_eq!(
        t.app
            .module_versions(&ctx(), "test-program", "m1")
            .await
            .unwrap(),
        [1, 2]
    );
    let comparison = t
        .app
        .compare_versions(&ctx(), "test-program", "m1", 1, 2)
        .await
        .unwrap();
    let summary: Vec<_> = comparison
        .sections
        .iter()
        .map(|s| format!("{} {}", s.anchor, s.change))
        .collect();
    assert_eq!(
        summary,
        [
            "webhook-guide unchanged",
            "signatures unchanged",
            "retries changed",
            "dead-letters added"
        ]
    );
    let retries = &comparison.sections[2];
    let removed: String = retries
        .words
        .iter()
        .filter(|w| w.op == "removed")
        .map(|w| w.text.as_str())
        .collect();
    let added: String = retries
        .words
        .iter()
        .filter(|w| w.op == "added")
        .map(|w| w.text.as_str())
        .collect();
    assert!(removed.contains("three"), "{removed}");
    assert!(
        added.contains("five") && added.contains("exponential") && added.contains("backoff"),
        "{added}"
    );
    // The old version is still there to read.
    let v1 = t
        .app
        .module_version(&ctx(), "test-program", "m1", Some(1))
        .await
        .unwrap();
    assert!(v1.documents[0].sections[2].body.contains("three times"));
    let events = t.app.list_audit_events(&ctx(), 0, 1000).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "content.imported")
            .count(),
        2
    );
}

async fn what_changed_since_certification_starts_from_the_version_earned_on(t: TestApp) {
    with_program(&t).await;
    let w = t.world().await;
    t.app
        .enroll_partner(&ctx(), &w.acme.id, "test-program")
        .await
        .unwrap();
    t.app
        .import_content(&ctx(), "test-program", "m1", &[file("guide.md", GUIDE_V1)])
        .await
        .unwrap();
    let evidence = Evidence::CredentialIssued {
        person: w.acme_learner.id.clone(),
        track: "t1".into(),
        issued_on: t.app.today(),
    };
    t.app
        .record_evidence(&ctx(), "test-program", evidence)
        .await
        .unwrap();
    t.clock.advance(jiff::SignedDuration::from_hours(24 * 30));
    t.app
        .import_content(&ctx(), "test-program", "m1", &[file("guide.md", GUIDE_V2)])
        .await
        .unwrap();

    let learner = t.login(&w.acme_learner.email).await;
    let response = t
        .get(
            &format!(
                "/api/v1/people/{}/changes?program=test-program&module=m1",
                w.acme_learner.id
            ),
            &learner,
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    let body = response.json();
    assert_eq!(
        (body["from_version"].as_i64(), body["to_version"].as_i64()),
        (Some(1), Some(2))
    );
    let changed: Vec<_> = body["sections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["change"] != "unchanged")
        .map(|s| s["anchor"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(changed, ["retries", "dead-letters"]);
    // Someone without a credential has nothing to compare against.
    let none = t
        .get(
            &format!(
                "/api/v1/people/{}/changes?program=test-program&module=m1",
                w.acme_admin.id
            ),
            &t.login(&w.acme_admin.email).await,
        )
        .await;
    assert_eq!(none.status, 404);
    // And another firm's learner's history is not visible.
    let other = t
        .get(
            &format!(
                "/api/v1/people/{}/changes?program=test-program&module=m1",
                w.globex_learner.id
            ),
            &learner,
        )
        .await;
    assert_eq!(other.status, 404);
}

async fn a_bad_file_rejects_the_whole_import_naming_file_and_line(t: TestApp) {
    with_program(&t).await;
    let broken = "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nFine.\n\n00:00:05.000 --> 00:00:3.000\nBroken timing.\n";
    let error = t
        .app
        .import_content(
            &ctx(),
            "test-program",
            "m1",
            &[file("guide.md", GUIDE_V1), file("broken.vtt", broken)],
        )
        .await
        .unwrap_err();
    let accredit_app::AppError::Invalid(problems) = error else {
        panic!("{error:?}")
    };
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].field, "broken.vtt: line 6");
    assert!(
        problems[0].message.contains("00:00:3.000"),
        "{}",
        problems[0].message
    );
    assert!(
        t.app
            .module_versions(&ctx(), "test-program", "m1")
            .await
            .unwrap()
            .is_empty(),
        "nothing kept"
    );

    let binary = ContentFile {
        file_name: "logo.png".into(),
        bytes: vec![0x89, b'P', b'N', b'G', 0, 0, 0, 13],
        recording_url: None,
    };
    let error = t
        .app
        .import_content(&ctx(), "test-program", "m1", &[binary])
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("logo.png"), "{error}");
    let empty = t
        .app
        .import_content(&ctx(), "test-program", "m1", &[file("empty.md", "")])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        empty.contains("empty.md") && empty.contains("empty"),
        "{empty}"
    );
    let unknown = t
        .app
        .import_content(
            &ctx(),
            "test-program",
            "nope",
            &[file("guide.md", GUIDE_V1)],
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(unknown.contains("has no module `nope`"), "{unknown}");
}

fn multipart(parts: &[(&str, Option<&str>, &str)]) -> (String, String) {
    let boundary = "accredit-test-boundary";
    let mut body = String::new();
    for (name, file_name, content) in parts {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\""
        ));
        if let Some(file_name) = file_name {
            body.push_str(&format!(
                "; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream"
            ));
        }
        body.push_str(&format!("\r\n\r\n{content}\r\n"));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn content_is_imported_over_the_api_and_read_by_learners(t: TestApp) {
    with_program(&t).await;
    let w = t.world().await;
    let (content_type, body) = multipart(&[
        ("file", Some("guide.md"), GUIDE_V1),
        ("file", Some("session.vtt"), SESSION_VTT),
        (
            "recording_url:session.vtt",
            None,
            "https://videos.example/s1.mp4",
        ),
    ]);
    let send = |auth: Auth| {
        let mut request = axum::http::Request::builder()
            .method(Method::POST)
            .uri("/api/v1/programs/test-program/modules/m1/content")
            .header(axum::http::header::CONTENT_TYPE, content_type.clone());
        match &auth {
            Auth::Bearer(token) => {
                request =
                    request.header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"))
            }
            Auth::Session(s) => {
                request = request
                    .header(
                        axum::http::header::COOKIE,
                        format!("accredit_session={}", s.cookie),
                    )
                    .header("x-csrf-token", s.csrf.clone())
            }
            Auth::Anonymous => {}
        }
        request.body(axum::body::Body::from(body.clone())).unwrap()
    };
    assert_eq!(t.send(send(Auth::Anonymous)).await.status, 401);
    assert_eq!(
        t.send(send(t.login(&w.acme_admin.email).await))
            .await
            .status,
        403
    );
    assert_eq!(t.send(send(t.token("people:read").await)).await.status, 403);
    let created = t.send(send(t.login(&w.admin.email).await)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.json()["documents"][1]["sections"][0]["recording_link"],
        "https://videos.example/s1.mp4#t=1"
    );

    let learner = t.login(&w.acme_learner.email).await;
    let read = t
        .get("/api/v1/programs/test-program/modules/m1/content", &learner)
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.json()["version"], 1);
    assert_eq!(
        t.get(
            "/api/v1/programs/test-program/modules/m1/content?version=7",
            &learner
        )
        .await
        .status,
        404
    );
    let compare = t
        .get(
            "/api/v1/programs/test-program/modules/m1/compare?from=1&to=1",
            &learner,
        )
        .await;
    assert_eq!(compare.status, 200);
    assert!(
        compare.json()["sections"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["change"] == "unchanged")
    );
    let bad = t
        .get(
            "/api/v1/programs/test-program/modules/m1/compare?from=one&to=1",
            &learner,
        )
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["errors"][0]["field"], "from");
}

async fn the_cli_imports_content_and_reports_problems(t: TestApp) {
    with_program(&t).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("guide.md"), GUIDE_V1).unwrap();
    std::fs::write(dir.path().join("session.vtt"), SESSION_VTT).unwrap();
    std::fs::write(
        dir.path().join("broken.srt"),
        "1\n00:00:01,000 --> 00:00:00,500\nBackwards.\n",
    )
    .unwrap();
    let url = t.db.url.clone();
    let run = |files: &[&str]| {
        let mut args = vec![
            "content",
            "import",
            "--database-url",
            &url,
            "--program",
            "test-program",
            "--module",
            "m1",
            "--recording-url",
            "https://videos.example/s1.mp4",
        ];
        args.extend(files);
        accredit(dir.path(), &args, &[])
    };
    let ok = run(&["guide.md", "session.vtt"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    let out = stdout(&ok);
    assert!(
        out.contains("imported version 1 of `m1` (2 document(s), 5 section(s))"),
        "{out}"
    );
    assert!(out.contains("[2:00] Data residency"), "{out}");
    let bad = run(&["guide.md", "broken.srt"]);
    assert_eq!(bad.status.code(), Some(1));
    let message = stderr(&bad);
    assert!(
        message.contains("nothing was imported") && message.contains("broken.srt: line 2"),
        "{message}"
    );
    assert_eq!(
        t.app
            .module_versions(&ctx(), "test-program", "m1")
            .await
            .unwrap(),
        [1]
    );
}

async fn search_ranks_sections_with_snippets_phrases_typos_and_filters(t: TestApp) {
    with_program(&t).await;
    let w = t.world().await;
    let session = ContentFile {
        recording_url: Some("https://videos.example/s1.mp4".into()),
        ..file("session.vtt", SESSION_VTT)
    };
    t.app
        .import_content(
            &ctx(),
            "test-program",
            "m1",
            &[file("guide.md", GUIDE_V1), session],
        )
        .await
        .unwrap();
    let learner = t.login(&w.acme_learner.email).await;
    let search = async |query: &str| {
        let response = t.get(&format!("/api/v1/search?{query}"), &learner).await;
        assert_eq!(response.status, 200, "{}", response.body);
        response.json()["hits"].as_array().unwrap().clone()
    };

    let hits = search("q=retry+deliveries").await;
    assert_eq!(hits[0]["heading"], "Retries", "{hits:?}");
    assert_eq!(hits[0]["anchor"], "retries");
    assert_eq!(hits[0]["module_id"], "m1");
    let snippet = hits[0]["snippet"].as_str().unwrap();
    assert!(
        snippet.contains("<b>Retry</b>") && snippet.contains("<b>deliveries</b>"),
        "{snippet}"
    );

    // A phrase from the recording deep-links to its moment.
    let hits = search("q=%22narrowest+permission+scope%22").await;
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0]["heading"], "Permission scopes");
    assert_eq!(
        hits[0]["recording_link"],
        "https://videos.example/s1.mp4#t=1"
    );

    // One typo is forgiven; a word found nowhere finds nothing.
    assert_eq!(search("q=residncy").await[0]["heading"], "Data residency");
    assert!(search("q=kubernetes").await.is_empty());

    // Filters: by track and role the module is in; by another module nothing.
    assert!(!search("q=webhook&track=t1").await.is_empty());
    assert!(!search("q=webhook&role=sales").await.is_empty());
    assert!(search("q=webhook&role=technical").await.is_empty());
    assert!(search("q=webhook&module=other").await.is_empty());

    // A new version replaces the old one in the index.
    t.app
        .import_content(&ctx(), "test-program", "m1", &[file("guide.md", GUIDE_V2)])
        .await
        .unwrap();
    assert_eq!(search("q=dead+letters").await[0]["version"], 2);
    assert!(
        search("q=narrowest").await.is_empty(),
        "the transcript is not in version 2"
    );

    let empty = t.get("/api/v1/search?q=+", &learner).await;
    assert_eq!(empty.status, 422);
    assert_eq!(empty.json()["errors"][0]["field"], "q");

    // Rebuilding from the database gives the same answers.
    let admin = t.login(&w.admin.email).await;
    let rebuilt = t
        .request(Method::POST, "/api/v1/search/reindex", &admin, None)
        .await;
    assert_eq!(rebuilt.json()["sections"], 4);
    assert_eq!(search("q=dead+letters").await[0]["heading"], "Dead letters");
}

async fn reading_every_section_completes_the_module_and_counts_for_the_track(t: TestApp) {
    with_program(&t).await;
    let w = t.world().await;
    t.app
        .enroll_partner(&ctx(), &w.acme.id, "test-program")
        .await
        .unwrap();
    let version = t
        .app
        .import_content(&ctx(), "test-program", "m1", &[file("guide.md", GUIDE_V1)])
        .await
        .unwrap();
    let sections: Vec<String> = version.documents[0]
        .sections
        .iter()
        .map(|s| s.id.clone())
        .collect();
    let learner = t.login(&w.acme_learner.email).await;
    let base = "/api/v1/programs/test-program/modules/m1";

    let early = t
        .request(Method::POST, &format!("{base}/complete"), &learner, None)
        .await;
    assert_eq!(early.status, 422);
    assert!(
        early.body.contains("3 of 3 sections are not read yet"),
        "{}",
        early.body
    );
    for id in &sections {
        assert_eq!(
            t.request(
                Method::POST,
                &format!("/api/v1/sections/{id}/read"),
                &learner,
                None
            )
            .await
            .status,
            204
        );
    }
    // Reading twice is harmless.
    assert_eq!(
        t.request(
            Method::POST,
            &format!("/api/v1/sections/{}/read", sections[0]),
            &learner,
            None
        )
        .await
        .status,
        204
    );
    let time = t
        .post(
            &format!("{base}/time"),
            &learner,
            serde_json::json!({"seconds": 600}),
        )
        .await;
    assert_eq!(time.json(), 600);
    assert_eq!(
        t.post(
            &format!("{base}/time"),
            &learner,
            serde_json::json!({"seconds": 99999})
        )
        .await
        .status,
        422
    );
    let progress = t.get(&format!("{base}/progress"), &learner).await.json();
    assert_eq!(
        (
            progress["sections_total"].as_u64(),
            progress["sections_read"].as_array().unwrap().len()
        ),
        (Some(3), 3)
    );
    assert_eq!(progress["seconds_spent"], 600);

    let done = t
        .request(Method::POST, &format!("{base}/complete"), &learner, None)
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.json()["completed"], true);
    // Completing m1 satisfies track t1's requirement: a person benefit that needs m1 is granted.
    let reader = t.token("entitlements:read").await;
    let sandbox = t
        .get(
            &format!(
                "/api/v1/entitlements/check?person={}&entitlement=sandbox",
                w.acme_learner.id
            ),
            &reader,
        )
        .await;
    assert_eq!(sandbox.json()["allowed"], true, "{}", sandbox.body);
    // A new version starts the reading again, but completion stands.
    t.app
        .import_content(&ctx(), "test-program", "m1", &[file("guide.md", GUIDE_V2)])
        .await
        .unwrap();
    let again = t.get(&format!("{base}/progress"), &learner).await.json();
    assert_eq!(again["version"], 2);
    assert!(again["sections_read"].as_array().unwrap().is_empty());
    assert_eq!(again["completed"], true);
}

async fn the_reader_and_search_pages_show_content_and_progress(t: TestApp) {
    with_program(&t).await;
    let w = t.world().await;
    let session = ContentFile {
        recording_url: Some("https://videos.example/s1.mp4".into()),
        ..file("session.vtt", SESSION_VTT)
    };
    let version = t
        .app
        .import_content(
            &ctx(),
            "test-program",
            "m1",
            &[file("guide.md", GUIDE_V1), session],
        )
        .await
        .unwrap();
    let Auth::Session(learner) = t.login(&w.acme_learner.email).await else {
        unreachable!()
    };
    let auth = Auth::Session(learner.clone());
    let page = t.get("/programs/test-program/modules/m1", &auth).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<h1>Module one</h1>"), "{}", page.body);
    assert!(page.body.contains("id=\"retries\""));
    assert!(
        page.body
            .contains("<strong>Maya Okafor:</strong> Ask for the narrowest permission scope")
    );
    assert!(
        page.body
            .contains("href=\"https://videos.example/s1.mp4#t=120\"")
    );
    assert!(page.body.contains("read 0 of 5 sections"));

    let section = &version.documents[0].sections[2];
    let back = format!("/programs/test-program/modules/m1#{}", section.anchor);
    let read = t
        .send(crate::support::session_form(
            &format!("/sections/{}/read", section.id),
            &learner,
            format!(
                "csrf={}&back={}",
                learner.csrf,
                back.replace('/', "%2F").replace('#', "%23")
            ),
        ))
        .await;
    assert_eq!(read.status, 303);
    assert_eq!(read.header("location"), Some(back.as_str()));
    assert!(
        t.get("/programs/test-program/modules/m1", &auth)
            .await
            .body
            .contains("read 1 of 5 sections")
    );
    let elsewhere = t
        .send(crate::support::session_form(
            &format!("/sections/{}/read", section.id),
            &learner,
            format!("csrf={}&back=https%3A%2F%2Fevil.example", learner.csrf),
        ))
        .await;
    assert_eq!(elsewhere.header("location"), Some("/"), "no open redirect");

    let results = t.get("/search?q=narrowest+scope", &auth).await;
    assert_eq!(results.status, 200);
    assert!(results.body.contains("1 result"), "{}", results.body);
    assert!(
        results.body.contains("<b>narrowest</b>"),
        "{}",
        results.body
    );
    assert!(
        results
            .body
            .contains("href=\"/programs/test-program/modules/m1#permission-scopes\"")
    );
    assert!(results.body.contains("▶ at 0:01 in the recording"));
}

/// A multipart form post from a signed-in browser.
fn session_upload(
    path: &str,
    session: &Session,
    parts: &[(&str, Option<&str>, &str)],
) -> Request<Body> {
    let (content_type, body) = multipart(parts);
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(
            header::COOKIE,
            format!("accredit_session={}", session.cookie),
        )
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap()
}

fn session_of(auth: Auth) -> Session {
    match auth {
        Auth::Session(session) => session,
        _ => unreachable!("login gives a session"),
    }
}

async fn admins_publish_versions_from_the_page_and_learners_read_what_changed(t: TestApp) {
    with_program(&t).await;
    let w = t.world().await;
    t.app
        .enroll_partner(&ctx(), &w.acme.id, "test-program")
        .await
        .unwrap();
    let admin = session_of(t.login(&w.admin.email).await);
    let versions = "/programs/test-program/modules/m1/versions";
    let page = t.get(versions, &Auth::Session(admin.clone())).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("No content is imported yet."));
    assert!(page.body.contains("enctype=\"multipart/form-data\""));

    // A broken transcript: the page lists the problem with file and line; nothing is kept.
    let broken =
        "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nFine.\n\n00:00:05.000 --> 00:00:3.000\nBroken.\n";
    let csrf = admin.csrf.clone();
    let rejected = t
        .send(session_upload(
            versions,
            &admin,
            &[
                ("csrf", None, &csrf),
                ("file0", Some("guide.md"), GUIDE_V1),
                ("file1", Some("broken.vtt"), broken),
                ("recording1", None, "https://videos.example/b.mp4"),
            ],
        ))
        .await;
    assert_eq!(rejected.status, 422, "{}", rejected.body);
    assert!(
        rejected.body.contains("Nothing was imported"),
        "{}",
        rejected.body
    );
    assert!(
        rejected
            .body
            .contains("<strong>broken.vtt: line 6</strong>: `00:00:3.000` is not a timestamp"),
        "{}",
        rejected.body
    );
    assert!(
        t.app
            .module_versions(&ctx(), "test-program", "m1")
            .await
            .unwrap()
            .is_empty()
    );

    // A recording URL without its file is refused before anything is parsed.
    let orphan = t
        .send(session_upload(
            versions,
            &admin,
            &[
                ("csrf", None, &csrf),
                ("file0", Some("guide.md"), GUIDE_V1),
                ("recording2", None, "https://videos.example/b.mp4"),
            ],
        ))
        .await;
    assert_eq!(orphan.status, 422);
    assert!(
        orphan
            .body
            .contains("a recording URL needs a transcript file in the same row")
    );

    // Without the form's CSRF token nothing is imported.
    let forged = t
        .send(session_upload(
            versions,
            &admin,
            &[
                ("csrf", None, "forged"),
                ("file0", Some("guide.md"), GUIDE_V1),
            ],
        ))
        .await;
    assert_eq!(forged.status, 403);

    let published = t
        .send(session_upload(
            versions,
            &admin,
            &[
                ("csrf", None, &csrf),
                ("file0", Some("guide.md"), GUIDE_V1),
                ("file1", Some("session.vtt"), SESSION_VTT),
                ("recording1", None, "https://videos.example/s1.mp4"),
                ("file2", Some(""), ""),
            ],
        ))
        .await;
    assert_eq!(published.status, 201, "{}", published.body);
    assert!(published.body.contains("Version 1 is published"));
    let v1 = t
        .app
        .module_version(&ctx(), "test-program", "m1", None)
        .await
        .unwrap();
    assert_eq!(v1.documents.len(), 2);
    assert_eq!(
        v1.documents[1].sections[1].recording_link.as_deref(),
        Some("https://videos.example/s1.mp4#t=120")
    );

    // The learner is certified on version 1, then version 2 changes the retries section.
    let evidence = Evidence::CredentialIssued {
        person: w.acme_learner.id.clone(),
        track: "t1".into(),
        issued_on: t.app.today(),
    };
    t.app
        .record_evidence(&ctx(), "test-program", evidence)
        .await
        .unwrap();
    t.clock.advance(jiff::SignedDuration::from_hours(24 * 30));
    // A month on, the admin signs in again.
    let admin = session_of(t.login(&w.admin.email).await);
    let second = t
        .send(session_upload(
            versions,
            &admin,
            &[
                ("csrf", None, &admin.csrf),
                ("file0", Some("guide.md"), GUIDE_V2),
            ],
        ))
        .await;
    assert_eq!(second.status, 201, "{}", second.body);
    assert!(
        second.body.contains("/compare?from=1&amp;to=2"),
        "{}",
        second.body
    );

    // A partner admin may read the history but not publish.
    let partner_admin = session_of(t.login(&w.acme_admin.email).await);
    let history = t.get(versions, &Auth::Session(partner_admin.clone())).await;
    assert_eq!(history.status, 200);
    assert!(!history.body.contains("Publish a new version"));
    let refused = t
        .send(session_upload(
            versions,
            &partner_admin,
            &[
                ("csrf", None, &partner_admin.csrf),
                ("file0", Some("guide.md"), GUIDE_V1),
            ],
        ))
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(
        t.app
            .module_versions(&ctx(), "test-program", "m1")
            .await
            .unwrap(),
        [1, 2]
    );

    let compare = t
        .get(
            "/programs/test-program/modules/m1/compare?from=1&to=2",
            &Auth::Session(admin.clone()),
        )
        .await;
    assert_eq!(compare.status, 200);
    assert!(
        compare.body.contains("<del>three</del>"),
        "{}",
        compare.body
    );
    assert!(compare.body.contains("<ins>five"), "{}", compare.body);
    assert!(compare.body.contains("backoff.</ins>"), "{}", compare.body);
    // The transcript was left out of version 2, so its sections are removed.
    assert!(
        compare
            .body
            .contains("<del>Ask for the narrowest permission scope")
    );

    let learner = Auth::Session(session_of(t.login(&w.acme_learner.email).await));
    let home = t.get("/", &learner).await;
    assert!(
        home.body.contains("Your training: Test Program"),
        "{}",
        home.body
    );
    assert!(
        home.body
            .contains("href=\"/programs/test-program/modules/m1/changes\"")
    );
    let changes = t
        .get("/programs/test-program/modules/m1/changes", &learner)
        .await;
    assert_eq!(changes.status, 200, "{}", changes.body);
    assert!(
        changes
            .body
            .contains("You were certified on version 1; this is what version 2 changed.")
    );
    // Retries changed, Dead letters added, the two transcript sections removed.
    assert!(
        changes.body.contains("4 of 6 sections changed."),
        "{}",
        changes.body
    );
    assert!(changes.body.contains("<del>three</del>"));
    assert!(changes.body.contains("id=\"change-dead-letters\""));
    // Someone with no credential is told there is nothing to compare against.
    let uncertified = t
        .get(
            "/programs/test-program/modules/m1/changes",
            &Auth::Session(partner_admin),
        )
        .await;
    assert_eq!(uncertified.status, 404);
    assert!(
        uncertified
            .body
            .contains("You hold no credential of this program yet")
    );

    // Search filters by program from the page.
    let filtered = t
        .get("/search?q=webhook&program=test-program", &learner)
        .await;
    assert!(
        filtered
            .body
            .contains("<option value=\"test-program\" selected>"),
        "{}",
        filtered.body
    );
    assert!(!filtered.body.contains(">0 results<"), "{}", filtered.body);
    let elsewhere = t
        .get("/search?q=webhook&program=nothing-here", &learner)
        .await;
    assert!(elsewhere.body.contains("0 results"), "{}", elsewhere.body);
}
