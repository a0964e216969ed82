//! Loading what the rules read — people, credentials, completions, approvals, health scores —
//! for one partner, or for every partner at once when the entitlement snapshot is rebuilt.

use crate::error::AppResult;
use accredit_domain::evaluate::{HeldCredential, PartnerRecord, PersonRecord};
use accredit_domain::program::Program;
use anyhow::Context as _;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};
use std::collections::{BTreeMap, HashMap};

/// Dates are stored as `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> anyhow::Result<jiff::civil::Date> {
    text.parse()
        .with_context(|| format!("stored date `{text}` is not YYYY-MM-DD"))
}

/// The programs applied, by id.
pub async fn load_programs(conn: &mut AnyConnection) -> AppResult<Vec<Program>> {
    let rows = sqlx::query("SELECT definition FROM programs ORDER BY id")
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|row| {
            let json: String = row.try_get("definition").context("program definition")?;
            Ok(serde_json::from_str(&json).context("stored program definition")?)
        })
        .collect()
}

/// One applied program, or "not found" naming it.
pub async fn applied_program_named(
    conn: &mut AnyConnection,
    id: &str,
) -> crate::error::AppResult<Program> {
    load_programs(conn)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| crate::error::AppError::NotFound(format!("program `{id}`")))
}

/// Programs a partner is enrolled in.
pub async fn enrolments(conn: &mut AnyConnection, partner_id: &str) -> AppResult<Vec<String>> {
    let rows = sqlx::query(
        "SELECT program_id FROM partner_programs WHERE partner_id = $1 ORDER BY program_id",
    )
    .bind(partner_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get::<String, _>("program_id"))
        .collect::<Result<_, _>>()
        .context("enrolments")?)
}

/// Rows of one record kind, each naming its person (or partner) and an id.
struct Grouped {
    by_person: HashMap<String, Vec<String>>,
}

fn group(rows: &[AnyRow], key: &str, value: &str) -> anyhow::Result<Grouped> {
    let mut by_person: HashMap<String, Vec<String>> = HashMap::new();
    for row in rows {
        by_person
            .entry(row.try_get(key)?)
            .or_default()
            .push(row.try_get(value)?);
    }
    Ok(Grouped { by_person })
}

/// Everything about one partner that the rules of `program_id` may ask.
pub async fn partner_record(
    conn: &mut AnyConnection,
    program_id: &str,
    partner_id: &str,
) -> AppResult<PartnerRecord> {
    let mut records = load_records(conn, program_id, Some(partner_id)).await?;
    Ok(records.remove(partner_id).unwrap_or_else(|| PartnerRecord {
        partner_id: partner_id.to_owned(),
        ..PartnerRecord::default()
    }))
}

/// Records for one partner, or for every partner enrolled in the program.
pub async fn load_records(
    conn: &mut AnyConnection,
    program_id: &str,
    only_partner: Option<&str>,
) -> AppResult<HashMap<String, PartnerRecord>> {
    // Two plans rather than `$2 IS NULL OR ...`, so one partner's refresh uses the indexes.
    let partner_filter = if only_partner.is_some() {
        "pa.id = $2"
    } else {
        "1 = 1"
    };
    let bind = |sql: String| {
        let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(program_id.to_owned());
        match only_partner {
            Some(partner) => query.bind(partner.to_owned()),
            None => query,
        }
    };
    let partners = bind(format!(
        "SELECT pa.id, pa.deactivated_at FROM partners pa
         JOIN partner_programs pp ON pp.partner_id = pa.id AND pp.program_id = $1
         WHERE {partner_filter}"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut out: HashMap<String, PartnerRecord> = HashMap::with_capacity(partners.len());
    for row in &partners {
        let id: String = row.try_get("id").context("partner id")?;
        let active = row
            .try_get::<Option<String>, _>("deactivated_at")
            .context("deactivated_at")?
            .is_none();
        out.insert(
            id.clone(),
            PartnerRecord {
                partner_id: id,
                active,
                ..PartnerRecord::default()
            },
        );
    }
    if out.is_empty() {
        return Ok(out);
    }

    let people_of = |select: &str, from: &str, extra: &str| {
        format!(
            "SELECT {select} FROM {from} JOIN people pe ON pe.id = x.person_id
             JOIN partners pa ON pa.id = pe.partner_id
             WHERE x.program_id = $1 AND {partner_filter} {extra}"
        )
    };
    let people = bind(format!(
        "SELECT pe.id, pe.partner_id, pe.deactivated_at, pe.job_role FROM people pe
         JOIN partners pa ON pa.id = pe.partner_id
         JOIN partner_programs pp ON pp.partner_id = pa.id AND pp.program_id = $1
         WHERE {partner_filter}"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let credentials = bind(people_of(
        "x.person_id, x.track_id, x.valid_until, x.status",
        "credentials x",
        "AND x.status <> 'superseded'",
    ))
    .fetch_all(&mut *conn)
    .await?;
    let modules = bind(people_of(
        "x.person_id, x.module_id",
        "module_completions x",
        "",
    ))
    .fetch_all(&mut *conn)
    .await?;
    let exams = bind(people_of("x.person_id, x.exam_id", "exam_passes x", ""))
        .fetch_all(&mut *conn)
        .await?;
    let approvals = bind(format!(
        "SELECT x.partner_id, x.person_id, x.practical_id FROM practical_approvals x
         JOIN partners pa ON pa.id = x.partner_id
         WHERE x.program_id = $1 AND {partner_filter}"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let health = bind(format!(
        "SELECT x.partner_id, x.quarter, x.score FROM health_scores x
         JOIN partners pa ON pa.id = x.partner_id
         WHERE x.program_id = $1 AND {partner_filter}"
    ))
    .fetch_all(&mut *conn)
    .await?;

    let mut held: HashMap<String, Vec<HeldCredential>> = HashMap::new();
    for row in &credentials {
        let status: String = row.try_get("status").context("status")?;
        let until: String = row.try_get("valid_until").context("valid_until")?;
        held.entry(row.try_get("person_id").context("person_id")?)
            .or_default()
            .push(HeldCredential {
                track: row.try_get("track_id").context("track_id")?,
                valid_until: parse_date(&until)?,
                // An expired credential is past its end date already, and explained as such.
                suspended: status != "active" && status != "expired",
            });
    }
    let mut modules = group(&modules, "person_id", "module_id")?;
    let mut exams = group(&exams, "person_id", "exam_id")?;
    let mut person_practicals: HashMap<String, Vec<String>> = HashMap::new();
    for row in &approvals {
        let partner: String = row.try_get("partner_id").context("partner_id")?;
        let practical: String = row.try_get("practical_id").context("practical_id")?;
        if let Some(record) = out.get_mut(&partner) {
            *record
                .approved_practicals
                .entry(practical.clone())
                .or_default() += 1;
        }
        if let Some(person) = row
            .try_get::<Option<String>, _>("person_id")
            .context("person_id")?
        {
            person_practicals.entry(person).or_default().push(practical);
        }
    }
    let mut latest_health: BTreeMap<String, (String, f64)> = BTreeMap::new();
    for row in &health {
        let partner: String = row.try_get("partner_id").context("partner_id")?;
        let quarter: String = row.try_get("quarter").context("quarter")?;
        let score: f64 = row.try_get("score").context("score")?;
        let entry = latest_health
            .entry(partner)
            .or_insert((quarter.clone(), score));
        if quarter > entry.0 {
            *entry = (quarter, score);
        }
    }
    for (partner, (_, score)) in latest_health {
        if let Some(record) = out.get_mut(&partner) {
            record.health_score = Some(score);
        }
    }
    let missed = bind(format!(
        "SELECT x.partner_id, x.quarter, x.deadline FROM remediation_cases x
         JOIN partners pa ON pa.id = x.partner_id
         WHERE x.program_id = $1 AND x.outcome = 'missed' AND {partner_filter}"
    ))
    .fetch_all(&mut *conn)
    .await?;
    for row in &missed {
        let partner: String = row.try_get("partner_id").context("partner_id")?;
        if let Some(record) = out.get_mut(&partner) {
            record.remediation_missed = Some(format!(
                "remediation for the {} score was due {}",
                row.try_get::<String, _>("quarter").context("quarter")?,
                row.try_get::<String, _>("deadline").context("deadline")?
            ));
        }
    }
    for row in &people {
        let id: String = row.try_get("id").context("person id")?;
        let partner: String = row.try_get("partner_id").context("partner_id")?;
        let active = row
            .try_get::<Option<String>, _>("deactivated_at")
            .context("deactivated_at")?
            .is_none();
        if let Some(record) = out.get_mut(&partner) {
            record.people.push(PersonRecord {
                credentials: held.remove(&id).unwrap_or_default(),
                modules: modules.by_person.remove(&id).unwrap_or_default(),
                exams: exams.by_person.remove(&id).unwrap_or_default(),
                practicals: person_practicals.remove(&id).unwrap_or_default(),
                person_id: id,
                job_role: row.try_get("job_role").context("job_role")?,
                active,
            });
        }
    }
    Ok(out)
}
