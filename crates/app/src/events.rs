//! Events for other systems (webhooks) and for people (in-app notifications), both written in
//! the transaction of the change they report.

use crate::clock::format_instant;
use crate::delivery::new_webhook_secret;
use crate::error::{AppError, AppResult};
use crate::outbox::{NewMessage, WEBHOOK, enqueue_many, enqueue_once};
use crate::{App, Ctx, audit};
use accredit_domain::Action;
use anyhow::Context as _;
use serde::Serialize;
use sqlx::{AnyConnection, Row as _};

/// The events a webhook can subscribe to.
pub const EVENT_TYPES: &[&str] = &[
    "credential.issued",
    "credential.expiring",
    "credential.renewed",
    "credential.expired",
    "credential.revoked",
    "credential.suspended",
    "credential.lapsed",
    "tier.changed",
    "remediation.opened",
    "remediation.closed",
    "recertification.required",
];

/// Enabled webhook subscriptions: (id, events).
pub(crate) type Subscriptions = Vec<(String, Vec<String>)>;

pub(crate) async fn subscriptions(conn: &mut AnyConnection) -> AppResult<Subscriptions> {
    let rows =
        sqlx::query("SELECT id, events FROM webhook_subscriptions WHERE disabled_at IS NULL")
            .fetch_all(&mut *conn)
            .await?;
    rows.iter()
        .map(|row| {
            let events: String = row.try_get("events").context("subscription events")?;
            Ok((
                row.try_get("id").context("subscription id")?,
                serde_json::from_str(&events).context("subscription events")?,
            ))
        })
        .collect()
}

/// The webhook messages `event` makes: one per subscription that asked for it, deduplicated by
/// `cause` (a key naming what happened, e.g. the credential and the event).
pub(crate) fn webhook_messages(
    subscriptions: &Subscriptions,
    now: jiff::Timestamp,
    event: &str,
    cause: &str,
    data: &serde_json::Value,
) -> Vec<NewMessage> {
    debug_assert!(EVENT_TYPES.contains(&event), "unknown event {event}");
    let payload = serde_json::json!({
        "type": event,
        "timestamp": now.to_string(),
        "data": data,
    });
    subscriptions
        .iter()
        .filter(|(_, events)| events.iter().any(|e| e == event))
        .map(|(id, _)| NewMessage {
            channel: WEBHOOK,
            topic: event.to_owned(),
            recipient: id.clone(),
            payload: payload.clone(),
            dedup_key: format!("webhook:{event}:{cause}:{id}"),
        })
        .collect()
}

/// Sends `event` to every enabled subscription that asked for it, once per `cause`.
pub(crate) async fn emit(
    conn: &mut AnyConnection,
    now: jiff::Timestamp,
    event: &str,
    cause: &str,
    data: serde_json::Value,
) -> AppResult<()> {
    let subscriptions = subscriptions(conn).await?;
    let messages = webhook_messages(&subscriptions, now, event, cause, &data);
    enqueue_many(conn, now, &messages).await
}

/// A message on a person's home page.
pub(crate) struct Notice<'a> {
    pub kind: &'a str,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
}

/// Writes a notification once per `dedup_key`.
pub(crate) async fn notify(
    conn: &mut AnyConnection,
    now: jiff::Timestamp,
    person_id: &str,
    notice: Notice<'_>,
    dedup_key: &str,
) -> AppResult<()> {
    notify_many(
        conn,
        now,
        &[(person_id.to_owned(), notice, dedup_key.to_owned())],
    )
    .await
}

/// Writes many notifications (person, notice, deduplication key) in few statements.
pub(crate) async fn notify_many(
    conn: &mut AnyConnection,
    now: jiff::Timestamp,
    notices: &[(String, Notice<'_>, String)],
) -> AppResult<()> {
    let at = format_instant(now);
    for chunk in notices.chunks(crate::outbox::ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO notifications (id, person_id, kind, title, body, link, dedup_key, created_at)
             VALUES {} ON CONFLICT (dedup_key) DO NOTHING",
            crate::outbox::placeholders(chunk.len(), 8)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (person, notice, key) in chunk {
            query = query
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(person.clone())
                .bind(notice.kind)
                .bind(notice.title.clone())
                .bind(notice.body.clone())
                .bind(notice.link.clone())
                .bind(key.clone())
                .bind(at.clone());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Notification {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub created_at: String,
    pub read: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct WebhookSubscription {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    /// The signing secret (`whsec_…`): the receiver needs it to check signatures.
    pub secret: String,
    pub created_at: String,
    pub disabled: bool,
}

fn subscription_from_row(row: &sqlx::any::AnyRow) -> AppResult<WebhookSubscription> {
    let events: String = row.try_get("events").context("events")?;
    Ok(WebhookSubscription {
        id: row.try_get("id").context("id")?,
        url: row.try_get("url").context("url")?,
        events: serde_json::from_str(&events).context("events")?,
        secret: row.try_get("secret").context("secret")?,
        created_at: row.try_get("created_at").context("created_at")?,
        disabled: row
            .try_get::<Option<String>, _>("disabled_at")
            .context("disabled_at")?
            .is_some(),
    })
}

/// Checks a webhook endpoint: an absolute http(s) URL with a host.
pub fn check_webhook_url(url: &str) -> AppResult<()> {
    let parsed = reqwest::Url::parse(url.trim())
        .map_err(|e| AppError::invalid("url", format!("`{url}` is not a URL: {e}")))?;
    if !["http", "https"].contains(&parsed.scheme()) {
        return Err(AppError::invalid(
            "url",
            format!(
                "`{url}` uses `{}:`; webhooks are sent over http:// or https://",
                parsed.scheme()
            ),
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(AppError::invalid("url", format!("`{url}` names no host")));
    }
    Ok(())
}

impl App {
    /// The signed-in person's notifications, newest first.
    pub async fn my_notifications(&self, ctx: &Ctx, limit: i64) -> AppResult<Vec<Notification>> {
        match &ctx.principal {
            accredit_domain::Principal::Person(actor) => {
                self.notifications(actor.person_id.as_str(), limit.clamp(1, 200))
                    .await
            }
            _ => Err(AppError::Forbidden(
                "notifications belong to people; sign in as one".into(),
            )),
        }
    }

    /// A person's notifications, newest first.
    pub async fn notifications(&self, person_id: &str, limit: i64) -> AppResult<Vec<Notification>> {
        let rows = sqlx::query(
            "SELECT id, kind, title, body, link, created_at, read_at FROM notifications
             WHERE person_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(person_id)
        .bind(limit)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Notification {
                    id: row.try_get("id").context("id")?,
                    kind: row.try_get("kind").context("kind")?,
                    title: row.try_get("title").context("title")?,
                    body: row.try_get("body").context("body")?,
                    link: row.try_get("link").context("link")?,
                    created_at: row.try_get("created_at").context("created_at")?,
                    read: row
                        .try_get::<Option<String>, _>("read_at")
                        .context("read_at")?
                        .is_some(),
                })
            })
            .collect()
    }

    /// Subscribes an endpoint to events. Refuses a URL that is not http(s) and unknown events.
    pub async fn create_webhook(
        &self,
        ctx: &Ctx,
        url: &str,
        events: &[String],
    ) -> AppResult<WebhookSubscription> {
        ctx.authorize(&Action::ManageLifecycle, "webhooks")?;
        let mut problems = Vec::new();
        if let Err(AppError::Invalid(mut p)) = check_webhook_url(url) {
            problems.append(&mut p);
        }
        if events.is_empty() {
            problems.push(accredit_domain::InvalidInput::new(
                "events",
                format!("name at least one event: {}", EVENT_TYPES.join(", ")),
            ));
        }
        for event in events {
            if !EVENT_TYPES.contains(&event.as_str()) {
                problems.push(accredit_domain::InvalidInput::new(
                    "events",
                    format!(
                        "`{event}` is not an event; choose from {}",
                        EVENT_TYPES.join(", ")
                    ),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(AppError::Invalid(problems));
        }
        let now = self.now();
        let id = uuid::Uuid::now_v7().to_string();
        let mut events = events.to_vec();
        events.sort();
        events.dedup();
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO webhook_subscriptions (id, url, events, secret, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(url.trim())
        .bind(serde_json::to_string(&events).context("events")?)
        .bind(new_webhook_secret())
        .bind(ctx.principal.audit_name())
        .bind(format_instant(now))
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            ctx,
            now,
            "webhook.created",
            &format!("webhook:{id}"),
            serde_json::json!({ "url": url.trim(), "events": events }),
        )
        .await?;
        tx.commit().await?;
        self.webhook(ctx, &id).await
    }

    pub async fn webhooks(&self, ctx: &Ctx) -> AppResult<Vec<WebhookSubscription>> {
        ctx.authorize(&Action::ManageLifecycle, "webhooks")?;
        let rows = sqlx::query(
            "SELECT id, url, events, secret, created_at, disabled_at FROM webhook_subscriptions ORDER BY created_at, id",
        )
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(subscription_from_row).collect()
    }

    pub async fn webhook(&self, ctx: &Ctx, id: &str) -> AppResult<WebhookSubscription> {
        ctx.authorize(&Action::ManageLifecycle, "webhooks")?;
        let row = sqlx::query(
            "SELECT id, url, events, secret, created_at, disabled_at FROM webhook_subscriptions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.db.reader())
        .await?
        .ok_or_else(|| AppError::NotFound(format!("webhook {id}")))?;
        subscription_from_row(&row)
    }

    /// Stops sending to an endpoint. Messages already queued for it fail and go dead.
    pub async fn disable_webhook(&self, ctx: &Ctx, id: &str) -> AppResult<WebhookSubscription> {
        ctx.authorize(&Action::ManageLifecycle, "webhooks")?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let done = sqlx::query(
            "UPDATE webhook_subscriptions SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL",
        )
        .bind(id)
        .bind(format_instant(now))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(self.webhook(ctx, id).await.err().unwrap_or_else(|| {
                AppError::Conflict(format!("webhook {id} is already disabled"))
            }));
        }
        audit::record(
            &mut tx,
            ctx,
            now,
            "webhook.disabled",
            &format!("webhook:{id}"),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        self.webhook(ctx, id).await
    }

    /// Queues a `webhook.test` event to one endpoint, whatever it subscribes to.
    pub async fn send_test_event(&self, ctx: &Ctx, id: &str) -> AppResult<i64> {
        let subscription = self.webhook(ctx, id).await?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let payload = serde_json::json!({
            "type": "webhook.test",
            "timestamp": now.to_string(),
            "data": { "subscription": subscription.id },
        });
        enqueue_once(&mut tx, now, WEBHOOK, "webhook.test", id, payload, None).await?;
        let message: i64 = sqlx::query_scalar("SELECT MAX(id) FROM outbox WHERE recipient = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(message)
    }
}
