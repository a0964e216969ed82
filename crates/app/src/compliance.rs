//! Read models for keeping current: a person's certifications with what is due and the
//! shortest path to renew, and a partner's compliance view (who lapses when, recertification
//! tasks, remediation, benefits at risk).

use crate::error::AppResult;
use crate::overview::BenefitView;
use crate::records::{load_programs, parse_date};
use crate::remediation::RemediationCase;
use crate::renewal::RenewalStatus;
use crate::{App, Ctx};
use accredit_domain::lifecycle::{days_between, lapses_on};
use accredit_domain::{Action, PartnerId, Principal};
use anyhow::Context as _;
use serde::Serialize;
use sqlx::Row as _;

/// How far ahead the compliance view looks for lapsing credentials.
pub const LAPSING_WITHIN_DAYS: i64 = 180;

#[derive(Debug, Clone, Serialize)]
pub struct Lapsing {
    pub credential_id: String,
    pub person_id: String,
    pub person_name: String,
    pub program_id: String,
    pub track_name: String,
    pub valid_until: String,
    pub lapses_on: String,
    pub days_left: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecertTask {
    pub person_id: String,
    pub person_name: String,
    pub program_id: String,
    pub track_name: String,
    pub reason: String,
    pub deadline: String,
    /// `open`, `done` or `lapsed`.
    pub state: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Compliance {
    pub partner_id: String,
    pub partner_name: String,
    pub lapsing: Vec<Lapsing>,
    pub tasks: Vec<RecertTask>,
    pub remediation: Vec<RemediationCase>,
    /// Benefits denied now, or ending within 90 days.
    pub at_risk: Vec<BenefitView>,
}

impl App {
    /// The signed-in person's credentials (current, expired or lapsed; not those renewed), each
    /// with its renewal status.
    pub async fn my_certifications(&self, ctx: &Ctx) -> AppResult<Vec<RenewalStatus>> {
        let Principal::Person(actor) = &ctx.principal else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for credential in self.credentials_of(ctx, actor.person_id.as_str()).await? {
            if credential.status == "superseded" {
                continue;
            }
            out.push(self.renewal(ctx, &credential.id).await?);
        }
        Ok(out)
    }

    /// What a partner admin, its account manager or a program admin needs to keep the partner
    /// compliant.
    pub async fn partner_compliance(&self, ctx: &Ctx, partner_id: &str) -> AppResult<Compliance> {
        ctx.authorize(
            &Action::ReadPartner(&PartnerId::from(partner_id)),
            &format!("partner `{partner_id}`"),
        )?;
        let overview = self.partner_overview(ctx, partner_id).await?;
        let today = self.today();
        let mut conn = self.db.reader().acquire().await?;
        let programs = load_programs(&mut conn).await?;
        let track_name = |program: &str, track: &str| {
            programs
                .iter()
                .find(|p| p.id == program)
                .and_then(|p| p.track(track))
                .map_or(track.to_owned(), |t| t.name.clone())
        };
        let horizon = today
            .checked_add(jiff::Span::new().days(LAPSING_WITHIN_DAYS))
            .unwrap_or(today);
        let rows = sqlx::query(
            "SELECT c.id, c.person_id, p.display_name, c.program_id, c.track_id, c.valid_until
             FROM credentials c JOIN people p ON p.id = c.person_id
             WHERE p.partner_id = $1 AND c.status = 'active' AND c.valid_until <= $2
             ORDER BY c.valid_until, p.display_name",
        )
        .bind(partner_id)
        .bind(horizon.to_string())
        .fetch_all(&mut *conn)
        .await?;
        let mut lapsing = Vec::new();
        for row in rows {
            let program: String = row.try_get("program_id").context("program")?;
            let track: String = row.try_get("track_id").context("track")?;
            let valid_until = parse_date(&row.try_get::<String, _>("valid_until")?)?;
            let lapses = lapses_on(valid_until);
            lapsing.push(Lapsing {
                credential_id: row.try_get("id").context("id")?,
                person_id: row.try_get("person_id").context("person")?,
                person_name: row.try_get("display_name").context("name")?,
                track_name: track_name(&program, &track),
                program_id: program,
                valid_until: valid_until.to_string(),
                lapses_on: lapses.to_string(),
                days_left: days_between(today, lapses),
            });
        }
        let rows = sqlx::query(
            "SELECT k.person_id, p.display_name, t.program_id, c.track_id, t.reason, k.deadline,
                    k.completed_on, k.lapsed_on
             FROM recert_tasks k
             JOIN recert_triggers t ON t.id = k.trigger_id
             JOIN credentials c ON c.id = k.credential_id
             JOIN people p ON p.id = k.person_id
             WHERE p.partner_id = $1
             ORDER BY k.deadline DESC, p.display_name",
        )
        .bind(partner_id)
        .fetch_all(&mut *conn)
        .await?;
        let mut tasks = Vec::new();
        for row in rows {
            let program: String = row.try_get("program_id").context("program")?;
            let track: String = row.try_get("track_id").context("track")?;
            let completed: Option<String> = row.try_get("completed_on").context("completed")?;
            let lapsed: Option<String> = row.try_get("lapsed_on").context("lapsed")?;
            tasks.push(RecertTask {
                person_id: row.try_get("person_id").context("person")?,
                person_name: row.try_get("display_name").context("name")?,
                track_name: track_name(&program, &track),
                program_id: program,
                reason: row.try_get("reason").context("reason")?,
                deadline: row.try_get("deadline").context("deadline")?,
                state: match (completed, lapsed) {
                    (Some(_), _) => "done".into(),
                    (None, Some(_)) => "lapsed".into(),
                    _ => "open".into(),
                },
            });
        }
        drop(conn);
        let mut remediation = Vec::new();
        for program in &programs {
            remediation.extend(
                self.remediation_cases_unchecked(&program.id)
                    .await?
                    .into_iter()
                    .filter(|c| c.partner_id == partner_id),
            );
        }
        let soon = today
            .checked_add(jiff::Span::new().days(90))
            .unwrap_or(today)
            .to_string();
        let at_risk = overview
            .benefits
            .into_iter()
            .filter(|b| !b.allowed || b.until.as_ref().is_some_and(|u| *u <= soon))
            .collect();
        Ok(Compliance {
            partner_id: overview.partner.id.clone(),
            partner_name: overview.partner.name.clone(),
            lapsing,
            tasks,
            remediation,
            at_risk,
        })
    }
}
