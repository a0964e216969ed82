//! Outcome reports for a program: whether certification works. Program admins see every
//! partner; a Partner Account Manager sees the partners they manage. The figures come from
//! `accredit_domain::reports` over facts read here; outcome metrics are imported per partner
//! and quarter (CSV or JSON, all or nothing).

use crate::clock::format_instant;
use crate::entitlements::{Lookup, Subjectee};
use crate::error::{AppError, AppResult};
use crate::records::{load_programs, parse_date};
use crate::{App, Ctx, audit};
use accredit_domain::reports::{
    AttemptFact, Comparison, DomainScore, Duration, Ending, FirstAttempt, PassRate, Renewals,
    compare_outcomes, domain_scores, first_attempts, pass_rates, quarter_end, renewals,
    time_to_credential,
};
use accredit_domain::{Action, InvalidInput, PartnerId, Visibility};
use accredit_formats::health_csv;
use jiff::civil::Date;
use serde::Serialize;
use sqlx::Row as _;
use std::collections::{BTreeMap, BTreeSet};

/// A partner's credentials and benefits, for the compliance table.
#[derive(Debug, Clone, Serialize)]
pub struct ComplianceRow {
    pub partner_id: String,
    pub partner_name: String,
    pub tier: Option<String>,
    /// Per track: people holding a current credential, and the earliest of their end dates.
    pub tracks: Vec<(String, i64, Option<String>)>,
    /// Per partner benefit: its name and whether it is allowed now.
    pub benefits: Vec<(String, bool)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProgramReport {
    pub program_id: String,
    pub program_name: String,
    pub as_of: String,
    /// Partners the report covers (all enrolled, or the account manager's).
    pub partners: usize,
    pub pass_rates: Vec<PassRate>,
    pub domain_scores: Vec<DomainScore>,
    pub first_attempts: Vec<FirstAttempt>,
    pub time_to_credential: Duration,
    pub renewals: Renewals,
    pub comparisons: Vec<Comparison>,
    pub compliance: Vec<ComplianceRow>,
    /// Track names in the compliance table's column order.
    pub track_names: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutcomeImport {
    pub recorded: usize,
}

fn visible(visibility: &Visibility, partner: Option<&str>) -> bool {
    match visibility {
        Visibility::All => true,
        _ => partner.is_some_and(|p| visibility.sees_partner(&PartnerId::from(p))),
    }
}

impl App {
    /// The program's outcome report.
    pub async fn program_report(&self, ctx: &Ctx, program_id: &str) -> AppResult<ProgramReport> {
        ctx.authorize(&Action::ReadReports, "reports")?;
        let visibility = ctx.principal.visibility();
        let today = self.today();
        let mut conn = self.db.reader().acquire().await?;
        let program = load_programs(&mut conn)
            .await?
            .into_iter()
            .find(|p| p.id == program_id)
            .ok_or_else(|| AppError::NotFound(format!("program `{program_id}`")))?;

        let partners: Vec<(String, String, Option<String>, Date)> = sqlx::query(
            "SELECT pa.id, pa.name, pt.tier_id, pp.enrolled_at FROM partners pa
             JOIN partner_programs pp ON pp.partner_id = pa.id AND pp.program_id = $1
             LEFT JOIN partner_tiers pt ON pt.partner_id = pa.id AND pt.program_id = $1
             WHERE pa.deactivated_at IS NULL ORDER BY pa.name",
        )
        .bind(program_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| -> AppResult<_> {
            let enrolled: String = r.try_get("enrolled_at")?;
            Ok((
                r.try_get("id")?,
                r.try_get("name")?,
                r.try_get("tier_id")?,
                parse_date(&enrolled[..10])?,
            ))
        })
        .collect::<AppResult<Vec<_>>>()?
        .into_iter()
        .filter(|(id, ..): &(String, String, Option<String>, Date)| {
            visible(&visibility, Some(id.as_str()))
        })
        .collect();
        let enrolled_on: BTreeMap<&str, Date> = partners
            .iter()
            .map(|(id, _, _, d)| (id.as_str(), *d))
            .collect();

        // Exam attempts that were scored.
        let mut attempts = Vec::new();
        for row in sqlx::query(
            "SELECT a.person_id, p.partner_id, a.exam_id, a.finished_at, a.passed, a.result
             FROM attempts a JOIN people p ON p.id = a.person_id
             WHERE a.program_id = $1 AND a.passed IS NOT NULL AND a.finished_at IS NOT NULL",
        )
        .bind(program_id)
        .fetch_all(&mut *conn)
        .await?
        {
            let partner: Option<String> = row.try_get("partner_id")?;
            if !visible(&visibility, partner.as_deref()) {
                continue;
            }
            let finished: String = row.try_get("finished_at")?;
            let result: Option<String> = row.try_get("result")?;
            let domains = result
                .as_deref()
                .and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok())
                .map(|r| {
                    r["score"]["domains"]
                        .as_array()
                        .map(|ds| {
                            ds.iter()
                                .filter_map(|d| {
                                    Some((d["domain"].as_str()?.to_owned(), d["percent"].as_f64()?))
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                })
                .unwrap_or_default();
            attempts.push(AttemptFact {
                person: row.try_get("person_id")?,
                exam: row.try_get("exam_id")?,
                finished_on: parse_date(&finished[..10])?,
                passed: row.try_get::<i64, _>("passed")? != 0,
                domains,
            });
        }

        // Credentials: first ones for time to credential, ended ones for renewals, current
        // ones for the compliance table, all of them for "certified at the end of a quarter".
        let rows = sqlx::query(
            "SELECT c.person_id, p.partner_id, p.created_at, c.track_id, c.issued_on, c.valid_until,
                    c.status, c.renewed_from
             FROM credentials c JOIN people p ON p.id = c.person_id
             WHERE c.program_id = $1",
        )
        .bind(program_id)
        .fetch_all(&mut *conn)
        .await?;
        drop(conn);
        let mut first_issue: BTreeMap<(String, String), (Date, Date)> = BTreeMap::new();
        let mut endings = Vec::new();
        let mut held: BTreeMap<String, Vec<(Date, Date)>> = BTreeMap::new();
        let mut current: BTreeMap<(String, String), (i64, Option<Date>)> = BTreeMap::new();
        for row in &rows {
            let partner: Option<String> = row.try_get("partner_id")?;
            let Some(partner) = partner.filter(|p| visible(&visibility, Some(p.as_str()))) else {
                continue;
            };
            let person: String = row.try_get("person_id")?;
            let track: String = row.try_get("track_id")?;
            let issued = parse_date(&row.try_get::<String, _>("issued_on")?)?;
            let until = parse_date(&row.try_get::<String, _>("valid_until")?)?;
            let status: String = row.try_get("status")?;
            let created: String = row.try_get("created_at")?;
            let renewed_from: Option<String> = row.try_get("renewed_from")?;
            if renewed_from.is_none() {
                // Enrolment: the later of the firm joining the program and the person joining.
                let start = enrolled_on
                    .get(partner.as_str())
                    .copied()
                    .unwrap_or(issued)
                    .max(parse_date(&created[..10])?);
                let entry = first_issue
                    .entry((person.clone(), track.clone()))
                    .or_insert((start, issued));
                if issued < entry.1 {
                    *entry = (start, issued);
                }
            }
            match status.as_str() {
                "superseded" => endings.push(Ending::Renewed),
                "expired" => endings.push(Ending::Expired),
                "lapsed" => endings.push(Ending::Lapsed),
                _ => {}
            }
            if status != "revoked" {
                held.entry(partner.clone())
                    .or_default()
                    .push((issued, until));
            }
            if status == "active" && until >= today {
                let entry = current.entry((partner, track)).or_insert((0, None));
                entry.0 += 1;
                entry.1 = Some(entry.1.map_or(until, |d: Date| d.min(until)));
            }
        }

        // Outcome metrics of the partners in scope.
        let in_scope: BTreeSet<&str> = partners.iter().map(|(id, ..)| id.as_str()).collect();
        // Only the program's partners: every row read crosses from the database driver's thread.
        let values: Vec<(String, String, String, f64)> = sqlx::query(
            "SELECT o.partner_id, o.quarter, o.metric, o.value FROM partner_outcomes o
             JOIN partner_programs pp ON pp.partner_id = o.partner_id AND pp.program_id = $1
             ORDER BY o.metric, o.quarter",
        )
        .bind(program_id)
        .fetch_all(self.db.reader())
        .await?
        .iter()
        .map(|r| -> AppResult<_> {
            Ok((
                r.try_get::<String, _>("partner_id")?,
                r.try_get::<String, _>("quarter")?,
                r.try_get::<String, _>("metric")?,
                r.try_get::<f64, _>("value")?,
            ))
        })
        .collect::<AppResult<Vec<_>>>()?
        .into_iter()
        .filter(|(p, ..)| in_scope.contains(p.as_str()))
        .collect();
        let comparisons = compare_outcomes(&values, |partner, quarter| {
            quarter_end(quarter).is_some_and(|end| {
                held.get(partner).is_some_and(|spans| {
                    spans
                        .iter()
                        .any(|(from, until)| *from <= end && end <= *until)
                })
            })
        });

        let partner_benefits: Vec<_> = program
            .benefits
            .iter()
            .filter(|b| b.subject == accredit_domain::program::Subject::Partner)
            .collect();
        let mut compliance = Vec::new();
        for (id, name, tier, _) in &partners {
            let mut benefits = Vec::new();
            for benefit in &partner_benefits {
                let allowed = matches!(
                    self.check_entitlement(Subjectee::Partner(id), &benefit.id, Some(program_id)).await?,
                    Lookup::Answer(answer) if answer.decision.allowed
                );
                benefits.push((benefit.name.clone(), allowed));
            }
            compliance.push(ComplianceRow {
                partner_id: id.clone(),
                partner_name: name.clone(),
                tier: tier.as_ref().map(|t| {
                    program
                        .tiers
                        .iter()
                        .find(|x| &x.id == t)
                        .map_or(t.clone(), |x| x.name.clone())
                }),
                tracks: program
                    .tracks
                    .iter()
                    .map(|t| {
                        let (n, earliest) = current
                            .get(&(id.clone(), t.id.clone()))
                            .copied()
                            .unwrap_or((0, None));
                        (t.name.clone(), n, earliest.map(|d| d.to_string()))
                    })
                    .collect(),
                benefits,
            });
        }

        Ok(ProgramReport {
            program_id: program.id.clone(),
            program_name: program.name.clone(),
            as_of: today.to_string(),
            partners: partners.len(),
            pass_rates: pass_rates(&attempts),
            domain_scores: domain_scores(&attempts),
            first_attempts: first_attempts(&attempts),
            time_to_credential: time_to_credential(&first_issue.into_values().collect::<Vec<_>>()),
            renewals: renewals(&endings),
            comparisons,
            compliance,
            track_names: program.tracks.iter().map(|t| t.name.clone()).collect(),
        })
    }

    /// Records outcome metrics from CSV (`partner,quarter,metric,value`), all or nothing; a
    /// value already recorded for the partner, quarter and metric is replaced.
    pub async fn import_outcomes_csv(&self, ctx: &Ctx, bytes: &[u8]) -> AppResult<OutcomeImport> {
        ctx.authorize(&Action::ManageLifecycle, "outcome metrics")?;
        let file = health_csv::parse_outcomes(bytes);
        let mut problems: Vec<InvalidInput> = file
            .errors
            .iter()
            .map(|e| InvalidInput::new(format!("line {}", e.line), e.message.clone()))
            .collect();
        let mut resolved = Vec::new();
        for row in &file.rows {
            let partner: Option<String> =
                sqlx::query_scalar("SELECT id FROM partners WHERE id = $1 OR name = $1")
                    .bind(row.partner.trim())
                    .fetch_optional(self.db.reader())
                    .await?;
            match partner {
                Some(id) => resolved.push((id, row)),
                None => problems.push(InvalidInput::new(
                    format!("line {}", row.line),
                    format!("partner: no partner `{}`", row.partner.trim()),
                )),
            }
        }
        if !problems.is_empty() {
            problems.sort_by_key(|p| {
                p.field
                    .trim_start_matches("line ")
                    .parse::<usize>()
                    .unwrap_or(0)
            });
            return Err(AppError::Invalid(problems));
        }
        if resolved.is_empty() {
            return Err(AppError::invalid("file", "the file has no rows"));
        }
        let now = self.now();
        let mut tx = self.db.begin().await?;
        for (partner, row) in &resolved {
            sqlx::query(
                "INSERT INTO partner_outcomes (partner_id, quarter, metric, value, recorded_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (partner_id, quarter, metric) DO UPDATE SET value = excluded.value,
                   recorded_at = excluded.recorded_at",
            )
            .bind(partner)
            .bind(&row.quarter)
            .bind(row.metric.as_deref().unwrap_or_default())
            .bind(row.score)
            .bind(format_instant(now))
            .execute(&mut *tx)
            .await?;
        }
        let metrics: BTreeSet<&str> = resolved
            .iter()
            .filter_map(|(_, r)| r.metric.as_deref())
            .collect();
        audit::record(
            &mut tx,
            ctx,
            now,
            "outcomes.recorded",
            "outcomes",
            serde_json::json!({ "rows": resolved.len(), "metrics": metrics }),
        )
        .await?;
        tx.commit().await?;
        Ok(OutcomeImport {
            recorded: resolved.len(),
        })
    }
}
