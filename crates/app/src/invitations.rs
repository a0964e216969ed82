//! Inviting a colleague: the person is created without a password, and a link to set one goes
//! to their address. The link works once and for a limited time; only its hash is stored.

use crate::accounts::{NewPerson, Person};
use crate::clock::format_instant;
use crate::error::{AppError, AppResult};
use crate::secrets::{hash_password, random_secret, sha256_hex};
use crate::{App, Ctx, audit, outbox};
use accredit_domain::{NewPassword, Principal};
use anyhow::Context as _;
use serde::Serialize;
use sqlx::Row as _;

/// How long an invitation link works.
pub const INVITATION_TTL: jiff::SignedDuration = jiff::SignedDuration::from_hours(14 * 24);

#[derive(Debug, Clone, Serialize)]
pub struct Invited {
    pub person: Person,
    pub expires_at: String,
}

/// Whom an invitation link is for, shown on the page where they choose a password.
#[derive(Debug, Clone, Serialize)]
pub struct Invitation {
    pub display_name: String,
    pub email: String,
    pub organisation: Option<String>,
}

impl App {
    /// Adds a person without a password and sends them a link to set one, in one transaction.
    pub async fn invite_person(&self, ctx: &Ctx, mut input: NewPerson) -> AppResult<Invited> {
        input.password = None;
        let valid = self.check_new_person(ctx, &input).await?;
        let now = self.now();
        let token = random_secret();
        let expires_at = format_instant(now + INVITATION_TTL);
        let mut tx = self.db.begin().await?;
        let person = self.insert_person(&mut tx, ctx, &input, valid).await?;
        let invited_by = match &ctx.principal {
            Principal::Person(actor) => actor.person_id.0.clone(),
            _ => "system".to_owned(),
        };
        sqlx::query(
            "INSERT INTO invitations (id, person_id, token_hash, invited_by, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(&person.id)
        .bind(sha256_hex(&token))
        .bind(&invited_by)
        .bind(format_instant(now))
        .bind(&expires_at)
        .execute(&mut *tx)
        .await?;
        let link = format!(
            "{}/invitations/{token}",
            self.config.public_url.trim_end_matches('/')
        );
        let organisation = match &person.partner_id {
            Some(partner) => {
                sqlx::query_scalar::<_, String>("SELECT name FROM partners WHERE id = $1")
                    .bind(partner)
                    .fetch_optional(&mut *tx)
                    .await?
            }
            None => None,
        };
        let vendor = self
            .vendor_name()
            .await?
            .unwrap_or_else(|| "Accredit".into());
        outbox::enqueue(
            &mut tx,
            now,
            "email.invitation",
            &person.email,
            serde_json::json!({
                "person_id": person.id,
                "subject": format!("You are invited to the {vendor} partner portal"),
                "body": format!(
                    "Hello {},\n\nYou have been added to the {vendor} partner portal{}. Choose a password to sign in:\n\n{link}\n\nThe link works once, until {expires_at}.\n",
                    person.display_name,
                    organisation.map(|o| format!(" for {o}")).unwrap_or_default(),
                ),
                "expires_at": expires_at,
            }),
        )
        .await?;
        audit::record(
            &mut tx,
            ctx,
            now,
            "person.invited",
            &format!("person:{}", person.id),
            serde_json::json!({ "email": person.email, "expires_at": expires_at }),
        )
        .await?;
        let touched: Vec<String> = person.partner_id.iter().cloned().collect();
        self.notify_changed(&mut tx, &touched).await?;
        tx.commit().await?;
        self.entitlements_changed(&touched).await?;
        Ok(Invited { person, expires_at })
    }

    /// Who a still valid invitation link is for.
    pub async fn invitation(&self, token: &str) -> AppResult<Invitation> {
        let row = sqlx::query(
            "SELECT pe.display_name, pe.email, pa.name AS organisation, i.expires_at, i.accepted_at
             FROM invitations i JOIN people pe ON pe.id = i.person_id
             LEFT JOIN partners pa ON pa.id = pe.partner_id
             WHERE i.token_hash = $1 AND pe.deactivated_at IS NULL",
        )
        .bind(sha256_hex(token))
        .fetch_optional(self.db.reader())
        .await?;
        let row = usable(row, self.now())?;
        Ok(Invitation {
            display_name: row.try_get("display_name").context("display_name")?,
            email: row.try_get("email").context("email")?,
            organisation: row.try_get("organisation").context("organisation")?,
        })
    }

    /// Sets the invited person's password; the link is spent. Returns their email address, to
    /// sign them in.
    pub async fn accept_invitation(&self, token: &str, password: &str) -> AppResult<String> {
        let password = NewPassword::parse(password)?;
        let hash = hash_password(password.expose().to_owned()).await?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let row = sqlx::query(
            "SELECT i.id, i.person_id, pe.email, i.expires_at, i.accepted_at
             FROM invitations i JOIN people pe ON pe.id = i.person_id
             WHERE i.token_hash = $1 AND pe.deactivated_at IS NULL",
        )
        .bind(sha256_hex(token))
        .fetch_optional(&mut *tx)
        .await?;
        let row = usable(row, now)?;
        let invitation_id: String = row.try_get("id").context("id")?;
        let person_id: String = row.try_get("person_id").context("person_id")?;
        let email: String = row.try_get("email").context("email")?;
        // Accepting is a conditional update, so two tabs racing cannot both use the link.
        let spent = sqlx::query(
            "UPDATE invitations SET accepted_at = $1 WHERE id = $2 AND accepted_at IS NULL",
        )
        .bind(format_instant(now))
        .bind(&invitation_id)
        .execute(&mut *tx)
        .await?;
        if spent.rows_affected() != 1 {
            return Err(AppError::invalid(
                "token",
                "this invitation was already used; sign in with your password",
            ));
        }
        sqlx::query("UPDATE people SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(&hash)
            .bind(format_instant(now))
            .bind(&person_id)
            .execute(&mut *tx)
            .await?;
        let actor = self.load_actor(&mut tx, &person_id).await?;
        let ctx = Ctx::new(Principal::Person(actor), None);
        audit::record(
            &mut tx,
            &ctx,
            now,
            "person.invitation_accepted",
            &format!("person:{person_id}"),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(email)
    }
}

fn usable(row: Option<sqlx::any::AnyRow>, now: jiff::Timestamp) -> AppResult<sqlx::any::AnyRow> {
    crate::secrets::usable_link(
        row,
        "accepted_at",
        now,
        [
            "this invitation link is not valid",
            "this invitation was already used; sign in with your password",
            "this invitation has expired; ask your administrator to invite you again",
        ],
    )
}
