//! Read models for the pages: one partner at a glance (tier, what the next tier needs, benefits,
//! people and their credentials), and a Partner Account Manager's partners with what is at risk.

use crate::accounts::{Partner, Person};
use crate::entitlements::{Lookup, Subjectee};
use crate::error::AppResult;
use crate::programs::PartnerStanding;
use crate::records::load_programs;
use crate::{App, Ctx};
use accredit_domain::evaluate::tier_drop_forecast;
use accredit_domain::program::Subject;
use accredit_domain::{Action, PartnerId};
use anyhow::Context as _;
use serde::Serialize;
use sqlx::Row as _;

/// Credentials ending within this many days count as expiring.
pub const EXPIRING_WITHIN_DAYS: i64 = 90;

#[derive(Debug, Clone, Serialize)]
pub struct CredentialView {
    pub person_id: String,
    pub person_name: String,
    pub program_id: String,
    pub track_id: String,
    pub track_name: String,
    pub valid_until: String,
    /// `current`, `expiring`, `lapsed`, `suspended` or `revoked`.
    pub state: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenefitView {
    pub program_id: String,
    pub id: String,
    pub name: String,
    pub allowed: bool,
    pub reason: String,
    pub until: Option<String>,
    pub next_action: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PartnerOverview {
    pub partner: Partner,
    pub standings: Vec<PartnerStanding>,
    pub benefits: Vec<BenefitView>,
    pub people: Vec<Person>,
    pub credentials: Vec<CredentialView>,
}

/// One partner as its Partner Account Manager sees it.
#[derive(Debug, Clone, Serialize)]
pub struct PartnerAtRisk {
    pub partner: Partner,
    pub tiers: Vec<String>,
    pub expiring: usize,
    pub lapsed: usize,
    pub denied_benefits: Vec<String>,
    /// Open remediation cases.
    pub in_remediation: usize,
    /// Tier drops one more lapse would cause, in words, soonest first.
    pub forecasts: Vec<TierForecast>,
}

/// "Gold drops to Silver on 12 March 2027 if one more person lapses", with who it would be.
#[derive(Debug, Clone, Serialize)]
pub struct TierForecast {
    pub program_id: String,
    pub on: String,
    pub text: String,
    pub person_id: String,
    pub person_name: String,
}

/// How far ahead a Partner Account Manager is warned of a tier drop.
pub const FORECAST_WITHIN_DAYS: i32 = 180;

impl App {
    /// Everything a partner page shows, for whoever may see the partner.
    pub async fn partner_overview(
        &self,
        ctx: &Ctx,
        partner_id: &str,
    ) -> AppResult<PartnerOverview> {
        let partner = self.get_partner(ctx, partner_id).await?;
        let standings = self.partner_standings(ctx, partner_id).await?;
        let people: Vec<Person> = self
            .list_people(ctx)
            .await?
            .into_iter()
            .filter(|p| p.partner_id.as_deref() == Some(partner_id))
            .collect();
        let mut conn = self.db.reader().acquire().await?;
        let programs = load_programs(&mut conn).await?;
        let today = self.today();
        let rows = sqlx::query(
            "SELECT c.person_id, pe.display_name, c.program_id, c.track_id, c.valid_until, c.status
             FROM credentials c JOIN people pe ON pe.id = c.person_id
             WHERE pe.partner_id = $1 AND c.status <> 'superseded'
             ORDER BY pe.display_name, c.track_id",
        )
        .bind(partner_id)
        .fetch_all(&mut *conn)
        .await?;
        let mut credentials = Vec::new();
        for row in &rows {
            let person_id: String = row.try_get("person_id").context("person_id")?;
            // Learners see their own credentials only.
            if !people.iter().any(|p| p.id == person_id) {
                continue;
            }
            let program_id: String = row.try_get("program_id").context("program_id")?;
            let track_id: String = row.try_get("track_id").context("track_id")?;
            let valid_until: String = row.try_get("valid_until").context("valid_until")?;
            let status: String = row.try_get("status").context("status")?;
            let until = crate::records::parse_date(&valid_until)?;
            let state = match status.as_str() {
                "active" if until < today => "lapsed",
                "active" if (until - today).get_days() <= EXPIRING_WITHIN_DAYS as i32 => "expiring",
                "active" => "current",
                other => other,
            };
            let track_name = programs
                .iter()
                .find(|p| p.id == program_id)
                .map_or_else(|| track_id.clone(), |p| p.title_of(&track_id));
            credentials.push(CredentialView {
                person_id,
                person_name: row.try_get("display_name").context("display_name")?,
                program_id,
                track_id,
                track_name,
                valid_until,
                state: state.to_owned(),
            });
        }
        drop(conn);
        let mut benefits = Vec::new();
        for standing in &standings {
            let Some(program) = programs.iter().find(|p| p.id == standing.program_id) else {
                continue;
            };
            for benefit in program
                .benefits
                .iter()
                .filter(|b| b.subject == Subject::Partner)
            {
                let lookup = self
                    .check_entitlement(
                        Subjectee::Partner(partner_id),
                        &benefit.id,
                        Some(&program.id),
                    )
                    .await?;
                if let Lookup::Answer(answer) = lookup {
                    benefits.push(BenefitView {
                        program_id: program.id.clone(),
                        id: benefit.id.clone(),
                        name: benefit.name.clone(),
                        allowed: answer.decision.allowed,
                        reason: answer.decision.reason.clone(),
                        until: answer.decision.until.map(|d| d.to_string()),
                        next_action: answer.decision.next_action.clone(),
                    });
                }
            }
        }
        Ok(PartnerOverview {
            partner,
            standings,
            benefits,
            people,
            credentials,
        })
    }

    /// The partners a Partner Account Manager (or program admin) sees, with what is at risk.
    pub async fn partners_at_risk(&self, ctx: &Ctx) -> AppResult<Vec<PartnerAtRisk>> {
        ctx.authorize(&Action::ListPartners, "partners")?;
        let partners = self.list_partners(ctx).await?;
        // Read once for every partner; no connection is held while each partner is read.
        let programs = load_programs(&mut *self.db.reader().acquire().await?).await?;
        let mut out = Vec::with_capacity(partners.len());
        for partner in partners {
            ctx.authorize(
                &Action::ReadPartner(&PartnerId::from(partner.id.as_str())),
                "partner",
            )?;
            let overview = self.partner_overview(&Ctx::system(), &partner.id).await?;
            let forecasts = self.tier_forecasts(&programs, &overview).await?;
            let in_remediation: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM remediation_cases WHERE partner_id = $1 AND outcome IS NULL",
            )
            .bind(&partner.id)
            .fetch_one(self.db.reader())
            .await?;
            out.push(PartnerAtRisk {
                in_remediation: usize::try_from(in_remediation).unwrap_or_default(),
                forecasts,
                tiers: overview
                    .standings
                    .iter()
                    .map(|s| {
                        format!(
                            "{}: {}",
                            s.program_name,
                            s.tier_name.as_deref().unwrap_or("no tier")
                        )
                    })
                    .collect(),
                expiring: overview
                    .credentials
                    .iter()
                    .filter(|c| c.state == "expiring")
                    .count(),
                lapsed: overview
                    .credentials
                    .iter()
                    .filter(|c| c.state == "lapsed")
                    .count(),
                denied_benefits: overview
                    .benefits
                    .iter()
                    .filter(|b| !b.allowed)
                    .map(|b| b.name.clone())
                    .collect(),
                partner,
            });
        }
        // The partners that need attention first: a tier about to drop, remediation, lapses,
        // credentials expiring, benefits blocked; then the rest by name.
        out.sort_by_key(|r| {
            (
                r.forecasts.is_empty(),
                r.in_remediation == 0,
                r.lapsed == 0,
                r.expiring == 0,
                r.denied_benefits.is_empty(),
                r.partner.name.clone(),
            )
        });
        Ok(out)
    }

    async fn tier_forecasts(
        &self,
        programs: &[accredit_domain::program::Program],
        overview: &PartnerOverview,
    ) -> AppResult<Vec<TierForecast>> {
        let today = self.today();
        let mut conn = self.db.reader().acquire().await?;
        let mut out = Vec::new();
        for standing in &overview.standings {
            let Some(program) = programs.iter().find(|p| p.id == standing.program_id) else {
                continue;
            };
            let record =
                crate::records::partner_record(&mut conn, &program.id, &overview.partner.id)
                    .await?;
            let Some(drop) = tier_drop_forecast(program, &record, today, FORECAST_WITHIN_DAYS)
            else {
                continue;
            };
            let person_name = overview
                .people
                .iter()
                .find(|p| p.id == drop.person_id)
                .map_or_else(|| drop.person_id.clone(), |p| p.display_name.clone());
            let to = drop
                .to
                .map_or_else(|| "no tier".to_owned(), |t| program.tiers[t].name.clone());
            let on = drop.on.strftime("%-d %B %Y").to_string();
            out.push(TierForecast {
                program_id: program.id.clone(),
                text: format!(
                    "{} drops to {to} on {on} if one more person lapses ({person_name}'s {} ends the day before).",
                    program.tiers[drop.from].name,
                    program.title_of(&drop.track),
                ),
                on: drop.on.to_string(),
                person_id: drop.person_id,
                person_name,
            });
        }
        out.sort_by(|a, b| a.on.cmp(&b.on));
        Ok(out)
    }
}
