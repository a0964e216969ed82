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
        .route("/credentials/{id}/credential.jwt", get(credential_jwt))
        .route("/credentials/{id}/badge.svg", get(badge_svg))
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

/// The same credential as a VC-JWT (EdDSA), for verifiers that speak JOSE.
async fn credential_jwt(State(state): State<AppState>, Path(id): Path<String>) -> PageResult {
    let jwt = state.app.credential_jwt(&id).await?;
    Ok(([(header::CONTENT_TYPE, "application/vc+jwt")], jwt).into_response())
}

fn escape_xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The badge image with the signed credential baked in, as Open Badges 3.0 bakes SVG: the
/// credential JSON inside an `openbadges:credential` element.
async fn badge_svg(State(state): State<AppState>, Path(id): Path<String>) -> PageResult {
    let document = state.app.credential_document(&id).await?;
    let name = escape_xml(document["name"].as_str().unwrap_or("Credential"));
    let issuer = escape_xml(document["issuer"]["name"].as_str().unwrap_or_default());
    let until = escape_xml(
        document["validUntil"]
            .as_str()
            .unwrap_or_default()
            .get(..10)
            .unwrap_or_default(),
    );
    // A CDATA section cannot contain `]]>`; JSON escapes `>` only when asked, so split it.
    let json = serde_json::to_string(&document)
        .unwrap_or_default()
        .replace("]]>", "]]]]><![CDATA[>");
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0" width="240" height="240" viewBox="0 0 240 240" role="img" aria-label="{name}, issued by {issuer}">
<openbadges:credential><![CDATA[{json}]]></openbadges:credential>
<circle cx="120" cy="120" r="112" fill="#0b5cad"/>
<circle cx="120" cy="120" r="96" fill="none" stroke="#ffffff" stroke-width="4"/>
<text x="120" y="96" text-anchor="middle" font-family="sans-serif" font-size="15" font-weight="700" fill="#ffffff">{issuer}</text>
<text x="120" y="126" text-anchor="middle" font-family="sans-serif" font-size="13" fill="#ffffff">{name}</text>
<text x="120" y="156" text-anchor="middle" font-family="sans-serif" font-size="11" fill="#dbe9ff">valid until {until}</text>
</svg>
"##
    );
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}
