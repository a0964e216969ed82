//! Messages for the outside world, written in the same transaction as the change that caused
//! them; a dispatcher delivers them only after that transaction committed.

use crate::App;
use crate::clock::format_instant;
use crate::error::AppResult;
use anyhow::Context as _;
use serde::Serialize;
use sqlx::{AnyConnection, Row as _};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: i64,
    pub topic: String,
    pub recipient: String,
    pub payload: serde_json::Value,
}

pub(crate) async fn enqueue(
    conn: &mut AnyConnection,
    now: jiff::Timestamp,
    topic: &str,
    recipient: &str,
    payload: serde_json::Value,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO outbox (topic, recipient, payload, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(topic)
    .bind(recipient)
    .bind(payload.to_string())
    .bind(format_instant(now))
    .execute(conn)
    .await
    .context("writing to the outbox")?;
    Ok(())
}

impl App {
    /// Messages not yet delivered, oldest first.
    pub async fn pending_messages(&self, topic: Option<&str>) -> AppResult<Vec<OutboxMessage>> {
        let rows = sqlx::query(
            "SELECT id, topic, recipient, payload FROM outbox
             WHERE dispatched_at IS NULL AND ($1 IS NULL OR topic = $1) ORDER BY id",
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
}
