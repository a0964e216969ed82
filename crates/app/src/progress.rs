//! A learner's progress through a module: sections read, time spent, and completing the
//! module once every section of its current version is read — which counts towards tracks.

use crate::clock::format_instant;
use crate::error::{AppError, AppResult};
use crate::evidence::Evidence;
use crate::{App, Ctx, audit};
use accredit_domain::Principal;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ModuleProgress {
    pub program_id: String,
    pub module_id: String,
    pub version: i64,
    pub sections_total: usize,
    /// Ids of the current version's sections the person has read.
    pub sections_read: Vec<String>,
    pub seconds_spent: i64,
    pub completed: bool,
}

pub(crate) fn person_of(ctx: &Ctx) -> AppResult<String> {
    match &ctx.principal {
        Principal::Person(actor) => Ok(actor.person_id.0.clone()),
        _ => Err(AppError::Forbidden(
            "progress belongs to a signed-in person".into(),
        )),
    }
}

impl App {
    /// Marks a section read by the signed-in person.
    pub async fn mark_section_read(&self, ctx: &Ctx, section_id: &str) -> AppResult<()> {
        let person = person_of(ctx)?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let exists: Option<String> = sqlx::query_scalar("SELECT id FROM sections WHERE id = $1")
            .bind(section_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(AppError::NotFound(format!("section `{section_id}`")));
        }
        let inserted = sqlx::query(
            "INSERT INTO section_reads (person_id, section_id, read_at) VALUES ($1, $2, $3)
             ON CONFLICT (person_id, section_id) DO NOTHING",
        )
        .bind(&person)
        .bind(section_id)
        .bind(format_instant(now))
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() > 0 {
            audit::record(
                &mut tx,
                ctx,
                now,
                "section.read",
                &format!("person:{person}"),
                serde_json::json!({ "section": section_id }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds study time (at most an hour per report, so a forgotten tab cannot inflate it).
    pub async fn record_study_time(
        &self,
        ctx: &Ctx,
        program_id: &str,
        module_id: &str,
        seconds: i64,
    ) -> AppResult<i64> {
        let person = person_of(ctx)?;
        if !(1..=3600).contains(&seconds) {
            return Err(AppError::invalid("seconds", "must be between 1 and 3600"));
        }
        self.get_program(ctx, program_id)
            .await?
            .modules
            .iter()
            .find(|m| m.id == module_id)
            .ok_or_else(|| AppError::NotFound(format!("module `{module_id}`")))?;
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO module_time (person_id, program_id, module_id, seconds) VALUES ($1, $2, $3, $4)
             ON CONFLICT (person_id, program_id, module_id) DO UPDATE SET seconds = module_time.seconds + excluded.seconds",
        )
        .bind(&person)
        .bind(program_id)
        .bind(module_id)
        .bind(seconds)
        .execute(&mut *tx)
        .await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT seconds FROM module_time WHERE person_id = $1 AND program_id = $2 AND module_id = $3",
        )
        .bind(&person)
        .bind(program_id)
        .bind(module_id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(total)
    }

    /// The signed-in person's progress through a module's current version.
    pub async fn module_progress(
        &self,
        ctx: &Ctx,
        program_id: &str,
        module_id: &str,
    ) -> AppResult<ModuleProgress> {
        let person = person_of(ctx)?;
        let version = self
            .module_version(ctx, program_id, module_id, None)
            .await?;
        let ids: Vec<String> = version
            .documents
            .iter()
            .flat_map(|d| &d.sections)
            .map(|s| s.id.clone())
            .collect();
        let read: Vec<String> = sqlx::query_scalar(
            "SELECT r.section_id FROM section_reads r JOIN sections s ON s.id = r.section_id
             JOIN module_versions v ON v.id = s.module_version_id
             WHERE r.person_id = $1 AND v.program_id = $2 AND v.module_id = $3 AND v.version = $4",
        )
        .bind(&person)
        .bind(program_id)
        .bind(module_id)
        .bind(version.version)
        .fetch_all(self.db.reader())
        .await?;
        let seconds: Option<i64> = sqlx::query_scalar(
            "SELECT seconds FROM module_time WHERE person_id = $1 AND program_id = $2 AND module_id = $3",
        )
        .bind(&person)
        .bind(program_id)
        .bind(module_id)
        .fetch_optional(self.db.reader())
        .await?;
        let completed: Option<String> = sqlx::query_scalar(
            "SELECT completed_at FROM module_completions WHERE person_id = $1 AND program_id = $2 AND module_id = $3",
        )
        .bind(&person)
        .bind(program_id)
        .bind(module_id)
        .fetch_optional(self.db.reader())
        .await?;
        Ok(ModuleProgress {
            program_id: program_id.to_owned(),
            module_id: module_id.to_owned(),
            version: version.version,
            sections_total: ids.len(),
            sections_read: ids.into_iter().filter(|id| read.contains(id)).collect(),
            seconds_spent: seconds.unwrap_or(0),
            completed: completed.is_some(),
        })
    }

    /// Completes a module for the signed-in person once they have read every section of its
    /// current version; the completion counts towards their tracks.
    pub async fn complete_module(
        &self,
        ctx: &Ctx,
        program_id: &str,
        module_id: &str,
    ) -> AppResult<ModuleProgress> {
        let person = person_of(ctx)?;
        if !matches!(&ctx.principal, Principal::Person(actor) if actor.partner_id.is_some()) {
            return Err(AppError::Forbidden(
                "module completion counts towards partner staff's tracks; vendor staff read without completing".into(),
            ));
        }
        let progress = self.module_progress(ctx, program_id, module_id).await?;
        if progress.completed {
            // Completing again on a later day refreshes the date, which renewal by the full
            // track reads; the same day changes nothing.
            let completed_at: Option<String> = sqlx::query_scalar(
                "SELECT completed_at FROM module_completions WHERE person_id = $1 AND program_id = $2 AND module_id = $3",
            )
            .bind(&person)
            .bind(program_id)
            .bind(module_id)
            .fetch_optional(self.db.reader())
            .await?;
            if completed_at.is_some_and(|at| at.starts_with(&self.today().to_string())) {
                return Ok(progress);
            }
        }
        let unread = progress.sections_total - progress.sections_read.len();
        if unread > 0 {
            return Err(AppError::invalid(
                "module",
                format!(
                    "{unread} of {} sections are not read yet",
                    progress.sections_total
                ),
            ));
        }
        let evidence = Evidence::ModuleCompleted {
            person,
            module: module_id.to_owned(),
        };
        self.record_evidence_for(ctx, program_id, evidence).await?;
        self.module_progress(ctx, program_id, module_id).await
    }
}
