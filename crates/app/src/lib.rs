//! Accredit's use cases. Each public method on [`App`] is one use case: it authorizes the caller,
//! loads what it needs, asks the rules in `accredit-domain`, and writes its rows, its audit event
//! and any outgoing messages in one transaction.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod compliance;
pub mod content;
pub mod credentials;
pub mod db;
pub mod delivery;
pub mod demo;
mod demo_history;
pub mod directory;
pub mod entitlements;
pub mod error;
pub mod events;
pub mod evidence;
pub mod exams;
pub mod invitations;
mod issuance;
pub mod lifecycle;
pub mod outbox;
pub mod overview;
pub mod people_import;
pub mod practicals;
pub mod programs;
pub mod progress;
pub mod recert;
pub mod records;
pub mod remediation;
pub mod renewal;
pub mod reports;
pub mod search;
mod secrets;
pub mod signing;
pub mod training;

use accredit_domain::access::authorize;
use accredit_domain::throttle::LoginThrottle;
use accredit_domain::{Action, Principal};
use std::sync::Arc;

pub use clock::{Clock, FixedClock, ShiftedClock, SystemClock};
pub use db::{Backend, Db, DbError};
pub use error::{AppError, AppResult};

/// Tunables of the application layer.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// How long a login session lasts.
    pub session_ttl: jiff::SignedDuration,
    pub login_throttle: LoginThrottle,
    /// Where the portal is reached; credentials link here and the issuer is its did:web.
    pub public_url: String,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            session_ttl: jiff::SignedDuration::from_hours(12),
            login_throttle: LoginThrottle::default(),
            public_url: "http://localhost:8080".into(),
        }
    }
}

/// The application: storage, time and settings, shared by every adapter.
#[derive(Debug, Clone)]
pub struct App {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub config: AppConfig,
    /// Benefit decisions held in memory for the entitlement check.
    pub entitlements: Arc<entitlements::EntitlementIndex>,
    /// API tokens checked recently.
    pub tokens: Arc<auth::TokenCache>,
    /// This node's full-text index of published content.
    pub search: Arc<search::SearchIndex>,
}

impl App {
    pub fn new(db: Db, clock: Arc<dyn Clock>, config: AppConfig) -> Self {
        Self {
            db,
            clock,
            config,
            entitlements: Arc::default(),
            tokens: Arc::default(),
            search: Arc::new(search::SearchIndex::in_memory()),
        }
    }

    /// Uses an index kept on disk instead of the in-memory one.
    pub fn with_search_index(mut self, index: search::SearchIndex) -> Self {
        self.search = Arc::new(index);
        self
    }

    pub fn now(&self) -> jiff::Timestamp {
        self.clock.now()
    }
}

/// Who is calling a use case, and the request it belongs to (for the audit trail).
#[derive(Debug, Clone)]
pub struct Ctx {
    pub principal: Principal,
    pub request_id: Option<String>,
}

impl Ctx {
    pub fn new(principal: Principal, request_id: Option<String>) -> Self {
        Self {
            principal,
            request_id,
        }
    }

    /// The operator at the command line.
    pub fn system() -> Self {
        Self::new(Principal::System, None)
    }

    /// Asks the rules; `what` names the target when the answer is "not found".
    pub fn authorize(&self, action: &Action<'_>, what: &str) -> AppResult<()> {
        authorize(&self.principal, action).map_err(|denied| AppError::from_denied(denied, what))
    }
}
