//! What a person has to study: the modules of the programs their firm is enrolled in, filtered
//! to their job, with the latest content version, their progress, and whether they hold a
//! credential of the program (so they can read only what changed since).

use crate::error::AppResult;
use crate::records::{enrolments, load_programs};
use crate::{App, Ctx};
use accredit_domain::{Action, Principal};
use anyhow::Context as _;
use serde::Serialize;
use sqlx::Row as _;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProgramTraining {
    pub program_id: String,
    pub program_name: String,
    /// The day the person's latest credential of this program was issued.
    pub certified_on: Option<String>,
    pub modules: Vec<ModuleTraining>,
    /// The tracks the person's job role leads to, each with what it requires in words.
    pub tracks: Vec<TrackRequirement>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrackRequirement {
    pub track_id: String,
    pub name: String,
    pub requires: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ModuleTraining {
    pub module_id: String,
    pub title: String,
    pub hours: f64,
    pub job_roles: Vec<String>,
    /// The latest version; `None` until content is imported.
    pub latest_version: Option<i64>,
    pub sections_total: i64,
    /// Sections of the latest version the person has read.
    pub sections_read: i64,
    pub completed: bool,
}

impl App {
    /// Partner staff see their firm's programs and the modules for their job; vendor staff see
    /// every program and module.
    pub async fn training_overview(&self, ctx: &Ctx) -> AppResult<Vec<ProgramTraining>> {
        ctx.authorize(&Action::ReadPrograms, "training")?;
        let mut conn = self.db.reader().acquire().await?;
        let mut programs = load_programs(&mut conn).await?;
        let (person_id, job_role) = match &ctx.principal {
            Principal::Person(actor) => {
                if let Some(partner) = &actor.partner_id {
                    let enrolled = enrolments(&mut conn, &partner.0).await?;
                    programs.retain(|p| enrolled.contains(&p.id));
                }
                let job_role: Option<String> =
                    sqlx::query_scalar("SELECT job_role FROM people WHERE id = $1")
                        .bind(&actor.person_id.0)
                        .fetch_optional(&mut *conn)
                        .await?
                        .flatten();
                (
                    Some(actor.person_id.0.clone()),
                    job_role.filter(|_| actor.partner_id.is_some()),
                )
            }
            _ => (None, None),
        };
        let person = person_id.unwrap_or_default();

        let latest = sqlx::query(
            "SELECT v.program_id, v.module_id, v.version,
                    (SELECT COUNT(*) FROM sections s WHERE s.module_version_id = v.id) AS total,
                    (SELECT COUNT(*) FROM section_reads r JOIN sections s ON s.id = r.section_id
                      WHERE s.module_version_id = v.id AND r.person_id = $1) AS read_count
             FROM module_versions v
             WHERE v.version = (SELECT MAX(w.version) FROM module_versions w
                                WHERE w.program_id = v.program_id AND w.module_id = v.module_id)",
        )
        .bind(&person)
        .fetch_all(&mut *conn)
        .await?;
        let mut versions: HashMap<(String, String), (i64, i64, i64)> = HashMap::new();
        for row in &latest {
            versions.insert(
                (
                    row.try_get("program_id").context("program_id")?,
                    row.try_get("module_id").context("module_id")?,
                ),
                (
                    row.try_get("version").context("version")?,
                    row.try_get("total").context("total")?,
                    row.try_get("read_count").context("read_count")?,
                ),
            );
        }
        let completed: HashSet<(String, String)> = sqlx::query(
            "SELECT program_id, module_id FROM module_completions WHERE person_id = $1",
        )
        .bind(&person)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("program_id")?, r.try_get("module_id")?)))
        .collect::<Result<_, sqlx::Error>>()?;
        let certified: HashMap<String, String> = sqlx::query(
            "SELECT program_id, MAX(issued_on) AS issued_on FROM credentials
             WHERE person_id = $1 AND status IN ('active', 'superseded') GROUP BY program_id",
        )
        .bind(&person)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("program_id")?, r.try_get("issued_on")?)))
        .collect::<Result<_, sqlx::Error>>()?;

        Ok(programs
            .into_iter()
            .map(|program| {
                let modules = program
                    .modules
                    .iter()
                    .filter(|m| match &job_role {
                        Some(role) => m.job_roles.is_empty() || m.job_roles.contains(role),
                        None => true,
                    })
                    .map(|m| {
                        let key = (program.id.clone(), m.id.clone());
                        let (version, total, read) = versions
                            .get(&key)
                            .map_or((None, 0, 0), |&(v, t, r)| (Some(v), t, r));
                        ModuleTraining {
                            module_id: m.id.clone(),
                            title: m.title.clone(),
                            hours: m.hours,
                            job_roles: m.job_roles.clone(),
                            latest_version: version,
                            sections_total: total,
                            sections_read: read,
                            completed: completed.contains(&key),
                        }
                    })
                    .collect();
                let tracks = match &job_role {
                    Some(role) => program
                        .tracks
                        .iter()
                        .filter(|t| t.job_roles.is_empty() || t.job_roles.contains(role))
                        .map(|t| TrackRequirement {
                            track_id: t.id.clone(),
                            name: t.name.clone(),
                            requires: t.requires.describe(&program),
                        })
                        .collect(),
                    None => Vec::new(),
                };
                ProgramTraining {
                    tracks,
                    certified_on: certified.get(&program.id).cloned(),
                    program_id: program.id,
                    program_name: program.name,
                    modules,
                }
            })
            .collect())
    }
}
