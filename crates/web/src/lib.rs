//! Accredit over HTTP: the JSON API with its OpenAPI document, the HTML pages, and the endpoints
//! operators need. Handlers stay thin; every decision is made in `accredit-app`.

pub mod api;
pub mod api_content;
mod api_credentials;
mod api_exams;
mod api_lifecycle;
mod api_practicals;
pub mod api_programs;
mod charts;
mod form;
mod highlight;
pub mod ops;
pub mod pages;
mod pages_content;
mod pages_credentials;
mod pages_exams;
mod pages_lifecycle;
mod pages_people;
mod pages_reports;
mod pages_reviews;
pub mod problem;
pub mod session;

use accredit_app::App;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, Request, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa_scalar::{Scalar, Servable as _};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub metrics: PrometheusHandle,
    /// Mark cookies `Secure`: set when the portal is served over TLS.
    pub secure_cookies: bool,
    openapi_json: Arc<String>,
}

impl AppState {
    pub fn new(app: App, secure_cookies: bool) -> Self {
        let (_, openapi) = api::routes();
        Self {
            app,
            metrics: ops::metrics_handle(),
            secure_cookies,
            openapi_json: Arc::new(openapi.to_pretty_json().unwrap_or_default()),
        }
    }
}

/// The OpenAPI document the API is built from.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::routes().1
}

/// The whole HTTP surface with its middleware.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = api::routes();
    let x_request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(api)
        .route("/api/v1/openapi.json", get(openapi_json))
        .merge(Scalar::with_url("/api/docs", openapi))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .merge(pages::routes())
        .fallback(not_found)
        .layer(axum::middleware::from_fn(ops::track_requests))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(
                    x_request_id.clone(),
                    MakeRequestUuid,
                ))
                .layer(
                    TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                        let request_id = request
                            .headers()
                            .get("x-request-id")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("-");
                        tracing::info_span!(
                            "request",
                            method = %request.method(),
                            uri = %request.uri().path(),
                            request_id = %request_id,
                        )
                    }),
                )
                .layer(PropagateRequestIdLayer::new(x_request_id))
                .layer(TimeoutLayer::with_status_code(
                    axum::http::StatusCode::REQUEST_TIMEOUT,
                    Duration::from_secs(30),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("same-origin"),
                )),
        )
        .with_state(state)
}

async fn openapi_json(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi_json.as_str().to_owned(),
    )
        .into_response()
}

async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        problem::ApiError::not_found(format!("no API endpoint at {}", uri.path())).into_response()
    } else {
        pages::PageError::not_found(uri.path()).into_response()
    }
}
