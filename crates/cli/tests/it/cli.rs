//! The `accredit` binary as an operator meets it: settings, exit codes and messages.

use crate::support::{Backend, TestDb};
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs the binary in `dir` with no inherited Accredit settings.
pub fn accredit(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_accredit"));
    command.current_dir(dir).args(args).stdin(Stdio::null());
    for (key, _) in std::env::vars() {
        if key.starts_with("ACCREDIT_") {
            command.env_remove(key);
        }
    }
    command.envs(env.iter().copied());
    command.output().expect("run accredit")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn workdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

#[test]
fn a_malformed_config_file_is_reported_with_its_line_and_exit_code_2() {
    let dir = workdir();
    std::fs::write(
        dir.path().join("accredit.toml"),
        "bind = \"127.0.0.1:9000\"\ndata_dir = [oops\n",
    )
    .unwrap();
    let output = accredit(dir.path(), &["migrate"], &[]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("accredit.toml is invalid"), "{message}");
    assert!(message.contains("line 2"), "{message}");
}

#[test]
fn an_unknown_setting_is_an_error_naming_it() {
    let dir = workdir();
    std::fs::write(
        dir.path().join("custom.toml"),
        "bind = \"127.0.0.1:9000\"\nlisten_port = 9000\n",
    )
    .unwrap();
    let output = accredit(dir.path(), &["--config", "custom.toml", "migrate"], &[]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("unknown field `listen_port`"), "{message}");
    assert!(message.contains("line 2"), "{message}");

    let output = accredit(
        dir.path(),
        &["migrate"],
        &[("ACCREDIT_DATABSE_URL", "sqlite://x.db")],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("unknown environment variable ACCREDIT_DATABSE_URL"),
        "{}",
        stderr(&output)
    );

    let output = accredit(dir.path(), &["migrate", "--verbose"], &[]);
    assert_eq!(output.status.code(), Some(2), "clap refuses unknown flags");
}

#[test]
fn a_missing_config_file_and_bad_values_are_reported() {
    let dir = workdir();
    let output = accredit(dir.path(), &["--config", "absent.toml", "migrate"], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cannot read configuration file absent.toml"),
        "{}",
        stderr(&output)
    );

    let output = accredit(dir.path(), &["serve", "--bind", "localhost"], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("setting `bind`"),
        "{}",
        stderr(&output)
    );

    let output = accredit(
        dir.path(),
        &["migrate", "--database-url", "mysql://db/x"],
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not supported"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn settings_layer_file_then_environment_then_flags() {
    let dir = workdir();
    std::fs::write(
        dir.path().join("accredit.toml"),
        "data_dir = \"from-file\"\n",
    )
    .unwrap();
    assert!(accredit(dir.path(), &["migrate"], &[]).status.success());
    assert!(dir.path().join("from-file/accredit.db").exists());

    assert!(
        accredit(
            dir.path(),
            &["migrate"],
            &[("ACCREDIT_DATA_DIR", "from-env")]
        )
        .status
        .success()
    );
    assert!(dir.path().join("from-env/accredit.db").exists());

    let output = accredit(
        dir.path(),
        &["migrate", "--data-dir", "from-flag"],
        &[("ACCREDIT_DATA_DIR", "from-env")],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(dir.path().join("from-flag/accredit.db").exists());
    assert!(
        stdout(&output).contains("applied migration(s) 1"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn an_unreachable_database_is_reported_with_exit_code_3() {
    let dir = workdir();
    let output = accredit(
        dir.path(),
        &[
            "migrate",
            "--database-url",
            "postgres://postgres:secret@127.0.0.1:1/accredit",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(3));
    let message = stderr(&output);
    assert!(
        message
            .contains("cannot reach the database at postgres://postgres:***@127.0.0.1:1/accredit"),
        "{message}"
    );
    assert!(!message.contains("secret"), "passwords are not printed");
}

#[test]
fn serve_help_lists_every_setting() {
    let output = accredit(Path::new("."), &["serve", "--help"], &[]);
    let help = stdout(&output);
    for setting in [
        "--config",
        "--data-dir",
        "--database-url",
        "--log",
        "--bind",
        "--public-url",
        "--session-hours",
        "--demo",
        "ACCREDIT_CONFIG",
        "ACCREDIT_DATA_DIR",
        "ACCREDIT_DATABASE_URL",
        "ACCREDIT_LOG",
        "ACCREDIT_BIND",
        "ACCREDIT_PUBLIC_URL",
        "ACCREDIT_SESSION_HOURS",
    ] {
        assert!(
            help.contains(setting),
            "`serve --help` lacks {setting}:\n{help}"
        );
    }
}

async fn newer_database_is_refused(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let dir = workdir();
    let migrate = accredit(dir.path(), &["migrate", "--database-url", &db.url], &[]);
    assert!(migrate.status.success(), "{}", stderr(&migrate));
    let again = accredit(dir.path(), &["migrate", "--database-url", &db.url], &[]);
    assert!(stdout(&again).contains("up to date"), "{}", stdout(&again));

    let conn = accredit_app::Db::connect(&db.url).await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (999, 'from_the_future', 'x', '2030-01-01T00:00:00Z')")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    conn.close().await;

    for args in [
        vec!["migrate"],
        vec!["audit", "verify"],
        vec!["serve", "--bind", "127.0.0.1:0"],
    ] {
        let mut full = args.clone();
        full.extend(["--database-url", &db.url]);
        let output = accredit(dir.path(), &full, &[]);
        assert_eq!(
            output.status.code(),
            Some(3),
            "{args:?}: {}",
            stderr(&output)
        );
        let message = stderr(&output);
        assert!(
            message.contains("schema version 999") && message.contains("newer"),
            "{args:?}: {message}"
        );
    }
}

#[tokio::test]
async fn a_database_newer_than_the_binary_is_refused_on_sqlite() {
    newer_database_is_refused(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_database_newer_than_the_binary_is_refused_on_postgres() {
    newer_database_is_refused(Backend::Postgres).await;
}

async fn users_and_tokens_from_the_command_line(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let dir = workdir();
    assert!(
        accredit(dir.path(), &["migrate", "--database-url", &db.url], &[])
            .status
            .success()
    );

    let created = accredit(
        dir.path(),
        &[
            "user",
            "create",
            "--database-url",
            &db.url,
            "--email",
            "Ops@Vendor.example",
            "--name",
            "Ops",
            "--role",
            "program_admin",
        ],
        &[],
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let out = stdout(&created);
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("generated password")
        .to_owned();

    let bad_role = accredit(
        dir.path(),
        &[
            "user",
            "create",
            "--database-url",
            &db.url,
            "--email",
            "a@b.example",
            "--name",
            "A",
            "--role",
            "wizard",
        ],
        &[],
    );
    assert_eq!(bad_role.status.code(), Some(2));
    assert!(
        stderr(&bad_role).contains("unknown role `wizard`"),
        "{}",
        stderr(&bad_role)
    );

    let learner_without_firm = accredit(
        dir.path(),
        &[
            "user",
            "create",
            "--database-url",
            &db.url,
            "--email",
            "l@b.example",
            "--name",
            "L",
            "--role",
            "learner",
        ],
        &[],
    );
    assert_eq!(learner_without_firm.status.code(), Some(1));
    assert!(
        stderr(&learner_without_firm).contains("partner_id"),
        "{}",
        stderr(&learner_without_firm)
    );

    let token = accredit(
        dir.path(),
        &[
            "token",
            "create",
            "--database-url",
            &db.url,
            "--name",
            "CRM",
            "--scope",
            "people:read",
        ],
        &[],
    );
    assert!(token.status.success(), "{}", stderr(&token));
    let secret = stdout(&token).trim().to_owned();
    assert!(
        secret.starts_with("acr_"),
        "only the secret goes to stdout: {secret}"
    );

    let bad_scope = accredit(
        dir.path(),
        &[
            "token",
            "create",
            "--database-url",
            &db.url,
            "--name",
            "CRM",
            "--scope",
            "everything",
        ],
        &[],
    );
    assert_eq!(bad_scope.status.code(), Some(1));
    assert!(stderr(&bad_scope).contains("unknown scope `everything`"));

    let app = accredit_app::App::new(
        accredit_app::Db::connect(&db.url).await.unwrap(),
        std::sync::Arc::new(accredit_app::SystemClock),
        accredit_app::AppConfig::default(),
    );
    assert!(
        app.login(None, "ops@vendor.example", &password)
            .await
            .is_ok()
    );
    let principal = app.token_principal(&secret).await.unwrap();
    assert!(
        matches!(principal, accredit_domain::Principal::Integration { ref scopes, .. } if scopes == &[accredit_domain::Scope::PeopleRead])
    );
    app.db.close().await;
}

#[tokio::test]
async fn users_and_tokens_are_created_from_the_command_line_on_sqlite() {
    users_and_tokens_from_the_command_line(Backend::Sqlite).await;
}

#[tokio::test]
async fn users_and_tokens_are_created_from_the_command_line_on_postgres() {
    users_and_tokens_from_the_command_line(Backend::Postgres).await;
}
