//! Customer health scores and remediation. Scores arrive per partner and quarter (CSV or API,
//! all or nothing, every problem with its line). When a partner's latest score is below the
//! program's threshold, a remediation case opens: the program's remediation modules to complete
//! by a deadline, with the benefits at stake named. Completing the modules (any of the partner's
//! people) closes it; a missed deadline holds the partner one tier lower until they are done.

use crate::clock::format_instant;
use crate::error::{AppError, AppResult};
use crate::events::{Notice, emit, notify};
use crate::outbox::{EMAIL, enqueue_once};
use crate::records::load_programs;
use crate::{App, Ctx, audit};
use accredit_domain::Action;
use accredit_domain::InvalidInput;
use accredit_domain::lifecycle::deadline_after;
use accredit_domain::program::{Program, Subject};
use accredit_formats::health_csv;
use anyhow::Context as _;
use jiff::civil::Date;
use serde::Serialize;
use sqlx::{AnyConnection, Row as _};
use std::collections::{BTreeMap, BTreeSet};

/// A score to record.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthScoreInput {
    /// The partner's id or name.
    pub partner: String,
    /// A quarter like 2026-Q3.
    pub quarter: String,
    pub score: f64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HealthImport {
    pub recorded: usize,
    /// Partners for which a remediation case opened.
    pub remediation_opened: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RemediationCase {
    pub id: String,
    pub partner_id: String,
    pub partner_name: String,
    pub program_id: String,
    pub quarter: String,
    pub score: f64,
    pub modules: Vec<String>,
    pub opened_on: String,
    pub deadline: String,
    /// `open`, `completed` or `missed`.
    pub state: String,
    pub closed_on: Option<String>,
}

impl App {
    /// Records health scores from CSV (`partner,quarter,score`) for one program.
    pub async fn import_health_csv(
        &self,
        ctx: &Ctx,
        program_id: &str,
        bytes: &[u8],
    ) -> AppResult<HealthImport> {
        ctx.authorize(&Action::ManageLifecycle, "health scores")?;
        let file = health_csv::parse(bytes);
        if !file.errors.is_empty() {
            return Err(AppError::Invalid(
                file.errors
                    .iter()
                    .map(|e| InvalidInput::new(format!("line {}", e.line), e.message.clone()))
                    .collect(),
            ));
        }
        let rows: Vec<(String, HealthScoreInput)> = file
            .rows
            .into_iter()
            .map(|r| {
                (
                    format!("line {}", r.line),
                    HealthScoreInput {
                        partner: r.partner,
                        quarter: r.quarter,
                        score: r.score,
                    },
                )
            })
            .collect();
        self.record_health_scores(ctx, program_id, rows).await
    }

    /// Records health scores, all or nothing. Each row's label (`line 3`, `scores[2]`) names it
    /// in errors.
    pub async fn record_health_scores(
        &self,
        ctx: &Ctx,
        program_id: &str,
        rows: Vec<(String, HealthScoreInput)>,
    ) -> AppResult<HealthImport> {
        ctx.authorize(&Action::ManageLifecycle, "health scores")?;
        let mut conn = self.db.reader().acquire().await?;
        let program = load_programs(&mut conn)
            .await?
            .into_iter()
            .find(|p| p.id == program_id)
            .ok_or_else(|| AppError::NotFound(format!("program `{program_id}`")))?;
        let Some(policy) = program.health.clone() else {
            return Err(AppError::Conflict(format!(
                "program `{program_id}` has no [health] policy, so it takes no health scores"
            )));
        };
        if rows.is_empty() {
            return Err(AppError::invalid("scores", "give at least one score"));
        }
        // Resolve partners and check each row before writing anything.
        let mut problems = Vec::new();
        let mut resolved = Vec::new();
        let mut seen: BTreeMap<(String, String), String> = BTreeMap::new();
        for (field, row) in &rows {
            let partner: Option<(String, String)> = sqlx::query(
                "SELECT pa.id, pa.name FROM partners pa
                 JOIN partner_programs pp ON pp.partner_id = pa.id AND pp.program_id = $2
                 WHERE pa.id = $1 OR pa.name = $1",
            )
            .bind(row.partner.trim())
            .bind(program_id)
            .fetch_optional(&mut *conn)
            .await?
            .map(|r| -> AppResult<_> { Ok((r.try_get("id")?, r.try_get("name")?)) })
            .transpose()?;
            let Some((partner_id, partner_name)) = partner else {
                problems.push(InvalidInput::new(
                    field,
                    format!(
                        "partner: no partner `{}` is enrolled in `{program_id}`",
                        row.partner.trim()
                    ),
                ));
                continue;
            };
            if !health_csv::is_quarter(&row.quarter) {
                problems.push(InvalidInput::new(
                    field,
                    format!("quarter: `{}` is not a quarter like 2026-Q3", row.quarter),
                ));
                continue;
            }
            let (low, high) = health_csv::SCORE_RANGE;
            if !row.score.is_finite() || row.score < low || row.score > high {
                problems.push(InvalidInput::new(
                    field,
                    format!("score: {} is outside {low} to {high}", row.score),
                ));
                continue;
            }
            let key = (partner_id.clone(), row.quarter.clone());
            if let Some(first) = seen.insert(key, field.clone()) {
                problems.push(InvalidInput::new(
                    field,
                    format!(
                        "quarter: `{partner_name}` already has a score for {} ({first})",
                        row.quarter
                    ),
                ));
                continue;
            }
            let recorded: Option<f64> = sqlx::query_scalar(
                "SELECT score FROM health_scores WHERE partner_id = $1 AND program_id = $2 AND quarter = $3",
            )
            .bind(&partner_id)
            .bind(program_id)
            .bind(&row.quarter)
            .fetch_optional(&mut *conn)
            .await?;
            if let Some(score) = recorded {
                problems.push(InvalidInput::new(
                    field,
                    format!(
                        "quarter: `{partner_name}` already has a {} score of {score} for {}",
                        policy.metric, row.quarter
                    ),
                ));
                continue;
            }
            resolved.push((partner_id, partner_name, row.quarter.clone(), row.score));
        }
        drop(conn);
        if !problems.is_empty() {
            return Err(AppError::Invalid(problems));
        }

        let now = self.now();
        let mut tx = self.db.begin().await?;
        let mut opened = Vec::new();
        let mut partners = BTreeMap::new();
        for (partner_id, partner_name, quarter, score) in &resolved {
            sqlx::query(
                "INSERT INTO health_scores (partner_id, program_id, quarter, score, recorded_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(partner_id)
            .bind(program_id)
            .bind(quarter)
            .bind(*score)
            .bind(format_instant(now))
            .execute(&mut *tx)
            .await?;
            audit::record(
                &mut tx,
                ctx,
                now,
                "health_score.recorded",
                &format!("partner:{partner_id}"),
                serde_json::json!({ "program": program_id, "quarter": quarter, "score": score }),
            )
            .await?;
            partners.insert(partner_id.clone(), partner_name.clone());
        }
        for (partner_id, partner_name) in &partners {
            if self
                .check_health(&mut tx, ctx, &program, partner_id)
                .await?
            {
                opened.push(partner_name.clone());
            }
            self.refresh_standing(&mut tx, ctx, partner_id, None)
                .await?;
        }
        let touched: Vec<String> = partners.keys().cloned().collect();
        self.notify_changed(&mut tx, &touched).await?;
        tx.commit().await?;
        self.entitlements_changed(&touched).await?;
        Ok(HealthImport {
            recorded: resolved.len(),
            remediation_opened: opened,
        })
    }

    /// Opens a remediation case when the partner's latest score (by quarter, whatever order
    /// scores arrived in) is below the threshold. Returns whether it opened one.
    pub(crate) async fn check_health(
        &self,
        tx: &mut AnyConnection,
        ctx: &Ctx,
        program: &Program,
        partner_id: &str,
    ) -> AppResult<bool> {
        let Some(policy) = &program.health else {
            return Ok(false);
        };
        let latest = sqlx::query(
            "SELECT quarter, score FROM health_scores WHERE partner_id = $1 AND program_id = $2
             ORDER BY quarter DESC LIMIT 1",
        )
        .bind(partner_id)
        .bind(&program.id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(latest) = latest else {
            return Ok(false);
        };
        let quarter: String = latest.try_get("quarter").context("quarter")?;
        let score: f64 = latest.try_get("score").context("score")?;
        if score >= policy.threshold {
            return Ok(false);
        }
        let today = self.today();
        self.open_remediation(tx, ctx, program, partner_id, &quarter, score, today)
            .await
    }

    /// Opens a case unless the partner has one open or missed. Returns whether it opened one.
    #[allow(clippy::too_many_arguments)]
    async fn open_remediation(
        &self,
        tx: &mut AnyConnection,
        ctx: &Ctx,
        program: &Program,
        partner_id: &str,
        quarter: &str,
        score: f64,
        today: Date,
    ) -> AppResult<bool> {
        let Some(policy) = &program.health else {
            return Ok(false);
        };
        let pending: Option<String> = sqlx::query_scalar(
            "SELECT id FROM remediation_cases WHERE partner_id = $1 AND program_id = $2
             AND (outcome IS NULL OR outcome = 'missed')",
        )
        .bind(partner_id)
        .bind(&program.id)
        .fetch_optional(&mut *tx)
        .await?;
        if pending.is_some() {
            return Ok(false);
        }
        let now = self.now();
        let id = uuid::Uuid::now_v7().to_string();
        let deadline = deadline_after(today, policy.remediation_days);
        sqlx::query(
            "INSERT INTO remediation_cases (id, partner_id, program_id, quarter, score, modules, opened_on, deadline)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(partner_id)
        .bind(&program.id)
        .bind(quarter)
        .bind(score)
        .bind(serde_json::to_string(&policy.remediation_modules).context("modules")?)
        .bind(today.to_string())
        .bind(deadline.to_string())
        .execute(&mut *tx)
        .await?;
        let modules: Vec<&str> = policy
            .remediation_modules
            .iter()
            .map(|m| {
                program
                    .modules
                    .iter()
                    .find(|x| &x.id == m)
                    .map_or(m.as_str(), |x| x.title.as_str())
            })
            .collect();
        let at_stake = benefits_at_stake(program);
        let tier: Option<String> = sqlx::query_scalar(
            "SELECT tier_id FROM partner_tiers WHERE partner_id = $1 AND program_id = $2",
        )
        .bind(partner_id)
        .bind(&program.id)
        .fetch_optional(&mut *tx)
        .await?
        .flatten();
        let subject = format!("Remediation required by {deadline}: {}", program.name);
        let body = format!(
            "Your {metric} for {quarter} is {score}, below the program's threshold of {threshold}.\n\n\
             Complete by {deadline}: {modules}.\n\nIf the deadline passes first, the partner is held one \
             tier lower{tier}, which puts at risk: {at_stake}.\n",
            metric = policy.metric,
            threshold = policy.threshold,
            modules = modules.join(", "),
            tier = tier.map(|t| format!(" (now {t})")).unwrap_or_default(),
            at_stake = if at_stake.is_empty() {
                "nothing beyond the tier".to_owned()
            } else {
                at_stake.join(", ")
            },
        );
        self.tell_partner(
            tx,
            partner_id,
            "remediation",
            &subject,
            &body,
            &format!("remediation:{id}:opened"),
        )
        .await?;
        emit(
            tx,
            now,
            "remediation.opened",
            &id,
            serde_json::json!({
                "case": id, "partner": partner_id, "program": program.id, "quarter": quarter,
                "score": score, "deadline": deadline.to_string(), "modules": policy.remediation_modules,
            }),
        )
        .await?;
        audit::record(
            tx,
            ctx,
            now,
            "remediation.opened",
            &format!("partner:{partner_id}"),
            serde_json::json!({ "case": id, "program": program.id, "quarter": quarter, "score": score, "deadline": deadline.to_string() }),
        )
        .await?;
        Ok(true)
    }

    /// Email and notifications to a partner's admins and its Partner Account Manager.
    async fn tell_partner(
        &self,
        tx: &mut AnyConnection,
        partner_id: &str,
        kind: &str,
        subject: &str,
        body: &str,
        key: &str,
    ) -> AppResult<()> {
        let now = self.now();
        let rows = sqlx::query(
            "SELECT p.id, p.email, p.display_name FROM people p
             JOIN person_roles r ON r.person_id = p.id AND r.role = 'partner_admin'
             WHERE p.partner_id = $1 AND p.deactivated_at IS NULL
             UNION
             SELECT m.id, m.email, m.display_name FROM partners pa JOIN people m ON m.id = pa.account_manager_id
             WHERE pa.id = $1
             ORDER BY 1",
        )
        .bind(partner_id)
        .fetch_all(&mut *tx)
        .await?;
        let link = format!(
            "{}/partners/{partner_id}",
            self.config.public_url.trim_end_matches('/')
        );
        for row in rows {
            let person: String = row.try_get("id").context("id")?;
            let email: String = row.try_get("email").context("email")?;
            let name: String = row.try_get("display_name").context("display_name")?;
            let text = format!("Hello {name},\n\n{body}\n{link}\n");
            enqueue_once(
                tx,
                now,
                EMAIL,
                &format!("lifecycle.{kind}"),
                &email,
                serde_json::json!({ "subject": subject, "body": text, "to_name": name, "person": person, "partner": partner_id }),
                Some(&format!("email:{key}:{person}")),
            )
            .await?;
            notify(
                tx,
                now,
                &person,
                Notice {
                    kind,
                    title: subject.to_owned(),
                    body: text,
                    link: Some(link.clone()),
                },
                &format!("notice:{key}:{person}"),
            )
            .await?;
        }
        Ok(())
    }

    /// Closes the partner's open or missed remediation cases in `program` once every
    /// remediation module is completed (by any of its people) since the case opened. Runs in
    /// the evidence's transaction.
    pub(crate) async fn complete_remediation(
        &self,
        tx: &mut AnyConnection,
        ctx: &Ctx,
        program: &Program,
        partner: &str,
    ) -> AppResult<()> {
        let cases = sqlx::query(
            "SELECT id, modules, opened_on FROM remediation_cases
             WHERE partner_id = $1 AND program_id = $2 AND (outcome IS NULL OR outcome = 'missed')",
        )
        .bind(partner)
        .bind(&program.id)
        .fetch_all(&mut *tx)
        .await?;
        let now = self.now();
        let today = self.today();
        for case in cases {
            let id: String = case.try_get("id").context("id")?;
            let modules: Vec<String> =
                serde_json::from_str(&case.try_get::<String, _>("modules")?).context("modules")?;
            let opened: String = case.try_get("opened_on").context("opened_on")?;
            let mut done = true;
            for module in &modules {
                let latest: Option<String> = sqlx::query_scalar(
                    "SELECT MAX(c.completed_at) FROM module_completions c JOIN people p ON p.id = c.person_id
                     WHERE p.partner_id = $1 AND c.program_id = $2 AND c.module_id = $3",
                )
                .bind(partner)
                .bind(&program.id)
                .bind(module)
                .fetch_one(&mut *tx)
                .await?;
                done &= latest.is_some_and(|at| at[..10] >= *opened.as_str());
            }
            if !done {
                continue;
            }
            sqlx::query(
                "UPDATE remediation_cases SET outcome = 'completed', closed_on = $2 WHERE id = $1",
            )
            .bind(&id)
            .bind(today.to_string())
            .execute(&mut *tx)
            .await?;
            let subject = format!("Remediation completed: {}", program.name);
            let body = "The remediation training is complete and the case is closed.".to_owned();
            self.tell_partner(
                tx,
                partner,
                "remediation",
                &subject,
                &body,
                &format!("remediation:{id}:closed"),
            )
            .await?;
            emit(
                tx,
                now,
                "remediation.closed",
                &id,
                serde_json::json!({ "case": id, "partner": partner, "program": program.id, "outcome": "completed" }),
            )
            .await?;
            audit::record(
                tx,
                ctx,
                now,
                "remediation.completed",
                &format!("partner:{partner}"),
                serde_json::json!({ "case": id, "program": program.id }),
            )
            .await?;
        }
        Ok(())
    }

    /// Marks open cases whose deadline passed before `as_of` as missed (the partner drops a
    /// tier) — called by the sweep. Reads only open cases past their deadline.
    pub(crate) async fn miss_remediation_deadlines(
        &self,
        ctx: &Ctx,
        as_of: Date,
    ) -> AppResult<usize> {
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let rows = sqlx::query(
            "SELECT id, partner_id, program_id, deadline FROM remediation_cases
             WHERE outcome IS NULL AND deadline < $1",
        )
        .bind(as_of.to_string())
        .fetch_all(&mut *tx)
        .await?;
        let mut touched = BTreeSet::new();
        for row in &rows {
            let id: String = row.try_get("id").context("id")?;
            let partner: String = row.try_get("partner_id").context("partner")?;
            let program: String = row.try_get("program_id").context("program")?;
            let deadline: String = row.try_get("deadline").context("deadline")?;
            let marked = sqlx::query(
                "UPDATE remediation_cases SET outcome = 'missed' WHERE id = $1 AND outcome IS NULL",
            )
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            if marked.rows_affected() == 0 {
                continue;
            }
            let subject =
                format!("Remediation deadline missed: the partner drops a tier ({program})");
            let body = format!(
                "The remediation training due {deadline} was not completed. The partner is held one tier \
                 lower until it is."
            );
            self.tell_partner(
                &mut tx,
                &partner,
                "remediation",
                &subject,
                &body,
                &format!("remediation:{id}:missed"),
            )
            .await?;
            emit(
                &mut tx,
                now,
                "remediation.closed",
                &format!("{id}:missed"),
                serde_json::json!({ "case": id, "partner": partner, "program": program, "outcome": "missed", "deadline": deadline }),
            )
            .await?;
            audit::record(
                &mut tx,
                ctx,
                now,
                "remediation.missed",
                &format!("partner:{partner}"),
                serde_json::json!({ "case": id, "program": program, "deadline": deadline }),
            )
            .await?;
            touched.insert(partner);
        }
        for partner in &touched {
            self.refresh_standing(&mut tx, ctx, partner, None).await?;
        }
        let touched: Vec<String> = touched.into_iter().collect();
        self.notify_changed(&mut tx, &touched).await?;
        tx.commit().await?;
        self.entitlements_changed(&touched).await?;
        Ok(touched.len())
    }

    /// A program's remediation cases, newest first (program admins; a partner's admins and
    /// account manager see theirs in the partner's compliance view).
    pub async fn remediation_cases(
        &self,
        ctx: &Ctx,
        program_id: &str,
    ) -> AppResult<Vec<RemediationCase>> {
        ctx.authorize(&Action::ManageLifecycle, "remediation")?;
        self.remediation_cases_unchecked(program_id).await
    }

    /// For read models that authorized the partner already.
    pub(crate) async fn remediation_cases_unchecked(
        &self,
        program_id: &str,
    ) -> AppResult<Vec<RemediationCase>> {
        let rows = sqlx::query(
            "SELECT r.id, r.partner_id, pa.name, r.program_id, r.quarter, r.score, r.modules, r.opened_on,
                    r.deadline, r.outcome, r.closed_on
             FROM remediation_cases r JOIN partners pa ON pa.id = r.partner_id
             WHERE r.program_id = $1 ORDER BY r.opened_on DESC, r.id DESC",
        )
        .bind(program_id)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|row| {
                let outcome: Option<String> = row.try_get("outcome").context("outcome")?;
                Ok(RemediationCase {
                    id: row.try_get("id").context("id")?,
                    partner_id: row.try_get("partner_id").context("partner_id")?,
                    partner_name: row.try_get("name").context("name")?,
                    program_id: row.try_get("program_id").context("program_id")?,
                    quarter: row.try_get("quarter").context("quarter")?,
                    score: row.try_get("score").context("score")?,
                    modules: serde_json::from_str(&row.try_get::<String, _>("modules")?)
                        .context("modules")?,
                    opened_on: row.try_get("opened_on").context("opened_on")?,
                    deadline: row.try_get("deadline").context("deadline")?,
                    state: outcome.unwrap_or_else(|| "open".into()),
                    closed_on: row.try_get("closed_on").context("closed_on")?,
                })
            })
            .collect()
    }
}

/// The partner-level benefits a program grants through tiers: what a tier drop can cost.
fn benefits_at_stake(program: &Program) -> Vec<String> {
    program
        .benefits
        .iter()
        .filter(|b| b.subject == Subject::Partner)
        .filter(|b| {
            b.rule
                .walk()
                .iter()
                .any(|r| matches!(r, accredit_domain::program::Rule::Tier(_)))
        })
        .map(|b| b.name.clone())
        .collect()
}
