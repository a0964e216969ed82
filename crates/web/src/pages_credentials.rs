//! Public credential pages and documents: the verify page, the signed credential as JSON, the
//! deployment's DID document and its status lists. None needs a sign-in.

use crate::AppState;
use crate::pages::{Layout, PageResult};
use accredit_app::signing::Verification;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/verify/{id}", get(verify_page))
        .route("/credentials/{id}/credential.json", get(credential_json))
        .route("/.well-known/did.json", get(did_document))
        .route("/status/{purpose}", get(status_list))
}

fn json_ld(value: serde_json::Value, filename: Option<&str>) -> Response {
    let body = serde_json::to_string_pretty(&value).unwrap_or_default();
    match filename {
        Some(name) => (
            [
                (header::CONTENT_TYPE, "application/vc+ld+json".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            body,
        )
            .into_response(),
        None => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "verify.html")]
struct VerifyPage {
    layout: Layout,
    id: String,
    v: Verification,
    linkedin: String,
}

/// Anyone can check a credential: the result in words, each check, and the downloads.
async fn verify_page(State(state): State<AppState>, Path(id): Path<String>) -> PageResult {
    let v = state.app.verify_issued(&id).await?;
    let base = state.app.config.public_url.trim_end_matches('/');
    let linkedin = format!(
        "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME&name={}&organizationName={}&issueYear={}&issueMonth={}&certUrl={}&certId={}",
        encode(v.achievement.as_deref().unwrap_or_default()),
        encode(v.issuer.as_deref().unwrap_or_default()),
        v.valid_from
            .as_deref()
            .unwrap_or_default()
            .get(..4)
            .unwrap_or_default(),
        v.valid_from
            .as_deref()
            .unwrap_or_default()
            .get(5..7)
            .unwrap_or_default()
            .trim_start_matches('0'),
        encode(&format!("{base}/verify/{id}")),
        encode(&id),
    );
    Ok(VerifyPage {
        layout: Layout::anonymous(String::new()),
        id,
        v,
        linkedin,
    }
    .into_response())
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

async fn credential_json(State(state): State<AppState>, Path(id): Path<String>) -> PageResult {
    let document = state.app.credential_document(&id).await?;
    Ok(json_ld(document, Some(&format!("credential-{id}.json"))))
}

async fn did_document(State(state): State<AppState>) -> PageResult {
    Ok(json_ld(state.app.did_document().await?, None))
}

async fn status_list(State(state): State<AppState>, Path(purpose): Path<String>) -> PageResult {
    let list = state.app.status_list_credential(&purpose).await?;
    Ok(json_ld(list, None))
}
