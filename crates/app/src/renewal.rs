//! Renewing a credential inside its renewal window: by the full track again, by a delta module
//! (the sections that changed since the content versions the credential was earned on, plus an
//! optional short exam), or by newly approved practicals. Renewal extends the lineage: a new
//! signed credential that starts where the old one ends and names it (`renewed_from`); the old
//! one is superseded, not revoked.

use crate::clock::format_instant;
use crate::content::VersionComparison;
use crate::error::{AppError, AppResult};
use crate::events::{Notice, emit, notify};
use crate::issuance::content_versions;
use crate::lifecycle::renewal_in_words;
use crate::outbox::{EMAIL, enqueue_once};
use crate::records::{load_programs, parse_date};
use crate::{App, Ctx, audit};
use accredit_domain::lifecycle::{
    RenewalEvidence, lapses_on, next_due, renewal_met, renewal_opens,
};
use accredit_domain::program::{Program, RenewalRequirement, Track};
use accredit_domain::{Action, PersonId, Principal};
use anyhow::Context as _;
use jiff::civil::Date;
use serde::Serialize;
use sqlx::{AnyConnection, Row as _};
use std::collections::BTreeMap;

/// Where a credential stands with renewal, for its holder.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RenewalStatus {
    pub credential_id: String,
    pub program_id: String,
    pub track_id: String,
    pub track_name: String,
    pub status: String,
    pub valid_until: String,
    pub lapses_on: String,
    /// The first day renewal is possible.
    pub opens_on: String,
    pub open: bool,
    /// How renewal works for this track, in words.
    pub requirement: String,
    /// What is still missing, nearest first (empty once renewed or when nothing is).
    pub missing: Vec<String>,
    /// For renewal by delta module: what changed in each module since the credential was earned.
    pub delta: Vec<VersionComparison>,
    /// Whether the holder has read the delta module in this window.
    pub delta_read: bool,
    /// The credential that renewed this one, once renewed.
    pub renewed_by: Option<String>,
}

/// The stored facts about a credential that renewal reads.
pub(crate) struct Held {
    pub(crate) id: String,
    pub(crate) person_id: String,
    pub(crate) email: String,
    pub(crate) name: String,
    pub(crate) partner_id: Option<String>,
    pub(crate) track_id: String,
    pub(crate) status: String,
    pub(crate) valid_until: Date,
    pub(crate) content_versions: BTreeMap<String, i64>,
    pub(crate) delta_read_on: Option<Date>,
}

pub(crate) async fn held(conn: &mut AnyConnection, id: &str) -> AppResult<Option<(Held, String)>> {
    let row = sqlx::query(
        "SELECT c.id, c.person_id, p.email, p.display_name, p.partner_id, c.program_id, c.track_id,
                c.status, c.valid_until, c.content_versions, c.delta_read_on
         FROM credentials c JOIN people p ON p.id = c.person_id WHERE c.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| -> AppResult<_> {
        let versions: Option<String> = row.try_get("content_versions")?;
        let delta: Option<String> = row.try_get("delta_read_on")?;
        Ok((
            Held {
                id: row.try_get("id")?,
                person_id: row.try_get("person_id")?,
                email: row.try_get("email")?,
                name: row.try_get("display_name")?,
                partner_id: row.try_get("partner_id")?,
                track_id: row.try_get("track_id")?,
                status: row.try_get("status")?,
                valid_until: parse_date(&row.try_get::<String, _>("valid_until")?)?,
                content_versions: versions
                    .as_deref()
                    .map(serde_json::from_str)
                    .transpose()
                    .context("content versions")?
                    .unwrap_or_default(),
                delta_read_on: delta.as_deref().map(parse_date).transpose()?,
            },
            row.try_get("program_id")?,
        ))
    })
    .transpose()
}

/// The person's evidence with its latest dates, and the credential's delta reading.
pub(crate) async fn evidence(
    conn: &mut AnyConnection,
    program_id: &str,
    credential: &Held,
) -> AppResult<RenewalEvidence> {
    let day = |text: String| parse_date(&text[..10.min(text.len())]);
    let mut evidence = RenewalEvidence {
        delta_read_on: credential.delta_read_on,
        ..RenewalEvidence::default()
    };
    for row in sqlx::query(
        "SELECT module_id, completed_at FROM module_completions WHERE person_id = $1 AND program_id = $2",
    )
    .bind(&credential.person_id)
    .bind(program_id)
    .fetch_all(&mut *conn)
    .await?
    {
        evidence
            .modules
            .insert(row.try_get("module_id")?, day(row.try_get("completed_at")?)?);
    }
    for row in sqlx::query(
        "SELECT exam_id, passed_at FROM exam_passes WHERE person_id = $1 AND program_id = $2",
    )
    .bind(&credential.person_id)
    .bind(program_id)
    .fetch_all(&mut *conn)
    .await?
    {
        evidence
            .exams
            .insert(row.try_get("exam_id")?, day(row.try_get("passed_at")?)?);
    }
    // The person's own approvals, and their firm's that name nobody.
    for row in sqlx::query(
        "SELECT practical_id, approved_at FROM practical_approvals
         WHERE program_id = $1 AND partner_id = $2 AND (person_id = $3 OR person_id IS NULL)",
    )
    .bind(program_id)
    .bind(&credential.partner_id)
    .bind(&credential.person_id)
    .fetch_all(&mut *conn)
    .await?
    {
        evidence.approvals.push((
            row.try_get("practical_id")?,
            day(row.try_get("approved_at")?)?,
        ));
    }
    Ok(evidence)
}

impl App {
    /// Renews every active credential of the person (or of each person of the partner) in
    /// `program` whose window is open and whose renewal requirement is now met. Runs inside the
    /// transaction that recorded the evidence. Returns the new credentials' ids.
    pub(crate) async fn renew_earned(
        &self,
        tx: &mut AnyConnection,
        ctx: &Ctx,
        program: &Program,
        partner: &str,
        person: Option<&str>,
    ) -> AppResult<Vec<String>> {
        let today = self.today();
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT c.id FROM credentials c JOIN people p ON p.id = c.person_id
             WHERE c.program_id = $1 AND c.status = 'active' AND p.partner_id = $2
               AND ($3 IS NULL OR c.person_id = $3) AND c.valid_until >= $4",
        )
        .bind(&program.id)
        .bind(partner)
        .bind(person)
        .bind(today.to_string())
        .fetch_all(&mut *tx)
        .await?;
        let mut renewed = Vec::new();
        for id in ids {
            let Some((credential, _)) = held(tx, &id).await? else {
                continue;
            };
            let Some(track) = program.track(&credential.track_id) else {
                continue;
            };
            let opens = renewal_opens(credential.valid_until, track.renewal.window_days);
            if today < opens {
                continue;
            }
            let evidence = evidence(tx, &program.id, &credential).await?;
            if renewal_met(program, track, &evidence, opens).is_ok() {
                renewed.push(self.renew(tx, ctx, program, track, &credential).await?);
            }
        }
        Ok(renewed)
    }

    async fn renew(
        &self,
        tx: &mut AnyConnection,
        ctx: &Ctx,
        program: &Program,
        track: &Track,
        old: &Held,
    ) -> AppResult<String> {
        let superseded = sqlx::query(
            "UPDATE credentials SET status = 'superseded', superseded_on = $2, next_due_on = NULL,
               status_changed_at = $3 WHERE id = $1 AND status = 'active'",
        )
        .bind(&old.id)
        .bind(self.today().to_string())
        .bind(format_instant(self.now()))
        .execute(&mut *tx)
        .await?;
        if superseded.rows_affected() == 0 {
            return Err(AppError::Conflict(format!(
                "credential {} is no longer active",
                old.id
            )));
        }
        // The new term starts where the old one ends, so renewing early loses nothing.
        self.successor(tx, ctx, program, track, old, lapses_on(old.valid_until))
            .await
    }

    /// A new signed credential in `old`'s lineage, valid from `starts` for the track's term.
    pub(crate) async fn successor(
        &self,
        tx: &mut AnyConnection,
        ctx: &Ctx,
        program: &Program,
        track: &Track,
        old: &Held,
        starts: Date,
    ) -> AppResult<String> {
        let now = self.now();
        let today = self.today();
        let ends = program.expiry(&track.validity, starts);
        let valid_until = ends.yesterday().unwrap_or(ends);
        let versions = content_versions(tx, program, &track.requires).await?;
        let index: i64 = sqlx::query_scalar(
            "UPDATE counters SET value = value + 1 WHERE name = 'status_index' RETURNING value",
        )
        .fetch_one(&mut *tx)
        .await?;
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO credentials (id, person_id, program_id, track_id, issued_on, valid_until, status, created_at,
                                      content_versions, status_index, next_due_on, renewed_from)
             VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $9, $10, $11)",
        )
        .bind(&id)
        .bind(&old.person_id)
        .bind(&program.id)
        .bind(&track.id)
        .bind(today.to_string())
        .bind(valid_until.to_string())
        .bind(format_instant(now))
        .bind(serde_json::to_string(&versions).context("content versions")?)
        .bind(index)
        .bind(next_due(valid_until, track.renewal.window_days, today).map(|d| d.to_string()))
        .bind(&old.id)
        .execute(&mut *tx)
        .await?;
        // Open recertification tasks follow the lineage.
        sqlx::query(
            "UPDATE recert_tasks SET credential_id = $2 WHERE credential_id = $1 AND completed_on IS NULL AND lapsed_on IS NULL",
        )
        .bind(&old.id)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        self.sign_credential(tx, &id).await?;
        audit::record(
            tx,
            ctx,
            now,
            "credential.renewed",
            &format!("person:{}", old.person_id),
            serde_json::json!({
                "credential": id,
                "renewed_from": old.id,
                "program": program.id,
                "track": track.id,
                "valid_until": valid_until.to_string(),
            }),
        )
        .await?;
        emit(
            tx,
            now,
            "credential.renewed",
            &id,
            serde_json::json!({
                "credential": id,
                "renewed_from": old.id,
                "person": old.person_id,
                "partner": old.partner_id,
                "program": program.id,
                "track": track.id,
                "valid_until": valid_until.to_string(),
            }),
        )
        .await?;
        let link = format!(
            "{}/credentials/{id}",
            self.config.public_url.trim_end_matches('/')
        );
        let subject = format!("Your {} credential is renewed", track.name);
        let body = format!(
            "Hello {name},\n\nYour {track} credential ({program}) is renewed: it is now valid until \
             {valid_until}.\n\n{link}\n",
            name = old.name,
            track = track.name,
            program = program.name,
        );
        enqueue_once(
            tx,
            now,
            EMAIL,
            "lifecycle.renewed",
            &old.email,
            serde_json::json!({ "subject": subject, "body": body, "to_name": old.name, "credential": id, "person": old.person_id }),
            Some(&format!("email:{id}:renewed")),
        )
        .await?;
        notify(
            tx,
            now,
            &old.person_id,
            Notice {
                kind: "renewed",
                title: subject,
                body,
                link: Some(link),
            },
            &format!("notice:{id}:renewed"),
        )
        .await?;
        Ok(id)
    }

    /// Where a credential stands with renewal. Its holder and those who may see them.
    pub async fn renewal(&self, ctx: &Ctx, credential_id: &str) -> AppResult<RenewalStatus> {
        let credential = self.credential(ctx, credential_id).await?;
        let mut conn = self.db.reader().acquire().await?;
        let (held, program_id) = held(&mut conn, &credential.id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("credential {credential_id}")))?;
        let programs = load_programs(&mut conn).await?;
        let program = programs
            .iter()
            .find(|p| p.id == program_id)
            .ok_or_else(|| AppError::NotFound(format!("program {program_id}")))?;
        let track = program
            .track(&held.track_id)
            .ok_or_else(|| AppError::NotFound(format!("track {}", held.track_id)))?;
        let today = self.today();
        let opens = renewal_opens(held.valid_until, track.renewal.window_days);
        let evidence = evidence(&mut conn, &program.id, &held).await?;
        let renewed_by: Option<String> =
            sqlx::query_scalar("SELECT id FROM credentials WHERE renewed_from = $1")
                .bind(&held.id)
                .fetch_optional(&mut *conn)
                .await?;
        drop(conn);
        let missing = if renewed_by.is_some() || held.status != "active" {
            Vec::new()
        } else {
            renewal_met(program, track, &evidence, opens)
                .err()
                .unwrap_or_default()
        };
        let delta = match &track.renewal.requires {
            RenewalRequirement::DeltaModule { .. } => {
                self.delta_module(ctx, &program.id, &held.content_versions)
                    .await?
            }
            _ => Vec::new(),
        };
        Ok(RenewalStatus {
            credential_id: held.id.clone(),
            program_id: program.id.clone(),
            track_id: track.id.clone(),
            track_name: track.name.clone(),
            status: held.status.clone(),
            valid_until: held.valid_until.to_string(),
            lapses_on: lapses_on(held.valid_until).to_string(),
            opens_on: opens.to_string(),
            open: held.status == "active" && today >= opens && today <= held.valid_until,
            requirement: renewal_in_words(program, track),
            missing,
            delta,
            delta_read: held.delta_read_on.is_some_and(|d| d >= opens),
            renewed_by,
        })
    }

    /// The changed sections of each module since the versions a credential was earned on.
    async fn delta_module(
        &self,
        ctx: &Ctx,
        program_id: &str,
        earned_on: &BTreeMap<String, i64>,
    ) -> AppResult<Vec<VersionComparison>> {
        let mut modules = Vec::new();
        for (module, from) in earned_on {
            let latest: Option<i64> = sqlx::query_scalar(
                "SELECT MAX(version) FROM module_versions WHERE program_id = $1 AND module_id = $2",
            )
            .bind(program_id)
            .bind(module)
            .fetch_one(self.db.reader())
            .await?;
            let Some(latest) = latest.filter(|l| l > from) else {
                continue;
            };
            let mut comparison = self
                .compare_versions(ctx, program_id, module, *from, latest)
                .await?;
            comparison.sections.retain(|s| s.change != "unchanged");
            if !comparison.sections.is_empty() {
                modules.push(comparison);
            }
        }
        Ok(modules)
    }

    /// The holder confirms they have read the delta module; if that completes the renewal
    /// requirement, the credential is renewed in the same transaction.
    pub async fn complete_delta_module(
        &self,
        ctx: &Ctx,
        credential_id: &str,
    ) -> AppResult<RenewalStatus> {
        let status = self.renewal(ctx, credential_id).await?;
        let credential = self.credential(ctx, credential_id).await?;
        let is_holder = matches!(&ctx.principal, Principal::Person(actor) if actor.person_id == PersonId::from(credential.person_id.as_str()))
            || ctx.principal == Principal::System;
        if !is_holder {
            return Err(AppError::Forbidden(
                "only the credential's holder can complete its delta module".into(),
            ));
        }
        ctx.authorize(&Action::ReadPrograms, "the program")?;
        let program_uses_delta = status.requirement.contains("delta module");
        if !program_uses_delta {
            return Err(AppError::Conflict(format!(
                "this credential is not renewed by a delta module; to renew: {}",
                status.requirement
            )));
        }
        if !status.open {
            return Err(AppError::Conflict(if status.renewed_by.is_some() {
                "this credential is already renewed".to_owned()
            } else {
                format!(
                    "renewal opens on {} and is possible until {}",
                    status.opens_on, status.valid_until
                )
            }));
        }
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let mut conn = self.db.reader().acquire().await?;
        let program = load_programs(&mut conn)
            .await?
            .into_iter()
            .find(|p| p.id == status.program_id)
            .ok_or_else(|| AppError::NotFound(format!("program {}", status.program_id)))?;
        drop(conn);
        sqlx::query("UPDATE credentials SET delta_read_on = $2 WHERE id = $1")
            .bind(credential_id)
            .bind(self.today().to_string())
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            ctx,
            now,
            "credential.delta_read",
            &format!("credential:{credential_id}"),
            serde_json::json!({ "modules": status.delta.iter().map(|d| &d.module_id).collect::<Vec<_>>() }),
        )
        .await?;
        let partner = credential.partner_id.clone().unwrap_or_default();
        self.renew_earned(
            &mut tx,
            ctx,
            &program,
            &partner,
            Some(&credential.person_id),
        )
        .await?;
        self.refresh_standing(&mut tx, ctx, &partner, None).await?;
        let touched = vec![partner];
        self.notify_changed(&mut tx, &touched).await?;
        tx.commit().await?;
        self.entitlements_changed(&touched).await?;
        self.renewal(ctx, credential_id).await
    }
}
