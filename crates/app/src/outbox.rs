//! Messages for the outside world, written in the same transaction as the change that caused
//! them, then delivered by workers that claim rows through the database.
//!
//! - **Once per cause.** A message may carry a deduplication key (e.g. credential + reminder +
//!   due date); a second message with the same key is not written, so re-running a job or two
//!   nodes racing cannot send it twice.
//! - **Claiming.** A worker marks a batch with a lease (`claimed_until`) in one statement; on
//!   PostgreSQL the candidate rows are chosen `FOR UPDATE SKIP LOCKED`, so concurrent workers
//!   take different rows; SQLite has one writer. A worker that dies leaves its lease to expire,
//!   after which another worker takes the message again.
//! - **Outcome.** Each message's outcome is committed before the next is sent: delivered;
//!   failed and retried after an exponential backoff; or dead after the last attempt, kept for
//!   inspection and replay. A worker killed between a receiver's acceptance and that commit
//!   would send the message again once its lease expires: the stable message id (`Message-ID`,
//!   `webhook-id`) lets receivers recognise it.

use crate::clock::{format_instant, parse_instant};
use crate::error::{AppError, AppResult};
use crate::{App, Backend, Ctx, audit};
use accredit_domain::Action;
use anyhow::Context as _;
use serde::Serialize;
use sqlx::{AnyConnection, Row as _};

/// How a message leaves.
pub const EMAIL: &str = "email";
pub const WEBHOOK: &str = "webhook";

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: i64,
    pub topic: String,
    pub recipient: String,
    pub payload: serde_json::Value,
}

/// A message with its delivery state, for the inspection page and API.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct OutboxEntry {
    pub id: i64,
    pub channel: String,
    pub topic: String,
    pub recipient: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    pub attempts: i64,
    pub dedup_key: Option<String>,
    pub created_at: String,
    pub next_attempt_at: String,
    pub delivered_at: Option<String>,
    pub last_error: Option<String>,
}

/// Writes an email message (no deduplication: each call is its own cause).
pub(crate) async fn enqueue(
    conn: &mut AnyConnection,
    now: jiff::Timestamp,
    topic: &str,
    recipient: &str,
    payload: serde_json::Value,
) -> AppResult<()> {
    enqueue_once(conn, now, EMAIL, topic, recipient, payload, None).await?;
    Ok(())
}

/// Writes a message unless one with the same deduplication key exists. Returns whether it was
/// written.
pub(crate) async fn enqueue_once(
    conn: &mut AnyConnection,
    now: jiff::Timestamp,
    channel: &str,
    topic: &str,
    recipient: &str,
    payload: serde_json::Value,
    dedup_key: Option<&str>,
) -> AppResult<bool> {
    let at = format_instant(now);
    let written = sqlx::query(
        "INSERT INTO outbox (channel, topic, recipient, payload, created_at, next_attempt_at, dedup_key)
         VALUES ($1, $2, $3, $4, $5, $5, $6) ON CONFLICT (dedup_key) DO NOTHING",
    )
    .bind(channel)
    .bind(topic)
    .bind(recipient)
    .bind(payload.to_string())
    .bind(&at)
    .bind(dedup_key)
    .execute(conn)
    .await
    .context("writing to the outbox")?;
    Ok(written.rows_affected() == 1)
}

/// A message to write, for writing many in one statement.
#[derive(Debug, Clone)]
pub(crate) struct NewMessage {
    pub channel: &'static str,
    pub topic: String,
    pub recipient: String,
    pub payload: serde_json::Value,
    pub dedup_key: String,
}

/// Rows per multi-row statement: far below both backends' limits on bound parameters.
pub(crate) const ROWS_PER_STATEMENT: usize = 400;

/// `($1, $2, …), (…)` for `rows` rows of `columns` placeholders.
pub(crate) fn placeholders(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let row: Vec<String> = (1..=columns)
                .map(|c| format!("${}", r * columns + c))
                .collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes many messages, each unless its deduplication key exists, in few statements.
pub(crate) async fn enqueue_many(
    conn: &mut AnyConnection,
    now: jiff::Timestamp,
    messages: &[NewMessage],
) -> AppResult<()> {
    let at = format_instant(now);
    for chunk in messages.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO outbox (channel, topic, recipient, payload, created_at, next_attempt_at, dedup_key)
             VALUES {} ON CONFLICT (dedup_key) DO NOTHING",
            placeholders(chunk.len(), 7)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for m in chunk {
            query = query
                .bind(m.channel)
                .bind(m.topic.clone())
                .bind(m.recipient.clone())
                .bind(m.payload.to_string())
                .bind(at.clone())
                .bind(at.clone())
                .bind(m.dedup_key.clone());
        }
        query
            .execute(&mut *conn)
            .await
            .context("writing to the outbox")?;
    }
    Ok(())
}

/// Retry timing: the first retry after `base`, doubling each time up to `max_delay`; dead after
/// `max_attempts` attempts.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: i64,
    pub base: jiff::SignedDuration,
    pub max_delay: jiff::SignedDuration,
    /// How long a claimed message is left to its worker before another may take it.
    pub lease: jiff::SignedDuration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base: jiff::SignedDuration::from_secs(30),
            max_delay: jiff::SignedDuration::from_hours(6),
            lease: jiff::SignedDuration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// The wait after the `attempts`-th failed attempt.
    pub fn backoff(&self, attempts: i64) -> jiff::SignedDuration {
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let secs = self
            .base
            .as_secs()
            .saturating_mul(1_i64 << doublings)
            .min(self.max_delay.as_secs());
        jiff::SignedDuration::from_secs(secs)
    }
}

/// A message claimed for delivery.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub channel: String,
    pub topic: String,
    pub recipient: String,
    pub payload: serde_json::Value,
    pub attempts: i64,
    pub created_at: String,
}

fn entry_from_row(row: &sqlx::any::AnyRow) -> AppResult<OutboxEntry> {
    let payload: String = row.try_get("payload").context("outbox payload")?;
    Ok(OutboxEntry {
        id: row.try_get("id").context("outbox id")?,
        channel: row.try_get("channel").context("outbox channel")?,
        topic: row.try_get("topic").context("outbox topic")?,
        recipient: row.try_get("recipient").context("outbox recipient")?,
        payload: serde_json::from_str(&payload).context("outbox payload")?,
        state: row.try_get("state").context("outbox state")?,
        attempts: row.try_get("attempts").context("outbox attempts")?,
        dedup_key: row.try_get("dedup_key").context("outbox dedup_key")?,
        created_at: row.try_get("created_at").context("outbox created_at")?,
        next_attempt_at: row
            .try_get("next_attempt_at")
            .context("outbox next_attempt_at")?,
        delivered_at: row
            .try_get("dispatched_at")
            .context("outbox dispatched_at")?,
        last_error: row.try_get("last_error").context("outbox last_error")?,
    })
}

const ENTRY_COLUMNS: &str = "id, channel, topic, recipient, payload, state, attempts, dedup_key, created_at, next_attempt_at, dispatched_at, last_error";

impl App {
    /// Messages not yet delivered, oldest first.
    pub async fn pending_messages(&self, topic: Option<&str>) -> AppResult<Vec<OutboxMessage>> {
        let rows = sqlx::query(
            "SELECT id, topic, recipient, payload FROM outbox
             WHERE state = 'pending' AND ($1 IS NULL OR topic = $1) ORDER BY id",
        )
        .bind(topic)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|row| {
                let payload: String = row.try_get("payload").context("outbox payload")?;
                Ok(OutboxMessage {
                    id: row.try_get("id").context("outbox id")?,
                    topic: row.try_get("topic").context("outbox topic")?,
                    recipient: row.try_get("recipient").context("outbox recipient")?,
                    payload: serde_json::from_str(&payload).context("outbox payload")?,
                })
            })
            .collect()
    }

    /// The outbox for operators: newest first, optionally one state (`pending`, `delivered`,
    /// `dead`) and one topic.
    pub async fn outbox(
        &self,
        ctx: &Ctx,
        state: Option<&str>,
        topic: Option<&str>,
        limit: i64,
    ) -> AppResult<Vec<OutboxEntry>> {
        ctx.authorize(&Action::ManageLifecycle, "the outbox")?;
        if let Some(state) = state
            && !["pending", "delivered", "dead"].contains(&state)
        {
            return Err(AppError::invalid(
                "state",
                format!("`{state}` is not a state; use pending, delivered or dead"),
            ));
        }
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ENTRY_COLUMNS} FROM outbox WHERE ($1 IS NULL OR state = $1)
             AND ($2 IS NULL OR topic = $2) ORDER BY id DESC LIMIT $3"
        )))
        .bind(state)
        .bind(topic)
        .bind(limit.clamp(1, 1000))
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// Sends a delivered or dead message again, from a fresh set of attempts. Audited.
    pub async fn replay_message(&self, ctx: &Ctx, id: i64) -> AppResult<OutboxEntry> {
        ctx.authorize(&Action::ManageLifecycle, "the outbox")?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = $2,
               claimed_until = NULL, last_error = NULL, dispatched_at = NULL
             WHERE id = $1 AND state <> 'pending' RETURNING {ENTRY_COLUMNS}"
        )))
        .bind(id)
        .bind(format_instant(now))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            let exists: Option<String> =
                sqlx::query_scalar("SELECT state FROM outbox WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            return Err(match exists {
                Some(_) => AppError::Conflict(format!(
                    "message {id} is still pending; it will be delivered without a replay"
                )),
                None => AppError::NotFound(format!("message {id}")),
            });
        };
        let entry = entry_from_row(&row)?;
        audit::record(
            &mut tx,
            ctx,
            now,
            "outbox.replayed",
            &format!("outbox:{id}"),
            serde_json::json!({ "topic": entry.topic, "recipient": entry.recipient }),
        )
        .await?;
        tx.commit().await?;
        Ok(entry)
    }

    /// Claims up to `limit` due messages of one channel for this worker.
    pub async fn claim_messages(
        &self,
        channel: &str,
        limit: i64,
        policy: &RetryPolicy,
    ) -> AppResult<Vec<Claimed>> {
        let now = self.now();
        let lock = match self.db.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let mut tx = self.db.begin().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE outbox SET claimed_until = $1, attempts = attempts + 1
             WHERE id IN (SELECT id FROM outbox
                 WHERE state = 'pending' AND channel = $2 AND next_attempt_at <= $3
                   AND (claimed_until IS NULL OR claimed_until < $3)
                 ORDER BY id LIMIT $4 {lock})
             RETURNING id, channel, topic, recipient, payload, attempts, created_at"
        )))
        .bind(format_instant(now + policy.lease))
        .bind(channel)
        .bind(format_instant(now))
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut claimed = rows
            .iter()
            .map(|row| {
                let payload: String = row.try_get("payload").context("outbox payload")?;
                Ok(Claimed {
                    id: row.try_get("id").context("outbox id")?,
                    channel: row.try_get("channel").context("outbox channel")?,
                    topic: row.try_get("topic").context("outbox topic")?,
                    recipient: row.try_get("recipient").context("outbox recipient")?,
                    payload: serde_json::from_str(&payload).context("outbox payload")?,
                    attempts: row.try_get("attempts").context("outbox attempts")?,
                    created_at: row.try_get("created_at").context("outbox created_at")?,
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        claimed.sort_by_key(|c| c.id);
        Ok(claimed)
    }

    /// Records a delivery.
    pub async fn mark_delivered(&self, id: i64) -> AppResult<()> {
        sqlx::query(
            "UPDATE outbox SET state = 'delivered', dispatched_at = $2, claimed_until = NULL, last_error = NULL
             WHERE id = $1 AND state = 'pending'",
        )
        .bind(id)
        .bind(format_instant(self.now()))
        .execute(self.db.writer())
        .await?;
        Ok(())
    }

    /// Records a failed attempt: retried after the backoff, or dead after the last attempt or
    /// a permanent failure. Returns whether the message is now dead.
    pub async fn mark_failed(
        &self,
        message: &Claimed,
        error: &str,
        permanent: bool,
        policy: &RetryPolicy,
    ) -> AppResult<bool> {
        let dead = permanent || message.attempts >= policy.max_attempts;
        let next = self.now() + policy.backoff(message.attempts);
        sqlx::query(
            "UPDATE outbox SET state = $2, next_attempt_at = $3, claimed_until = NULL, last_error = $4
             WHERE id = $1 AND state = 'pending'",
        )
        .bind(message.id)
        .bind(if dead { "dead" } else { "pending" })
        .bind(format_instant(next))
        .bind(error)
        .execute(self.db.writer())
        .await?;
        Ok(dead)
    }

    /// Messages of `channel` that are pending but not deliverable yet: claimed by a worker, or
    /// waiting for a retry. With the earliest time one becomes deliverable.
    pub async fn waiting_messages(
        &self,
        channel: &str,
    ) -> AppResult<(i64, Option<jiff::Timestamp>)> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(CASE WHEN claimed_until IS NOT NULL AND claimed_until > next_attempt_at
                                        THEN claimed_until ELSE next_attempt_at END) AS next
             FROM outbox WHERE state = 'pending' AND channel = $1",
        )
        .bind(channel)
        .fetch_one(self.db.reader())
        .await?;
        let n: i64 = row.try_get("n").context("count")?;
        let next: Option<String> = row.try_get("next").context("next")?;
        Ok((n, next.as_deref().map(parse_instant).transpose()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_rows_and_columns_in_order() {
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }

    #[test]
    fn backoff_doubles_from_the_base_up_to_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 8,
            base: jiff::SignedDuration::from_secs(30),
            max_delay: jiff::SignedDuration::from_secs(300),
            lease: jiff::SignedDuration::from_secs(60),
        };
        let waits: Vec<i64> = (1..=6).map(|a| policy.backoff(a).as_secs()).collect();
        assert_eq!(waits, vec![30, 60, 120, 240, 300, 300]);
    }
}
