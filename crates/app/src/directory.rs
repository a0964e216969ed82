//! The public partner directory: partners that hold a benefit the program marks `directory =
//! true`, with their tier, their people's current credentials by track, region and type. A
//! partner is listed only while the benefit's rule holds, read from the same entitlement
//! decisions other systems ask, so it disappears the moment the benefit lapses.

use crate::App;
use crate::entitlements::{Lookup, Subjectee};
use crate::error::AppResult;
use crate::records::load_programs;
use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Badge {
    pub track_id: String,
    pub track_name: String,
    /// People of the partner holding a current credential of the track.
    pub holders: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DirectoryEntry {
    pub partner_id: String,
    pub name: String,
    pub partner_type: String,
    pub region: String,
    pub program_id: String,
    pub program_name: String,
    pub tier: Option<String>,
    /// The benefit that lists the partner.
    pub listed_by: String,
    /// The last day the listing holds, when it ends.
    pub listed_until: Option<String>,
    pub badges: Vec<Badge>,
}

/// Filters, all optional.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DirectoryQuery {
    /// Part of the partner's name.
    pub q: Option<String>,
    pub program: Option<String>,
    pub region: Option<String>,
    pub partner_type: Option<String>,
    /// A track (specialisation) at least one of the partner's people holds.
    pub track: Option<String>,
}

impl App {
    /// Partners listed in the directory, by name, filtered. Public.
    pub async fn directory(&self, query: &DirectoryQuery) -> AppResult<Vec<DirectoryEntry>> {
        let today = self.today().to_string();
        let mut conn = self.db.reader().acquire().await?;
        let programs: BTreeMap<String, accredit_domain::program::Program> =
            load_programs(&mut conn)
                .await?
                .into_iter()
                .filter(|p| p.benefits.iter().any(|b| b.directory))
                .filter(|p| query.program.as_ref().is_none_or(|id| &p.id == id))
                .map(|p| (p.id.clone(), p))
                .collect();
        if programs.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT pa.id, pa.name, pa.partner_type, pa.region, pp.program_id, pt.tier_id
             FROM partners pa
             JOIN partner_programs pp ON pp.partner_id = pa.id
             LEFT JOIN partner_tiers pt ON pt.partner_id = pa.id AND pt.program_id = pp.program_id
             WHERE pa.deactivated_at IS NULL
             ORDER BY pa.name",
        )
        .fetch_all(&mut *conn)
        .await?;
        let held = sqlx::query(
            "SELECT p.partner_id, c.program_id, c.track_id, COUNT(*) AS holders
             FROM credentials c JOIN people p ON p.id = c.person_id
             WHERE c.status = 'active' AND c.valid_until >= $1 AND p.deactivated_at IS NULL
             GROUP BY p.partner_id, c.program_id, c.track_id",
        )
        .bind(&today)
        .fetch_all(&mut *conn)
        .await?;
        drop(conn);
        let mut badges: BTreeMap<(String, String), Vec<(String, i64)>> = BTreeMap::new();
        for row in &held {
            let partner: Option<String> = row.try_get("partner_id").context("partner")?;
            let Some(partner) = partner else { continue };
            badges
                .entry((partner, row.try_get("program_id").context("program")?))
                .or_default()
                .push((
                    row.try_get("track_id").context("track")?,
                    row.try_get("holders").context("holders")?,
                ));
        }
        let wanted = |value: &str, filter: &Option<String>| {
            filter
                .as_ref()
                .is_none_or(|f| f.trim().is_empty() || value.eq_ignore_ascii_case(f.trim()))
        };
        let needle = query
            .q
            .as_deref()
            .map(str::trim)
            .unwrap_or_default()
            .to_lowercase();
        let mut entries = Vec::new();
        for row in rows {
            let program_id: String = row.try_get("program_id").context("program")?;
            let Some(program) = programs.get(&program_id) else {
                continue;
            };
            let partner_id: String = row.try_get("id").context("id")?;
            let name: String = row.try_get("name").context("name")?;
            let partner_type: String = row.try_get("partner_type").context("type")?;
            let region: String = row.try_get("region").context("region")?;
            if !name.to_lowercase().contains(&needle)
                || !wanted(&region, &query.region)
                || !wanted(&partner_type, &query.partner_type)
            {
                continue;
            }
            let mut listing = None;
            for benefit in program.benefits.iter().filter(|b| b.directory) {
                if let Lookup::Answer(answer) = self
                    .check_entitlement(
                        Subjectee::Partner(&partner_id),
                        &benefit.id,
                        Some(&program.id),
                    )
                    .await?
                    && answer.decision.allowed
                {
                    listing = Some((benefit.name.clone(), answer.decision.until));
                    break;
                }
            }
            let Some((listed_by, until)) = listing else {
                continue;
            };
            let partner_badges: Vec<Badge> = badges
                .get(&(partner_id.clone(), program_id.clone()))
                .map(|held| {
                    held.iter()
                        .map(|(track, holders)| Badge {
                            track_name: program
                                .track(track)
                                .map_or(track.clone(), |t| t.name.clone()),
                            track_id: track.clone(),
                            holders: *holders,
                        })
                        .collect()
                })
                .unwrap_or_default();
            if let Some(track) = query.track.as_ref().filter(|t| !t.trim().is_empty())
                && !partner_badges.iter().any(|b| &b.track_id == track)
            {
                continue;
            }
            let tier_id: Option<String> = row.try_get("tier_id").context("tier")?;
            entries.push(DirectoryEntry {
                partner_id,
                name,
                partner_type,
                region,
                program_name: program.name.clone(),
                program_id,
                tier: tier_id.map(|t| {
                    program
                        .tiers
                        .iter()
                        .find(|x| x.id == t)
                        .map_or(t.clone(), |x| x.name.clone())
                }),
                listed_by,
                listed_until: until.map(|d| d.to_string()),
                badges: partner_badges,
            });
        }
        Ok(entries)
    }
}
