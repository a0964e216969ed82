//! Triggered recertification: a regulatory update or a major release makes holders of named
//! tracks recertify by a deadline. Each affected credential gets a task; recertifying (the
//! changed modules completed again, the exams testing the changed domains passed again, or the
//! whole track again) completes it; the sweep lapses the credentials whose deadline passed.

use crate::clock::format_instant;
use crate::error::{AppError, AppResult};
use crate::events::{Notice, emit, notify};
use crate::outbox::{EMAIL, enqueue_once};
use crate::records::{load_programs, parse_date};
use crate::renewal::{Held, evidence, held};
use crate::{App, Ctx, audit};
use accredit_domain::lifecycle::{RecertScope, recertified, trigger_covers};
use accredit_domain::program::Program;
use accredit_domain::{Action, InvalidInput};
use anyhow::Context as _;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row as _};
use std::collections::BTreeSet;

/// What a program admin records.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTrigger {
    /// `regulatory-update`, `major-release` or another short word.
    pub kind: String,
    pub reason: String,
    pub tracks: Vec<String>,
    /// Changed modules: only holders whose credential covered one are affected.
    #[serde(default)]
    pub modules: Vec<String>,
    /// Changed exam domains: only holders of tracks whose exams test one are affected.
    #[serde(default)]
    pub domains: Vec<String>,
    /// The last day to recertify (YYYY-MM-DD).
    #[schema(value_type = String, example = "2027-06-30")]
    pub deadline: Date,
}

/// A trigger and how far the affected people are.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TriggerProgress {
    pub id: String,
    pub program_id: String,
    pub kind: String,
    pub reason: String,
    pub tracks: Vec<String>,
    pub modules: Vec<String>,
    pub domains: Vec<String>,
    pub recorded_on: String,
    pub deadline: String,
    pub affected: i64,
    pub done: i64,
    pub lapsed: i64,
    pub open: i64,
}

/// What the sweep did with recertification deadlines.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Lapsed {
    pub credentials: usize,
}

impl App {
    /// Records a trigger and gives every affected holder a task with its deadline, telling
    /// them by email, notification and webhook. Refuses unknown tracks, modules and domains.
    pub async fn record_trigger(
        &self,
        ctx: &Ctx,
        program_id: &str,
        trigger: NewTrigger,
    ) -> AppResult<TriggerProgress> {
        ctx.authorize(&Action::ManageLifecycle, "recertification")?;
        let mut conn = self.db.reader().acquire().await?;
        let program = load_programs(&mut conn)
            .await?
            .into_iter()
            .find(|p| p.id == program_id)
            .ok_or_else(|| AppError::NotFound(format!("program `{program_id}`")))?;
        drop(conn);
        let today = self.today();
        check_trigger(&program, &trigger, today)?;
        let scope = RecertScope {
            modules: trigger.modules.clone(),
            domains: trigger.domains.clone(),
        };
        let now = self.now();
        let id = uuid::Uuid::now_v7().to_string();
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO recert_triggers (id, program_id, kind, reason, tracks, modules, domains, recorded_on, deadline, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&id)
        .bind(&program.id)
        .bind(trigger.kind.trim())
        .bind(trigger.reason.trim())
        .bind(serde_json::to_string(&trigger.tracks).context("tracks")?)
        .bind(serde_json::to_string(&trigger.modules).context("modules")?)
        .bind(serde_json::to_string(&trigger.domains).context("domains")?)
        .bind(today.to_string())
        .bind(trigger.deadline.to_string())
        .bind(ctx.principal.audit_name())
        .bind(format_instant(now))
        .execute(&mut *tx)
        .await?;
        let candidates: Vec<String> = {
            let mut ids = Vec::new();
            for track in &trigger.tracks {
                let rows: Vec<String> = sqlx::query_scalar(
                    "SELECT id FROM credentials WHERE program_id = $1 AND track_id = $2
                     AND status = 'active' AND valid_until >= $3 ORDER BY id",
                )
                .bind(&program.id)
                .bind(track)
                .bind(today.to_string())
                .fetch_all(&mut *tx)
                .await?;
                ids.extend(rows);
            }
            ids
        };
        let mut affected = 0;
        for credential_id in candidates {
            let Some((credential, _)) = held(&mut tx, &credential_id).await? else {
                continue;
            };
            let Some(track) = program.track(&credential.track_id) else {
                continue;
            };
            let earned_on: Vec<String> = credential.content_versions.keys().cloned().collect();
            if !trigger_covers(&program, track, &earned_on, &scope) {
                continue;
            }
            sqlx::query(
                "INSERT INTO recert_tasks (trigger_id, credential_id, person_id, deadline) VALUES ($1, $2, $3, $4)",
            )
            .bind(&id)
            .bind(&credential.id)
            .bind(&credential.person_id)
            .bind(trigger.deadline.to_string())
            .execute(&mut *tx)
            .await?;
            affected += 1;
            let evidence = evidence(&mut tx, &program.id, &credential).await?;
            let what = recertified(&program, track, &scope, &evidence, today)
                .err()
                .unwrap_or_default();
            let subject = format!(
                "Recertify your {} credential by {}",
                track.name, trigger.deadline
            );
            let body = format!(
                "Hello {name},\n\n{reason}\n\nYour {track} credential ({program}) must be recertified by \
                 {deadline}; after that day it lapses.\n\nTo recertify: {what}.\n\n{link}\n",
                name = credential.name,
                reason = trigger.reason.trim(),
                track = track.name,
                program = program.name,
                deadline = trigger.deadline,
                what = what.join("; "),
                link = self.credential_link(&credential.id),
            );
            self.tell_holder(
                &mut tx,
                &credential,
                "recertification",
                &subject,
                &body,
                &format!("recert:{id}:{}", credential.id),
            )
            .await?;
            emit(
                &mut tx,
                now,
                "recertification.required",
                &format!("{id}:{}", credential.id),
                serde_json::json!({
                    "trigger": id,
                    "credential": credential.id,
                    "person": credential.person_id,
                    "partner": credential.partner_id,
                    "program": program.id,
                    "track": track.id,
                    "deadline": trigger.deadline.to_string(),
                }),
            )
            .await?;
        }
        audit::record(
            &mut tx,
            ctx,
            now,
            "recertification.triggered",
            &format!("program:{}", program.id),
            serde_json::json!({
                "trigger": id, "kind": trigger.kind.trim(), "reason": trigger.reason.trim(),
                "tracks": trigger.tracks, "modules": trigger.modules, "domains": trigger.domains,
                "deadline": trigger.deadline.to_string(), "affected": affected,
            }),
        )
        .await?;
        tx.commit().await?;
        self.trigger(ctx, &id).await
    }

    pub(crate) fn credential_link(&self, id: &str) -> String {
        format!(
            "{}/credentials/{id}",
            self.config.public_url.trim_end_matches('/')
        )
    }

    /// An email and a home-page notification to a credential's holder, once per `key`.
    pub(crate) async fn tell_holder(
        &self,
        tx: &mut AnyConnection,
        credential: &Held,
        kind: &str,
        subject: &str,
        body: &str,
        key: &str,
    ) -> AppResult<()> {
        let now = self.now();
        enqueue_once(
            tx,
            now,
            EMAIL,
            &format!("lifecycle.{kind}"),
            &credential.email,
            serde_json::json!({
                "subject": subject, "body": body, "to_name": credential.name,
                "credential": credential.id, "person": credential.person_id,
            }),
            Some(&format!("email:{key}")),
        )
        .await?;
        notify(
            tx,
            now,
            &credential.person_id,
            Notice {
                kind,
                title: subject.to_owned(),
                body: body.to_owned(),
                link: Some(self.credential_link(&credential.id)),
            },
            &format!("notice:{key}"),
        )
        .await?;
        Ok(())
    }

    /// One trigger with its progress.
    pub async fn trigger(&self, ctx: &Ctx, id: &str) -> AppResult<TriggerProgress> {
        ctx.authorize(&Action::ManageLifecycle, "recertification")?;
        self.triggers_where("t.id = $1", id)
            .await?
            .pop()
            .ok_or_else(|| AppError::NotFound(format!("trigger {id}")))
    }

    /// A program's triggers with their progress, newest first.
    pub async fn triggers(&self, ctx: &Ctx, program_id: &str) -> AppResult<Vec<TriggerProgress>> {
        ctx.authorize(&Action::ManageLifecycle, "recertification")?;
        self.triggers_where("t.program_id = $1", program_id).await
    }

    async fn triggers_where(
        &self,
        condition: &str,
        value: &str,
    ) -> AppResult<Vec<TriggerProgress>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT t.id, t.program_id, t.kind, t.reason, t.tracks, t.modules, t.domains, t.recorded_on, t.deadline,
                    COUNT(k.credential_id) AS affected,
                    COUNT(k.completed_on) AS done,
                    COUNT(k.lapsed_on) AS lapsed
             FROM recert_triggers t LEFT JOIN recert_tasks k ON k.trigger_id = t.id
             WHERE {condition}
             GROUP BY t.id, t.program_id, t.kind, t.reason, t.tracks, t.modules, t.domains, t.recorded_on, t.deadline
             ORDER BY t.recorded_on DESC, t.id DESC"
        )))
        .bind(value)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|row| {
                let list = |name: &str| -> AppResult<Vec<String>> {
                    let text: String = row.try_get(name).context("trigger list")?;
                    Ok(serde_json::from_str(&text).context("trigger list")?)
                };
                let affected: i64 = row.try_get("affected").context("affected")?;
                let done: i64 = row.try_get("done").context("done")?;
                let lapsed: i64 = row.try_get("lapsed").context("lapsed")?;
                Ok(TriggerProgress {
                    id: row.try_get("id").context("id")?,
                    program_id: row.try_get("program_id").context("program_id")?,
                    kind: row.try_get("kind").context("kind")?,
                    reason: row.try_get("reason").context("reason")?,
                    tracks: list("tracks")?,
                    modules: list("modules")?,
                    domains: list("domains")?,
                    recorded_on: row.try_get("recorded_on").context("recorded_on")?,
                    deadline: row.try_get("deadline").context("deadline")?,
                    affected,
                    done,
                    lapsed,
                    open: affected - done - lapsed,
                })
            })
            .collect()
    }

    /// Completes the person's (or the partner's people's) recertification tasks in `program`
    /// that their evidence now satisfies, inside the evidence's transaction. A task completed
    /// after its credential lapsed brings the credential back as a new one in its lineage.
    pub(crate) async fn complete_recertifications(
        &self,
        tx: &mut AnyConnection,
        ctx: &Ctx,
        program: &Program,
        partner: &str,
        person: Option<&str>,
    ) -> AppResult<()> {
        let rows = sqlx::query(
            "SELECT k.trigger_id, k.credential_id, k.lapsed_on, t.modules, t.domains, t.recorded_on
             FROM recert_tasks k
             JOIN recert_triggers t ON t.id = k.trigger_id
             JOIN people p ON p.id = k.person_id
             WHERE t.program_id = $1 AND p.partner_id = $2 AND ($3 IS NULL OR k.person_id = $3)
               AND k.completed_on IS NULL",
        )
        .bind(&program.id)
        .bind(partner)
        .bind(person)
        .fetch_all(&mut *tx)
        .await?;
        let now = self.now();
        let today = self.today();
        for row in rows {
            let trigger: String = row.try_get("trigger_id").context("trigger")?;
            let credential_id: String = row.try_get("credential_id").context("credential")?;
            let lapsed: Option<String> = row.try_get("lapsed_on").context("lapsed_on")?;
            let scope = RecertScope {
                modules: serde_json::from_str(&row.try_get::<String, _>("modules")?)
                    .context("modules")?,
                domains: serde_json::from_str(&row.try_get::<String, _>("domains")?)
                    .context("domains")?,
            };
            let since = parse_date(&row.try_get::<String, _>("recorded_on")?)?;
            let Some((credential, _)) = held(tx, &credential_id).await? else {
                continue;
            };
            let Some(track) = program.track(&credential.track_id) else {
                continue;
            };
            let evidence = evidence(tx, &program.id, &credential).await?;
            if recertified(program, track, &scope, &evidence, since).is_err() {
                continue;
            }
            sqlx::query(
                "UPDATE recert_tasks SET completed_on = $3 WHERE trigger_id = $1 AND credential_id = $2",
            )
            .bind(&trigger)
            .bind(&credential_id)
            .bind(today.to_string())
            .execute(&mut *tx)
            .await?;
            audit::record(
                tx,
                ctx,
                now,
                "recertification.completed",
                &format!("credential:{credential_id}"),
                serde_json::json!({ "trigger": trigger, "late": lapsed.is_some() }),
            )
            .await?;
            if lapsed.is_some() && credential.status == "lapsed" {
                self.successor(tx, ctx, program, track, &credential, today)
                    .await?;
            }
        }
        Ok(())
    }

    /// Lapses the credentials whose recertification deadline passed before `as_of` (the sweep
    /// calls this with its shifted clock). Reads only open tasks past their deadline.
    pub(crate) async fn lapse_missed_recertifications(
        &self,
        ctx: &Ctx,
        as_of: Date,
    ) -> AppResult<Lapsed> {
        let mut lapsed = Lapsed::default();
        let programs = {
            let mut conn = self.db.reader().acquire().await?;
            load_programs(&mut conn).await?
        };
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let rows = sqlx::query(
            "SELECT k.trigger_id, k.credential_id, k.deadline, t.reason, t.program_id
             FROM recert_tasks k JOIN recert_triggers t ON t.id = k.trigger_id
             WHERE k.completed_on IS NULL AND k.lapsed_on IS NULL AND k.deadline < $1",
        )
        .bind(as_of.to_string())
        .fetch_all(&mut *tx)
        .await?;
        let mut touched = BTreeSet::new();
        for row in rows {
            let trigger: String = row.try_get("trigger_id").context("trigger")?;
            let credential_id: String = row.try_get("credential_id").context("credential")?;
            let deadline: String = row.try_get("deadline").context("deadline")?;
            let reason: String = row.try_get("reason").context("reason")?;
            let program_id: String = row.try_get("program_id").context("program")?;
            let marked = sqlx::query(
                "UPDATE recert_tasks SET lapsed_on = $3 WHERE trigger_id = $1 AND credential_id = $2 AND lapsed_on IS NULL AND completed_on IS NULL",
            )
            .bind(&trigger)
            .bind(&credential_id)
            .bind(as_of.to_string())
            .execute(&mut *tx)
            .await?;
            if marked.rows_affected() == 0 {
                continue;
            }
            let changed = sqlx::query(
                "UPDATE credentials SET status = 'lapsed', status_reason = $2, status_changed_at = $3, next_due_on = NULL
                 WHERE id = $1 AND status = 'active'",
            )
            .bind(&credential_id)
            .bind(format!("recertification due {deadline} was missed: {reason}"))
            .bind(format_instant(now))
            .execute(&mut *tx)
            .await?;
            if changed.rows_affected() == 0 {
                continue;
            }
            let Some((credential, _)) = held(&mut tx, &credential_id).await? else {
                continue;
            };
            let track_name = programs
                .iter()
                .find(|p| p.id == program_id)
                .and_then(|p| p.track(&credential.track_id))
                .map_or(credential.track_id.clone(), |t| t.name.clone());
            let subject = format!("Your {track_name} credential has lapsed");
            let body = format!(
                "Hello {name},\n\nYour {track_name} credential lapsed because its recertification, due \
                 {deadline}, was not completed ({reason}).\n\nCompleting the recertification restores it.\n\n{link}\n",
                name = credential.name,
                link = self.credential_link(&credential.id),
            );
            self.tell_holder(
                &mut tx,
                &credential,
                "lapsed",
                &subject,
                &body,
                &format!("lapsed:{trigger}:{credential_id}"),
            )
            .await?;
            emit(
                &mut tx,
                now,
                "credential.lapsed",
                &format!("{trigger}:{credential_id}"),
                serde_json::json!({
                    "credential": credential_id, "person": credential.person_id,
                    "partner": credential.partner_id, "program": program_id,
                    "track": credential.track_id, "trigger": trigger, "deadline": deadline,
                }),
            )
            .await?;
            audit::record(
                &mut tx,
                ctx,
                now,
                "credential.lapsed",
                &format!("credential:{credential_id}"),
                serde_json::json!({ "trigger": trigger, "deadline": deadline }),
            )
            .await?;
            if let Some(partner) = &credential.partner_id {
                touched.insert(partner.clone());
            }
            lapsed.credentials += 1;
        }
        for partner in &touched {
            self.refresh_standing(&mut tx, ctx, partner, None).await?;
        }
        let touched: Vec<String> = touched.into_iter().collect();
        self.notify_changed(&mut tx, &touched).await?;
        tx.commit().await?;
        self.entitlements_changed(&touched).await?;
        Ok(lapsed)
    }
}

fn check_trigger(program: &Program, trigger: &NewTrigger, today: Date) -> AppResult<()> {
    let mut problems = Vec::new();
    let known = |kind: &str, ids: Vec<&str>, given: &[String], problems: &mut Vec<InvalidInput>| {
        for id in given {
            if !ids.contains(&id.as_str()) {
                problems.push(InvalidInput::new(
                    kind,
                    format!(
                        "program `{}` has no {} `{id}`; it has {}",
                        program.id,
                        kind.trim_end_matches('s'),
                        if ids.is_empty() {
                            "none".to_owned()
                        } else {
                            ids.join(", ")
                        }
                    ),
                ));
            }
        }
    };
    if trigger.tracks.is_empty() {
        problems.push(InvalidInput::new(
            "tracks",
            "name at least one affected track",
        ));
    }
    known(
        "tracks",
        program.tracks.iter().map(|t| t.id.as_str()).collect(),
        &trigger.tracks,
        &mut problems,
    );
    known(
        "modules",
        program.modules.iter().map(|m| m.id.as_str()).collect(),
        &trigger.modules,
        &mut problems,
    );
    known(
        "domains",
        program
            .exams
            .iter()
            .filter_map(|e| e.blueprint.as_ref())
            .flat_map(|b| b.domains.iter().map(|d| d.id.as_str()))
            .collect(),
        &trigger.domains,
        &mut problems,
    );
    if trigger.reason.trim().chars().count() < 5 {
        problems.push(InvalidInput::new(
            "reason",
            "say what changed (at least 5 characters); affected people read it",
        ));
    }
    if trigger.kind.trim().is_empty() || trigger.kind.trim().len() > 40 {
        problems.push(InvalidInput::new(
            "kind",
            "a short word such as regulatory-update or major-release",
        ));
    }
    if trigger.deadline <= today {
        problems.push(InvalidInput::new(
            "deadline",
            format!("{} is not after today ({today})", trigger.deadline),
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(problems))
    }
}
