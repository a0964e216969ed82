//! The daily sweep: for a given date, everything due — reminders 90, 60 and 30 days before a
//! credential lapses, renewal windows opening, expiries — acted on with its messages, status
//! changes and tier re-evaluation.
//!
//! Each active credential stores the next day something is due for it (`next_due_on`, indexed),
//! so the sweep reads only due credentials: its cost follows what is due, not how many
//! credentials exist. Credentials are taken in batches, one transaction each; on PostgreSQL
//! `FOR UPDATE SKIP LOCKED` lets sweeps on several nodes share the work. Every message has a
//! deduplication key and each reminder a row keyed by credential and milestone, so re-running a
//! date, racing sweeps or a sweep restarted after a crash send nothing twice; what a crashed
//! batch did not commit is simply still due.

use crate::clock::{ShiftedClock, format_instant};
use crate::error::AppResult;
use crate::events::{Notice, Subscriptions, notify_many, subscriptions, webhook_messages};
use crate::outbox::{
    EMAIL, NewMessage, ROWS_PER_STATEMENT, enqueue_many, enqueue_once, placeholders,
};
use crate::records::{load_programs, parse_date};
use crate::{App, Backend, Ctx};
use accredit_domain::Action;
use accredit_domain::lifecycle::{Milestone, days_between, due, first_due, lapses_on};
use accredit_domain::program::{Program, RenewalRequirement, Track};
use anyhow::Context as _;
use jiff::civil::Date;
use serde::Serialize;
use sqlx::{AnyConnection, Row as _};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Credentials handled per transaction.
const BATCH: i64 = 1000;

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SweepReport {
    pub as_of: String,
    /// Credentials looked at because something was due.
    pub credentials: usize,
    pub reminders: usize,
    pub renewal_notices: usize,
    pub expired: usize,
    /// Reminders not sent because a later milestone was due too (after days without a sweep).
    pub passed_over: usize,
    pub digests: usize,
    /// Credentials lapsed because their recertification deadline passed.
    pub lapsed: usize,
    /// Partners whose remediation deadline passed (each drops a tier).
    pub remediation_missed: usize,
}

/// A due credential with what its messages need.
struct DueCredential {
    id: String,
    person_id: String,
    person_name: String,
    email: String,
    partner_id: Option<String>,
    account_manager_id: Option<String>,
    program_id: String,
    track_id: String,
    valid_until: Date,
    next_due_on: Date,
}

/// A reminder's row, written before its messages: its key decides whether it is new.
struct Gate {
    credential: String,
    milestone: String,
    due_on: Date,
    account_manager: Option<String>,
}

/// An email and a notification to a credential's holder, sent when its gate (if any) is new.
struct Message {
    gate: Option<(String, String)>,
    kind: &'static str,
    email: String,
    to_name: String,
    person: String,
    credential: String,
    subject: String,
    body: String,
    link: String,
    key: String,
}

/// A webhook event, sent when its gate (if any) is new.
struct Event {
    gate: Option<(String, String)>,
    event: &'static str,
    cause: String,
    data: serde_json::Value,
}

/// What a batch of due credentials sends and changes.
#[derive(Default)]
struct Outgoing {
    gates: Vec<Gate>,
    messages: Vec<Message>,
    events: Vec<Event>,
    next_due: Vec<(String, Option<Date>)>,
}

impl Outgoing {
    #[allow(clippy::too_many_arguments)]
    fn tell(
        &mut self,
        gate: Option<(String, String)>,
        credential: &DueCredential,
        kind: &'static str,
        subject: String,
        body: String,
        link: &str,
        key: String,
    ) {
        self.messages.push(Message {
            gate,
            kind,
            email: credential.email.clone(),
            to_name: credential.person_name.clone(),
            person: credential.person_id.clone(),
            credential: credential.id.clone(),
            subject,
            body,
            link: link.to_owned(),
            key,
        });
    }
}

/// How renewal works for a track, in words.
pub fn renewal_in_words(program: &Program, track: &Track) -> String {
    match &track.renewal.requires {
        RenewalRequirement::FullTrack => "complete the track's requirements again".into(),
        RenewalRequirement::DeltaModule { delta_exam } => {
            let exam = delta_exam
                .as_ref()
                .and_then(|e| program.exams.iter().find(|x| &x.id == e))
                .map(|e| format!(" and pass the short exam \"{}\"", e.title))
                .unwrap_or_default();
            format!("read what changed since you earned it (the delta module){exam}")
        }
        RenewalRequirement::Practicals { practicals, count } => {
            let names: Vec<&str> = practicals
                .iter()
                .filter_map(|p| program.practicals.iter().find(|x| &x.id == p))
                .map(|p| p.title.as_str())
                .collect();
            format!(
                "have {count} more submission(s) approved: {}",
                names.join(", ")
            )
        }
    }
}

impl App {
    /// This application as of another day: the clock moved by whole days, still running.
    pub fn at(&self, day: Date) -> App {
        let today = self.today();
        if day == today {
            return self.clone();
        }
        let shift = jiff::SignedDuration::from_hours(24 * days_between(today, day));
        let mut shifted = self.clone();
        shifted.clock = Arc::new(ShiftedClock {
            inner: self.clock.clone(),
            shift,
        });
        shifted
    }

    /// Runs the daily sweep for `as_of`. Idempotent: a second run for the same date finds
    /// nothing due.
    pub async fn run_sweep(&self, ctx: &Ctx, as_of: Date) -> AppResult<SweepReport> {
        ctx.authorize(&Action::ManageLifecycle, "the daily sweep")?;
        let app = self.at(as_of);
        app.schedule_unscheduled().await?;
        let programs: BTreeMap<String, Program> = {
            let mut conn = app.db.reader().acquire().await?;
            load_programs(&mut conn)
                .await?
                .into_iter()
                .map(|p| (p.id.clone(), p))
                .collect()
        };
        let mut report = SweepReport {
            as_of: as_of.to_string(),
            ..SweepReport::default()
        };
        loop {
            let mut tx = app.db.begin().await?;
            let batch = due_credentials(&mut tx, app.db.backend, as_of).await?;
            if batch.is_empty() {
                tx.rollback().await?;
                // Rows another sweep holds are still due until it commits; the digest below
                // must see its reminders, so wait for it (or for its rollback).
                if still_due(&app, as_of).await? == 0 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
            let mut touched = BTreeSet::new();
            let mut outgoing = Outgoing::default();
            for credential in &batch {
                report.credentials += 1;
                app.handle_due(
                    &mut tx,
                    ctx,
                    &programs,
                    credential,
                    as_of,
                    &mut report,
                    &mut touched,
                    &mut outgoing,
                )
                .await?;
            }
            let subscriptions = subscriptions(&mut tx).await?;
            report.reminders += app.flush(&mut tx, outgoing, &subscriptions, as_of).await?;
            for partner in &touched {
                app.refresh_standing(&mut tx, ctx, partner, None).await?;
            }
            let touched: Vec<String> = touched.into_iter().collect();
            app.notify_changed(&mut tx, &touched).await?;
            tx.commit().await?;
            app.entitlements_changed(&touched).await?;
        }
        report.lapsed = app
            .lapse_missed_recertifications(ctx, as_of)
            .await?
            .credentials;
        report.remediation_missed = app.miss_remediation_deadlines(ctx, as_of).await?;
        report.digests = app.send_digests(as_of, report.reminders > 0).await?;
        Ok(report)
    }

    /// Gives a schedule to active credentials that have none (issued before lifecycle
    /// scheduling, or loaded directly).
    async fn schedule_unscheduled(&self) -> AppResult<()> {
        let today = self.today();
        let mut conn = self.db.reader().acquire().await?;
        let programs: BTreeMap<String, Program> = load_programs(&mut conn)
            .await?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        drop(conn);
        let rows = sqlx::query(
            "SELECT id, program_id, track_id, valid_until FROM credentials
             WHERE next_due_on IS NULL AND status = 'active'",
        )
        .fetch_all(self.db.reader())
        .await?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin().await?;
        for row in rows {
            let id: String = row.try_get("id").context("id")?;
            let program: String = row.try_get("program_id").context("program_id")?;
            let track: String = row.try_get("track_id").context("track_id")?;
            let valid_until = parse_date(&row.try_get::<String, _>("valid_until")?)?;
            let window = programs
                .get(&program)
                .and_then(|p| p.track(&track))
                .map_or(0, |t| t.renewal.window_days);
            let next = first_due(valid_until, window, today);
            sqlx::query(
                "UPDATE credentials SET next_due_on = $2 WHERE id = $1 AND next_due_on IS NULL",
            )
            .bind(&id)
            .bind(next.to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Works out what is due for one credential: reminders, renewal notices and messages are
    /// collected in `outgoing` and written for the whole batch at once; an expiry changes the
    /// credential's status here.
    #[allow(clippy::too_many_arguments)]
    async fn handle_due(
        &self,
        tx: &mut AnyConnection,
        ctx: &Ctx,
        programs: &BTreeMap<String, Program>,
        credential: &DueCredential,
        as_of: Date,
        report: &mut SweepReport,
        touched: &mut BTreeSet<String>,
        outgoing: &mut Outgoing,
    ) -> AppResult<()> {
        let Some((program, track)) = programs
            .get(&credential.program_id)
            .and_then(|p| p.track(&credential.track_id).map(|t| (p, t)))
        else {
            // The track is gone from the program: nothing more will be due.
            outgoing.next_due.push((credential.id.clone(), None));
            return Ok(());
        };
        let now = self.now();
        let due = due(
            credential.valid_until,
            track.renewal.window_days,
            credential.next_due_on,
            as_of,
        );
        report.passed_over += due.passed_over.len();
        let lapses = lapses_on(credential.valid_until);
        let link = format!(
            "{}/credentials/{}",
            self.config.public_url.trim_end_matches('/'),
            credential.id
        );
        for (day, milestone) in &due.act_on {
            let key = format!("{}:{}", credential.id, milestone.key());
            match milestone {
                Milestone::Reminder { days_before } => {
                    let gate = (credential.id.clone(), milestone.key());
                    outgoing.gates.push(Gate {
                        credential: credential.id.clone(),
                        milestone: milestone.key(),
                        due_on: *day,
                        account_manager: credential.account_manager_id.clone(),
                    });
                    let days_left = days_between(as_of, lapses);
                    let subject =
                        format!("Your {} credential lapses in {days_left} days", track.name);
                    let body = format!(
                        "Hello {name},\n\nYour {track} credential ({program}) is valid until {until}. \
                         It lapses on {lapses}, in {days_left} days.\n\nTo renew: {how}.\n\n{link}\n\n\
                         This is the {days_before}-day reminder.\n",
                        name = credential.person_name,
                        track = track.name,
                        program = program.name,
                        until = credential.valid_until,
                        how = renewal_in_words(program, track),
                    );
                    outgoing.tell(
                        Some(gate.clone()),
                        credential,
                        "reminder",
                        subject,
                        body,
                        &link,
                        key.clone(),
                    );
                    outgoing.events.push(Event {
                        gate: Some(gate),
                        event: "credential.expiring",
                        cause: key,
                        data: serde_json::json!({
                            "credential": credential.id,
                            "person": credential.person_id,
                            "partner": credential.partner_id,
                            "program": program.id,
                            "track": track.id,
                            "days_before": days_before,
                            "lapses_on": lapses.to_string(),
                        }),
                    });
                }
                Milestone::RenewalOpens => {
                    let subject = format!("Renewal is open for your {} credential", track.name);
                    let body = format!(
                        "Hello {name},\n\nFrom today you can renew your {track} credential ({program}), \
                         which lapses on {lapses}.\n\nTo renew: {how}.\n\n{link}\n",
                        name = credential.person_name,
                        track = track.name,
                        program = program.name,
                        how = renewal_in_words(program, track),
                    );
                    outgoing.tell(None, credential, "renewal", subject, body, &link, key);
                    report.renewal_notices += 1;
                }
                Milestone::Expiry => {
                    let expired = sqlx::query(
                        "UPDATE credentials SET status = 'expired', status_changed_at = $2
                         WHERE id = $1 AND status = 'active'",
                    )
                    .bind(&credential.id)
                    .bind(crate::clock::format_instant(now))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                        == 1;
                    if !expired {
                        continue;
                    }
                    let subject = format!("Your {} credential has expired", track.name);
                    let body = format!(
                        "Hello {name},\n\nYour {track} credential ({program}) was valid until {until} \
                         and has now expired.\n\nTo earn it again: complete the track's requirements.\n\n{link}\n",
                        name = credential.person_name,
                        track = track.name,
                        program = program.name,
                        until = credential.valid_until,
                    );
                    outgoing.tell(None, credential, "expiry", subject, body, &link, key);
                    outgoing.events.push(Event {
                        gate: None,
                        event: "credential.expired",
                        cause: credential.id.clone(),
                        data: serde_json::json!({
                            "credential": credential.id,
                            "person": credential.person_id,
                            "partner": credential.partner_id,
                            "program": program.id,
                            "track": track.id,
                            "valid_until": credential.valid_until.to_string(),
                        }),
                    });
                    crate::audit::record(
                        tx,
                        ctx,
                        now,
                        "credential.expired",
                        &format!("credential:{}", credential.id),
                        serde_json::json!({ "person": credential.person_id, "track": track.id, "valid_until": credential.valid_until.to_string() }),
                    )
                    .await?;
                    if let Some(partner) = &credential.partner_id {
                        touched.insert(partner.clone());
                    }
                    report.expired += 1;
                }
            }
        }
        outgoing.next_due.push((credential.id.clone(), due.next));
        Ok(())
    }

    /// Writes what a batch collected, in a few statements: the reminder rows first (a reminder
    /// already on record is not sent again), then the messages and notifications of what is
    /// new, then each credential's next due day. Returns how many reminders are new.
    async fn flush(
        &self,
        tx: &mut AnyConnection,
        outgoing: Outgoing,
        subscriptions: &Subscriptions,
        as_of: Date,
    ) -> AppResult<usize> {
        let now = self.now();
        let mut fresh: BTreeSet<(String, String)> = BTreeSet::new();
        for chunk in outgoing.gates.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO lifecycle_reminders (credential_id, milestone, due_on, swept_on, account_manager_id)
                 VALUES {} ON CONFLICT (credential_id, milestone) DO NOTHING
                 RETURNING credential_id, milestone",
                placeholders(chunk.len(), 5)
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for gate in chunk {
                query = query
                    .bind(gate.credential.clone())
                    .bind(gate.milestone.clone())
                    .bind(gate.due_on.to_string())
                    .bind(as_of.to_string())
                    .bind(gate.account_manager.clone());
            }
            for row in query.fetch_all(&mut *tx).await? {
                fresh.insert((
                    row.try_get("credential_id").context("credential")?,
                    row.try_get("milestone").context("milestone")?,
                ));
            }
        }
        let wanted =
            |gate: &Option<(String, String)>| gate.as_ref().is_none_or(|g| fresh.contains(g));
        let mut messages = Vec::new();
        let mut notices = Vec::new();
        for m in outgoing.messages.into_iter().filter(|m| wanted(&m.gate)) {
            messages.push(NewMessage {
                channel: EMAIL,
                topic: format!("lifecycle.{}", m.kind),
                recipient: m.email,
                payload: serde_json::json!({
                    "subject": m.subject,
                    "body": m.body,
                    "to_name": m.to_name,
                    "credential": m.credential,
                    "person": m.person,
                }),
                dedup_key: format!("email:{}", m.key),
            });
            notices.push((
                m.person,
                Notice {
                    kind: m.kind,
                    title: m.subject,
                    body: m.body,
                    link: Some(m.link),
                },
                format!("notice:{}", m.key),
            ));
        }
        for e in outgoing.events.iter().filter(|e| wanted(&e.gate)) {
            messages.extend(webhook_messages(
                subscriptions,
                now,
                e.event,
                &e.cause,
                &e.data,
            ));
        }
        enqueue_many(tx, now, &messages).await?;
        notify_many(tx, now, &notices).await?;
        let mut by_day: BTreeMap<Option<Date>, Vec<String>> = BTreeMap::new();
        for (id, next) in outgoing.next_due {
            by_day.entry(next).or_default().push(id);
        }
        for (next, ids) in by_day {
            for chunk in ids.chunks(ROWS_PER_STATEMENT) {
                let list: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
                let sql = format!(
                    "UPDATE credentials SET next_due_on = $1 WHERE id IN ({})",
                    list.join(", ")
                );
                let mut query =
                    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(next.map(|d| d.to_string()));
                for id in chunk {
                    query = query.bind(id.clone());
                }
                query.execute(&mut *tx).await?;
            }
        }
        Ok(fresh.len())
    }

    /// One email per Partner Account Manager listing the reminders their partners' people were
    /// sent on `as_of`.
    async fn send_digests(&self, as_of: Date, wrote_reminders: bool) -> AppResult<usize> {
        // A day whose digests are written is done unless this run added reminders to it; a run
        // that crashed before writing them left no mark, so the next run writes them.
        let marker = format!("digests_sent:{as_of}");
        if !wrote_reminders {
            let done: Option<String> =
                sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                    .bind(&marker)
                    .fetch_optional(self.db.reader())
                    .await?;
            if done.is_some() {
                return Ok(0);
            }
        }
        let rows = sqlx::query(
            "SELECT r.account_manager_id, m.display_name AS pam_name, m.email AS pam_email,
                    p.display_name AS person_name, pa.name AS partner_name, c.track_id,
                    c.program_id, c.valid_until, r.milestone
             FROM lifecycle_reminders r
             JOIN credentials c ON c.id = r.credential_id
             JOIN people p ON p.id = c.person_id
             LEFT JOIN partners pa ON pa.id = p.partner_id
             JOIN people m ON m.id = r.account_manager_id
             WHERE r.swept_on = $1 AND r.account_manager_id IS NOT NULL
             ORDER BY r.account_manager_id, pa.name, p.display_name, c.track_id",
        )
        .bind(as_of.to_string())
        .fetch_all(self.db.reader())
        .await?;
        let programs: BTreeMap<String, Program> = {
            let mut conn = self.db.reader().acquire().await?;
            load_programs(&mut conn)
                .await?
                .into_iter()
                .map(|p| (p.id.clone(), p))
                .collect()
        };
        let mut by_pam: BTreeMap<String, (String, String, Vec<String>)> = BTreeMap::new();
        for row in &rows {
            let pam: String = row.try_get("account_manager_id").context("pam")?;
            let program: String = row.try_get("program_id").context("program")?;
            let track: String = row.try_get("track_id").context("track")?;
            let track_name = programs
                .get(&program)
                .and_then(|p| p.track(&track))
                .map_or(track.clone(), |t| t.name.clone());
            let valid_until = parse_date(&row.try_get::<String, _>("valid_until")?)?;
            let lapses = lapses_on(valid_until);
            let line = format!(
                "- {person} ({partner}): {track_name}, lapses on {lapses} (in {days} days)",
                person = row.try_get::<String, _>("person_name")?,
                partner = row
                    .try_get::<Option<String>, _>("partner_name")?
                    .unwrap_or_default(),
                days = days_between(as_of, lapses),
            );
            let entry = by_pam.entry(pam).or_insert_with(|| {
                (
                    row.try_get("pam_name").unwrap_or_default(),
                    row.try_get("pam_email").unwrap_or_default(),
                    Vec::new(),
                )
            });
            entry.2.push(line);
        }
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let mut sent = 0;
        for (pam, (name, email, lines)) in by_pam {
            let subject = format!(
                "{} of your partners' credentials due for renewal ({as_of})",
                lines.len()
            );
            let body = format!(
                "Hello {name},\n\nThese people at your partners were reminded today that their \
                 credentials lapse soon:\n\n{}\n\n{}/\n",
                lines.join("\n"),
                self.config.public_url.trim_end_matches('/'),
            );
            if enqueue_once(
                &mut tx,
                now,
                EMAIL,
                "lifecycle.pam_digest",
                &email,
                serde_json::json!({ "subject": subject, "body": body, "to_name": name, "person": pam, "date": as_of.to_string() }),
                Some(&format!("email:digest:{pam}:{as_of}")),
            )
            .await?
            {
                sent += 1;
            }
        }
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(&marker)
        .bind(format_instant(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(sent)
    }
}

async fn still_due(app: &App, as_of: Date) -> AppResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM credentials WHERE next_due_on <= $1 AND status = 'active'",
    )
    .bind(as_of.to_string())
    .fetch_one(app.db.reader())
    .await?)
}

async fn due_credentials(
    conn: &mut AnyConnection,
    backend: Backend,
    as_of: Date,
) -> AppResult<Vec<DueCredential>> {
    let lock = match backend {
        Backend::Postgres => "FOR UPDATE OF c SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT c.id, c.person_id, c.program_id, c.track_id, c.valid_until, c.next_due_on,
                p.display_name, p.email, p.partner_id, pa.account_manager_id
         FROM credentials c
         JOIN people p ON p.id = c.person_id
         LEFT JOIN partners pa ON pa.id = p.partner_id
         WHERE c.next_due_on <= $1 AND c.status = 'active'
         ORDER BY c.next_due_on, c.id LIMIT $2 {lock}"
    )))
    .bind(as_of.to_string())
    .bind(BATCH)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(DueCredential {
                id: row.try_get("id").context("id")?,
                person_id: row.try_get("person_id").context("person_id")?,
                person_name: row.try_get("display_name").context("display_name")?,
                email: row.try_get("email").context("email")?,
                partner_id: row.try_get("partner_id").context("partner_id")?,
                account_manager_id: row
                    .try_get("account_manager_id")
                    .context("account_manager_id")?,
                program_id: row.try_get("program_id").context("program_id")?,
                track_id: row.try_get("track_id").context("track_id")?,
                valid_until: parse_date(&row.try_get::<String, _>("valid_until")?)?,
                next_due_on: parse_date(&row.try_get::<String, _>("next_due_on")?)?,
            })
        })
        .collect()
}
