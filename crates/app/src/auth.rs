//! Signing in: passwords and sessions for people, bearer tokens for integrations.

use crate::clock::{format_instant, parse_instant};
use crate::error::{AppError, AppResult};
use crate::secrets::{random_secret, sha256_hex, verify_password};
use crate::{App, Ctx, audit};
use accredit_domain::{Action, Email, Principal, Scope};
use anyhow::Context as _;
use serde::Serialize;
use sqlx::Row as _;

/// Prefix of API tokens, so a leaked one is recognisable (and findable by secret scanners).
pub const TOKEN_PREFIX: &str = "acr_";

/// A successful sign-in: the cookie value is shown to the browser once and stored hashed.
#[derive(Debug, Clone)]
pub struct LoginSession {
    pub cookie_value: String,
    pub csrf_token: String,
    pub person_id: String,
    pub expires_at: jiff::Timestamp,
}

/// A live session, as found from its cookie.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub principal: Principal,
    pub person_id: String,
    pub display_name: String,
    pub email: String,
    pub csrf_token: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    /// The first characters of the secret, to tell tokens apart.
    pub hint: String,
    pub scopes: Vec<Scope>,
    pub created_by: Option<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A new token: the secret exists only in this value.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IssuedToken {
    pub token: ApiToken,
    pub secret: String,
}

/// Tokens checked recently, so an integration's calls do not each cost a database read. A
/// revocation clears it at once on the revoking node and, through PostgreSQL NOTIFY, on the
/// others; at worst an entry lives [`TOKEN_CACHE_TTL`].
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: std::sync::RwLock<std::collections::HashMap<String, (Principal, jiff::Timestamp)>>,
}

pub const TOKEN_CACHE_TTL: jiff::SignedDuration = jiff::SignedDuration::from_secs(30);

impl TokenCache {
    fn get(&self, secret_hash: &str, now: jiff::Timestamp) -> Option<Principal> {
        let entries = self.entries.read().expect("token cache lock");
        entries
            .get(secret_hash)
            .filter(|(_, checked)| *checked + TOKEN_CACHE_TTL > now && *checked <= now)
            .map(|(principal, _)| principal.clone())
    }

    fn put(&self, secret_hash: String, principal: Principal, now: jiff::Timestamp) {
        let mut entries = self.entries.write().expect("token cache lock");
        if entries.len() > 10_000 {
            entries.clear();
        }
        entries.insert(secret_hash, (principal, now));
    }

    pub fn clear(&self) {
        self.entries.write().expect("token cache lock").clear();
    }
}

/// Generic on purpose: it does not tell whether the address has an account.
const BAD_CREDENTIALS: &str = "the email address or password is wrong";

/// Token use is recorded at most this often, so reads do not turn into writes.
const LAST_USED_RESOLUTION: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

fn token_from_row(row: &sqlx::any::AnyRow) -> anyhow::Result<ApiToken> {
    let scopes: String = row.try_get("scopes")?;
    Ok(ApiToken {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        hint: row.try_get("hint")?,
        scopes: Scope::parse_list(&scopes)?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

macro_rules! select_tokens {
    () => {
        "SELECT id, name, hint, scopes, created_by, created_at, last_used_at, revoked_at FROM api_tokens"
    };
}

async fn fetch_token(conn: &mut sqlx::AnyConnection, id: &str) -> AppResult<Option<ApiToken>> {
    let row = sqlx::query(concat!(select_tokens!(), " WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.as_ref().map(token_from_row).transpose()?)
}

impl App {
    /// Checks a password and opens a session. Repeated failures for one address are throttled.
    pub async fn login(
        &self,
        request_id: Option<String>,
        email: &str,
        password: &str,
    ) -> AppResult<LoginSession> {
        let login = email.trim().to_lowercase();
        let now = self.now();
        let throttle = self.config.login_throttle;
        let failures =
            sqlx::query("SELECT failed_at FROM login_failures WHERE login = $1 AND failed_at > $2")
                .bind(&login)
                .bind(format_instant(throttle.window_start(now)))
                .fetch_all(self.db.reader())
                .await?;
        let failures = failures
            .iter()
            .map(|r| parse_instant(&r.try_get::<String, _>("failed_at")?))
            .collect::<anyhow::Result<Vec<_>>>()?;
        if let Err(throttled) = throttle.check(&failures, now) {
            return Err(AppError::Throttled {
                retry_after_secs: throttled.retry_after_secs(),
            });
        }

        let account = match Email::parse(&login) {
            Ok(email) => sqlx::query(
                "SELECT id, password_hash FROM people WHERE email = $1 AND deactivated_at IS NULL",
            )
            .bind(email.as_str())
            .fetch_optional(self.db.reader())
            .await?,
            Err(_) => None,
        };
        let (person_id, stored_hash) = match &account {
            Some(row) => (
                Some(row.try_get::<String, _>("id").context("id")?),
                row.try_get::<Option<String>, _>("password_hash")
                    .context("password_hash")?,
            ),
            None => (None, None),
        };
        let password_ok = verify_password(password.to_owned(), stored_hash).await?;

        let mut tx = self.db.begin().await?;
        let (Some(person_id), true) = (person_id, password_ok) else {
            sqlx::query("INSERT INTO login_failures (login, failed_at) VALUES ($1, $2)")
                .bind(&login)
                .bind(format_instant(now))
                .execute(&mut *tx)
                .await?;
            let ctx = Ctx::new(Principal::System, request_id);
            audit::record(
                &mut tx,
                &ctx,
                now,
                "login.failed",
                &format!("login:{login}"),
                serde_json::json!({}),
            )
            .await?;
            tx.commit().await?;
            return Err(AppError::Unauthenticated(BAD_CREDENTIALS.into()));
        };
        let cookie_value = random_secret();
        let csrf_token = random_secret();
        let expires_at = now + self.config.session_ttl;
        sqlx::query(
            "INSERT INTO sessions (token_hash, person_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(sha256_hex(&cookie_value))
        .bind(&person_id)
        .bind(&csrf_token)
        .bind(format_instant(now))
        .bind(format_instant(expires_at))
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM login_failures WHERE login = $1")
            .bind(&login)
            .execute(&mut *tx)
            .await?;
        let actor = self.load_actor(&mut tx, &person_id).await?;
        let ctx = Ctx::new(Principal::Person(actor), request_id);
        audit::record(
            &mut tx,
            &ctx,
            now,
            "login.succeeded",
            &format!("person:{person_id}"),
            serde_json::json!({ "session_expires_at": format_instant(expires_at) }),
        )
        .await?;
        tx.commit().await?;
        Ok(LoginSession {
            cookie_value,
            csrf_token,
            person_id,
            expires_at,
        })
    }

    /// Finds the live session behind a cookie value.
    pub async fn session(&self, cookie_value: &str) -> AppResult<SessionInfo> {
        let mut conn = self.db.reader().acquire().await?;
        let row = sqlx::query(
            "SELECT s.person_id, s.csrf_token, p.display_name, p.email FROM sessions s
             JOIN people p ON p.id = s.person_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND p.deactivated_at IS NULL",
        )
        .bind(sha256_hex(cookie_value))
        .bind(format_instant(self.now()))
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| AppError::Unauthenticated("your session has ended; sign in again".into()))?;
        let person_id: String = row.try_get("person_id").context("person_id")?;
        let actor = self.load_actor(&mut conn, &person_id).await?;
        Ok(SessionInfo {
            principal: Principal::Person(actor),
            csrf_token: row.try_get("csrf_token").context("csrf_token")?,
            display_name: row.try_get("display_name").context("display_name")?,
            email: row.try_get("email").context("email")?,
            person_id,
        })
    }

    /// Ends a session; unknown cookies are ignored.
    pub async fn logout(&self, cookie_value: &str, request_id: Option<String>) -> AppResult<()> {
        let Ok(session) = self.session(cookie_value).await else {
            return Ok(());
        };
        let now = self.now();
        let mut tx = self.db.begin().await?;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(sha256_hex(cookie_value))
            .execute(&mut *tx)
            .await?;
        let ctx = Ctx::new(session.principal, request_id);
        audit::record(
            &mut tx,
            &ctx,
            now,
            "logout",
            &format!("person:{}", session.person_id),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Finds the integration behind a bearer token.
    pub async fn token_principal(&self, bearer: &str) -> AppResult<Principal> {
        let unknown = || AppError::Unauthenticated("the API token is unknown or revoked".into());
        if !bearer.starts_with(TOKEN_PREFIX) {
            return Err(unknown());
        }
        let secret_hash = sha256_hex(bearer);
        let now = self.now();
        if let Some(principal) = self.tokens.get(&secret_hash, now) {
            return Ok(principal);
        }
        let row = sqlx::query(concat!(
            select_tokens!(),
            " WHERE secret_hash = $1 AND revoked_at IS NULL"
        ))
        .bind(&secret_hash)
        .fetch_optional(self.db.reader())
        .await?
        .ok_or_else(unknown)?;
        let token = token_from_row(&row)?;
        let stale = match &token.last_used_at {
            Some(at) => parse_instant(at)? + LAST_USED_RESOLUTION <= now,
            None => true,
        };
        if stale {
            // Bookkeeping, not a change of state anyone decided: not audited.
            let mut tx = self.db.begin().await?;
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(format_instant(now))
                .bind(&token.id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        let principal = Principal::Integration {
            token_id: token.id,
            scopes: token.scopes,
        };
        self.tokens.put(secret_hash, principal.clone(), now);
        Ok(principal)
    }

    pub async fn create_api_token(
        &self,
        ctx: &Ctx,
        name: &str,
        scopes: &str,
    ) -> AppResult<IssuedToken> {
        ctx.authorize(&Action::ManageApiTokens, "API tokens")?;
        let name = accredit_domain::identity::required_text("name", name, 100);
        let scopes = Scope::parse_list(scopes);
        let (name, scopes) = match (name, scopes) {
            (Ok(n), Ok(s)) => (n, s),
            (n, s) => {
                return Err(AppError::Invalid(
                    [n.err(), s.err()].into_iter().flatten().collect(),
                ));
            }
        };
        let secret = format!("{TOKEN_PREFIX}{}", random_secret());
        let hint: String = secret.chars().take(TOKEN_PREFIX.len() + 6).collect();
        let id = uuid::Uuid::now_v7().to_string();
        let now = self.now();
        let created_by = match &ctx.principal {
            Principal::Person(actor) => Some(actor.person_id.0.clone()),
            _ => None,
        };
        let scope_text = scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO api_tokens (id, name, hint, secret_hash, scopes, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(&name)
        .bind(&hint)
        .bind(sha256_hex(&secret))
        .bind(&scope_text)
        .bind(&created_by)
        .bind(format_instant(now))
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            ctx,
            now,
            "api_token.created",
            &format!("api_token:{id}"),
            serde_json::json!({ "name": name, "scopes": scope_text }),
        )
        .await?;
        let token = fetch_token(&mut tx, &id)
            .await?
            .context("reading the new token")?;
        tx.commit().await?;
        Ok(IssuedToken { token, secret })
    }

    pub async fn list_api_tokens(&self, ctx: &Ctx) -> AppResult<Vec<ApiToken>> {
        ctx.authorize(&Action::ManageApiTokens, "API tokens")?;
        let rows = sqlx::query(concat!(select_tokens!(), " ORDER BY created_at DESC, id"))
            .fetch_all(self.db.reader())
            .await?;
        Ok(rows
            .iter()
            .map(token_from_row)
            .collect::<anyhow::Result<_>>()?)
    }

    pub async fn revoke_api_token(&self, ctx: &Ctx, id: &str) -> AppResult<ApiToken> {
        ctx.authorize(&Action::ManageApiTokens, "API tokens")?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let token = fetch_token(&mut tx, id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("API token `{id}`")))?;
        if token.revoked_at.is_some() {
            return Err(AppError::Conflict(format!(
                "API token `{id}` is already revoked"
            )));
        }
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
            .bind(format_instant(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.notify_tokens_changed(&mut tx).await?;
        audit::record(
            &mut tx,
            ctx,
            now,
            "api_token.revoked",
            &format!("api_token:{id}"),
            serde_json::json!({ "name": token.name }),
        )
        .await?;
        tx.commit().await?;
        self.tokens.clear();
        Ok(ApiToken {
            revoked_at: Some(format_instant(now)),
            ..token
        })
    }
}

/// A fresh random token for forms shown before sign-in.
pub fn new_form_token() -> String {
    random_secret()
}
