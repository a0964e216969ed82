//! The test harness: a fresh database per test (a SQLite file, or a new PostgreSQL database when
//! `ACCREDIT_TEST_DATABASE_URL` names a server), the real router called in-process, and a small
//! world of partners and people in every role.

use accredit_app::accounts::{NewPartner, NewPerson, Partner, Person};
use accredit_app::{App, AppConfig, Ctx, Db, FixedClock};
use accredit_domain::Role;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use std::sync::Arc;
use tower::ServiceExt as _;

pub const PASSWORD: &str = "correct horse battery staple";

/// A small program any partner type may join: one module makes a track, one holder makes the
/// partner Certified, and Certified grants deal registration.
pub const TEST_PROGRAM: &str = r#"
[program]
id = "test-program"
name = "Test Program"
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
name = "Certified"
requires = { people_holding = "t1", at_least = 1 }

[[benefits]]
id = "deal-registration"
name = "Deal registration"
subject = "partner"
requires = { tier = "certified" }

[[benefits]]
id = "sandbox"
name = "Sandbox"
subject = "person"
requires = { module = "m1" }
"#;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named `async fn(TestApp)` once per backend, as `<name>::sqlite` and `<name>::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = $crate::support::TestApp::start($crate::support::Backend::Sqlite).await {
                    super::$name(app).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::support::TestApp::start($crate::support::Backend::Postgres).await {
                    super::$name(app).await
                }
            }
        }
    )*};
}

/// A database of its own for one test; dropped (PostgreSQL) or deleted (SQLite) afterwards.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// `None` when the backend is not available and not required (the skip is printed).
    pub async fn create(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                Some(Self {
                    url,

                    _dir: Some(dir),
                    postgres: None,
                })
            }
            Backend::Postgres => {
                let Ok(admin_url) = std::env::var("ACCREDIT_TEST_DATABASE_URL") else {
                    if std::env::var("ACCREDIT_TEST_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                        panic!(
                            "ACCREDIT_TEST_REQUIRE_POSTGRES=1 but ACCREDIT_TEST_DATABASE_URL is not set"
                        );
                    }
                    eprintln!(
                        "SKIPPED on PostgreSQL: set ACCREDIT_TEST_DATABASE_URL to run this test there"
                    );
                    return None;
                };
                let name = format!("accredit_test_{}", uuid::Uuid::new_v4().simple());
                sqlx::any::install_default_drivers();
                let mut conn = connect_admin(&admin_url).await;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let base = admin_url.split('?').next().unwrap_or(&admin_url);
                let base = &base[..base.rfind('/').expect("database URL has a path")];
                Some(Self {
                    url: format!("{base}/{name}"),

                    _dir: None,
                    postgres: Some((admin_url, name)),
                })
            }
        }
    }
}

async fn connect_admin(url: &str) -> sqlx::AnyConnection {
    use sqlx::Connection as _;
    sqlx::AnyConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the PostgreSQL test server at {url}: {e}"))
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.postgres.take() {
            // Drop runs outside async code; a short-lived runtime of its own does the cleanup.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async {
                    let mut conn = connect_admin(&admin_url).await;
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                });
            })
            .join();
        }
    }
}

/// A signed-in browser session.
#[derive(Debug, Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

/// A form post from a signed-in browser: the session cookie and a urlencoded body.
pub fn session_form(path: &str, session: &Session, body: impl Into<String>) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(
            header::COOKIE,
            format!("accredit_session={}", session.cookie),
        )
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.into()))
        .unwrap()
}

/// How a request authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    Anonymous,
    Session(Session),
    Bearer(String),
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub struct TestApp {
    pub app: App,
    pub router: Router,
    pub clock: FixedClock,
    pub db: TestDb,
}

impl TestApp {
    pub async fn start(backend: Backend) -> Option<Self> {
        let db = TestDb::create(backend).await?;
        let connected = Db::connect_and_migrate(&db.url)
            .await
            .expect("connect and migrate");
        let clock = FixedClock::at("2026-03-02T09:00:00Z".parse().unwrap());
        let app = App::new(connected, Arc::new(clock.clone()), AppConfig::default());
        let router = accredit_web::router(accredit_web::AppState::new(app.clone(), false));
        Some(Self {
            app,
            router,
            clock,
            db,
        })
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        auth: &Auth,
        body: Option<serde_json::Value>,
    ) -> TestResponse {
        let mut builder = Request::builder().method(method.clone()).uri(path);
        match auth {
            Auth::Anonymous => {}
            Auth::Session(session) => {
                builder = builder.header(
                    header::COOKIE,
                    format!("accredit_session={}", session.cookie),
                );
                if method != Method::GET {
                    builder = builder.header("x-csrf-token", &session.csrf);
                }
            }
            Auth::Bearer(token) => {
                builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
            }
        }
        let body = match body {
            // A bare string body is CSV, the one non-JSON body the API takes.
            Some(serde_json::Value::String(csv)) => {
                builder = builder.header(header::CONTENT_TYPE, "text/csv");
                Body::from(csv)
            }
            Some(json) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.send(builder.body(body).unwrap()).await
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        TestResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str, auth: &Auth) -> TestResponse {
        self.request(Method::GET, path, auth, None).await
    }

    pub async fn post(&self, path: &str, auth: &Auth, body: serde_json::Value) -> TestResponse {
        self.request(Method::POST, path, auth, Some(body)).await
    }

    pub async fn partner(&self, name: &str, manager: Option<&Person>) -> Partner {
        self.app
            .create_partner(
                &Ctx::system(),
                NewPartner {
                    name: name.into(),
                    partner_type: "reseller".into(),
                    region: "EMEA".into(),
                    account_manager_id: manager.map(|m| m.id.clone()),
                },
            )
            .await
            .expect("create partner")
    }

    pub async fn person(&self, email: &str, role: Role, partner: Option<&Partner>) -> Person {
        self.app
            .create_person(
                &Ctx::system(),
                NewPerson {
                    email: email.into(),
                    display_name: format!("{role} {email}"),
                    roles: vec![role],
                    partner_id: partner.map(|p| p.id.clone()),
                    job_role: None,
                    password: Some(PASSWORD.into()),
                },
            )
            .await
            .expect("create person")
    }

    /// Moves the test clock to 09:00 UTC on `day` (forwards or back).
    pub fn set_day(&self, day: jiff::civil::Date) {
        let target = day
            .at(9, 0, 0, 0)
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .expect("a day at 09:00 UTC exists")
            .timestamp();
        self.clock.advance(target.duration_since(self.app.now()));
    }

    /// A learner of `partner` with a job role, so they can earn that role's tracks.
    pub async fn staff(&self, partner: &str, email: &str, name: &str, job_role: &str) -> Person {
        self.app
            .create_person(
                &Ctx::system(),
                NewPerson {
                    email: email.into(),
                    display_name: name.into(),
                    roles: vec![Role::Learner],
                    partner_id: Some(partner.into()),
                    job_role: Some(job_role.into()),
                    password: Some(PASSWORD.into()),
                },
            )
            .await
            .expect("create staff")
    }

    pub async fn login(&self, email: &str) -> Auth {
        let session = self.app.login(None, email, PASSWORD).await.expect("login");
        Auth::Session(Session {
            cookie: session.cookie_value,
            csrf: session.csrf_token,
        })
    }

    pub async fn token(&self, scopes: &str) -> Auth {
        let issued = self
            .app
            .create_api_token(&Ctx::system(), "test", scopes)
            .await
            .expect("token");
        Auth::Bearer(issued.secret)
    }

    /// Two partner firms with an admin and a learner each, and vendor staff in every role; the
    /// Partner Account Manager manages Acme only.
    pub async fn world(&self) -> World {
        let pam = self
            .person("pam@vendor.example", Role::PartnerAccountManager, None)
            .await;
        let acme = self.partner("Acme", Some(&pam)).await;
        let globex = self.partner("Globex", None).await;
        World {
            admin: self
                .person("admin@vendor.example", Role::ProgramAdmin, None)
                .await,
            reviewer: self
                .person("reviewer@vendor.example", Role::Reviewer, None)
                .await,
            proctor: self
                .person("proctor@vendor.example", Role::Proctor, None)
                .await,
            acme_admin: self
                .person("admin@acme.example", Role::PartnerAdmin, Some(&acme))
                .await,
            acme_learner: self
                .person("learner@acme.example", Role::Learner, Some(&acme))
                .await,
            globex_admin: self
                .person("admin@globex.example", Role::PartnerAdmin, Some(&globex))
                .await,
            globex_learner: self
                .person("learner@globex.example", Role::Learner, Some(&globex))
                .await,
            pam,
            acme,
            globex,
        }
    }
}

pub struct World {
    pub admin: Person,
    pub pam: Person,
    pub reviewer: Person,
    pub proctor: Person,
    pub acme: Partner,
    pub globex: Partner,
    pub acme_admin: Person,
    pub acme_learner: Person,
    pub globex_admin: Person,
    pub globex_learner: Person,
}
