//! `accredit serve`: the portal and the JSON API.

use crate::CliError;
use crate::config::{GlobalArgs, ServerArgs, sqlite_url};
use accredit_app::demo::DemoAccount;
use clap::Args;
use std::path::Path;

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// Start on a fresh demo database (recreated at each start) with a vendor, partners and
    /// people in every role, and print how to sign in.
    #[arg(long)]
    demo: bool,
    /// Password for every demo account. Default: a new random one, printed at start.
    #[arg(
        long,
        env = "ACCREDIT_DEMO_PASSWORD",
        requires = "demo",
        value_name = "PASSWORD"
    )]
    demo_password: Option<String>,
}

pub async fn run(global: &GlobalArgs, args: ServeArgs) -> Result<(), CliError> {
    let mut global = global.clone();
    let demo_db_note = if args.demo && global.database_url.is_none() {
        let settings = crate::config::Settings::load(&global, &args.server)?;
        std::fs::create_dir_all(&settings.data_dir).map_err(|e| {
            CliError::config(format!(
                "cannot create {}: {e}",
                settings.data_dir.display()
            ))
        })?;
        let path = settings.data_dir.join("demo.db");
        remove_sqlite_files(&path)?;
        global.database_url = Some(sqlite_url(&path));
        Some(path)
    } else {
        None
    };
    let (settings, app) = super::open(&global, &args.server, true).await?;
    let index = accredit_app::search::SearchIndex::open(&settings.data_dir.join("search-index"))?;
    let app = app.with_search_index(index);
    app.reindex_content(&|_, _| {}).await?;

    let mut demo_accounts = None;
    if args.demo {
        if !app.is_empty().await? {
            return Err(CliError::failed(
                "--demo needs an empty database, and this one already has people or partners; drop --database-url to use a fresh demo database",
            ));
        }
        let password = args.demo_password.clone().unwrap_or_else(random_password);
        accredit_domain::NewPassword::parse(&password)
            .map_err(|e| CliError::config(format!("--demo-password: {}", e.message)))?;
        demo_accounts = Some((app.load_demo(&password).await?, password));
    }

    app.rebuild_entitlements().await?;
    let sweeper = app.clone();
    tokio::spawn(async move {
        let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            match sweeper.sweep_lapses().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    partners = n,
                    "re-evaluated partners with lapsed credentials"
                ),
                Err(e) => tracing::error!(error = ?e, "sweeping lapsed credentials"),
            }
        }
    });
    // Attempts past their time limit are scored within a minute even if nobody looks at them.
    let timekeeper = app.clone();
    tokio::spawn(async move {
        let mut every_minute = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every_minute.tick().await;
            match timekeeper.expire_attempts().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(attempts = n, "submitted attempts at their time limit"),
                Err(e) => tracing::error!(error = ?e, "submitting timed-out attempts"),
            }
        }
    });
    // The daily sweep: hourly, so a node started mid-day or a failed run catches up; a run for
    // a day already swept finds nothing due.
    let sweeper = app.clone();
    tokio::spawn(async move {
        let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            let today = sweeper.today();
            match sweeper.run_sweep(&accredit_app::Ctx::system(), today).await {
                Ok(report) if report.credentials == 0 => {}
                Ok(report) => tracing::info!(?report, "daily sweep"),
                Err(e) => tracing::error!(error = ?e, "daily sweep"),
            }
        }
    });
    let delivery = settings.delivery()?;
    let courier = app.clone();
    tokio::spawn(async move {
        let mut every_few_seconds = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            every_few_seconds.tick().await;
            match courier.deliver_due(&delivery).await {
                Ok(report) if report == Default::default() => {}
                Ok(report) => tracing::info!(?report, "delivered messages"),
                Err(e) => tracing::error!(error = ?e, "delivering messages"),
            }
        }
    });
    if app.db.backend == accredit_app::Backend::Postgres {
        let follower = app.clone();
        let url = settings.database_url.clone();
        tokio::spawn(async move {
            if let Err(e) = follower.listen_for_changes(&url).await {
                tracing::error!(error = ?e, "entitlement listener stopped");
            }
        });
    }

    let listener = tokio::net::TcpListener::bind(settings.bind)
        .await
        .map_err(|e| {
            CliError::config(format!(
                "cannot listen on {} (setting `bind`): {e}",
                settings.bind
            ))
        })?;
    // With port 0 the system picks the port; show the one actually bound.
    let public_url = match listener.local_addr() {
        Ok(bound)
            if settings.bind.port() == 0
                && settings.public_url == format!("http://{}", settings.bind) =>
        {
            format!("http://{bound}")
        }
        _ => settings.public_url.clone(),
    };
    // Credentials name the issuer by the URL people actually reach.
    let mut app = app;
    app.config.public_url = public_url.clone();
    let secure_cookies = public_url.starts_with("https://");
    let state = accredit_web::AppState::new(app.clone(), secure_cookies);
    let router = accredit_web::router(state);

    println!("Accredit is running at {public_url}");
    if let Some(path) = &demo_db_note {
        println!(
            "Demo database: {} (recreated at every start)",
            path.display()
        );
    }
    if let Some((accounts, password)) = &demo_accounts {
        print_demo_accounts(accounts, password);
    }
    tracing::info!(bind = %settings.bind, "listening");

    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| CliError::failed(format!("server error: {e}")))?;
    app.db.close().await;
    tracing::info!("stopped");
    Ok(())
}

fn print_demo_accounts(accounts: &[DemoAccount], password: &str) {
    println!();
    println!("Sign in with any of these demo accounts; the password of each is: {password}");
    println!();
    let width = accounts.iter().map(|a| a.email.len()).max().unwrap_or(0);
    for account in accounts {
        println!(
            "  {:width$}  {:24} {} ({})",
            account.email,
            account.role.label(),
            account.name,
            account.organisation,
        );
    }
    println!();
}

fn random_password() -> String {
    use rand::RngExt as _;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn remove_sqlite_files(path: &Path) -> Result<(), CliError> {
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", path.display());
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(CliError::failed(format!(
                    "cannot reset the demo database {file}: {e}"
                )));
            }
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
