//! Programs as code: validating a program file, showing what applying it would change, applying
//! it atomically, enrolling partners, and keeping every partner's tier current and explained.

use crate::clock::format_instant;
use crate::error::{AppError, AppResult};
use crate::records::{enrolments, load_programs, parse_date, partner_record};
use crate::secrets::sha256_hex;
use crate::{App, Ctx, audit};
use accredit_domain::evaluate::{Outcome, standing};
use accredit_domain::lifecycle::{days_between, first_due};
use accredit_domain::program::{HolderPolicy, Program, ProgramChange, Track, Validity, diff};
use accredit_domain::{Action, InvalidInput, PartnerId};
use accredit_formats::program::{ProgramError, parse};
use anyhow::Context as _;
use jiff::civil::Date;
use serde::Serialize;
use sqlx::{AnyConnection, Row as _};
use std::collections::BTreeMap;

/// A summary of an applied program.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ProgramSummary {
    pub id: String,
    pub name: String,
    pub version: String,
    pub applied_at: String,
    pub applied_by: String,
    pub enrolled_partners: i64,
}

/// How many partners' tiers would move, from → to.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct TierMove {
    pub from: Option<String>,
    pub to: Option<String>,
    pub partners: i64,
}

/// What applying a program file does (or did).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProgramPlan {
    pub program_id: String,
    pub version: String,
    /// True when the file is exactly what is applied already.
    pub unchanged: bool,
    /// False for a dry run.
    pub applied: bool,
    #[schema(value_type = Vec<Object>)]
    pub changes: Vec<ProgramChange>,
    /// Partners whose tier the new version would move.
    pub tier_moves: Vec<TierMove>,
    /// Current holders of each track whose validity or renewal policy changes, and how their
    /// dates move.
    pub holder_changes: Vec<HolderChange>,
}

/// What a validity or renewal change does to a track's current holders.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HolderChange {
    pub track: String,
    /// `keep` or `recompute`, as the file says.
    pub policy: String,
    /// Active credentials of the track.
    pub holders: i64,
    /// With `recompute`: how many end later, earlier, or stay.
    pub later: i64,
    pub earlier: i64,
    pub unchanged: i64,
    /// The largest move of an end date, in days.
    pub largest_move_days: i64,
    /// The new policy in words.
    pub summary: String,
}

/// The explanation of one partner's tier in one program.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TierExplanation {
    pub tier: String,
    pub name: String,
    pub passed: bool,
    /// Why it holds.
    pub basis: Vec<String>,
    /// What is missing.
    pub missing: Vec<String>,
}

/// A partner's standing in a program.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PartnerStanding {
    pub program_id: String,
    pub program_name: String,
    pub tier: Option<String>,
    pub tier_name: Option<String>,
    /// The next tier up, if any, and what it still needs.
    pub next_tier: Option<TierExplanation>,
    pub tiers: Vec<TierExplanation>,
    pub evaluated_at: String,
}

fn program_errors(errors: Vec<ProgramError>) -> AppError {
    AppError::Invalid(
        errors
            .into_iter()
            .map(|e| InvalidInput::new(format!("line {}, column {}", e.line, e.column), e.message))
            .collect(),
    )
}

fn explain(program: &Program, outcomes: &[Outcome]) -> Vec<TierExplanation> {
    program
        .tiers
        .iter()
        .zip(outcomes)
        .map(|(tier, outcome)| TierExplanation {
            tier: tier.id.clone(),
            name: tier.name.clone(),
            passed: outcome.passed,
            basis: outcome.basis.clone(),
            missing: outcome.missing.clone(),
        })
        .collect()
}

async fn applied_program(
    conn: &mut AnyConnection,
    id: &str,
) -> AppResult<Option<(Program, String)>> {
    let row = sqlx::query("SELECT definition, checksum FROM programs WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    match row {
        Some(row) => {
            let json: String = row.try_get("definition").context("definition")?;
            let checksum: String = row.try_get("checksum").context("checksum")?;
            Ok(Some((
                serde_json::from_str(&json).context("stored program")?,
                checksum,
            )))
        }
        None => Ok(None),
    }
}

impl App {
    /// Parses and checks a program file without touching the database.
    pub fn validate_program(&self, text: &str) -> AppResult<Program> {
        parse(text).map_err(program_errors)
    }

    /// Shows what applying `text` would change, including tier moves; changes nothing.
    pub async fn plan_program(&self, ctx: &Ctx, text: &str) -> AppResult<ProgramPlan> {
        ctx.authorize(&Action::ManagePrograms, "programs")?;
        let program = self.validate_program(text)?;
        let mut conn = self.db.reader().acquire().await?;
        self.plan(&mut conn, &program, &sha256_hex(text)).await
    }

    async fn plan(
        &self,
        conn: &mut AnyConnection,
        program: &Program,
        checksum: &str,
    ) -> AppResult<ProgramPlan> {
        let current = applied_program(conn, &program.id).await?;
        let unchanged = current.as_ref().is_some_and(|(_, c)| c == checksum);
        let changes = diff(current.as_ref().map(|(p, _)| p), program);
        self.check_removals(conn, current.as_ref().map(|(p, _)| p), program)
            .await?;
        let tier_moves = match &current {
            Some((old, _)) if !unchanged => self.tier_moves(conn, old, program).await?,
            _ => vec![],
        };
        let holder_changes = match &current {
            Some((old, _)) if !unchanged => holder_changes(conn, old, program).await?,
            _ => vec![],
        };
        Ok(ProgramPlan {
            program_id: program.id.clone(),
            version: program.version.clone(),
            unchanged,
            applied: false,
            changes,
            tier_moves,
            holder_changes,
        })
    }

    /// Tracks with credentials on record cannot disappear: their holders would be stranded.
    async fn check_removals(
        &self,
        conn: &mut AnyConnection,
        old: Option<&Program>,
        new: &Program,
    ) -> AppResult<()> {
        let Some(old) = old else { return Ok(()) };
        let mut problems = Vec::new();
        for track in &old.tracks {
            if new.track(&track.id).is_none() {
                let row = sqlx::query(
                    "SELECT COUNT(*) AS n FROM credentials WHERE program_id = $1 AND track_id = $2",
                )
                .bind(&old.id)
                .bind(&track.id)
                .fetch_one(&mut *conn)
                .await?;
                let n: i64 = row.try_get("n").context("count")?;
                if n > 0 {
                    problems.push(InvalidInput::new(
                        format!("tracks.{}", track.id),
                        format!(
                            "track `{}` cannot be removed: {n} credentials of it are on record",
                            track.id
                        ),
                    ));
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(problems))
        }
    }

    async fn tier_moves(
        &self,
        conn: &mut AnyConnection,
        old: &Program,
        new: &Program,
    ) -> AppResult<Vec<TierMove>> {
        let today = self.today();
        let records = crate::records::load_records(conn, &old.id, None).await?;
        let mut moves: BTreeMap<(Option<String>, Option<String>), i64> = BTreeMap::new();
        for record in records.values() {
            let before = standing(old, record, today)
                .tier
                .map(|t| old.tiers[t].id.clone());
            let after = standing(new, record, today)
                .tier
                .map(|t| new.tiers[t].id.clone());
            if before != after {
                *moves.entry((before, after)).or_default() += 1;
            }
        }
        Ok(moves
            .into_iter()
            .map(|((from, to), partners)| TierMove { from, to, partners })
            .collect())
    }

    /// Applies a program file in one transaction: the definition, a revision, the audit event,
    /// and every enrolled partner's re-evaluated tier. Re-applying the same file changes nothing.
    pub async fn apply_program(&self, ctx: &Ctx, text: &str) -> AppResult<ProgramPlan> {
        ctx.authorize(&Action::ManagePrograms, "programs")?;
        let program = self.validate_program(text)?;
        let checksum = sha256_hex(text);
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let mut plan = self.plan(&mut tx, &program, &checksum).await?;
        if plan.unchanged {
            return Ok(plan);
        }
        let definition = serde_json::to_string(&program).context("serialising the program")?;
        let actor = ctx.principal.audit_name();
        sqlx::query(
            "INSERT INTO programs (id, name, version, source, definition, checksum, applied_at, applied_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, version = excluded.version,
               source = excluded.source, definition = excluded.definition, checksum = excluded.checksum,
               applied_at = excluded.applied_at, applied_by = excluded.applied_by",
        )
        .bind(&program.id)
        .bind(&program.name)
        .bind(&program.version)
        .bind(text)
        .bind(&definition)
        .bind(&checksum)
        .bind(format_instant(now))
        .bind(&actor)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO program_revisions (program_id, version, source, checksum, applied_at, applied_by)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&program.id)
        .bind(&program.version)
        .bind(text)
        .bind(&checksum)
        .bind(format_instant(now))
        .bind(&actor)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            ctx,
            now,
            "program.applied",
            &format!("program:{}", program.id),
            serde_json::json!({ "version": program.version, "checksum": checksum, "changes": plan.changes }),
        )
        .await?;
        for change in &plan.holder_changes {
            self.apply_holder_change(&mut tx, ctx, &program, change)
                .await?;
        }
        let partners = sqlx::query("SELECT partner_id FROM partner_programs WHERE program_id = $1")
            .bind(&program.id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("partner_id"))
            .collect::<Result<Vec<_>, _>>()
            .context("enrolled partners")?;
        for partner in &partners {
            self.refresh_standing(&mut tx, ctx, partner, Some(&program))
                .await?;
        }
        self.notify_everything(&mut tx).await?;
        tx.commit().await?;
        self.rebuild_entitlements().await?;
        plan.applied = true;
        Ok(plan)
    }

    pub async fn list_programs(&self, ctx: &Ctx) -> AppResult<Vec<ProgramSummary>> {
        ctx.authorize(&Action::ReadPrograms, "programs")?;
        let rows = sqlx::query(
            "SELECT p.id, p.name, p.version, p.applied_at, p.applied_by,
                    (SELECT COUNT(*) FROM partner_programs pp WHERE pp.program_id = p.id) AS enrolled
             FROM programs p ORDER BY p.id",
        )
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ProgramSummary {
                    id: r.try_get("id").context("id")?,
                    name: r.try_get("name").context("name")?,
                    version: r.try_get("version").context("version")?,
                    applied_at: r.try_get("applied_at").context("applied_at")?,
                    applied_by: r.try_get("applied_by").context("applied_by")?,
                    enrolled_partners: r.try_get("enrolled").context("enrolled")?,
                })
            })
            .collect()
    }

    /// The applied program with this id.
    pub async fn get_program(&self, ctx: &Ctx, id: &str) -> AppResult<Program> {
        ctx.authorize(&Action::ReadPrograms, "programs")?;
        let mut conn = self.db.reader().acquire().await?;
        applied_program(&mut conn, id)
            .await?
            .map(|(p, _)| p)
            .ok_or_else(|| AppError::NotFound(format!("program `{id}`")))
    }

    /// Enrols a partner in a program and evaluates its tier there.
    pub async fn enroll_partner(
        &self,
        ctx: &Ctx,
        partner_id: &str,
        program_id: &str,
    ) -> AppResult<PartnerStanding> {
        ctx.authorize(&Action::ManagePrograms, "programs")?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let Some((program, _)) = applied_program(&mut tx, program_id).await? else {
            return Err(AppError::invalid(
                "program_id",
                format!("no program `{program_id}` is applied"),
            ));
        };
        let row = sqlx::query("SELECT partner_type FROM partners WHERE id = $1")
            .bind(partner_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("partner `{partner_id}`")))?;
        let partner_type: String = row.try_get("partner_type").context("partner_type")?;
        if !program.partner_types.is_empty() && !program.partner_types.contains(&partner_type) {
            return Err(AppError::invalid(
                "program_id",
                format!(
                    "program `{program_id}` is for {} partners, and this partner is a {partner_type}",
                    program.partner_types.join(" or ")
                ),
            ));
        }
        if enrolments(&mut tx, partner_id)
            .await?
            .iter()
            .any(|p| p == program_id)
        {
            return Err(AppError::Conflict(format!(
                "the partner is already enrolled in `{program_id}`"
            )));
        }
        sqlx::query("INSERT INTO partner_programs (partner_id, program_id, enrolled_at) VALUES ($1, $2, $3)")
            .bind(partner_id)
            .bind(program_id)
            .bind(format_instant(now))
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            ctx,
            now,
            "partner.enrolled",
            &format!("partner:{partner_id}"),
            serde_json::json!({ "program": program_id }),
        )
        .await?;
        self.refresh_standing(&mut tx, ctx, partner_id, Some(&program))
            .await?;
        self.notify_changed(&mut tx, &[partner_id.to_owned()])
            .await?;
        tx.commit().await?;
        self.entitlements_changed(&[partner_id.to_owned()]).await?;
        let standings = self.partner_standings(ctx, partner_id).await?;
        standings
            .into_iter()
            .find(|s| s.program_id == program_id)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("standing missing after enrolment")))
    }

    /// Re-evaluates a partner's tier in each program it is enrolled in (or only `program`),
    /// stores it with its explanation, and audits every change of tier. Runs inside the
    /// caller's transaction.
    pub(crate) async fn refresh_standing(
        &self,
        conn: &mut AnyConnection,
        ctx: &Ctx,
        partner_id: &str,
        program: Option<&Program>,
    ) -> AppResult<()> {
        let programs = match program {
            Some(p) => vec![p.clone()],
            None => {
                let enrolled = enrolments(conn, partner_id).await?;
                load_programs(conn)
                    .await?
                    .into_iter()
                    .filter(|p| enrolled.contains(&p.id))
                    .collect()
            }
        };
        let now = self.now();
        let today = self.today();
        // Lock the partner first: two nodes re-evaluating it at once would otherwise both see the
        // old tier and both record the change.
        sqlx::query("UPDATE partners SET updated_at = updated_at WHERE id = $1")
            .bind(partner_id)
            .execute(&mut *conn)
            .await?;
        for program in &programs {
            let record = partner_record(conn, &program.id, partner_id).await?;
            let result = standing(program, &record, today);
            let tier = result.tier.map(|t| program.tiers[t].id.clone());
            let explanation = explain(program, &result.tiers);
            let previous = sqlx::query(
                "SELECT tier_id FROM partner_tiers WHERE partner_id = $1 AND program_id = $2",
            )
            .bind(partner_id)
            .bind(&program.id)
            .fetch_optional(&mut *conn)
            .await?;
            let previous_tier = match &previous {
                Some(row) => row
                    .try_get::<Option<String>, _>("tier_id")
                    .context("tier_id")?,
                None => None,
            };
            sqlx::query(
                "INSERT INTO partner_tiers (partner_id, program_id, tier_id, explanation, evaluated_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (partner_id, program_id) DO UPDATE SET tier_id = excluded.tier_id,
                   explanation = excluded.explanation, evaluated_at = excluded.evaluated_at",
            )
            .bind(partner_id)
            .bind(&program.id)
            .bind(&tier)
            .bind(serde_json::to_string(&explanation).context("explanation")?)
            .bind(format_instant(now))
            .execute(&mut *conn)
            .await?;
            if previous.is_none() || previous_tier != tier {
                let why = match result.tier {
                    Some(t) => serde_json::json!({ "passed": result.tiers[t].basis }),
                    None => {
                        serde_json::json!({ "missing": result.tiers.first().map(|o| o.missing.clone()).unwrap_or_default() })
                    }
                };
                audit::record(
                    conn,
                    ctx,
                    now,
                    "partner.tier_changed",
                    &format!("partner:{partner_id}"),
                    serde_json::json!({ "program": program.id, "from": previous_tier, "to": tier, "because": why }),
                )
                .await?;
            }
            if previous.is_some() && previous_tier != tier {
                crate::events::emit(
                    conn,
                    now,
                    "tier.changed",
                    &format!("{partner_id}:{}:{}", program.id, format_instant(now)),
                    serde_json::json!({ "partner": partner_id, "program": program.id, "from": previous_tier, "to": tier }),
                )
                .await?;
            }
        }
        Ok(())
    }

    /// A partner's tier in each program it is enrolled in, with what the next tier needs.
    pub async fn partner_standings(
        &self,
        ctx: &Ctx,
        partner_id: &str,
    ) -> AppResult<Vec<PartnerStanding>> {
        ctx.authorize(
            &Action::ReadPartner(&PartnerId::from(partner_id)),
            &format!("partner `{partner_id}`"),
        )?;
        let mut conn = self.db.reader().acquire().await?;
        let programs = load_programs(&mut conn).await?;
        let rows = sqlx::query(
            "SELECT program_id, tier_id, explanation, evaluated_at FROM partner_tiers WHERE partner_id = $1 ORDER BY program_id",
        )
        .bind(partner_id)
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::new();
        for row in &rows {
            let program_id: String = row.try_get("program_id").context("program_id")?;
            let Some(program) = programs.iter().find(|p| p.id == program_id) else {
                continue;
            };
            let tier: Option<String> = row.try_get("tier_id").context("tier_id")?;
            let tiers: Vec<TierExplanation> = {
                let json: String = row.try_get("explanation").context("explanation")?;
                let stored: Vec<serde_json::Value> =
                    serde_json::from_str(&json).context("explanation")?;
                stored
                    .into_iter()
                    .map(|v| TierExplanation {
                        tier: v["tier"].as_str().unwrap_or_default().to_owned(),
                        name: v["name"].as_str().unwrap_or_default().to_owned(),
                        passed: v["passed"].as_bool().unwrap_or(false),
                        basis: serde_json::from_value(v["basis"].clone()).unwrap_or_default(),
                        missing: serde_json::from_value(v["missing"].clone()).unwrap_or_default(),
                    })
                    .collect()
            };
            let rank = tier.as_deref().and_then(|t| program.tier_rank(t));
            let next = match rank {
                Some(r) => tiers.get(r + 1).cloned(),
                None => tiers.first().cloned(),
            };
            out.push(PartnerStanding {
                program_id: program.id.clone(),
                program_name: program.name.clone(),
                tier_name: rank.map(|r| program.tiers[r].name.clone()),
                tier,
                next_tier: next,
                tiers,
                evaluated_at: row.try_get("evaluated_at").context("evaluated_at")?,
            });
        }
        Ok(out)
    }

    /// Today's date in UTC, from the injected clock.
    pub fn today(&self) -> jiff::civil::Date {
        self.now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date()
    }
}

impl App {
    /// Re-evaluates, audited, every partner with a credential that ended between `since` and
    /// yesterday: time alone changes tiers, and this records when it did. Returns how many
    /// partners were looked at.
    pub async fn reevaluate_lapsed(&self, since: jiff::civil::Date) -> AppResult<usize> {
        let today = self.today();
        let partners: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT pe.partner_id FROM credentials c JOIN people pe ON pe.id = c.person_id
             WHERE c.status = 'active' AND c.valid_until >= $1 AND c.valid_until < $2 AND pe.partner_id IS NOT NULL",
        )
        .bind(since.to_string())
        .bind(today.to_string())
        .fetch_all(self.db.reader())
        .await?;
        let ctx = Ctx::system();
        for partner in &partners {
            let mut tx = self.db.begin().await?;
            self.refresh_standing(&mut tx, &ctx, partner, None).await?;
            self.notify_changed(&mut tx, std::slice::from_ref(partner))
                .await?;
            tx.commit().await?;
        }
        self.refresh_entitlements(&partners).await?;
        Ok(partners.len())
    }
}

impl App {
    /// Re-evaluates partners whose credentials ended since the last sweep (kept in settings),
    /// so tiers that time changed are recorded even when nobody asks. Safe to run on several
    /// nodes at once: re-evaluation locks each partner.
    pub async fn sweep_lapses(&self) -> AppResult<usize> {
        let last: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = 'lapse_sweep_through'")
                .fetch_optional(self.db.reader())
                .await?;
        let today = self.today();
        let since = match last
            .as_deref()
            .map(crate::records::parse_date)
            .transpose()?
        {
            Some(date) => date,
            // First sweep: look back over a full year of expiries.
            None => today - jiff::Span::new().days(400),
        };
        let count = self.reevaluate_lapsed(since).await?;
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ('lapse_sweep_through', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(today.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(count)
    }
}

/// The tracks whose validity or renewal policy this version changes, with what happens to their
/// current holders. Such a change must say `existing_holders`.
async fn holder_changes(
    conn: &mut AnyConnection,
    old: &Program,
    new: &Program,
) -> AppResult<Vec<HolderChange>> {
    let mut changes = Vec::new();
    for track in &new.tracks {
        let Some(before) = old.track(&track.id) else {
            continue;
        };
        let validity_changed = before.validity != track.validity;
        if !validity_changed && before.renewal == track.renewal {
            continue;
        }
        let what = match (validity_changed, before.renewal != track.renewal) {
            (true, true) => "validity and renewal policy",
            (true, false) => "validity",
            _ => "renewal policy",
        };
        let Some(policy) = track.existing_holders else {
            return Err(AppError::invalid(
                "existing_holders",
                format!(
                    "track `{}`: this version changes its {what}; say what happens to current holders with existing_holders = \"keep\" (their dates stay) or \"recompute\" (their end dates follow the new policy)",
                    track.id
                ),
            ));
        };
        let rows = sqlx::query(
            "SELECT issued_on, valid_until FROM credentials WHERE program_id = $1 AND track_id = $2 AND status = 'active'",
        )
        .bind(&new.id)
        .bind(&track.id)
        .fetch_all(&mut *conn)
        .await?;
        let mut change = HolderChange {
            track: track.id.clone(),
            policy: match policy {
                HolderPolicy::Keep => "keep".into(),
                HolderPolicy::Recompute => "recompute".into(),
            },
            holders: rows.len() as i64,
            later: 0,
            earlier: 0,
            unchanged: 0,
            largest_move_days: 0,
            summary: format!("{what} changed; {}", describe_policy(track)),
        };
        for row in &rows {
            let issued = parse_date(&row.try_get::<String, _>("issued_on")?)?;
            let until = parse_date(&row.try_get::<String, _>("valid_until")?)?;
            let moved = match policy {
                HolderPolicy::Keep => 0,
                HolderPolicy::Recompute => {
                    days_between(until, recomputed_until(new, track, issued))
                }
            };
            match moved.signum() {
                1 => change.later += 1,
                -1 => change.earlier += 1,
                _ => change.unchanged += 1,
            }
            change.largest_move_days = change.largest_move_days.max(moved.abs());
        }
        changes.push(change);
    }
    Ok(changes)
}

fn recomputed_until(program: &Program, track: &Track, issued: Date) -> Date {
    let ends = program.expiry(&track.validity, issued);
    ends.yesterday().unwrap_or(ends)
}

fn describe_policy(track: &Track) -> String {
    let validity = match track.validity {
        Validity::Months(m) => format!("valid {m} months"),
        Validity::ReleaseAligned { min_months } => {
            format!("valid until the first release at least {min_months} months after issue")
        }
    };
    format!(
        "{validity}, renewal opens {} days before expiry",
        track.renewal.window_days
    )
}

impl App {
    /// Applies a holder change inside the program's transaction: recomputed end dates are
    /// re-signed; every holder's schedule follows the new renewal window.
    async fn apply_holder_change(
        &self,
        tx: &mut AnyConnection,
        ctx: &Ctx,
        program: &Program,
        change: &HolderChange,
    ) -> AppResult<()> {
        let Some(track) = program.track(&change.track) else {
            return Ok(());
        };
        let today = self.today();
        let rows = sqlx::query(
            "SELECT id, issued_on, valid_until FROM credentials WHERE program_id = $1 AND track_id = $2 AND status = 'active'",
        )
        .bind(&program.id)
        .bind(&track.id)
        .fetch_all(&mut *tx)
        .await?;
        let mut moved = 0;
        for row in &rows {
            let id: String = row.try_get("id").context("id")?;
            let issued = parse_date(&row.try_get::<String, _>("issued_on")?)?;
            let mut until = parse_date(&row.try_get::<String, _>("valid_until")?)?;
            let recompute = change.policy == "recompute";
            if recompute {
                let new_until = recomputed_until(program, track, issued);
                if new_until != until {
                    until = new_until;
                    moved += 1;
                }
            }
            sqlx::query("UPDATE credentials SET valid_until = $2, next_due_on = $3 WHERE id = $1")
                .bind(&id)
                .bind(until.to_string())
                .bind(first_due(until, track.renewal.window_days, today).to_string())
                .execute(&mut *tx)
                .await?;
            if recompute {
                self.sign_credential(tx, &id).await?;
            }
        }
        audit::record(
            tx,
            ctx,
            self.now(),
            "credentials.policy_applied",
            &format!("program:{}", program.id),
            serde_json::json!({ "track": track.id, "policy": change.policy, "holders": rows.len(), "dates_moved": moved }),
        )
        .await?;
        Ok(())
    }
}
