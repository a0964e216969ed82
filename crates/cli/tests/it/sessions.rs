//! Signing in and out through the pages and the API: cookies, CSRF, throttling, tokens.

use crate::on_both_backends;
use crate::support::{Auth, PASSWORD, TestApp, TestResponse};
use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::json;

on_both_backends!(
    signing_in_through_the_login_page_opens_a_session_with_safe_cookies,
    a_login_form_without_its_csrf_token_is_refused,
    wrong_passwords_are_rejected_and_then_throttled,
    session_cookie_writes_to_the_api_need_the_csrf_header,
    signing_out_ends_the_session,
    sessions_expire,
    cookies_are_secure_when_served_over_tls,
    api_tokens_are_shown_once_stored_hashed_and_stop_working_when_revoked,
    the_token_page_creates_and_revokes_tokens,
);

fn set_cookie_value<'a>(response: &'a TestResponse, name: &str) -> Option<&'a str> {
    response
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}

/// Fetches the login page and returns its CSRF cookie value.
async fn login_form_csrf(t: &TestApp) -> String {
    let page = t.get("/login", &Auth::Anonymous).await;
    assert_eq!(page.status, 200);
    let csrf = cookie_value(set_cookie_value(&page, "accredit_csrf").expect("csrf cookie"));
    assert!(
        page.body.contains(&format!("value=\"{csrf}\"")),
        "form carries the token"
    );
    csrf
}

async fn post_login(
    t: &TestApp,
    csrf_cookie: Option<&str>,
    csrf_field: &str,
    email: &str,
    password: &str,
) -> TestResponse {
    let form = format!(
        "email={}&password={}&csrf={}",
        email.replace('@', "%40"),
        password.replace(' ', "+"),
        csrf_field
    );
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(value) = csrf_cookie {
        request = request.header(header::COOKIE, format!("accredit_csrf={value}"));
    }
    t.send(request.body(Body::from(form)).unwrap()).await
}

fn page_get(path: &str, session_cookie: &str) -> Request<Body> {
    Request::builder()
        .uri(path)
        .header(header::COOKIE, format!("accredit_session={session_cookie}"))
        .body(Body::empty())
        .unwrap()
}

async fn signing_in_through_the_login_page_opens_a_session_with_safe_cookies(t: TestApp) {
    let w = t.world().await;
    let csrf = login_form_csrf(&t).await;
    let response = post_login(&t, Some(&csrf), &csrf, &w.acme_admin.email, PASSWORD).await;
    assert_eq!(response.status, 303, "{}", response.body);
    assert_eq!(response.header("location"), Some("/"));
    let set = set_cookie_value(&response, "accredit_session").expect("session cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"),
        "{set}"
    );
    assert!(
        !set.contains("Secure"),
        "plain HTTP gets no Secure flag: {set}"
    );
    assert!(set.contains("Max-Age=43200"), "12 hours: {set}");

    let home = t.send(page_get("/", &cookie_value(set))).await;
    assert_eq!(home.status, 200);
    assert!(
        home.body
            .contains(&format!("Welcome, {}", w.acme_admin.display_name)),
        "{}",
        home.body
    );
    assert!(home.body.contains("Partner admin"));

    // The session id is stored hashed, never as sent.
    let stored: Vec<(String,)> = sqlx::query_as("SELECT token_hash FROM sessions")
        .fetch_all(t.app.db.reader())
        .await
        .unwrap();
    assert!(
        stored
            .iter()
            .all(|(hash,)| hash.len() == 64 && *hash != cookie_value(set))
    );
}

async fn a_login_form_without_its_csrf_token_is_refused(t: TestApp) {
    let w = t.world().await;
    let csrf = login_form_csrf(&t).await;
    let no_cookie = post_login(&t, None, &csrf, &w.admin.email, PASSWORD).await;
    assert_eq!(no_cookie.status, 403);
    assert!(no_cookie.body.contains("CSRF"), "{}", no_cookie.body);
    let wrong = post_login(
        &t,
        Some(&csrf),
        "forged-token-forged-token-forged-token",
        &w.admin.email,
        PASSWORD,
    )
    .await;
    assert_eq!(wrong.status, 403);
    assert!(set_cookie_value(&wrong, "accredit_session").is_none());
}

async fn wrong_passwords_are_rejected_and_then_throttled(t: TestApp) {
    let w = t.world().await;
    let csrf = login_form_csrf(&t).await;
    for attempt in 1..=5 {
        let response = post_login(&t, Some(&csrf), &csrf, &w.admin.email, "not the password").await;
        assert_eq!(response.status, 401, "attempt {attempt}");
        assert!(
            response.body.contains("email address or password is wrong"),
            "{}",
            response.body
        );
        assert!(set_cookie_value(&response, "accredit_session").is_none());
    }
    // Locked now, even with the right password, and the page says for how long.
    let locked = post_login(&t, Some(&csrf), &csrf, &w.admin.email, PASSWORD).await;
    assert_eq!(locked.status, 429);
    assert_eq!(locked.header("retry-after"), Some("900"));
    assert!(
        locked.body.contains("try again in 900 seconds"),
        "{}",
        locked.body
    );
    // Other accounts are unaffected.
    assert_eq!(
        post_login(&t, Some(&csrf), &csrf, &w.pam.email, PASSWORD)
            .await
            .status,
        303
    );

    t.clock.advance(jiff::SignedDuration::from_mins(15));
    assert_eq!(
        post_login(&t, Some(&csrf), &csrf, &w.admin.email, PASSWORD)
            .await
            .status,
        303
    );

    // Unknown addresses get the same answer as wrong passwords.
    let unknown = post_login(&t, Some(&csrf), &csrf, "nobody@example.com", PASSWORD).await;
    assert_eq!(unknown.status, 401);
    assert!(unknown.body.contains("email address or password is wrong"));

    let events = t
        .app
        .list_audit_events(&accredit_app::Ctx::system(), 0, 1000)
        .await
        .unwrap();
    let failed = events.iter().filter(|e| e.action == "login.failed").count();
    assert_eq!(failed, 6);
}

async fn session_cookie_writes_to_the_api_need_the_csrf_header(t: TestApp) {
    let w = t.world().await;
    let Auth::Session(session) = t.login(&w.admin.email).await else {
        unreachable!()
    };
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/tokens")
        .header(
            header::COOKIE,
            format!("accredit_session={}", session.cookie),
        )
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"name": "x", "scopes": ["people:read"]}).to_string(),
        ))
        .unwrap();
    let refused = t.send(request).await;
    assert_eq!(refused.status, 403);
    assert!(
        refused.json()["detail"]
            .as_str()
            .unwrap()
            .contains("x-csrf-token")
    );
    let accepted = t
        .post(
            "/api/v1/tokens",
            &Auth::Session(session),
            json!({"name": "x", "scopes": ["people:read"]}),
        )
        .await;
    assert_eq!(accepted.status, 201, "{}", accepted.body);
}

async fn signing_out_ends_the_session(t: TestApp) {
    let w = t.world().await;
    let Auth::Session(session) = t.login(&w.acme_learner.email).await else {
        unreachable!()
    };
    let request =
        crate::support::session_form("/logout", &session, format!("csrf={}", session.csrf));
    let response = t.send(request).await;
    assert_eq!(response.status, 303);
    assert_eq!(response.header("location"), Some("/login"));
    assert!(
        set_cookie_value(&response, "accredit_session")
            .unwrap()
            .contains("Max-Age=0")
    );
    let after = t.get("/api/v1/me", &Auth::Session(session)).await;
    assert_eq!(after.status, 401);
}

async fn sessions_expire(t: TestApp) {
    let w = t.world().await;
    let session = t.login(&w.admin.email).await;
    assert_eq!(t.get("/api/v1/me", &session).await.status, 200);
    t.clock.advance(jiff::SignedDuration::from_hours(12));
    let expired = t.get("/api/v1/me", &session).await;
    assert_eq!(expired.status, 401);
    assert!(
        expired.json()["detail"]
            .as_str()
            .unwrap()
            .contains("sign in again")
    );
}

async fn cookies_are_secure_when_served_over_tls(t: TestApp) {
    let w = t.world().await;
    let tls_router = accredit_web::router(accredit_web::AppState::new(t.app.clone(), true));
    let tls = TestApp {
        router: tls_router,
        ..t
    };
    let csrf = login_form_csrf(&tls).await;
    let response = post_login(&tls, Some(&csrf), &csrf, &w.admin.email, PASSWORD).await;
    assert_eq!(response.status, 303);
    assert!(
        set_cookie_value(&response, "accredit_session")
            .unwrap()
            .ends_with("; Secure")
    );
}

async fn api_tokens_are_shown_once_stored_hashed_and_stop_working_when_revoked(t: TestApp) {
    let w = t.world().await;
    let admin = t.login(&w.admin.email).await;
    let created = t
        .post(
            "/api/v1/tokens",
            &admin,
            json!({"name": "CRM sync", "scopes": ["people:read"]}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let body = created.json();
    let secret = body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("acr_"));
    let id = body["token"]["id"].as_str().unwrap().to_owned();

    let listed = t.get("/api/v1/tokens", &admin).await;
    assert!(
        !listed.body.contains(&secret),
        "the list never shows secrets"
    );
    let stored: Vec<(String,)> = sqlx::query_as("SELECT secret_hash FROM api_tokens")
        .fetch_all(t.app.db.reader())
        .await
        .unwrap();
    assert!(stored.iter().all(|(h,)| !h.contains(&secret[4..])));

    let bearer = Auth::Bearer(secret.clone());
    let me = t.get("/api/v1/me", &bearer).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["scopes"], json!(["people:read"]));
    let listed = t.get("/api/v1/tokens", &admin).await.json();
    assert_eq!(
        listed[0]["last_used_at"],
        json!("2026-03-02T09:00:00.000000Z")
    );
    // Scopes are enforced.
    assert_eq!(t.get("/api/v1/audit/events", &bearer).await.status, 403);

    let revoked = t
        .request(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(revoked.status, 200);
    assert!(revoked.json()["revoked_at"].is_string());
    assert_eq!(t.get("/api/v1/me", &bearer).await.status, 401);
    let again = t
        .request(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(again.status, 409);

    let bad_scope = t
        .post(
            "/api/v1/tokens",
            &admin,
            json!({"name": "x", "scopes": ["people:fly"]}),
        )
        .await;
    assert_eq!(bad_scope.status, 422);
    assert_eq!(bad_scope.json()["errors"][0]["field"], "scopes");
    assert_eq!(
        t.get("/api/v1/me", &Auth::Bearer("acr_made_up".into()))
            .await
            .status,
        401
    );
}

async fn the_token_page_creates_and_revokes_tokens(t: TestApp) {
    let w = t.world().await;
    let Auth::Session(session) = t.login(&w.admin.email).await else {
        unreachable!()
    };
    let form = |body: String, path: &str| crate::support::session_form(path, &session, body);
    let created = t
        .send(form(
            format!(
                "csrf={}&name=Order+system&scope=people%3Aread&scope=partners%3Aread",
                session.csrf
            ),
            "/admin/tokens",
        ))
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let secret_start = created.body.find("acr_").expect("secret shown");
    let secret: String = created.body[secret_start..]
        .chars()
        .take_while(|c| *c != '<')
        .collect();
    assert!(t.app.token_principal(&secret).await.is_ok());

    let reload = t.send(page_get("/admin/tokens", &session.cookie)).await;
    assert!(reload.body.contains("Order system"));
    assert!(!reload.body.contains(&secret), "shown once only");

    let forged = t
        .send(form(
            "csrf=wrong&name=x&scope=people%3Aread".into(),
            "/admin/tokens",
        ))
        .await;
    assert_eq!(forged.status, 403);

    let no_scope = t
        .send(form(
            format!("csrf={}&name=x", session.csrf),
            "/admin/tokens",
        ))
        .await;
    assert_eq!(no_scope.status, 422);
    assert!(no_scope.body.contains("at least one scope"));

    let token = t
        .app
        .list_api_tokens(&accredit_app::Ctx::system())
        .await
        .unwrap();
    let id = &token[0].id;
    let revoke = t
        .send(form(
            format!("csrf={}", session.csrf),
            &format!("/admin/tokens/{id}/revoke"),
        ))
        .await;
    assert_eq!(revoke.status, 303);
    assert!(t.app.token_principal(&secret).await.is_err());
}
