//! The database: one query path for SQLite and PostgreSQL through sqlx's `Any` driver, plus the
//! few places where the two differ (connection set-up, migrations' locking).

use anyhow::Context as _;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor as _, Row as _};
use std::str::FromStr as _;
use std::time::Duration;

/// Which database the URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, DbError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(DbError::UnsupportedUrl(redact_url(url)))
        }
    }
}

/// Problems with the database itself, worded for the person running Accredit.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database URL `{0}` is not supported; use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error("cannot reach the database at {url}: {cause}")]
    Unreachable { url: String, cause: String },
    #[error(
        "the database at {url} has schema version {database}, but this accredit binary only knows up to version {binary}; run a newer accredit (refusing to touch a database written by a newer version)"
    )]
    NewerThanBinary {
        url: String,
        database: i64,
        binary: i64,
    },
    #[error(
        "migration {version} ({name}) applied to this database differs from the one in this binary; the database was migrated by a different build"
    )]
    MigrationChanged { version: i64, name: String },
    #[error(
        "the database schema is at version {database} but {binary} is required; run `accredit migrate`"
    )]
    Outdated { database: i64, binary: i64 },
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Hides a password in a URL before it is shown.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Connection pools. SQLite allows one writer at a time, so writes go through a pool of one
/// connection there; on PostgreSQL both handles are the same pool.
#[derive(Debug, Clone)]
pub struct Db {
    pub backend: Backend,
    read: AnyPool,
    write: AnyPool,
    url: String,
}

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

macro_rules! migrations {
    ($dir:literal: $($version:literal $name:literal),* $(,)?) => {
        &[$(Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../migrations/", $dir, "/", $name, ".sql")),
        }),*]
    };
}

const SQLITE_MIGRATIONS: &[Migration] = migrations!("sqlite": 1 "0001_foundation", 2 "0002_programs", 3 "0003_content", 4 "0004_exams", 5 "0005_credentials", 6 "0006_practicals", 7 "0007_signing_keys", 8 "0008_submission_files", 9 "0009_lifecycle", 10 "0010_outcomes", 11 "0011_invitations", 12 "0012_indexes");
const POSTGRES_MIGRATIONS: &[Migration] = migrations!("postgres": 1 "0001_foundation", 2 "0002_programs", 3 "0003_content", 4 "0004_exams", 5 "0005_credentials", 6 "0006_practicals", 7 "0007_signing_keys", 8 "0008_submission_files", 9 "0009_lifecycle", 10 "0010_outcomes", 11 "0011_invitations", 12 "0012_indexes");

impl Db {
    /// Connects without touching the schema.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let shown = redact_url(url);
        let options = AnyConnectOptions::from_str(url).map_err(|e| DbError::Unreachable {
            url: shown.clone(),
            cause: e.to_string(),
        })?;
        let pool = |max: u32| {
            AnyPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(Duration::from_secs(10))
                .after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        if backend == Backend::Sqlite {
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                                 PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;",
                            )
                            .await?;
                        }
                        Ok(())
                    })
                })
        };
        let unreachable = |e: sqlx::Error| DbError::Unreachable {
            url: shown.clone(),
            cause: e.to_string(),
        };
        let (read, write) = match backend {
            Backend::Sqlite => {
                let write = pool(1)
                    .connect_with(options.clone())
                    .await
                    .map_err(unreachable)?;
                let read = pool(8).connect_with(options).await.map_err(unreachable)?;
                (read, write)
            }
            Backend::Postgres => {
                let pool = pool(16).connect_with(options).await.map_err(unreachable)?;
                (pool.clone(), pool)
            }
        };
        Ok(Self {
            backend,
            read,
            write,
            url: shown,
        })
    }

    /// Connects, applies pending migrations and refuses a database newer than this binary.
    pub async fn connect_and_migrate(url: &str) -> Result<Self, DbError> {
        let db = Self::connect(url).await?;
        db.migrate().await?;
        Ok(db)
    }

    /// Pool for queries that only read.
    pub fn reader(&self) -> &AnyPool {
        &self.read
    }

    /// Pool for single statements that write outside a use case's transaction.
    pub fn writer(&self) -> &AnyPool {
        &self.write
    }

    /// Starts the transaction every state-changing use case runs in.
    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        self.write.begin().await
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }

    fn migrations(&self) -> &'static [Migration] {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        }
    }

    /// The newest schema version this binary knows.
    pub fn binary_schema_version(&self) -> i64 {
        self.migrations().last().map_or(0, |m| m.version)
    }

    /// The schema version recorded in the database (0 for an empty database).
    pub async fn schema_version(&self) -> Result<i64, DbError> {
        let exists = self.migrations_table_exists(&self.read).await?;
        if !exists {
            return Ok(0);
        }
        let row = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
            .fetch_one(&self.read)
            .await
            .context("reading the schema version")?;
        Ok(row
            .try_get::<i64, _>("v")
            .context("reading the schema version")?)
    }

    async fn migrations_table_exists(&self, pool: &AnyPool) -> Result<bool, DbError> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
            }
            Backend::Postgres => {
                "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'"
            }
        };
        let row = sqlx::query(sql)
            .fetch_one(pool)
            .await
            .context("looking for the schema_migrations table")?;
        Ok(row.try_get::<i64, _>("n").context("counting tables")? > 0)
    }

    /// Fails unless the schema is exactly the one this binary expects.
    pub async fn check_schema_current(&self) -> Result<(), DbError> {
        let database = self.schema_version().await?;
        let binary = self.binary_schema_version();
        match database.cmp(&binary) {
            std::cmp::Ordering::Equal => Ok(()),
            std::cmp::Ordering::Greater => Err(DbError::NewerThanBinary {
                url: self.url.clone(),
                database,
                binary,
            }),
            std::cmp::Ordering::Less => Err(DbError::Outdated { database, binary }),
        }
    }

    /// Applies every migration the database lacks, all in one transaction. Returns the
    /// versions applied.
    pub async fn migrate(&self) -> Result<Vec<i64>, DbError> {
        let mut conn = self
            .write
            .acquire()
            .await
            .context("connecting to migrate")?;
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version BIGINT PRIMARY KEY,
                name TEXT NOT NULL,
                checksum TEXT NOT NULL,
                applied_at TEXT NOT NULL
            )",
        )
        .await
        .context("creating schema_migrations")?;
        drop(conn);

        let mut applied_now = Vec::new();
        let known = self.migrations();
        let mut tx = self.begin().await.context("starting the migration")?;
        if self.backend == Backend::Postgres {
            // Several nodes may start at once; one migrates, the others wait and then see it done.
            tx.execute("SELECT pg_advisory_xact_lock(7262352)")
                .await
                .context("locking for migration")?;
        }
        let rows =
            sqlx::query("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
                .fetch_all(&mut *tx)
                .await
                .context("reading applied migrations")?;
        let binary = self.binary_schema_version();
        let mut applied = Vec::new();
        for row in &rows {
            let version: i64 = row.try_get("version").context("reading version")?;
            let checksum: String = row.try_get("checksum").context("reading checksum")?;
            let name: String = row.try_get("name").context("reading name")?;
            if version > binary {
                return Err(DbError::NewerThanBinary {
                    url: self.url.clone(),
                    database: version,
                    binary,
                });
            }
            if let Some(m) = known.iter().find(|m| m.version == version)
                && checksum != checksum_of(m.sql)
            {
                return Err(DbError::MigrationChanged { version, name });
            }
            applied.push(version);
        }
        for migration in known.iter().filter(|m| !applied.contains(&m.version)) {
            sqlx::raw_sql(migration.sql)
                .execute(&mut *tx)
                .await
                .with_context(|| format!("applying migration {}", migration.name))?;
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(migration.version)
            .bind(migration.name)
            .bind(checksum_of(migration.sql))
            .bind(crate::clock::format_instant(jiff::Timestamp::now()))
            .execute(&mut *tx)
            .await
            .context("recording the migration")?;
            applied_now.push(migration.version);
        }
        tx.commit().await.context("committing the migration")?;
        Ok(applied_now)
    }

    /// Whether the database answers at all.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.read).await.is_ok()
    }
}

fn checksum_of(sql: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(sql.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_hidden() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db.example/accredit"),
            "postgres://app:***@db.example/accredit"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
        assert_eq!(redact_url("sqlite://data/a.db"), "sqlite://data/a.db");
    }

    #[test]
    fn the_url_scheme_selects_the_backend() {
        assert_eq!(Backend::from_url("sqlite://x.db").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::from_url("postgresql://h/db").unwrap(),
            Backend::Postgres
        );
        assert!(Backend::from_url("mysql://h/db").is_err());
    }
}
