//! Appending to and reading the audit trail. Appends happen inside the caller's transaction, so
//! an event exists exactly when the change it describes was committed.

use crate::clock::format_instant;
use crate::error::AppResult;
use crate::{App, Ctx};
use accredit_domain::Action;
use accredit_domain::audit::{AuditContent, AuditRecord, ChainBreak, ChainVerifier, seal};
use anyhow::Context as _;
use serde::Serialize;
use sqlx::AssertSqlSafe;
use sqlx::{AnyConnection, Row as _};

/// One event as the API shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct AuditEvent {
    pub seq: i64,
    pub occurred_at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub summary: serde_json::Value,
    pub request_id: Option<String>,
    pub hash: String,
}

/// Records that `ctx` did `action` to `subject`; call inside the use case's transaction.
pub(crate) async fn record(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    now: jiff::Timestamp,
    action: &str,
    subject: &str,
    summary: serde_json::Value,
) -> AppResult<i64> {
    // Taking the head row first holds its lock until commit, so concurrent appends queue up
    // instead of forking the chain.
    let head = sqlx::query(
        "UPDATE audit_head SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq, last_hash",
    )
    .fetch_one(&mut *conn)
    .await
    .context("advancing the audit head")?;
    let seq: i64 = head.try_get("last_seq").context("reading last_seq")?;
    let prev_hash: String = head.try_get("last_hash").context("reading last_hash")?;
    let record = seal(
        &prev_hash,
        AuditContent {
            seq,
            occurred_at: format_instant(now),
            actor: ctx.principal.audit_name(),
            action: action.to_owned(),
            subject: subject.to_owned(),
            summary: summary.to_string(),
            request_id: ctx.request_id.clone(),
        },
    );
    let c = &record.content;
    sqlx::query(
        "INSERT INTO audit_events (seq, occurred_at, actor, action, subject, summary, request_id, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(c.seq)
    .bind(&c.occurred_at)
    .bind(&c.actor)
    .bind(&c.action)
    .bind(&c.subject)
    .bind(&c.summary)
    .bind(&c.request_id)
    .bind(&record.prev_hash)
    .bind(&record.hash)
    .execute(&mut *conn)
    .await
    .context("inserting the audit event")?;
    sqlx::query("UPDATE audit_head SET last_hash = $1 WHERE id = 1")
        .bind(&record.hash)
        .execute(&mut *conn)
        .await
        .context("updating the audit head")?;
    Ok(seq)
}

fn record_from_row(row: &sqlx::any::AnyRow) -> anyhow::Result<AuditRecord> {
    Ok(AuditRecord {
        content: AuditContent {
            seq: row.try_get("seq")?,
            occurred_at: row.try_get("occurred_at")?,
            actor: row.try_get("actor")?,
            action: row.try_get("action")?,
            subject: row.try_get("subject")?,
            summary: row.try_get("summary")?,
            request_id: row.try_get("request_id")?,
        },
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

const SELECT_EVENTS: &str = "SELECT seq, occurred_at, actor, action, subject, summary, request_id, prev_hash, hash FROM audit_events";

/// The outcome of walking the whole chain.
#[derive(Debug, PartialEq, Eq)]
pub enum ChainStatus {
    Intact { events: i64 },
    Broken(ChainBreak),
}

impl App {
    /// A page of events after `after_seq`, oldest first.
    pub async fn list_audit_events(
        &self,
        ctx: &Ctx,
        after_seq: i64,
        limit: i64,
    ) -> AppResult<Vec<AuditEvent>> {
        ctx.authorize(&Action::ReadAuditTrail, "audit trail")?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "{SELECT_EVENTS} WHERE seq > $1 ORDER BY seq LIMIT $2"
        )))
        .bind(after_seq)
        .bind(limit.clamp(1, 1000))
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|row| {
                let r = record_from_row(row)?;
                let c = r.content;
                Ok(AuditEvent {
                    seq: c.seq,
                    occurred_at: c.occurred_at,
                    actor: c.actor,
                    action: c.action,
                    subject: c.subject,
                    summary: serde_json::from_str(&c.summary)
                        .unwrap_or(serde_json::Value::String(c.summary)),
                    request_id: c.request_id,
                    hash: r.hash,
                })
            })
            .collect()
    }

    /// Recomputes the whole chain in pages and reports the first broken link.
    pub async fn verify_audit_chain(&self) -> AppResult<ChainStatus> {
        let mut verifier = ChainVerifier::default();
        let mut after = 0_i64;
        loop {
            let rows = sqlx::query(AssertSqlSafe(format!(
                "{SELECT_EVENTS} WHERE seq > $1 ORDER BY seq LIMIT 1000"
            )))
            .bind(after)
            .fetch_all(self.db.reader())
            .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let record = record_from_row(row)?;
                after = record.content.seq;
                if let Err(broken) = verifier.push(&record) {
                    return Ok(ChainStatus::Broken(broken));
                }
            }
        }
        let head = sqlx::query("SELECT last_seq, last_hash FROM audit_head WHERE id = 1")
            .fetch_one(self.db.reader())
            .await?;
        let head_seq: i64 = head.try_get("last_seq").context("reading the audit head")?;
        let head_hash: String = head
            .try_get("last_hash")
            .context("reading the audit head")?;
        Ok(match verifier.finish(Some((head_seq, &head_hash))) {
            Ok(events) => ChainStatus::Intact { events },
            Err(broken) => ChainStatus::Broken(broken),
        })
    }
}
