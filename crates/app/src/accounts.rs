//! Partner organisations and people. A person is a stable id; the email address is only how
//! they sign in, and changing it (after confirming the new address) keeps everything else.

use crate::clock::format_instant;
use crate::error::{AppError, AppResult};
use crate::secrets::{hash_password, random_secret, sha256_hex};
use crate::{App, Ctx, audit, outbox};
use accredit_domain::identity::{check_roles, required_text};
use accredit_domain::{
    Action, Actor, Email, InvalidInput, NewPassword, PartnerId, PartnerType, PersonId, Role,
    Visibility,
};
use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use sqlx::AssertSqlSafe;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Partner {
    pub id: String,
    pub name: String,
    pub partner_type: PartnerType,
    pub region: String,
    pub account_manager_id: Option<String>,
    pub active: bool,
    pub created_at: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPartner {
    pub name: String,
    pub partner_type: String,
    pub region: String,
    pub account_manager_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Person {
    pub id: String,
    pub partner_id: Option<String>,
    pub display_name: String,
    pub email: String,
    pub roles: Vec<Role>,
    /// The job the person does (sales, technical, ...), which selects their tracks.
    pub job_role: Option<String>,
    pub active: bool,
    pub created_at: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    pub email: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub partner_id: Option<String>,
    #[serde(default)]
    pub job_role: Option<String>,
    /// Without a password the person cannot sign in until one is set.
    pub password: Option<String>,
}

/// An email change waiting for the new address to be confirmed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct EmailChangeRequested {
    pub person_id: String,
    pub new_email: String,
    pub expires_at: String,
}

const EMAIL_CHANGE_TTL: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

fn partner_from_row(row: &AnyRow) -> anyhow::Result<Partner> {
    let partner_type: String = row.try_get("partner_type")?;
    Ok(Partner {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        partner_type: partner_type.parse()?,
        region: row.try_get("region")?,
        account_manager_id: row.try_get("account_manager_id")?,
        active: row
            .try_get::<Option<String>, _>("deactivated_at")?
            .is_none(),
        created_at: row.try_get("created_at")?,
    })
}

macro_rules! select_partners {
    () => {
        "SELECT id, name, partner_type, region, account_manager_id, deactivated_at, created_at FROM partners"
    };
}
macro_rules! select_people {
    () => {
        "SELECT id, partner_id, display_name, email, job_role, deactivated_at, created_at FROM people"
    };
}
const SELECT_PARTNERS: &str = select_partners!();
const SELECT_PEOPLE: &str = select_people!();

/// A visibility as a SQL condition on the people table, with its bind values.
fn people_filter(visibility: &Visibility) -> (String, Vec<String>) {
    match visibility {
        Visibility::All => ("1 = 1".into(), vec![]),
        Visibility::Nothing => ("1 = 0".into(), vec![]),
        Visibility::OnlySelf { person, .. } => ("id = $1".into(), vec![person.0.clone()]),
        Visibility::Partners(partners) => partner_in("partner_id", partners),
    }
}

fn partners_filter(visibility: &Visibility) -> (String, Vec<String>) {
    match visibility {
        Visibility::All => ("1 = 1".into(), vec![]),
        Visibility::Nothing => ("1 = 0".into(), vec![]),
        Visibility::OnlySelf { partner, .. } => ("id = $1".into(), vec![partner.0.clone()]),
        Visibility::Partners(partners) => partner_in("id", partners),
    }
}

fn partner_in(column: &str, partners: &[PartnerId]) -> (String, Vec<String>) {
    if partners.is_empty() {
        return ("1 = 0".into(), vec![]);
    }
    let placeholders: Vec<_> = (1..=partners.len()).map(|i| format!("${i}")).collect();
    (
        format!("{column} IN ({})", placeholders.join(", ")),
        partners.iter().map(|p| p.0.clone()).collect(),
    )
}

impl App {
    pub async fn create_partner(&self, ctx: &Ctx, input: NewPartner) -> AppResult<Partner> {
        ctx.authorize(&Action::CreatePartner, "partner")?;
        let mut problems = Vec::new();
        let name = required_text("name", &input.name, 200)
            .map_err(|e| problems.push(e))
            .ok();
        let region = required_text("region", &input.region, 100)
            .map_err(|e| problems.push(e))
            .ok();
        let partner_type: Option<PartnerType> = input
            .partner_type
            .parse()
            .map_err(|e| problems.push(e))
            .ok();
        let (Some(name), Some(region), Some(partner_type)) = (name, region, partner_type) else {
            return Err(AppError::Invalid(problems));
        };
        let now = self.now();
        let id = uuid::Uuid::now_v7().to_string();
        let mut tx = self.db.begin().await?;
        if let Some(manager) = &input.account_manager_id {
            let roles = load_roles(&mut tx, manager).await?;
            if !roles.contains(&Role::PartnerAccountManager) {
                return Err(AppError::invalid(
                    "account_manager_id",
                    format!("`{manager}` is not a Partner Account Manager"),
                ));
            }
        }
        let taken = sqlx::query("SELECT id FROM partners WHERE name = $1")
            .bind(&name)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(AppError::Conflict(format!(
                "a partner named `{name}` already exists"
            )));
        }
        sqlx::query(
            "INSERT INTO partners (id, name, partner_type, region, account_manager_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(&id)
        .bind(&name)
        .bind(partner_type.as_str())
        .bind(&region)
        .bind(&input.account_manager_id)
        .bind(format_instant(now))
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            ctx,
            now,
            "partner.created",
            &format!("partner:{id}"),
            serde_json::json!({
                "name": name, "partner_type": partner_type.as_str(), "region": region,
                "account_manager_id": input.account_manager_id,
            }),
        )
        .await?;
        let partner = fetch_partner(&mut tx, &id)
            .await?
            .context("reading the new partner")?;
        tx.commit().await?;
        Ok(partner)
    }

    pub async fn list_partners(&self, ctx: &Ctx) -> AppResult<Vec<Partner>> {
        ctx.authorize(&Action::ListPartners, "partners")?;
        let (condition, binds) = partners_filter(&ctx.principal.visibility());
        let sql = format!("{SELECT_PARTNERS} WHERE {condition} ORDER BY name");
        let mut query = sqlx::query(AssertSqlSafe(sql.as_str()));
        for value in &binds {
            query = query.bind(value);
        }
        let rows = query.fetch_all(self.db.reader()).await?;
        Ok(rows
            .iter()
            .map(partner_from_row)
            .collect::<anyhow::Result<_>>()?)
    }

    pub async fn get_partner(&self, ctx: &Ctx, id: &str) -> AppResult<Partner> {
        let what = format!("partner `{id}`");
        ctx.authorize(&Action::ReadPartner(&PartnerId::from(id)), &what)?;
        let mut conn = self.db.reader().acquire().await?;
        fetch_partner(&mut conn, id)
            .await?
            .ok_or(AppError::NotFound(what))
    }

    pub async fn create_person(&self, ctx: &Ctx, input: NewPerson) -> AppResult<Person> {
        let valid = self.check_new_person(ctx, &input).await?;
        let mut tx = self.db.begin().await?;
        let person = self.insert_person(&mut tx, ctx, &input, valid).await?;
        let touched: Vec<String> = input.partner_id.iter().cloned().collect();
        self.notify_changed(&mut tx, &touched).await?;
        tx.commit().await?;
        self.entitlements_changed(&touched).await?;
        Ok(person)
    }

    /// Authorizes and checks a new person, hashing the password if one is given.
    pub(crate) async fn check_new_person(
        &self,
        ctx: &Ctx,
        input: &NewPerson,
    ) -> AppResult<ValidPerson> {
        let partner = input
            .partner_id
            .as_ref()
            .map(|p| PartnerId::from(p.as_str()));
        ctx.authorize(
            &Action::CreatePerson {
                partner: partner.as_ref(),
                roles: &input.roles,
            },
            "partner",
        )?;
        let mut problems = Vec::new();
        let email = Email::parse(&input.email)
            .map_err(|e| problems.push(e))
            .ok();
        let name = required_text("display_name", &input.display_name, 200)
            .map_err(|e| problems.push(e))
            .ok();
        if let Err(e) = check_roles(&input.roles, input.partner_id.is_some()) {
            problems.push(e);
        }
        let password = match &input.password {
            Some(raw) => NewPassword::parse(raw).map_err(|e| problems.push(e)).ok(),
            None => None,
        };
        let job_role = match input.job_role.as_deref() {
            Some(raw) => required_text("job_role", raw, 50)
                .map_err(|e| problems.push(e))
                .ok(),
            None => None,
        };
        let (Some(email), Some(name), true) = (email, name, problems.is_empty()) else {
            return Err(AppError::Invalid(problems));
        };
        let password_hash = match password {
            Some(p) => Some(hash_password(p.expose().to_owned()).await?),
            None => None,
        };
        Ok(ValidPerson {
            email,
            name,
            job_role,
            password_hash,
        })
    }

    /// Writes a checked new person with their roles and audit event, and re-evaluates their
    /// partner, inside the caller's transaction.
    pub(crate) async fn insert_person(
        &self,
        tx: &mut AnyConnection,
        ctx: &Ctx,
        input: &NewPerson,
        valid: ValidPerson,
    ) -> AppResult<Person> {
        let ValidPerson {
            email,
            name,
            job_role,
            password_hash,
        } = valid;
        let now = self.now();
        let id = uuid::Uuid::now_v7().to_string();
        if let Some(partner_id) = &input.partner_id {
            let exists =
                sqlx::query("SELECT id FROM partners WHERE id = $1 AND deactivated_at IS NULL")
                    .bind(partner_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if exists.is_none() {
                return Err(AppError::invalid(
                    "partner_id",
                    format!("no active partner organisation `{partner_id}`"),
                ));
            }
        }
        ensure_email_free(&mut *tx, &email).await?;
        sqlx::query(
            "INSERT INTO people (id, partner_id, display_name, email, password_hash, job_role, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(&id)
        .bind(&input.partner_id)
        .bind(&name)
        .bind(email.as_str())
        .bind(&password_hash)
        .bind(&job_role)
        .bind(format_instant(now))
        .execute(&mut *tx)
        .await?;
        let mut roles = input.roles.clone();
        roles.sort();
        roles.dedup();
        for role in &roles {
            sqlx::query("INSERT INTO person_roles (person_id, role) VALUES ($1, $2)")
                .bind(&id)
                .bind(role.as_str())
                .execute(&mut *tx)
                .await?;
        }
        audit::record(
            &mut *tx,
            ctx,
            now,
            "person.created",
            &format!("person:{id}"),
            serde_json::json!({
                "email": email.as_str(), "display_name": name, "partner_id": input.partner_id,
                "roles": roles, "job_role": job_role, "password_set": password_hash.is_some(),
            }),
        )
        .await?;
        let person = fetch_person(tx, &id)
            .await?
            .context("reading the person back")?;
        if let Some(partner) = &input.partner_id {
            self.refresh_standing(tx, ctx, partner, None).await?;
        }
        Ok(person)
    }

    pub async fn list_people(&self, ctx: &Ctx) -> AppResult<Vec<Person>> {
        ctx.authorize(&Action::ListPeople, "people")?;
        let (condition, binds) = people_filter(&ctx.principal.visibility());
        let people_sql = format!("{SELECT_PEOPLE} WHERE {condition} ORDER BY display_name, id");
        // One query for everyone's roles, filtered the same way, instead of one per person.
        let roles_sql = format!(
            "SELECT r.person_id, r.role FROM person_roles r JOIN people ON people.id = r.person_id WHERE {condition}"
        );
        let mut conn = self.db.reader().acquire().await?;
        let mut people_query = sqlx::query(AssertSqlSafe(people_sql.as_str()));
        let mut roles_query = sqlx::query(AssertSqlSafe(roles_sql.as_str()));
        for value in &binds {
            people_query = people_query.bind(value);
            roles_query = roles_query.bind(value);
        }
        let rows = people_query.fetch_all(&mut *conn).await?;
        let mut roles: std::collections::HashMap<String, Vec<Role>> =
            std::collections::HashMap::new();
        for row in roles_query.fetch_all(&mut *conn).await? {
            let person: String = row.try_get("person_id").context("person_id")?;
            let role: String = row.try_get("role").context("role")?;
            roles.entry(person).or_default().push(role.parse()?);
        }
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id").context("person id")?;
                let mut person_roles = roles.remove(&id).unwrap_or_default();
                person_roles.sort();
                person_from_parts(row, id, person_roles)
            })
            .collect()
    }

    pub async fn get_person(&self, ctx: &Ctx, id: &str) -> AppResult<Person> {
        let what = format!("person `{id}`");
        let mut conn = self.db.reader().acquire().await?;
        let person = fetch_person(&mut conn, id).await?;
        // Absent and invisible look the same from outside.
        let partner = person
            .as_ref()
            .and_then(|p| p.partner_id.clone())
            .map(PartnerId);
        ctx.authorize(
            &Action::ReadPerson {
                person: &PersonId::from(id),
                partner: partner.as_ref(),
            },
            &what,
        )?;
        person.ok_or(AppError::NotFound(what))
    }

    /// Starts a change of email address: a confirmation link goes to the new address, and the
    /// change happens only when it is followed.
    pub async fn request_email_change(
        &self,
        ctx: &Ctx,
        person_id: &str,
        new_email: &str,
    ) -> AppResult<EmailChangeRequested> {
        let person = self.get_person(ctx, person_id).await?;
        let partner = person.partner_id.clone().map(PartnerId);
        ctx.authorize(
            &Action::ChangeEmail {
                person: &PersonId::from(person_id),
                partner: partner.as_ref(),
            },
            &format!("person `{person_id}`"),
        )?;
        let email = Email::parse(new_email)?;
        if email.as_str() == person.email {
            return Err(AppError::invalid(
                "email",
                "that is already the current address",
            ));
        }
        let now = self.now();
        let expires_at = format_instant(now + EMAIL_CHANGE_TTL);
        let token = random_secret();
        let mut tx = self.db.begin().await?;
        ensure_email_free(&mut tx, &email).await?;
        sqlx::query(
            "INSERT INTO email_changes (id, person_id, new_email, token_hash, requested_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(person_id)
        .bind(email.as_str())
        .bind(sha256_hex(&token))
        .bind(format_instant(now))
        .bind(&expires_at)
        .execute(&mut *tx)
        .await?;
        outbox::enqueue(
            &mut tx,
            now,
            "email.confirm_address",
            email.as_str(),
            serde_json::json!({ "person_id": person_id, "token": token, "expires_at": expires_at }),
        )
        .await?;
        audit::record(
            &mut tx,
            ctx,
            now,
            "person.email_change_requested",
            &format!("person:{person_id}"),
            serde_json::json!({ "from": person.email, "to": email.as_str() }),
        )
        .await?;
        tx.commit().await?;
        Ok(EmailChangeRequested {
            person_id: person_id.to_owned(),
            new_email: email.to_string(),
            expires_at,
        })
    }

    /// Completes an email change with the token sent to the new address. The person keeps their
    /// id, roles and every record; only the sign-in address changes.
    /// Whoever holds the link may follow it; the audit trail names the person as the actor.
    pub async fn confirm_email_change(
        &self,
        request_id: Option<String>,
        token: &str,
    ) -> AppResult<Person> {
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let row = sqlx::query(
            "SELECT id, person_id, new_email, expires_at, confirmed_at FROM email_changes WHERE token_hash = $1",
        )
        .bind(sha256_hex(token))
        .fetch_optional(&mut *tx)
        .await?;
        let row = crate::secrets::usable_link(
            row,
            "confirmed_at",
            now,
            [
                "this confirmation link is not valid",
                "this confirmation link was already used",
                "this confirmation link has expired; request the change again",
            ],
        )?;
        let change_id: String = row.try_get("id").context("id")?;
        let person_id: String = row.try_get("person_id").context("person_id")?;
        let new_email = Email::parse(&row.try_get::<String, _>("new_email").context("new_email")?)?;
        ensure_email_free(&mut tx, &new_email).await?;
        let actor = self.load_actor(&mut tx, &person_id).await?;
        let ctx = &Ctx::new(accredit_domain::Principal::Person(actor), request_id);
        let old = sqlx::query("SELECT email FROM people WHERE id = $1")
            .bind(&person_id)
            .fetch_one(&mut *tx)
            .await?;
        let old_email: String = old.try_get("email").context("email")?;
        sqlx::query("UPDATE people SET email = $1, updated_at = $2 WHERE id = $3")
            .bind(new_email.as_str())
            .bind(format_instant(now))
            .bind(&person_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE email_changes SET confirmed_at = $1 WHERE id = $2")
            .bind(format_instant(now))
            .bind(&change_id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            ctx,
            now,
            "person.email_changed",
            &format!("person:{person_id}"),
            serde_json::json!({ "from": old_email, "to": new_email.as_str() }),
        )
        .await?;
        let person = fetch_person(&mut tx, &person_id)
            .await?
            .context("reading the person back")?;
        tx.commit().await?;
        Ok(person)
    }

    /// What the rules need to know about a signed-in person.
    pub(crate) async fn load_actor(
        &self,
        conn: &mut AnyConnection,
        person_id: &str,
    ) -> AppResult<Actor> {
        let row = sqlx::query("SELECT partner_id FROM people WHERE id = $1")
            .bind(person_id)
            .fetch_one(&mut *conn)
            .await?;
        let partner_id: Option<String> = row.try_get("partner_id").context("partner_id")?;
        let roles = load_roles(conn, person_id).await?;
        let managed =
            sqlx::query("SELECT id FROM partners WHERE account_manager_id = $1 ORDER BY id")
                .bind(person_id)
                .fetch_all(&mut *conn)
                .await?;
        Ok(Actor {
            person_id: person_id.into(),
            roles,
            partner_id: partner_id.map(PartnerId),
            managed_partners: managed
                .iter()
                .map(|r| r.try_get::<String, _>("id").map(PartnerId))
                .collect::<Result<_, _>>()?,
        })
    }
}

async fn fetch_person(conn: &mut AnyConnection, id: &str) -> AppResult<Option<Person>> {
    let row = sqlx::query(concat!(select_people!(), " WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => {
            let roles = load_roles(conn, id).await?;
            Ok(Some(person_from_parts(&row, id.to_owned(), roles)?))
        }
        None => Ok(None),
    }
}

async fn fetch_partner(conn: &mut AnyConnection, id: &str) -> AppResult<Option<Partner>> {
    let row = sqlx::query(concat!(select_partners!(), " WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.as_ref().map(partner_from_row).transpose()?)
}

fn person_from_parts(row: &AnyRow, id: String, roles: Vec<Role>) -> AppResult<Person> {
    Ok(Person {
        roles,
        partner_id: row.try_get("partner_id").context("partner_id")?,
        display_name: row.try_get("display_name").context("display_name")?,
        email: row.try_get("email").context("email")?,
        job_role: row.try_get("job_role").context("job_role")?,
        active: row
            .try_get::<Option<String>, _>("deactivated_at")
            .context("deactivated_at")?
            .is_none(),
        created_at: row.try_get("created_at").context("created_at")?,
        id,
    })
}

async fn load_roles(conn: &mut AnyConnection, person_id: &str) -> AppResult<Vec<Role>> {
    let rows = sqlx::query("SELECT role FROM person_roles WHERE person_id = $1 ORDER BY role")
        .bind(person_id)
        .fetch_all(conn)
        .await?;
    let mut roles = rows
        .iter()
        .map(|r| Ok(r.try_get::<String, _>("role")?.parse::<Role>()?))
        .collect::<anyhow::Result<Vec<_>>>()?;
    roles.sort();
    Ok(roles)
}

async fn ensure_email_free(conn: &mut AnyConnection, email: &Email) -> AppResult<()> {
    let taken = sqlx::query("SELECT id FROM people WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(conn)
        .await?;
    match taken {
        Some(_) => Err(AppError::Conflict(format!(
            "the email address `{email}` is already in use"
        ))),
        None => Ok(()),
    }
}

/// Changes to a person; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonUpdate {
    pub display_name: Option<String>,
    pub roles: Option<Vec<Role>>,
    /// An empty string clears the job role.
    pub job_role: Option<String>,
    /// Moves the person to another partner organisation (program admins only).
    pub partner_id: Option<String>,
    /// `false` deactivates: the person can no longer sign in and stops counting for tiers.
    pub active: Option<bool>,
}

/// Changes to a partner organisation; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerUpdate {
    pub name: Option<String>,
    pub partner_type: Option<String>,
    pub region: Option<String>,
    /// An empty string removes the Partner Account Manager.
    pub account_manager_id: Option<String>,
    /// `false` deactivates the partner: every benefit is denied.
    pub active: Option<bool>,
}

impl App {
    /// Updates a person: name, roles, job role, partner, active. Tier and entitlements of every
    /// partner involved are re-evaluated in the same transaction.
    pub async fn update_person(
        &self,
        ctx: &Ctx,
        id: &str,
        update: PersonUpdate,
    ) -> AppResult<Person> {
        let before = self.get_person(ctx, id).await?;
        let partner = before.partner_id.clone().map(PartnerId);
        ctx.authorize(
            &Action::UpdatePerson {
                person: &PersonId::from(id),
                partner: partner.as_ref(),
            },
            &format!("person `{id}`"),
        )?;
        let moving = update
            .partner_id
            .as_ref()
            .filter(|p| Some(*p) != before.partner_id.as_ref());
        if moving.is_some() {
            ctx.authorize(&Action::CreatePartner, "partner")
                .map_err(|_| {
                    AppError::Forbidden(
                        "only program admins move people between partner organisations".into(),
                    )
                })?;
        }
        let mut problems = Vec::new();
        let name = match &update.display_name {
            Some(raw) => required_text("display_name", raw, 200)
                .map_err(|e| problems.push(e))
                .ok(),
            None => Some(before.display_name.clone()),
        };
        let roles = update.roles.clone().unwrap_or_else(|| before.roles.clone());
        let new_partner = moving.cloned().or(before.partner_id.clone());
        if let Err(e) = check_roles(&roles, new_partner.is_some()) {
            problems.push(e);
        }
        if update.roles.is_some() && roles != before.roles {
            // Granting roles is creating access: the same rule as adding someone with them.
            let partner_ref = new_partner.clone().map(PartnerId);
            ctx.authorize(
                &Action::CreatePerson {
                    partner: partner_ref.as_ref(),
                    roles: &roles,
                },
                "partner",
            )?;
        }
        let job_role = match update.job_role.as_deref() {
            Some("") => None,
            Some(raw) => required_text("job_role", raw, 50)
                .map_err(|e| problems.push(e))
                .ok(),
            None => before.job_role.clone(),
        };
        if ctx.principal.is_person(&PersonId::from(id)) && update.active == Some(false) {
            problems.push(InvalidInput::new(
                "active",
                "you cannot deactivate yourself",
            ));
        }
        let Some(name) = name.filter(|_| problems.is_empty()) else {
            return Err(AppError::Invalid(problems));
        };
        let now = self.now();
        let mut tx = self.db.begin().await?;
        if let Some(target) = moving {
            let exists =
                sqlx::query("SELECT id FROM partners WHERE id = $1 AND deactivated_at IS NULL")
                    .bind(target)
                    .fetch_optional(&mut *tx)
                    .await?;
            if exists.is_none() {
                return Err(AppError::invalid(
                    "partner_id",
                    format!("no active partner organisation `{target}`"),
                ));
            }
        }
        let active = update.active.unwrap_or(before.active);
        let deactivated_at = if active {
            None
        } else {
            Some(format_instant(now))
        };
        sqlx::query(
            "UPDATE people SET display_name = $1, job_role = $2, partner_id = $3, updated_at = $4,
                deactivated_at = CASE WHEN $5 = 1 THEN NULL ELSE COALESCE(deactivated_at, $6) END
             WHERE id = $7",
        )
        .bind(&name)
        .bind(&job_role)
        .bind(&new_partner)
        .bind(format_instant(now))
        .bind(i64::from(active))
        .bind(&deactivated_at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if roles != before.roles {
            sqlx::query("DELETE FROM person_roles WHERE person_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            for role in &roles {
                sqlx::query("INSERT INTO person_roles (person_id, role) VALUES ($1, $2)")
                    .bind(id)
                    .bind(role.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        if !active {
            // A deactivated person's sessions end now.
            sqlx::query("DELETE FROM sessions WHERE person_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let mut changes = FieldChanges::default();
        changes.note(
            "display_name",
            before.display_name.clone().into(),
            name.clone().into(),
        );
        changes.note(
            "roles",
            serde_json::json!(before.roles),
            serde_json::json!(roles),
        );
        changes.note(
            "job_role",
            serde_json::json!(before.job_role),
            serde_json::json!(job_role),
        );
        changes.note(
            "partner_id",
            serde_json::json!(before.partner_id),
            serde_json::json!(new_partner),
        );
        changes.note("active", before.active.into(), active.into());
        audit::record(
            &mut tx,
            ctx,
            now,
            "person.updated",
            &format!("person:{id}"),
            changes.into_json(),
        )
        .await?;
        let mut touched: Vec<String> = before
            .partner_id
            .iter()
            .chain(new_partner.iter())
            .cloned()
            .collect();
        touched.dedup();
        for partner in &touched {
            self.refresh_standing(&mut tx, ctx, partner, None).await?;
        }
        self.notify_changed(&mut tx, &touched).await?;
        let person = fetch_person(&mut tx, id)
            .await?
            .context("reading the person back")?;
        tx.commit().await?;
        self.entitlements_changed(&touched).await?;
        Ok(person)
    }

    /// Updates a partner organisation; deactivating it denies every benefit at once.
    pub async fn update_partner(
        &self,
        ctx: &Ctx,
        id: &str,
        update: PartnerUpdate,
    ) -> AppResult<Partner> {
        let what = format!("partner `{id}`");
        ctx.authorize(&Action::UpdatePartner(&PartnerId::from(id)), &what)?;
        let mut conn = self.db.reader().acquire().await?;
        let before = fetch_partner(&mut conn, id)
            .await?
            .ok_or_else(|| AppError::NotFound(what.clone()))?;
        drop(conn);
        let mut problems = Vec::new();
        let name = match &update.name {
            Some(raw) => required_text("name", raw, 200)
                .map_err(|e| problems.push(e))
                .ok(),
            None => Some(before.name.clone()),
        };
        let region = match &update.region {
            Some(raw) => required_text("region", raw, 100)
                .map_err(|e| problems.push(e))
                .ok(),
            None => Some(before.region.clone()),
        };
        let partner_type = match &update.partner_type {
            Some(raw) => raw
                .parse::<PartnerType>()
                .map_err(|e| problems.push(e))
                .ok(),
            None => Some(before.partner_type),
        };
        let (Some(name), Some(region), Some(partner_type), true) =
            (name, region, partner_type, problems.is_empty())
        else {
            return Err(AppError::Invalid(problems));
        };
        let manager = match update.account_manager_id.as_deref() {
            Some("") => None,
            Some(m) => Some(m.to_owned()),
            None => before.account_manager_id.clone(),
        };
        let now = self.now();
        let mut tx = self.db.begin().await?;
        if let Some(m) = manager
            .as_ref()
            .filter(|m| Some(*m) != before.account_manager_id.as_ref())
        {
            let roles = load_roles(&mut tx, m).await?;
            if !roles.contains(&Role::PartnerAccountManager) {
                return Err(AppError::invalid(
                    "account_manager_id",
                    format!("`{m}` is not a Partner Account Manager"),
                ));
            }
        }
        if name != before.name {
            let taken = sqlx::query("SELECT id FROM partners WHERE name = $1 AND id <> $2")
                .bind(&name)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            if taken.is_some() {
                return Err(AppError::Conflict(format!(
                    "a partner named `{name}` already exists"
                )));
            }
        }
        let active = update.active.unwrap_or(before.active);
        sqlx::query(
            "UPDATE partners SET name = $1, partner_type = $2, region = $3, account_manager_id = $4, updated_at = $5,
                deactivated_at = CASE WHEN $6 = 1 THEN NULL ELSE COALESCE(deactivated_at, $5) END
             WHERE id = $7",
        )
        .bind(&name)
        .bind(partner_type.as_str())
        .bind(&region)
        .bind(&manager)
        .bind(format_instant(now))
        .bind(i64::from(active))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let mut changes = FieldChanges::default();
        changes.note("name", before.name.clone().into(), name.clone().into());
        changes.note(
            "partner_type",
            before.partner_type.as_str().into(),
            partner_type.as_str().into(),
        );
        changes.note(
            "region",
            before.region.clone().into(),
            region.clone().into(),
        );
        changes.note(
            "account_manager_id",
            serde_json::json!(before.account_manager_id),
            serde_json::json!(manager),
        );
        changes.note("active", before.active.into(), active.into());
        audit::record(
            &mut tx,
            ctx,
            now,
            "partner.updated",
            &format!("partner:{id}"),
            changes.into_json(),
        )
        .await?;
        self.refresh_standing(&mut tx, ctx, id, None).await?;
        let touched = vec![id.to_owned()];
        self.notify_changed(&mut tx, &touched).await?;
        let partner = fetch_partner(&mut tx, id)
            .await?
            .context("reading the partner back")?;
        tx.commit().await?;
        self.entitlements_changed(&touched).await?;
        Ok(partner)
    }
}

/// The fields an update changed, `{field: {from, to}}`, for the audit trail.
#[derive(Default)]
struct FieldChanges(serde_json::Map<String, serde_json::Value>);

impl FieldChanges {
    fn note(&mut self, field: &str, from: serde_json::Value, to: serde_json::Value) {
        if from != to {
            self.0
                .insert(field.into(), serde_json::json!({ "from": from, "to": to }));
        }
    }

    fn into_json(self) -> serde_json::Value {
        serde_json::Value::Object(self.0)
    }
}

/// A new person whose input passed the checks.
pub(crate) struct ValidPerson {
    email: Email,
    name: String,
    job_role: Option<String>,
    password_hash: Option<String>,
}
