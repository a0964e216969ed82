//! Recording what people achieve — modules completed, exams passed, practicals approved,
//! credentials held — and partners' health scores. Each record re-evaluates the partner's tier
//! and entitlements in the same transaction. Later features (content progress, exam scoring,
//! reviews, issuance, health imports) write through these.

use crate::clock::format_instant;
use crate::error::{AppError, AppResult};
use crate::records::load_programs;
use crate::{App, Ctx, audit};
use accredit_domain::Action;
use accredit_domain::program::Program;
use anyhow::Context as _;
use jiff::civil::Date;
use sqlx::{AnyConnection, Row as _};

/// What was achieved.
#[derive(Debug, Clone)]
pub enum Evidence {
    ModuleCompleted {
        person: String,
        module: String,
    },
    ExamPassed {
        person: String,
        exam: String,
    },
    PracticalApproved {
        partner: String,
        person: Option<String>,
        practical: String,
    },
    /// A credential issued on a date; its end follows the track's validity policy.
    CredentialIssued {
        person: String,
        track: String,
        issued_on: Date,
    },
    HealthScore {
        partner: String,
        quarter: String,
        score: f64,
    },
}

async fn program(conn: &mut AnyConnection, id: &str) -> AppResult<Program> {
    load_programs(conn)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| AppError::invalid("program_id", format!("no program `{id}` is applied")))
}

async fn partner_of(conn: &mut AnyConnection, person: &str) -> AppResult<String> {
    let row = sqlx::query("SELECT partner_id FROM people WHERE id = $1")
        .bind(person)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("person `{person}`")))?;
    row.try_get::<Option<String>, _>("partner_id")
        .context("partner_id")?
        .ok_or_else(|| AppError::invalid("person", "vendor staff do not hold partner records"))
}

fn known(kind: &str, id: &str, ids: &[&str], program: &Program) -> AppResult<()> {
    if ids.contains(&id) {
        Ok(())
    } else {
        Err(AppError::invalid(
            kind,
            format!("program `{}` has no {kind} `{id}`", program.id),
        ))
    }
}

impl App {
    /// Records one piece of evidence in `program_id` and re-evaluates the partner.
    pub async fn record_evidence(
        &self,
        ctx: &Ctx,
        program_id: &str,
        evidence: Evidence,
    ) -> AppResult<()> {
        ctx.authorize(&Action::ManagePrograms, "programs")?;
        self.record_evidence_for(ctx, program_id, evidence).await
    }

    /// Records evidence a use case has already decided the caller may produce (a learner
    /// completing their own module).
    pub(crate) async fn record_evidence_for(
        &self,
        ctx: &Ctx,
        program_id: &str,
        evidence: Evidence,
    ) -> AppResult<()> {
        let now = self.now();
        let at = format_instant(now);
        let mut tx = self.db.begin().await?;
        let program = program(&mut tx, program_id).await?;
        let ids = program.ids();
        let (partner, action, subject, summary) = match &evidence {
            Evidence::ModuleCompleted { person, module } => {
                known("module", module, &ids["module"], &program)?;
                let partner = partner_of(&mut tx, person).await?;
                sqlx::query(
                    "INSERT INTO module_completions (person_id, program_id, module_id, completed_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (person_id, program_id, module_id) DO UPDATE SET completed_at = excluded.completed_at",
                )
                .bind(person)
                .bind(program_id)
                .bind(module)
                .bind(&at)
                .execute(&mut *tx)
                .await?;
                (
                    partner,
                    "module.completed",
                    format!("person:{person}"),
                    serde_json::json!({ "program": program_id, "module": module }),
                )
            }
            Evidence::ExamPassed { person, exam } => {
                known("exam", exam, &ids["exam"], &program)?;
                let partner = partner_of(&mut tx, person).await?;
                sqlx::query(
                    "INSERT INTO exam_passes (person_id, program_id, exam_id, passed_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (person_id, program_id, exam_id) DO UPDATE SET passed_at = excluded.passed_at",
                )
                .bind(person)
                .bind(program_id)
                .bind(exam)
                .bind(&at)
                .execute(&mut *tx)
                .await?;
                (
                    partner,
                    "exam.passed",
                    format!("person:{person}"),
                    serde_json::json!({ "program": program_id, "exam": exam }),
                )
            }
            Evidence::PracticalApproved {
                partner,
                person,
                practical,
            } => {
                known("practical", practical, &ids["practical"], &program)?;
                if let Some(person) = person
                    && partner_of(&mut tx, person).await? != *partner
                {
                    return Err(AppError::invalid(
                        "person",
                        "the person does not belong to that partner",
                    ));
                }
                sqlx::query(
                    "INSERT INTO practical_approvals (id, partner_id, person_id, program_id, practical_id, approved_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(partner)
                .bind(person)
                .bind(program_id)
                .bind(practical)
                .bind(&at)
                .execute(&mut *tx)
                .await?;
                (
                    partner.clone(),
                    "practical.approved",
                    format!("partner:{partner}"),
                    serde_json::json!({ "program": program_id, "practical": practical, "person": person }),
                )
            }
            Evidence::CredentialIssued {
                person,
                track,
                issued_on,
            } => {
                let Some(definition) = program.track(track) else {
                    return Err(AppError::invalid(
                        "track",
                        format!("program `{program_id}` has no track `{track}`"),
                    ));
                };
                let partner = partner_of(&mut tx, person).await?;
                let ends = program.expiry(&definition.validity, *issued_on);
                let valid_until = ends.yesterday().unwrap_or(ends);
                // One active credential per person and track: an earlier one is superseded.
                sqlx::query(
                    "UPDATE credentials SET status = 'superseded' WHERE person_id = $1 AND program_id = $2 AND track_id = $3 AND status = 'active'",
                )
                .bind(person)
                .bind(program_id)
                .bind(track)
                .execute(&mut *tx)
                .await?;
                // Milestones already behind a recorded credential are not sent late.
                let next_due = accredit_domain::lifecycle::first_due(
                    valid_until,
                    definition.renewal.window_days,
                    self.today(),
                );
                sqlx::query(
                    "INSERT INTO credentials (id, person_id, program_id, track_id, issued_on, valid_until, status, created_at, next_due_on)
                     VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8)",
                )
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(person)
                .bind(program_id)
                .bind(track)
                .bind(issued_on.to_string())
                .bind(valid_until.to_string())
                .bind(&at)
                .bind(next_due.to_string())
                .execute(&mut *tx)
                .await?;
                (
                    partner,
                    "credential.recorded",
                    format!("person:{person}"),
                    serde_json::json!({ "program": program_id, "track": track, "issued_on": issued_on.to_string(), "valid_until": valid_until.to_string() }),
                )
            }
            Evidence::HealthScore {
                partner,
                quarter,
                score,
            } => {
                if !is_quarter(quarter) {
                    return Err(AppError::invalid(
                        "quarter",
                        format!("`{quarter}` is not a quarter like 2026-Q3"),
                    ));
                }
                if !score.is_finite() {
                    return Err(AppError::invalid("score", "must be a number"));
                }
                sqlx::query(
                    "INSERT INTO health_scores (partner_id, program_id, quarter, score, recorded_at) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (partner_id, program_id, quarter) DO UPDATE SET score = excluded.score, recorded_at = excluded.recorded_at",
                )
                .bind(partner)
                .bind(program_id)
                .bind(quarter)
                .bind(*score)
                .bind(&at)
                .execute(&mut *tx)
                .await?;
                (
                    partner.clone(),
                    "health_score.recorded",
                    format!("partner:{partner}"),
                    serde_json::json!({ "program": program_id, "quarter": quarter, "score": score }),
                )
            }
        };
        audit::record(&mut tx, ctx, now, action, &subject, summary).await?;
        // Completing, passing or having a practical approved may finish a track.
        let learner = match &evidence {
            Evidence::ModuleCompleted { person, .. } | Evidence::ExamPassed { person, .. } => {
                Some(Some(person.as_str()))
            }
            Evidence::PracticalApproved { person, .. } => Some(person.as_deref()),
            _ => None,
        };
        if matches!(evidence, Evidence::ModuleCompleted { .. }) {
            self.complete_remediation(&mut tx, ctx, &program, &partner)
                .await?;
        }
        if matches!(evidence, Evidence::HealthScore { .. }) {
            self.check_health(&mut tx, ctx, &program, &partner).await?;
        }
        if let Some(person) = learner {
            self.issue_earned(&mut tx, ctx, &program, &partner, person)
                .await?;
            self.renew_earned(&mut tx, ctx, &program, &partner, person)
                .await?;
            self.complete_recertifications(&mut tx, ctx, &program, &partner, person)
                .await?;
        }
        self.refresh_standing(&mut tx, ctx, &partner, None).await?;
        let touched = vec![partner];
        self.notify_changed(&mut tx, &touched).await?;
        tx.commit().await?;
        self.entitlements_changed(&touched).await
    }
}

fn is_quarter(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 7
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && &bytes[4..6] == b"-Q"
        && (b'1'..=b'4').contains(&bytes[6])
}
