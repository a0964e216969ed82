//! Credentials as people and administrators see them: a person's credentials, one credential,
//! and revoking or suspending one (with a reason, audited; the tier is re-evaluated at once).

use crate::clock::format_instant;
use crate::error::{AppError, AppResult};
use crate::{App, Ctx, audit};
use accredit_domain::Action;
use anyhow::Context as _;
use serde::Serialize;
use sqlx::Row as _;
use sqlx::any::AnyRow;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CredentialView {
    pub id: String,
    pub person_id: String,
    pub person_name: String,
    pub partner_id: Option<String>,
    pub program_id: String,
    pub track_id: String,
    pub issued_on: String,
    /// The last day the credential is valid.
    pub valid_until: String,
    /// `active`, `expired`, `superseded` (renewed), `lapsed` (recertification missed),
    /// `suspended` or `revoked`.
    pub status: String,
    /// Why it was suspended or revoked.
    pub status_reason: Option<String>,
    /// Module versions the credential was earned on.
    pub content_versions: BTreeMap<String, i64>,
    /// Position in the deployment's status list, for credentials Accredit issued.
    pub status_index: Option<i64>,
    /// The credential this one renewed, if any: its lineage.
    pub renewed_from: Option<String>,
}

const SELECT: &str =
    "SELECT c.id, c.person_id, p.display_name, p.partner_id, c.program_id, c.track_id, c.issued_on,
        c.valid_until, c.status, c.status_reason, c.content_versions, c.status_index, c.renewed_from
 FROM credentials c JOIN people p ON p.id = c.person_id";

fn view(row: &AnyRow) -> AppResult<CredentialView> {
    let versions: Option<String> = row
        .try_get("content_versions")
        .context("content_versions")?;
    Ok(CredentialView {
        id: row.try_get("id").context("id")?,
        person_id: row.try_get("person_id").context("person_id")?,
        person_name: row.try_get("display_name").context("display_name")?,
        partner_id: row.try_get("partner_id").context("partner_id")?,
        program_id: row.try_get("program_id").context("program_id")?,
        track_id: row.try_get("track_id").context("track_id")?,
        issued_on: row.try_get("issued_on").context("issued_on")?,
        valid_until: row.try_get("valid_until").context("valid_until")?,
        status: row.try_get("status").context("status")?,
        status_reason: row.try_get("status_reason").context("status_reason")?,
        content_versions: versions
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .context("stored content versions")?
            .unwrap_or_default(),
        status_index: row.try_get("status_index").context("status_index")?,
        renewed_from: row.try_get("renewed_from").context("renewed_from")?,
    })
}

impl App {
    /// A person's credentials, newest first; others' people are not found.
    pub async fn credentials_of(
        &self,
        ctx: &Ctx,
        person_id: &str,
    ) -> AppResult<Vec<CredentialView>> {
        // Reading the person checks the caller may see them.
        self.get_person(ctx, person_id).await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE c.person_id = $1 ORDER BY c.issued_on DESC, c.created_at DESC"
        )))
        .bind(person_id)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(view).collect()
    }

    /// Credentials whose holder's name or email, or whose track, contains `query` (program
    /// admins), newest first, at most 200.
    pub async fn search_credentials(
        &self,
        ctx: &Ctx,
        query: &str,
    ) -> AppResult<Vec<CredentialView>> {
        ctx.authorize(&Action::ManagePrograms, "credentials")?;
        let pattern = format!("%{}%", query.trim().to_lowercase());
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE LOWER(p.display_name) LIKE $1 OR LOWER(p.email) LIKE $1 OR LOWER(c.track_id) LIKE $1
             ORDER BY c.created_at DESC LIMIT 200"
        )))
        .bind(pattern)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(view).collect()
    }

    /// One credential, for anyone who may see its holder.
    pub async fn credential(&self, ctx: &Ctx, id: &str) -> AppResult<CredentialView> {
        let credential = self.credential_unchecked(id).await?;
        self.get_person(ctx, &credential.person_id)
            .await
            .map_err(|_| AppError::NotFound(format!("credential `{id}`")))?;
        Ok(credential)
    }

    /// One credential without an access check: for public verification, which shows only what
    /// the credential itself says.
    pub(crate) async fn credential_unchecked(&self, id: &str) -> AppResult<CredentialView> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE c.id = $1")))
            .bind(id)
            .fetch_optional(self.db.reader())
            .await?
            .ok_or_else(|| AppError::NotFound(format!("credential `{id}`")))?;
        view(&row)
    }

    /// Revokes (for good) or suspends (until reinstated) a credential, with a reason. The
    /// partner's tier and entitlements follow in the same transaction.
    pub async fn set_credential_status(
        &self,
        ctx: &Ctx,
        id: &str,
        status: &str,
        reason: &str,
    ) -> AppResult<CredentialView> {
        let credential = self.credential(ctx, id).await?;
        let partner = credential.partner_id.clone().unwrap_or_default();
        ctx.authorize(&Action::ManagePrograms, "credentials")?;
        if !["revoked", "suspended", "active"].contains(&status) {
            return Err(AppError::invalid(
                "status",
                "must be `revoked`, `suspended` or `active`",
            ));
        }
        let reason = reason.trim();
        if status != "active" && reason.len() < 5 {
            return Err(AppError::invalid(
                "reason",
                "say why (at least 5 characters)",
            ));
        }
        let allowed = matches!(
            (credential.status.as_str(), status),
            ("active", "revoked" | "suspended") | ("suspended", "revoked" | "active")
        );
        if !allowed {
            return Err(AppError::Conflict(format!(
                "a {} credential cannot become {status}",
                credential.status
            )));
        }
        let now = self.now();
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "UPDATE credentials SET status = $1, status_reason = $2, status_changed_at = $3 WHERE id = $4",
        )
        .bind(status)
        .bind(if status == "active" { None } else { Some(reason) })
        .bind(format_instant(now))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let action = match status {
            "revoked" => "credential.revoked",
            "suspended" => "credential.suspended",
            _ => "credential.reinstated",
        };
        audit::record(
            &mut tx,
            ctx,
            now,
            action,
            &format!("credential:{id}"),
            serde_json::json!({ "person": credential.person_id, "track": credential.track_id, "reason": reason }),
        )
        .await?;
        if status != "active" {
            crate::events::emit(
                &mut tx,
                now,
                action,
                &format!("{id}:{}", format_instant(now)),
                serde_json::json!({
                    "credential": id,
                    "person": credential.person_id,
                    "partner": partner,
                    "program": credential.program_id,
                    "track": credential.track_id,
                    "reason": reason,
                }),
            )
            .await?;
        }
        let touched = vec![partner.clone()];
        self.refresh_standing(&mut tx, ctx, &partner, None).await?;
        self.notify_changed(&mut tx, &touched).await?;
        tx.commit().await?;
        self.entitlements_changed(&touched).await?;
        self.credential_unchecked(id).await
    }
}
