//! Delivering the outbox: email over SMTP (lettre) and webhooks signed as Standard Webhooks
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature`). In-app notifications need no
//! delivery: they are rows written with the change that caused them.

use crate::App;
use crate::error::{AppError, AppResult};
use crate::outbox::{Claimed, EMAIL, RetryPolicy, WEBHOOK};
use anyhow::Context as _;
use base64::Engine as _;
use hmac::Mac as _;
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sqlx::Row as _;

/// How messages leave this node.
#[derive(Clone)]
pub struct Delivery {
    email: Option<EmailTransport>,
    http: reqwest::Client,
    pub policy: RetryPolicy,
    /// Messages claimed at a time by one worker.
    pub batch: i64,
}

#[derive(Clone)]
struct EmailTransport {
    smtp: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The domain of `Message-ID`s.
    domain: String,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("email", &self.email.as_ref().map(|e| e.from.to_string()))
            .field("policy", &self.policy)
            .finish()
    }
}

/// What one delivery run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryReport {
    pub delivered: usize,
    pub retrying: usize,
    pub dead: usize,
}

impl Delivery {
    /// `smtp_url`: `smtp://host:port` (plain, or `?tls=required` for STARTTLS) or
    /// `smtps://user:password@host` — lettre's URL form. Without one, email stays in the outbox.
    pub fn new(smtp_url: Option<&str>, mail_from: &str, policy: RetryPolicy) -> AppResult<Self> {
        let email = match smtp_url {
            None => None,
            Some(url) => {
                let smtp = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| {
                        AppError::invalid("smtp_url", format!("`{url}` is not an SMTP URL: {e}"))
                    })?
                    .timeout(Some(std::time::Duration::from_secs(20)))
                    .build();
                let from: Mailbox = mail_from.parse().map_err(|e| {
                    AppError::invalid(
                        "mail_from",
                        format!("`{mail_from}` is not an email address: {e}"),
                    )
                })?;
                let domain = from.email.domain().to_owned();
                Some(EmailTransport { smtp, from, domain })
            }
        };
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("Accredit-Webhooks/1")
            .build()
            .context("building the webhook client")?;
        Ok(Self {
            email,
            http,
            policy,
            batch: 20,
        })
    }

    /// The channels this node can deliver.
    pub fn channels(&self) -> Vec<&'static str> {
        let mut channels = vec![WEBHOOK];
        if self.email.is_some() {
            channels.insert(0, EMAIL);
        }
        channels
    }
}

/// Signs a webhook as the Standard Webhooks specification says: HMAC-SHA256 over
/// `{id}.{timestamp}.{body}` with the secret's bytes (the base64 after `whsec_`).
pub fn sign_webhook(secret: &str, id: &str, timestamp: i64, body: &str) -> AppResult<String> {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .context("webhook secret is not base64")?;
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).context("webhook secret length")?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// A new endpoint secret: 32 random bytes, in the Standard Webhooks `whsec_` form.
pub fn new_webhook_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

impl App {
    /// Delivers every message of the channels this node can deliver that is due now, one at a
    /// time, recording each outcome before the next send.
    pub async fn deliver_due(&self, delivery: &Delivery) -> AppResult<DeliveryReport> {
        let mut report = DeliveryReport::default();
        for channel in delivery.channels() {
            loop {
                let batch = self
                    .claim_messages(channel, delivery.batch, &delivery.policy)
                    .await?;
                if batch.is_empty() {
                    break;
                }
                for message in &batch {
                    match self.send(delivery, message).await {
                        Ok(()) => {
                            self.mark_delivered(message.id).await?;
                            report.delivered += 1;
                        }
                        Err(failure) => {
                            tracing::warn!(id = message.id, topic = %message.topic, error = %failure.message, "delivery failed");
                            if self
                                .mark_failed(
                                    message,
                                    &failure.message,
                                    failure.permanent,
                                    &delivery.policy,
                                )
                                .await?
                            {
                                report.dead += 1;
                            } else {
                                report.retrying += 1;
                            }
                        }
                    }
                }
            }
        }
        Ok(report)
    }

    async fn send(&self, delivery: &Delivery, message: &Claimed) -> Result<(), Failure> {
        match message.channel.as_str() {
            EMAIL => {
                let transport = delivery
                    .email
                    .as_ref()
                    .ok_or_else(|| Failure::retry("no SMTP server is configured"))?;
                send_email(transport, message).await
            }
            WEBHOOK => self
                .send_webhook(&delivery.http, message)
                .await
                .map_err(Failure::retry),
            other => Err(Failure::permanent(format!("unknown channel `{other}`"))),
        }
    }

    async fn send_webhook(&self, http: &reqwest::Client, message: &Claimed) -> Result<(), String> {
        let row =
            sqlx::query("SELECT url, secret, disabled_at FROM webhook_subscriptions WHERE id = $1")
                .bind(&message.recipient)
                .fetch_optional(self.db.reader())
                .await
                .map_err(|e| format!("reading the subscription: {e}"))?
                .ok_or("the webhook subscription no longer exists")?;
        let url: String = row.try_get("url").map_err(|e| e.to_string())?;
        let secret: String = row.try_get("secret").map_err(|e| e.to_string())?;
        let disabled: Option<String> = row.try_get("disabled_at").map_err(|e| e.to_string())?;
        if disabled.is_some() {
            return Err("the webhook subscription is disabled".into());
        }
        let id = format!("msg_{}", message.id);
        // The moment of sending, not business time: receivers check it against their own
        // clocks to refuse replays, and jobs may run "as of" another day.
        let timestamp = jiff::Timestamp::now().as_second();
        let body = message.payload.to_string();
        let signature = sign_webhook(&secret, &id, timestamp, &body).map_err(|e| e.to_string())?;
        let response = http
            .post(&url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("POST {url}: {e}"))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("POST {url} answered {status}"))
        }
    }
}

/// Why a delivery failed, and whether trying again could help.
struct Failure {
    message: String,
    permanent: bool,
}

impl Failure {
    fn retry(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: false,
        }
    }

    fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: true,
        }
    }
}

async fn send_email(transport: &EmailTransport, message: &Claimed) -> Result<(), Failure> {
    let subject = message.payload["subject"]
        .as_str()
        .ok_or_else(|| Failure::permanent("the message has no subject"))?;
    let body = message.payload["body"]
        .as_str()
        .ok_or_else(|| Failure::permanent("the message has no body"))?;
    let address: lettre::Address = message.recipient.parse().map_err(|e| {
        Failure::permanent(format!(
            "`{}` is not an email address: {e}",
            message.recipient
        ))
    })?;
    let to = Mailbox::new(
        message.payload["to_name"].as_str().map(str::to_owned),
        address,
    );
    let email = lettre::Message::builder()
        .from(transport.from.clone())
        .to(to)
        .subject(subject)
        // Stable across retries, so a receiver can drop a message it already has.
        .message_id(Some(format!(
            "<outbox-{}-{}@{}>",
            message.id,
            message.created_at.replace([':', '.', '-'], ""),
            transport.domain
        )))
        .header(ContentType::TEXT_PLAIN)
        .body(body.to_owned())
        .map_err(|e| Failure::permanent(format!("building the email: {e}")))?;
    transport.smtp.send(email).await.map(|_| ()).map_err(|e| {
        // A 5xx reply (unknown mailbox, refused sender) will not change on retry.
        let permanent = e.is_permanent();
        Failure {
            message: format!("SMTP: {e}"),
            permanent,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_signature_matches_the_standard_webhooks_example() {
        // The example in the Standard Webhooks specification.
        let signature = sign_webhook(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn new_secrets_are_random_and_in_whsec_form() {
        let (a, b) = (new_webhook_secret(), new_webhook_secret());
        assert_ne!(a, b);
        assert!(a.starts_with("whsec_"));
        assert!(sign_webhook(&a, "msg_1", 1, "{}").is_ok());
    }
}
