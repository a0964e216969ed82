//! What operators rely on: health, readiness, metrics, request ids, the API description.

use crate::on_both_backends;
use crate::support::{Auth, TestApp};
use axum::body::Body;
use axum::http::Request;

on_both_backends!(
    health_and_readiness_report_the_database_and_schema,
    metrics_count_requests_by_route,
    every_response_carries_a_request_id,
    the_openapi_document_and_docs_are_served,
    unknown_paths_are_not_found_in_the_right_format,
);

async fn health_and_readiness_report_the_database_and_schema(t: TestApp) {
    let health = t.get("/healthz", &Auth::Anonymous).await;
    assert_eq!((health.status.as_u16(), health.body.as_str()), (200, "ok"));
    let ready = t.get("/readyz", &Auth::Anonymous).await;
    assert_eq!(ready.status, 200);
    assert_eq!(
        ready.json(),
        serde_json::json!({"database": true, "schema": "current"})
    );

    let mut tx = t.app.db.begin().await.unwrap();
    sqlx::query("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (999, 'future', 'x', 'now')")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let not_ready = t.get("/readyz", &Auth::Anonymous).await;
    assert_eq!(not_ready.status, 503);
    assert_eq!(not_ready.json()["database"], true);
    assert!(not_ready.json()["schema"].as_str().unwrap().contains("999"));
}

async fn metrics_count_requests_by_route(t: TestApp) {
    for _ in 0..3 {
        t.get("/healthz", &Auth::Anonymous).await;
    }
    t.get("/api/v1/people/some-id", &Auth::Anonymous).await;
    let metrics = t.get("/metrics", &Auth::Anonymous).await;
    assert_eq!(metrics.status, 200);
    let text = metrics.body;
    let healthz = text
        .lines()
        .find(|l| {
            l.starts_with("http_requests_total{")
                && l.contains(r#"route="/healthz""#)
                && l.contains(r#"status="200""#)
        })
        .unwrap_or_else(|| panic!("no healthz counter in\n{text}"));
    let count: f64 = healthz.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 3.0, "{healthz}");
    // Routes are labelled by template, not by the concrete path.
    assert!(text.contains(r#"route="/api/v1/people/{id}""#), "{text}");
    assert!(!text.contains("some-id"));
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
}

async fn every_response_carries_a_request_id(t: TestApp) {
    let response = t.get("/healthz", &Auth::Anonymous).await;
    let id = response.header("x-request-id").expect("request id");
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let given = t
        .send(
            Request::builder()
                .uri("/api/v1/me")
                .header("x-request-id", "trace-123")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(given.header("x-request-id"), Some("trace-123"));
    assert_eq!(given.status, 401);
}

async fn the_openapi_document_and_docs_are_served(t: TestApp) {
    let document = t.get("/api/v1/openapi.json", &Auth::Anonymous).await;
    assert_eq!(document.status, 200);
    let json = document.json();
    assert_eq!(json["openapi"], "3.1.0");
    for path in [
        "/api/v1/people",
        "/api/v1/people/{id}",
        "/api/v1/tokens",
        "/api/v1/audit/events",
        "/api/v1/me",
    ] {
        assert!(json["paths"][path].is_object(), "{path} documented");
    }
    assert!(json["components"]["schemas"]["Problem"].is_object());
    assert!(json["components"]["securitySchemes"]["bearer"].is_object());
    let people = &json["paths"]["/api/v1/people"]["get"];
    assert!(
        people["description"]
            .as_str()
            .unwrap_or_default()
            .contains("partner admins")
            || people["summary"]
                .as_str()
                .unwrap_or_default()
                .contains("people")
    );
    assert!(people["responses"]["4XX"].is_object());
    let docs = t.get("/api/docs", &Auth::Anonymous).await;
    assert_eq!(docs.status, 200);
    assert!(
        docs.body.contains("openapi.json") || docs.body.contains("Accredit API"),
        "{}",
        &docs.body[..200.min(docs.body.len())]
    );
}

async fn unknown_paths_are_not_found_in_the_right_format(t: TestApp) {
    let api = t.get("/api/v1/nothing-here", &Auth::Anonymous).await;
    assert_eq!(api.status, 404);
    assert_eq!(api.header("content-type"), Some("application/problem+json"));
    assert!(
        api.json()["detail"]
            .as_str()
            .unwrap()
            .contains("/api/v1/nothing-here")
    );
    let page = t.get("/nothing-here", &Auth::Anonymous).await;
    assert_eq!(page.status, 404);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.body.contains("There is no page at /nothing-here"));
}
