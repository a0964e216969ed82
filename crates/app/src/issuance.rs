//! Issuing credentials: when a person meets every requirement of a track, a credential is
//! issued in the same transaction as the evidence that completed it — once, even when two
//! requests race (a partial unique index allows one active credential per person and track).

use crate::audit;
use crate::clock::format_instant;
use crate::error::AppResult;
use crate::records::partner_record;
use crate::{App, Ctx};
use accredit_domain::evaluate::earned_tracks;
use accredit_domain::program::{Program, Rule};
use anyhow::Context as _;
use sqlx::AnyConnection;
use std::collections::BTreeMap;

/// The latest version of each module a track's requirements name: what the credential was
/// earned on, so renewal can show what changed since.
pub(crate) async fn content_versions(
    conn: &mut AnyConnection,
    program: &Program,
    requires: &Rule,
) -> AppResult<BTreeMap<String, i64>> {
    let mut versions = BTreeMap::new();
    for rule in requires.walk() {
        if let Rule::Module(module) = rule {
            let latest: Option<i64> = sqlx::query_scalar(
                "SELECT MAX(version) FROM module_versions WHERE program_id = $1 AND module_id = $2",
            )
            .bind(&program.id)
            .bind(module)
            .fetch_one(&mut *conn)
            .await?;
            if let Some(version) = latest {
                versions.insert(module.clone(), version);
            }
        }
    }
    Ok(versions)
}

impl App {
    /// Issues every credential the person (or, without one, each person of the partner) has
    /// just earned. Returns the ids of the credentials issued.
    pub(crate) async fn issue_earned(
        &self,
        tx: &mut AnyConnection,
        ctx: &Ctx,
        program: &Program,
        partner: &str,
        person: Option<&str>,
    ) -> AppResult<Vec<String>> {
        let now = self.now();
        let today = self.today();
        let record = partner_record(tx, &program.id, partner).await?;
        let mut issued = Vec::new();
        for candidate in record
            .people
            .iter()
            .filter(|p| person.is_none_or(|id| p.person_id == id))
        {
            for track in earned_tracks(program, &record, candidate, today) {
                let ends = program.expiry(&track.validity, today);
                let valid_until = ends.yesterday().unwrap_or(ends);
                let versions = content_versions(tx, program, &track.requires).await?;
                let id = uuid::Uuid::now_v7().to_string();
                let index: i64 = sqlx::query_scalar(
                    "UPDATE counters SET value = value + 1 WHERE name = 'status_index' RETURNING value",
                )
                .fetch_one(&mut *tx)
                .await?;
                let next_due = accredit_domain::lifecycle::next_due(
                    valid_until,
                    track.renewal.window_days,
                    today,
                );
                let inserted = sqlx::query(
                    "INSERT INTO credentials (id, person_id, program_id, track_id, issued_on, valid_until, status, created_at, content_versions, status_index, next_due_on)
                     VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $9, $10)
                     ON CONFLICT (person_id, program_id, track_id) WHERE status = 'active' DO NOTHING",
                )
                .bind(&id)
                .bind(&candidate.person_id)
                .bind(&program.id)
                .bind(&track.id)
                .bind(today.to_string())
                .bind(valid_until.to_string())
                .bind(format_instant(now))
                .bind(serde_json::to_string(&versions).context("content versions")?)
                .bind(index)
                .bind(next_due.map(|d| d.to_string()))
                .execute(&mut *tx)
                .await?;
                if inserted.rows_affected() == 0 {
                    continue;
                }
                self.sign_credential(tx, &id).await?;
                audit::record(
                    tx,
                    ctx,
                    now,
                    "credential.issued",
                    &format!("person:{}", candidate.person_id),
                    serde_json::json!({
                        "credential": id,
                        "program": program.id,
                        "track": track.id,
                        "valid_until": valid_until.to_string(),
                        "content_versions": versions,
                    }),
                )
                .await?;
                crate::events::emit(
                    tx,
                    now,
                    "credential.issued",
                    &id,
                    serde_json::json!({
                        "credential": id,
                        "person": candidate.person_id,
                        "partner": partner,
                        "program": program.id,
                        "track": track.id,
                        "valid_until": valid_until.to_string(),
                    }),
                )
                .await?;
                issued.push(id);
            }
        }
        Ok(issued)
    }
}
