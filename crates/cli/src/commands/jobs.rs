//! `accredit jobs`: the daily sweep and the delivery of outgoing messages, for any date.

use crate::CliError;
use crate::config::{GlobalArgs, ServerArgs};
use accredit_app::Ctx;
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Run the daily sweep for a date (reminders, renewal windows, expiries), then deliver the
    /// messages that are due. Running it twice for the same date changes nothing the second time.
    Run(RunArgs),
    /// Deliver the outgoing messages that are due now, then stop.
    Deliver(DeliverArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// The day to sweep for, YYYY-MM-DD. Default: today (UTC).
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// Only sweep; leave delivery to `serve` or `jobs deliver`.
    #[arg(long)]
    no_deliver: bool,
}

#[derive(Debug, Args)]
pub struct DeliverArgs {
    #[command(flatten)]
    server: ServerArgs,
}

pub async fn run(global: &GlobalArgs, command: JobsCommand) -> Result<(), CliError> {
    match command {
        JobsCommand::Run(args) => {
            let as_of = args
                .as_of
                .as_deref()
                .map(|text| {
                    text.parse::<jiff::civil::Date>().map_err(|e| {
                        CliError::failed(format!(
                            "--as-of `{text}` is not a date (YYYY-MM-DD): {e}"
                        ))
                    })
                })
                .transpose()?;
            let (settings, app) = super::open(global, &args.server, false).await?;
            let delivery = (!args.no_deliver)
                .then(|| settings.delivery())
                .transpose()?;
            let as_of = as_of.unwrap_or_else(|| app.today());
            let report = app.run_sweep(&Ctx::system(), as_of).await?;
            println!(
                "sweep {}: {} credentials due; {} reminders, {} renewal notices, {} expired, {} reminders passed over; {} account manager digests",
                report.as_of,
                report.credentials,
                report.reminders,
                report.renewal_notices,
                report.expired,
                report.passed_over,
                report.digests
            );
            if let Some(delivery) = delivery {
                deliver(&app.at(as_of), &delivery).await?;
            }
            Ok(())
        }
        JobsCommand::Deliver(args) => {
            let (settings, app) = super::open(global, &args.server, false).await?;
            deliver(&app, &settings.delivery()?).await
        }
    }
}

async fn deliver(
    app: &accredit_app::App,
    delivery: &accredit_app::delivery::Delivery,
) -> Result<(), CliError> {
    let report = app.deliver_due(delivery).await?;
    println!(
        "delivery: {} delivered, {} to retry, {} dead",
        report.delivered, report.retrying, report.dead
    );
    for channel in delivery.channels() {
        let (waiting, next) = app.waiting_messages(channel).await?;
        if waiting > 0 {
            println!(
                "{waiting} {channel} message(s) waiting{}",
                next.map(|t| format!("; the next can be sent at {t}"))
                    .unwrap_or_default()
            );
        }
    }
    if !delivery.channels().contains(&accredit_app::outbox::EMAIL) {
        let (waiting, _) = app.waiting_messages(accredit_app::outbox::EMAIL).await?;
        if waiting > 0 {
            println!("{waiting} email message(s) wait for an SMTP server (setting `smtp_url`)");
        }
    }
    Ok(())
}
