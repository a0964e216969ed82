//! Partner staff in bulk: a CSV file in, the same CSV out (the format is
//! `accredit_formats::people_csv`). Every row passes the same authorization and rules as adding
//! one person; the valid rows are written in one transaction, or none are.

use crate::clock::format_instant;
use crate::error::{AppError, AppResult};
use crate::{App, Ctx, audit};
use accredit_domain::identity::check_roles;
use accredit_domain::{Action, PartnerId, PersonId, Role};
use accredit_formats::people_csv::{self, Column, PeopleRow, PersonRecord};
use anyhow::Context as _;
use serde::Serialize;
use sqlx::{AnyConnection, AssertSqlSafe, Row as _};
use std::collections::{BTreeSet, HashMap, HashSet};

/// What an import did, and every row it left out.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ImportReport {
    /// People added.
    pub created: usize,
    /// People whose name, roles or job role changed.
    pub updated: usize,
    /// Rows that matched their person exactly, so nothing was written for them.
    pub unchanged: usize,
    /// Rows not imported, in line order. With `strict`, any of them means nothing was written.
    pub errors: Vec<ImportRowError>,
}

/// A row (or the header) that was not imported.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ImportRowError {
    /// 1-based line of the file; the header is line 1.
    pub line: usize,
    /// Names the column at fault first, e.g. "email: `bob@` has no valid domain after the `@`".
    pub message: String,
}

/// Rows per INSERT, so the bind parameters stay far below SQLite's and PostgreSQL's limits.
const PEOPLE_PER_INSERT: usize = 100;
const ROLES_PER_INSERT: usize = 400;
const KEYS_PER_LOOKUP: usize = 500;

/// A person already in the database, as the import compares them.
struct Existing {
    id: String,
    partner_id: Option<String>,
    display_name: String,
    job_role: Option<String>,
    active: bool,
    roles: Vec<Role>,
}

struct Creation {
    id: String,
    partner: String,
    person: PersonRecord,
}

struct Change {
    partner: String,
    before: Existing,
    display_name: String,
    roles: Vec<Role>,
    job_role: Option<String>,
}

impl App {
    /// Creates or updates partner staff from a people file. The partner is `partner_id` for every
    /// row (a partner admin's own firm), or each row's `partner_id` column when it is `None`. A
    /// row whose email belongs to a person of that partner updates their name, roles and job
    /// role; anyone else's address is refused. New people have no password until one is set.
    /// `progress(done, total)` follows the rows.
    pub async fn import_people(
        &self,
        ctx: &Ctx,
        partner_id: Option<&str>,
        csv: &[u8],
        strict: bool,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> AppResult<ImportReport> {
        let fixed = partner_id.map(PartnerId::from);
        if let Some(partner) = &fixed {
            // A caller who may add no one to this firm is refused once, not on every row.
            ctx.authorize(
                &Action::CreatePerson {
                    partner: Some(partner),
                    roles: &[],
                },
                &format!("partner `{partner}`"),
            )?;
        }
        let file = people_csv::parse(csv);
        let mut report = ImportReport {
            errors: file
                .errors
                .iter()
                .map(|e| ImportRowError {
                    line: e.line,
                    message: e.message.clone(),
                })
                .collect(),
            ..ImportReport::default()
        };
        let job_role_column = file.has_column(Column::JobRole);
        let mut progress = Progress {
            report: progress,
            done: 0,
            total: file.rows.len(),
        };
        progress.advance(0);
        let mut admitted = Vec::new();
        for row in file.rows {
            match admit(ctx, fixed.as_ref(), &row.person) {
                Ok(partner) => admitted.push((row, partner)),
                Err(message) => {
                    report.errors.push(ImportRowError {
                        line: row.line,
                        message,
                    });
                    progress.advance(1);
                }
            }
        }
        if admitted.is_empty() && fixed.is_none() {
            report.errors.sort_by_key(|e| e.line);
            progress.finish();
            return Ok(report);
        }

        let now = self.now();
        let mut tx = self.db.begin().await?;
        let Plan { creations, changes } = plan(
            &mut tx,
            ctx,
            fixed.as_ref(),
            admitted,
            job_role_column,
            &mut report,
            &mut progress,
        )
        .await?;
        report.errors.sort_by_key(|e| e.line);
        if (strict && !report.errors.is_empty()) || (creations.is_empty() && changes.is_empty()) {
            // Dropping the transaction rolls it back; it has only read.
            progress.finish();
            return Ok(report);
        }

        let stamp = format_instant(now);
        insert_people(&mut tx, &creations, &stamp).await?;
        let new_roles: Vec<(&str, Role)> = creations
            .iter()
            .flat_map(|c| c.person.roles.iter().map(|r| (c.id.as_str(), *r)))
            .collect();
        insert_roles(&mut tx, &new_roles).await?;
        for creation in &creations {
            let person = &creation.person;
            audit::record(
                &mut tx,
                ctx,
                now,
                "person.created",
                &format!("person:{}", creation.id),
                serde_json::json!({
                    "email": person.email, "display_name": person.display_name,
                    "partner_id": creation.partner, "roles": person.roles,
                    "job_role": person.job_role, "password_set": false,
                }),
            )
            .await?;
            progress.advance(1);
        }
        update_people(&mut tx, &changes, &stamp).await?;
        for change in &changes {
            audit_change(&mut tx, ctx, now, change).await?;
            progress.advance(1);
        }
        report.created = creations.len();
        report.updated = changes.len();
        let touched: Vec<String> = creations
            .iter()
            .map(|c| c.partner.clone())
            .chain(changes.iter().map(|c| c.partner.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        audit::record(
            &mut tx,
            ctx,
            now,
            "people.imported",
            "people:import",
            serde_json::json!({
                "created": report.created, "updated": report.updated,
                "unchanged": report.unchanged, "rows_refused": report.errors.len(),
                "partners": touched, "strict": strict,
            }),
        )
        .await?;
        for partner in &touched {
            self.refresh_standing(&mut tx, ctx, partner, None).await?;
        }
        self.notify_changed(&mut tx, &touched).await?;
        tx.commit().await?;
        self.entitlements_changed(&touched).await?;
        Ok(report)
    }

    /// The partner staff the caller may see, as a people file; only `partner_id`'s when given.
    /// Vendor staff belong to no partner organisation and are not part of the format.
    pub async fn export_people(&self, ctx: &Ctx, partner_id: Option<&str>) -> AppResult<String> {
        if let Some(partner) = partner_id {
            ctx.authorize(
                &Action::ReadPartner(&PartnerId::from(partner)),
                &format!("partner `{partner}`"),
            )?;
        }
        let records: Vec<PersonRecord> = self
            .list_people(ctx)
            .await?
            .into_iter()
            .filter(|p| match (partner_id, p.partner_id.as_deref()) {
                (_, None) => false,
                (Some(wanted), Some(theirs)) => wanted == theirs,
                (None, Some(_)) => true,
            })
            .map(|p| PersonRecord {
                id: Some(p.id),
                email: p.email,
                display_name: p.display_name,
                roles: p.roles,
                job_role: p.job_role,
                partner_id: p.partner_id,
                active: Some(p.active),
            })
            .collect();
        Ok(people_csv::write(&records))
    }
}

/// The partner a row goes to, once the caller may add these people there (the rule for adding
/// one person) and the roles fit partner staff.
fn admit(ctx: &Ctx, fixed: Option<&PartnerId>, person: &PersonRecord) -> Result<PartnerId, String> {
    let partner = match (fixed, person.partner_id.as_deref()) {
        (Some(fixed), Some(named)) if named != fixed.as_str() => {
            return Err(format!(
                "partner_id: `{named}` is not `{fixed}`, the partner organisation this import is for"
            ));
        }
        (Some(fixed), _) => fixed.clone(),
        (None, Some(named)) => PartnerId::from(named),
        (None, None) => {
            return Err(
                "partner_id: required, since the import is not for one partner organisation".into(),
            );
        }
    };
    // The firm alone first, then with the roles, so a refusal names the column at fault.
    ctx.authorize(
        &Action::CreatePerson {
            partner: Some(&partner),
            roles: &[],
        },
        "partner",
    )
    .map_err(|e| format!("partner_id: {}", refusal(e)))?;
    ctx.authorize(
        &Action::CreatePerson {
            partner: Some(&partner),
            roles: &person.roles,
        },
        "partner",
    )
    .map_err(|e| format!("roles: {}", refusal(e)))?;
    check_roles(&person.roles, true).map_err(|e| e.to_string())?;
    Ok(partner)
}

fn refusal(error: AppError) -> String {
    match error {
        AppError::Forbidden(why) => why,
        other => other.to_string(),
    }
}

/// Reports how many of the file's rows are decided and written.
struct Progress<'a> {
    report: &'a (dyn Fn(usize, usize) + Sync),
    done: usize,
    total: usize,
}

impl Progress<'_> {
    fn advance(&mut self, rows: usize) {
        self.done += rows;
        (self.report)(self.done, self.total);
    }

    fn finish(&mut self) {
        self.advance(self.total.saturating_sub(self.done));
    }
}

/// What the admitted rows will write.
struct Plan {
    creations: Vec<Creation>,
    changes: Vec<Change>,
}

/// Compares the admitted rows with the partners and people in the database, inside the
/// import's transaction. Rows refused here, and rows with nothing to change, go into `report`.
async fn plan(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    fixed: Option<&PartnerId>,
    admitted: Vec<(PeopleRow, PartnerId)>,
    job_role_column: bool,
    report: &mut ImportReport,
    progress: &mut Progress<'_>,
) -> AppResult<Plan> {
    let wanted: BTreeSet<String> = fixed
        .iter()
        .map(|p| p.0.clone())
        .chain(admitted.iter().map(|(_, p)| p.0.clone()))
        .collect();
    let active_partners = active_partners(conn, &wanted).await?;
    if let Some(partner) = fixed.filter(|p| !active_partners.contains(&p.0)) {
        return Err(AppError::invalid(
            "partner_id",
            format!("no active partner organisation `{partner}`"),
        ));
    }
    let emails: Vec<String> = admitted
        .iter()
        .map(|(row, _)| row.person.email.clone())
        .collect();
    let mut existing = people_by_email(conn, &emails).await?;
    let mut plan = Plan {
        creations: Vec::new(),
        changes: Vec::new(),
    };
    for (row, partner) in admitted {
        let outcome = if active_partners.contains(&partner.0) {
            let before = existing.remove(&row.person.email);
            plan_row(ctx, &partner, row.person, before, job_role_column)
        } else {
            Err(format!(
                "partner_id: no active partner organisation `{partner}`"
            ))
        };
        match outcome {
            Ok(Planned::Create(person)) => plan.creations.push(Creation {
                id: uuid::Uuid::now_v7().to_string(),
                partner: partner.0,
                person,
            }),
            Ok(Planned::Change(change)) => plan.changes.push(change),
            Ok(Planned::Unchanged) => {
                report.unchanged += 1;
                progress.advance(1);
            }
            Err(message) => {
                report.errors.push(ImportRowError {
                    line: row.line,
                    message,
                });
                progress.advance(1);
            }
        }
    }
    Ok(plan)
}

enum Planned {
    Create(PersonRecord),
    Change(Change),
    Unchanged,
}

/// Decides what a row does to the person with its email, if there is one.
fn plan_row(
    ctx: &Ctx,
    partner: &PartnerId,
    person: PersonRecord,
    existing: Option<Existing>,
    job_role_column: bool,
) -> Result<Planned, String> {
    let Some(before) = existing else {
        if let Some(id) = &person.id {
            // An edited address in an exported file would otherwise add a second person.
            return Err(format!(
                "id: no person has the email `{}`, so `{id}` cannot be theirs; leave `id` empty to add a new person (addresses change by confirmation, not by import)",
                person.email
            ));
        }
        if person.active == Some(false) {
            return Err(
                "active: new people are active; the import does not deactivate anyone".into(),
            );
        }
        return Ok(Planned::Create(person));
    };
    if before.partner_id.as_deref() != Some(partner.as_str()) {
        return Err(format!(
            "email: `{}` already belongs to someone outside partner organisation `{partner}`",
            person.email
        ));
    }
    if let Some(id) = person.id.as_ref().filter(|id| **id != before.id) {
        return Err(format!(
            "id: the person with the email `{}` has the id `{}`, not `{id}`",
            person.email, before.id
        ));
    }
    if let Some(active) = person.active.filter(|a| *a != before.active) {
        return Err(format!(
            "active: the person is {}; the import does not activate or deactivate people, so `{active}` cannot be applied",
            if before.active {
                "active"
            } else {
                "deactivated"
            }
        ));
    }
    ctx.authorize(
        &Action::UpdatePerson {
            person: &PersonId::from(before.id.as_str()),
            partner: Some(partner),
        },
        "person",
    )
    .map_err(|e| format!("email: {}", refusal(e)))?;
    // Without the column the job role stays; an empty cell clears it.
    let job_role = if job_role_column {
        person.job_role.clone()
    } else {
        before.job_role.clone()
    };
    if person.display_name == before.display_name
        && person.roles == before.roles
        && job_role == before.job_role
    {
        return Ok(Planned::Unchanged);
    }
    Ok(Planned::Change(Change {
        partner: partner.0.clone(),
        before,
        display_name: person.display_name,
        roles: person.roles,
        job_role,
    }))
}

/// `($1, $2), ($3, $4)` for two rows of two values from `$1`.
fn placeholders(first: usize, rows: usize, width: usize) -> String {
    (0..rows)
        .map(|row| {
            let cells: Vec<_> = (0..width)
                .map(|column| format!("${}", first + row * width + column))
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

async fn active_partners(
    conn: &mut AnyConnection,
    ids: &BTreeSet<String>,
) -> AppResult<HashSet<String>> {
    let ids: Vec<&String> = ids.iter().collect();
    let mut active = HashSet::new();
    for chunk in ids.chunks(KEYS_PER_LOOKUP) {
        let sql = format!(
            "SELECT id FROM partners WHERE deactivated_at IS NULL AND id IN {}",
            placeholders(1, 1, chunk.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql.as_str()));
        for id in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut *conn).await? {
            active.insert(row.try_get::<String, _>("id").context("partner id")?);
        }
    }
    Ok(active)
}

/// The people holding these addresses, with their roles, by address.
async fn people_by_email(
    conn: &mut AnyConnection,
    emails: &[String],
) -> AppResult<HashMap<String, Existing>> {
    let mut found = HashMap::new();
    for chunk in emails.chunks(KEYS_PER_LOOKUP) {
        let sql = format!(
            "SELECT id, partner_id, display_name, email, job_role, deactivated_at FROM people WHERE email IN {}",
            placeholders(1, 1, chunk.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql.as_str()));
        for email in chunk {
            query = query.bind(email);
        }
        for row in query.fetch_all(&mut *conn).await? {
            let email: String = row.try_get("email").context("email")?;
            let person = Existing {
                id: row.try_get("id").context("id")?,
                partner_id: row.try_get("partner_id").context("partner_id")?,
                display_name: row.try_get("display_name").context("display_name")?,
                job_role: row.try_get("job_role").context("job_role")?,
                active: row
                    .try_get::<Option<String>, _>("deactivated_at")
                    .context("deactivated_at")?
                    .is_none(),
                roles: Vec::new(),
            };
            found.insert(email, person);
        }
    }
    let email_of: HashMap<String, String> = found
        .iter()
        .map(|(email, person)| (person.id.clone(), email.clone()))
        .collect();
    let ids: Vec<&String> = email_of.keys().collect();
    for chunk in ids.chunks(KEYS_PER_LOOKUP) {
        let sql = format!(
            "SELECT person_id, role FROM person_roles WHERE person_id IN {}",
            placeholders(1, 1, chunk.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql.as_str()));
        for id in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut *conn).await? {
            let id: String = row.try_get("person_id").context("person_id")?;
            let role: Role = row.try_get::<String, _>("role").context("role")?.parse()?;
            if let Some(person) = email_of.get(&id).and_then(|email| found.get_mut(email)) {
                person.roles.push(role);
            }
        }
    }
    for person in found.values_mut() {
        person.roles.sort();
    }
    Ok(found)
}

async fn insert_people(
    conn: &mut AnyConnection,
    creations: &[Creation],
    stamp: &str,
) -> AppResult<()> {
    for chunk in creations.chunks(PEOPLE_PER_INSERT) {
        let sql = format!(
            "INSERT INTO people (id, partner_id, display_name, email, job_role, created_at, updated_at) VALUES {}",
            placeholders(1, chunk.len(), 7)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql.as_str()));
        for creation in chunk {
            query = query
                .bind(&creation.id)
                .bind(&creation.partner)
                .bind(&creation.person.display_name)
                .bind(&creation.person.email)
                .bind(&creation.person.job_role)
                .bind(stamp)
                .bind(stamp);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

async fn insert_roles(conn: &mut AnyConnection, roles: &[(&str, Role)]) -> AppResult<()> {
    for chunk in roles.chunks(ROLES_PER_INSERT) {
        let sql = format!(
            "INSERT INTO person_roles (person_id, role) VALUES {}",
            placeholders(1, chunk.len(), 2)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql.as_str()));
        for (person, role) in chunk {
            query = query.bind(*person).bind(role.as_str());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Writes the people's new names, job roles and, where they changed, roles.
async fn update_people(conn: &mut AnyConnection, changes: &[Change], stamp: &str) -> AppResult<()> {
    for chunk in changes.chunks(PEOPLE_PER_INSERT) {
        // SQLite and PostgreSQL both name the columns of a VALUES list column1, column2, ...
        let sql = format!(
            "UPDATE people SET display_name = v.column2, job_role = v.column3, updated_at = $1
             FROM (VALUES {}) AS v WHERE people.id = v.column1",
            placeholders(2, chunk.len(), 3)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql.as_str())).bind(stamp);
        for change in chunk {
            query = query
                .bind(&change.before.id)
                .bind(&change.display_name)
                .bind(&change.job_role);
        }
        query.execute(&mut *conn).await?;
    }
    let regranted: Vec<&Change> = changes
        .iter()
        .filter(|c| c.roles != c.before.roles)
        .collect();
    for chunk in regranted.chunks(KEYS_PER_LOOKUP) {
        let sql = format!(
            "DELETE FROM person_roles WHERE person_id IN {}",
            placeholders(1, 1, chunk.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql.as_str()));
        for change in chunk {
            query = query.bind(&change.before.id);
        }
        query.execute(&mut *conn).await?;
    }
    let roles: Vec<(&str, Role)> = regranted
        .iter()
        .flat_map(|c| c.roles.iter().map(|r| (c.before.id.as_str(), *r)))
        .collect();
    insert_roles(conn, &roles).await
}

/// The audit event of one updated person, naming each field that changed.
async fn audit_change(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    now: jiff::Timestamp,
    change: &Change,
) -> AppResult<()> {
    let before = &change.before;
    let mut changed = serde_json::Map::new();
    let mut note = |field: &str, from: serde_json::Value, to: serde_json::Value| {
        if from != to {
            changed.insert(field.into(), serde_json::json!({ "from": from, "to": to }));
        }
    };
    note(
        "display_name",
        before.display_name.clone().into(),
        change.display_name.clone().into(),
    );
    note(
        "roles",
        serde_json::json!(before.roles),
        serde_json::json!(change.roles),
    );
    note(
        "job_role",
        serde_json::json!(before.job_role),
        serde_json::json!(change.job_role),
    );
    audit::record(
        conn,
        ctx,
        now,
        "person.updated",
        &format!("person:{}", before.id),
        serde_json::Value::Object(changed),
    )
    .await?;
    Ok(())
}
