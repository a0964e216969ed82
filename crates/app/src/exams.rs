//! Exams: the item bank, publishing a blueprint, and attempts — eligibility, the form drawn for
//! each attempt, proctor approval, autosaved answers, the server-side time limit, scoring, and
//! invalidation. Candidates never receive an item's key: attempts are read through
//! [`AttemptView`], which carries presented items only.

use crate::clock::{format_instant, parse_instant};
use crate::error::{AppError, AppResult};
use crate::evidence::Evidence;
use crate::progress::person_of;
use crate::{App, Ctx, audit};
use accredit_domain::attempt::{
    AttemptScore, Eligibility, FormItem, PastAttempt, assemble, eligibility, score,
};
use accredit_domain::blueprint::Blueprint;
use accredit_domain::exam::{Item, ItemStatus, PresentedItem, Response, is_correct};
use accredit_domain::item_stats::{ExamStats, ItemResult, ScoredAttempt, analyse};
use accredit_domain::program::Program;
use accredit_domain::{Action, InvalidInput};
use anyhow::Context as _;
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row as _};
use std::collections::BTreeMap;

/// A published exam, as anyone may read it before enrolling.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublishedExam {
    pub program_id: String,
    pub exam_id: String,
    pub title: String,
    pub blueprint: Blueprint,
    pub total_items: u32,
    pub published_at: String,
}

/// What an item import changed.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ItemImportReport {
    /// Items new to the bank (as drafts).
    pub created: Vec<String>,
    /// Items whose content changed: a new version, keeping the status.
    pub revised: Vec<String>,
    pub unchanged: Vec<String>,
}

/// An attempt as its candidate (or a proctor) sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    pub id: String,
    pub person_id: String,
    pub program_id: String,
    pub exam_id: String,
    pub exam_title: String,
    /// `awaiting_proctor`, `in_progress`, `submitted`, `timed_out` or `invalidated`.
    pub status: String,
    pub started_at: Option<String>,
    pub deadline_at: Option<String>,
    /// Seconds left while in progress.
    pub seconds_left: Option<i64>,
    pub items: Vec<PresentedItem>,
    pub answers: Vec<SavedAnswer>,
    /// Once finished: per-domain scores and the total, never the key.
    pub result: Option<AttemptScore>,
    pub invalidated_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SavedAnswer {
    pub item_id: String,
    pub response: Option<Response>,
    /// Marked by the candidate to come back to.
    pub flagged: bool,
}

/// An open attempt on the proctor's screen.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LiveAttempt {
    pub id: String,
    pub person_id: String,
    pub person_name: String,
    pub program_id: String,
    pub exam_id: String,
    pub status: String,
    pub created_at: String,
    pub deadline_at: Option<String>,
    pub answered: i64,
    pub items: i64,
    pub events: Vec<AttemptEvent>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttemptEvent {
    pub at: String,
    /// `focus_lost` or `paste`.
    pub kind: String,
    pub detail: String,
}

/// What the scorer keeps per item, for item statistics; never sent to candidates.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredResult {
    score: AttemptScore,
    items: Vec<StoredItemResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredItemResult {
    item_id: String,
    correct: bool,
    chosen: Vec<String>,
}

const OPEN: [&str; 2] = ["awaiting_proctor", "in_progress"];

fn exam_of<'p>(
    program: &'p Program,
    exam_id: &str,
) -> AppResult<&'p accredit_domain::program::Exam> {
    program
        .exams
        .iter()
        .find(|e| e.id == exam_id)
        .ok_or_else(|| AppError::NotFound(format!("exam `{exam_id}` of program `{}`", program.id)))
}

use crate::records::applied_program_named as applied_program;

/// The latest version of every item of a program.
async fn latest_items(conn: &mut AnyConnection, program_id: &str) -> AppResult<Vec<Item>> {
    let rows = sqlx::query(
        "SELECT i.definition, i.status FROM items i
         WHERE i.program_id = $1
           AND i.version = (SELECT MAX(v.version) FROM items v WHERE v.program_id = i.program_id AND v.id = i.id)
         ORDER BY i.domain, i.id",
    )
    .bind(program_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            let json: String = row.try_get("definition").context("definition")?;
            let status: String = row.try_get("status").context("status")?;
            let mut item: Item = serde_json::from_str(&json).context("stored item")?;
            item.status = ItemStatus::parse(&status).context("stored item status")?;
            Ok(item)
        })
        .collect()
}

fn choice_ids(response: &Option<Response>) -> Vec<String> {
    match response {
        Some(Response::Choice(c)) => vec![c.clone()],
        Some(Response::Choices(cs)) => cs.clone(),
        _ => Vec::new(),
    }
}

/// One file of items given to an import.
#[derive(Debug, Clone)]
pub struct ItemFile {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// Parses item files by their extension: `.toml` (Accredit's item file), `.gift` or `.txt`
/// (Moodle GIFT), `.xml` (one QTI assessmentItem). Every problem names its file and line.
pub fn parse_item_files(files: &[ItemFile], default_domain: &str) -> AppResult<Vec<Item>> {
    let mut items = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        let lower = file.file_name.to_lowercase();
        let parsed = if lower.ends_with(".toml") {
            accredit_formats::item_bank::parse(&file.bytes)
        } else {
            item_file_format(&lower, &file.bytes, default_domain)
        };
        match parsed {
            Ok(found) => items.extend(found),
            Err(errors) => problems.extend(errors.into_iter().map(|e| {
                let at = if e.line == 0 {
                    file.file_name.clone()
                } else {
                    format!("{}: line {}", file.file_name, e.line)
                };
                InvalidInput::new(at, e.message)
            })),
        }
    }
    if problems.is_empty() {
        Ok(items)
    } else {
        Err(AppError::Invalid(problems))
    }
}

impl App {
    /// Imports item files into a program's bank, all or nothing.
    pub async fn import_item_files(
        &self,
        ctx: &Ctx,
        program_id: &str,
        files: &[ItemFile],
        default_domain: Option<&str>,
    ) -> AppResult<ItemImportReport> {
        ctx.authorize(&Action::ManageItems, "items")?;
        if files.is_empty() {
            return Err(AppError::invalid("file", "choose at least one item file"));
        }
        let items = parse_item_files(files, default_domain.unwrap_or("general"))?;
        let source = files
            .iter()
            .map(|f| f.file_name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        self.import_items(ctx, program_id, items, &source).await
    }

    /// Adds items to a program's bank, all or nothing. New items arrive as drafts; an item
    /// whose content changed gets a new version and keeps its status.
    pub async fn import_items(
        &self,
        ctx: &Ctx,
        program_id: &str,
        items: Vec<Item>,
        source: &str,
    ) -> AppResult<ItemImportReport> {
        ctx.authorize(&Action::ManageItems, "items")?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let program = applied_program(&mut tx, program_id).await?;
        let domains: Vec<&str> = program
            .exams
            .iter()
            .filter_map(|e| e.blueprint.as_ref())
            .flat_map(|b| b.domains.iter().map(|d| d.id.as_str()))
            .collect();
        let mut problems = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for item in &items {
            if !seen.insert(item.id.as_str()) {
                problems.push(InvalidInput::new(
                    format!("items.{}", item.id),
                    "appears twice in this import",
                ));
            }
            for problem in item.problems() {
                problems.push(InvalidInput::new(format!("items.{}", item.id), problem));
            }
            if !domains.contains(&item.domain.as_str()) {
                problems.push(InvalidInput::new(
                    format!("items.{}.domain", item.id),
                    format!(
                        "`{}` is not a domain of any exam blueprint of `{program_id}`; known domains: {}",
                        item.domain,
                        if domains.is_empty() { "none".to_owned() } else { domains.join(", ") }
                    ),
                ));
            }
        }
        if items.is_empty() {
            problems.push(InvalidInput::new("items", "the file holds no items"));
        }
        if !problems.is_empty() {
            return Err(AppError::Invalid(problems));
        }
        let existing: BTreeMap<String, Item> = latest_items(&mut tx, program_id)
            .await?
            .into_iter()
            .map(|i| (i.id.clone(), i))
            .collect();
        let mut report = ItemImportReport::default();
        for mut item in items {
            let (version, status) = match existing.get(&item.id) {
                Some(old) => {
                    let same = old.stem == item.stem
                        && old.body == item.body
                        && old.artifact == item.artifact
                        && old.rationale == item.rationale
                        && old.domain == item.domain;
                    if same {
                        report.unchanged.push(item.id);
                        continue;
                    }
                    report.revised.push(item.id.clone());
                    (old.version + 1, old.status)
                }
                None => {
                    report.created.push(item.id.clone());
                    (1, ItemStatus::Draft)
                }
            };
            item.version = version;
            item.status = status;
            sqlx::query(
                "INSERT INTO items (program_id, id, version, domain, status, kind, definition, source, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(program_id)
            .bind(&item.id)
            .bind(i64::from(version))
            .bind(&item.domain)
            .bind(status.as_str())
            .bind(item.body.kind())
            .bind(serde_json::to_string(&item).context("item")?)
            .bind(source)
            .bind(format_instant(now))
            .execute(&mut *tx)
            .await?;
        }
        audit::record(
            &mut tx,
            ctx,
            now,
            "items.imported",
            &format!("program:{program_id}"),
            serde_json::json!({ "source": source, "created": report.created, "revised": report.revised }),
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }

    /// An item as QTI 2.1 XML, for other assessment systems.
    pub async fn export_item_qti(
        &self,
        ctx: &Ctx,
        program_id: &str,
        item_id: &str,
    ) -> AppResult<String> {
        let item = self
            .list_items(ctx, program_id)
            .await?
            .into_iter()
            .find(|i| i.id == item_id)
            .ok_or_else(|| {
                AppError::NotFound(format!("item `{item_id}` of program `{program_id}`"))
            })?;
        Ok(accredit_formats::qti::export_item(&item))
    }

    /// The bank's items, latest versions, keys included.
    pub async fn list_items(&self, ctx: &Ctx, program_id: &str) -> AppResult<Vec<Item>> {
        ctx.authorize(&Action::ManageItems, "items")?;
        let mut conn = self.db.reader().acquire().await?;
        applied_program(&mut conn, program_id).await?;
        latest_items(&mut conn, program_id).await
    }

    /// Activates, retires or returns an item to draft.
    pub async fn set_item_status(
        &self,
        ctx: &Ctx,
        program_id: &str,
        item_id: &str,
        status: ItemStatus,
    ) -> AppResult<Item> {
        ctx.authorize(&Action::ManageItems, "items")?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let updated = sqlx::query(
            "UPDATE items SET status = $1 WHERE program_id = $2 AND id = $3
               AND version = (SELECT MAX(v.version) FROM items v WHERE v.program_id = $2 AND v.id = $3)",
        )
        .bind(status.as_str())
        .bind(program_id)
        .bind(item_id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(AppError::NotFound(format!(
                "item `{item_id}` of program `{program_id}`"
            )));
        }
        audit::record(
            &mut tx,
            ctx,
            now,
            "item.status_changed",
            &format!("item:{program_id}/{item_id}"),
            serde_json::json!({ "status": status.as_str() }),
        )
        .await?;
        let item = latest_items(&mut tx, program_id)
            .await?
            .into_iter()
            .find(|i| i.id == item_id)
            .context("the item just updated")?;
        tx.commit().await?;
        Ok(item)
    }

    /// Publishes an exam's blueprint once the bank can fill every form; otherwise says, domain
    /// by domain, what is missing.
    pub async fn publish_exam(
        &self,
        ctx: &Ctx,
        program_id: &str,
        exam_id: &str,
    ) -> AppResult<PublishedExam> {
        ctx.authorize(&Action::ManageItems, "exams")?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let program = applied_program(&mut tx, program_id).await?;
        let exam = exam_of(&program, exam_id)?;
        let Some(blueprint) = exam.blueprint.clone() else {
            return Err(AppError::invalid(
                "blueprint",
                format!(
                    "exam `{exam_id}` has no blueprint; add `domains`, `passing_score` and `time_limit_minutes` to it in the program file"
                ),
            ));
        };
        let mut active: BTreeMap<String, u32> = BTreeMap::new();
        for item in latest_items(&mut tx, program_id).await? {
            if item.status == ItemStatus::Active {
                *active.entry(item.domain).or_default() += 1;
            }
        }
        let short = blueprint.shortfalls(&active);
        if !short.is_empty() {
            return Err(AppError::Invalid(
                short
                    .iter()
                    .map(|s| InvalidInput::new(format!("domains.{}", s.domain), s.to_string()))
                    .collect(),
            ));
        }
        let published_at = format_instant(now);
        sqlx::query(
            "INSERT INTO exam_publications (program_id, exam_id, title, blueprint, published_at, published_by)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (program_id, exam_id) DO UPDATE SET title = excluded.title, blueprint = excluded.blueprint,
               published_at = excluded.published_at, published_by = excluded.published_by",
        )
        .bind(program_id)
        .bind(exam_id)
        .bind(&exam.title)
        .bind(serde_json::to_string(&blueprint).context("blueprint")?)
        .bind(&published_at)
        .bind(ctx.principal.audit_name())
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            ctx,
            now,
            "exam.published",
            &format!("exam:{program_id}/{exam_id}"),
            serde_json::json!({ "blueprint": blueprint }),
        )
        .await?;
        tx.commit().await?;
        Ok(PublishedExam {
            program_id: program_id.to_owned(),
            exam_id: exam_id.to_owned(),
            title: exam.title.clone(),
            total_items: blueprint.total_items(),
            blueprint,
            published_at,
        })
    }

    /// Published exams, for anyone: what is tested and how it is scored.
    pub async fn published_exams(&self) -> AppResult<Vec<PublishedExam>> {
        let rows = sqlx::query(
            "SELECT program_id, exam_id, title, blueprint, published_at FROM exam_publications ORDER BY program_id, exam_id",
        )
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|row| {
                let blueprint: Blueprint = serde_json::from_str(
                    &row.try_get::<String, _>("blueprint").context("blueprint")?,
                )
                .context("stored blueprint")?;
                Ok(PublishedExam {
                    program_id: row.try_get("program_id").context("program_id")?,
                    exam_id: row.try_get("exam_id").context("exam_id")?,
                    title: row.try_get("title").context("title")?,
                    total_items: blueprint.total_items(),
                    blueprint,
                    published_at: row.try_get("published_at").context("published_at")?,
                })
            })
            .collect()
    }

    pub async fn published_exam(
        &self,
        program_id: &str,
        exam_id: &str,
    ) -> AppResult<PublishedExam> {
        self.published_exams()
            .await?
            .into_iter()
            .find(|e| e.program_id == program_id && e.exam_id == exam_id)
            .ok_or_else(|| {
                AppError::NotFound(format!(
                    "published exam `{exam_id}` of program `{program_id}`"
                ))
            })
    }

    async fn history(
        conn: &mut AnyConnection,
        person: &str,
        program_id: &str,
        exam_id: &str,
        today: jiff::civil::Date,
    ) -> AppResult<Vec<PastAttempt>> {
        let rows = sqlx::query(
            "SELECT created_at, finished_at, status, passed FROM attempts
             WHERE person_id = $1 AND program_id = $2 AND exam_id = $3",
        )
        .bind(person)
        .bind(program_id)
        .bind(exam_id)
        .fetch_all(&mut *conn)
        .await?;
        let since = Self::renewal_opened(conn, person, program_id, exam_id, today).await?;
        let attempts: AppResult<Vec<PastAttempt>> = rows
            .iter()
            .map(|row| {
                let finished: Option<String> = row.try_get("finished_at").context("finished_at")?;
                let status: String = row.try_get("status").context("status")?;
                let passed: Option<i64> = row.try_get("passed").context("passed")?;
                Ok(PastAttempt {
                    started_at: parse_instant(
                        &row.try_get::<String, _>("created_at")
                            .context("created_at")?,
                    )?,
                    finished_at: finished.as_deref().map(parse_instant).transpose()?,
                    passed: if status == "invalidated" {
                        None
                    } else {
                        passed.map(|p| p == 1)
                    },
                })
            })
            .collect();
        Ok(attempts?
            .into_iter()
            .filter(|a| {
                since.is_none_or(|since| {
                    a.started_at
                        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                        .date()
                        >= since
                })
            })
            .collect())
    }

    /// A pass counts for the credential it earned. Once the renewal window of a credential
    /// whose track needs this exam has opened (or the credential has ended), passing again is
    /// how the track is renewed or re-earned, so attempts before the window do not block.
    async fn renewal_opened(
        conn: &mut AnyConnection,
        person: &str,
        program_id: &str,
        exam_id: &str,
        today: jiff::civil::Date,
    ) -> AppResult<Option<jiff::civil::Date>> {
        let Some(program) = crate::records::load_programs(conn)
            .await?
            .into_iter()
            .find(|p| p.id == program_id)
        else {
            return Ok(None);
        };
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT track_id, valid_until FROM credentials
             WHERE person_id = $1 AND program_id = $2 AND status NOT IN ('superseded', 'revoked', 'suspended')",
        )
        .bind(person)
        .bind(program_id)
        .fetch_all(&mut *conn)
        .await?;
        let mut opened = None;
        for (track_id, valid_until) in rows {
            let Some(track) = program.track(&track_id) else {
                continue;
            };
            let needs_exam = track
                .requires
                .walk()
                .into_iter()
                .any(|r| matches!(r, accredit_domain::program::Rule::Exam(e) if e == exam_id));
            if !needs_exam {
                continue;
            }
            let until = crate::records::parse_date(&valid_until)?;
            let window = until - jiff::Span::new().days(i64::from(track.renewal.window_days));
            if window <= today {
                opened = opened.max(Some(window));
            }
        }
        Ok(opened)
    }

    async fn completed_modules(
        conn: &mut AnyConnection,
        person: &str,
        program_id: &str,
    ) -> AppResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT module_id FROM module_completions WHERE person_id = $1 AND program_id = $2",
        )
        .bind(person)
        .bind(program_id)
        .fetch_all(&mut *conn)
        .await?)
    }

    /// Whether the signed-in person may start an attempt now, and if not why and when.
    pub async fn exam_eligibility(
        &self,
        ctx: &Ctx,
        program_id: &str,
        exam_id: &str,
    ) -> AppResult<Eligibility> {
        ctx.authorize(&Action::TakeExam, "exams")?;
        let person = person_of(ctx)?;
        self.expire_attempts().await?;
        let published = self.published_exam(program_id, exam_id).await?;
        let mut conn = self.db.reader().acquire().await?;
        let done = Self::completed_modules(&mut conn, &person, program_id).await?;
        let history = Self::history(&mut conn, &person, program_id, exam_id, self.today()).await?;
        Ok(eligibility(
            &published.blueprint,
            &done,
            &history,
            self.now(),
        ))
    }

    /// Starts an attempt: checks eligibility, draws the form from a fresh seed and, for a
    /// proctored exam, waits for a proctor's approval before the clock starts.
    pub async fn start_attempt(
        &self,
        ctx: &Ctx,
        program_id: &str,
        exam_id: &str,
    ) -> AppResult<AttemptView> {
        ctx.authorize(&Action::TakeExam, "exams")?;
        let person = person_of(ctx)?;
        self.expire_attempts().await?;
        let published = self.published_exam(program_id, exam_id).await?;
        let blueprint = &published.blueprint;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let done = Self::completed_modules(&mut tx, &person, program_id).await?;
        let history = Self::history(&mut tx, &person, program_id, exam_id, self.today()).await?;
        let allowed = eligibility(blueprint, &done, &history, now);
        if !allowed.eligible {
            let mut reason = allowed.reason.unwrap_or_default();
            if let Some(next) = allowed.next_attempt_at {
                reason.push_str(&format!(
                    "; the next attempt is possible from {}",
                    format_instant(next)
                ));
            }
            return Err(AppError::Conflict(reason));
        }
        let active: Vec<Item> = latest_items(&mut tx, program_id)
            .await?
            .into_iter()
            .filter(|i| i.status == ItemStatus::Active)
            .collect();
        let seed: u64 = rand::random();
        let form = assemble(blueprint, &active, seed).map_err(|short| {
            AppError::Conflict(format!(
                "the item bank cannot fill this exam's form right now: {}",
                short
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ))
        })?;
        let id = uuid::Uuid::now_v7().to_string();
        let (status, started, deadline) = if blueprint.proctored {
            ("awaiting_proctor", None, None)
        } else {
            let deadline = now + SignedDuration::from_mins(i64::from(blueprint.time_limit_minutes));
            (
                "in_progress",
                Some(format_instant(now)),
                Some(format_instant(deadline)),
            )
        };
        let inserted = sqlx::query(
            "INSERT INTO attempts (id, person_id, program_id, exam_id, status, seed, form, blueprint, created_at, started_at, deadline_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&id)
        .bind(&person)
        .bind(program_id)
        .bind(exam_id)
        .bind(status)
        .bind(seed.to_string())
        .bind(serde_json::to_string(&form).context("form")?)
        .bind(serde_json::to_string(blueprint).context("blueprint")?)
        .bind(format_instant(now))
        .bind(started)
        .bind(deadline)
        .execute(&mut *tx)
        .await;
        if let Err(e) = inserted {
            // The one-open-attempt index: a parallel start won.
            return Err(match &e {
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    AppError::Conflict("an attempt is already in progress".into())
                }
                _ => e.into(),
            });
        }
        audit::record(
            &mut tx,
            ctx,
            now,
            "attempt.created",
            &format!("attempt:{id}"),
            serde_json::json!({ "exam": format!("{program_id}/{exam_id}"), "seed": seed.to_string(), "status": status }),
        )
        .await?;
        tx.commit().await?;
        self.attempt(ctx, &id).await
    }

    /// The owner's or a proctor's view of an attempt; finishes it first if its time ran out.
    pub async fn attempt(&self, ctx: &Ctx, attempt_id: &str) -> AppResult<AttemptView> {
        self.finish_if_expired(attempt_id).await?;
        let mut conn = self.db.reader().acquire().await?;
        let row = sqlx::query(
            "SELECT person_id, program_id, exam_id, status, form, started_at, deadline_at, result, invalidated_reason
             FROM attempts WHERE id = $1",
        )
        .bind(attempt_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("attempt `{attempt_id}`")))?;
        let owner: String = row.try_get("person_id").context("person_id")?;
        self.may_see_attempt(ctx, &owner, attempt_id)?;
        let program_id: String = row.try_get("program_id").context("program_id")?;
        let exam_id: String = row.try_get("exam_id").context("exam_id")?;
        let status: String = row.try_get("status").context("status")?;
        let form: Vec<FormItem> =
            serde_json::from_str(&row.try_get::<String, _>("form").context("form")?)
                .context("stored form")?;
        let deadline: Option<String> = row.try_get("deadline_at").context("deadline_at")?;
        let result: Option<String> = row.try_get("result").context("result")?;
        let items = form_items(&mut conn, &program_id, &form).await?;
        // The questions are shown only once the clock runs (after a proctor's approval).
        let presented = if status == "awaiting_proctor" {
            Vec::new()
        } else {
            form.iter()
                .zip(&items)
                .map(|(f, item)| item.present(&f.choice_order, &f.target_order))
                .collect()
        };
        let answers = sqlx::query(
            "SELECT item_id, response, flagged FROM attempt_answers WHERE attempt_id = $1",
        )
        .bind(attempt_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            let response: Option<String> = r.try_get("response").context("response")?;
            Ok(SavedAnswer {
                item_id: r.try_get("item_id").context("item_id")?,
                response: response
                    .as_deref()
                    .map(serde_json::from_str)
                    .transpose()
                    .context("stored response")?,
                flagged: r.try_get::<i64, _>("flagged").context("flagged")? == 1,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
        let exam_title = sqlx::query_scalar::<_, String>(
            "SELECT title FROM exam_publications WHERE program_id = $1 AND exam_id = $2",
        )
        .bind(&program_id)
        .bind(&exam_id)
        .fetch_optional(&mut *conn)
        .await?
        .unwrap_or_else(|| exam_id.clone());
        let seconds_left = match (&deadline, status.as_str()) {
            (Some(d), "in_progress") => Some((parse_instant(d)? - self.now()).as_secs().max(0)),
            _ => None,
        };
        Ok(AttemptView {
            id: attempt_id.to_owned(),
            person_id: owner,
            program_id,
            exam_id,
            exam_title,
            status,
            started_at: row.try_get("started_at").context("started_at")?,
            deadline_at: deadline,
            seconds_left,
            items: presented,
            answers,
            result: result
                .as_deref()
                .map(|r| serde_json::from_str::<StoredResult>(r).map(|s| s.score))
                .transpose()
                .context("stored result")?,
            invalidated_reason: row
                .try_get("invalidated_reason")
                .context("invalidated_reason")?,
        })
    }

    /// Candidates see their own attempts; proctors and program admins see all. Others learn
    /// nothing, not even that the attempt exists.
    fn may_see_attempt(&self, ctx: &Ctx, owner: &str, attempt_id: &str) -> AppResult<()> {
        if ctx.authorize(&Action::ProctorExams, "attempts").is_ok() {
            return Ok(());
        }
        match person_of(ctx) {
            Ok(person) if person == owner => Ok(()),
            _ => Err(AppError::NotFound(format!("attempt `{attempt_id}`"))),
        }
    }

    /// The candidate's own open attempt, or an error saying why it cannot be changed.
    async fn own_open_attempt(
        &self,
        ctx: &Ctx,
        conn: &mut AnyConnection,
        attempt_id: &str,
    ) -> AppResult<(String, Vec<FormItem>)> {
        let person = person_of(ctx)?;
        let row =
            sqlx::query("SELECT person_id, status, form, deadline_at FROM attempts WHERE id = $1")
                .bind(attempt_id)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("attempt `{attempt_id}`")))?;
        let owner: String = row.try_get("person_id").context("person_id")?;
        if owner != person {
            return Err(AppError::NotFound(format!("attempt `{attempt_id}`")));
        }
        let status: String = row.try_get("status").context("status")?;
        match status.as_str() {
            "in_progress" => {}
            "awaiting_proctor" => {
                return Err(AppError::Conflict(
                    "a proctor has not approved the start yet".into(),
                ));
            }
            other => {
                return Err(AppError::Conflict(format!(
                    "the attempt is {}; answers can no longer change",
                    other.replace('_', " ")
                )));
            }
        }
        let deadline: Option<String> = row.try_get("deadline_at").context("deadline_at")?;
        if let Some(deadline) = deadline
            && parse_instant(&deadline)? <= self.now()
        {
            return Err(AppError::Conflict(format!(
                "the time limit passed at {deadline}; the attempt was submitted automatically"
            )));
        }
        let form = serde_json::from_str(&row.try_get::<String, _>("form").context("form")?)
            .context("stored form")?;
        Ok((owner, form))
    }

    /// Saves (or clears) one answer and its review flag. One small transaction, so every
    /// save is durable before the response.
    pub async fn save_answer(
        &self,
        ctx: &Ctx,
        attempt_id: &str,
        answer: SavedAnswer,
    ) -> AppResult<()> {
        self.save_answers(ctx, attempt_id, vec![answer]).await
    }

    /// Saves several answers at once (the exam page's whole form), in one transaction.
    pub async fn save_answers(
        &self,
        ctx: &Ctx,
        attempt_id: &str,
        answers: Vec<SavedAnswer>,
    ) -> AppResult<()> {
        ctx.authorize(&Action::TakeExam, "attempts")?;
        if let Err(e) = self.finish_if_expired(attempt_id).await {
            tracing::warn!(error = ?e, attempt_id, "finishing an expired attempt");
        }
        let saved_at = format_instant(self.now());
        let mut tx = self.db.begin().await?;
        let (_, form) = self.own_open_attempt(ctx, &mut tx, attempt_id).await?;
        for answer in answers {
            if !form.iter().any(|f| f.item_id == answer.item_id) {
                return Err(AppError::invalid(
                    "item",
                    format!("`{}` is not on this attempt's form", answer.item_id),
                ));
            }
            let response = answer
                .response
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .context("response")?;
            sqlx::query(
                "INSERT INTO attempt_answers (attempt_id, item_id, response, flagged, saved_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (attempt_id, item_id) DO UPDATE SET response = excluded.response, flagged = excluded.flagged, saved_at = excluded.saved_at",
            )
            .bind(attempt_id)
            .bind(&answer.item_id)
            .bind(response)
            .bind(i64::from(answer.flagged))
            .bind(&saved_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records what the exam page noticed (focus lost, paste) for the proctor.
    pub async fn record_attempt_event(
        &self,
        ctx: &Ctx,
        attempt_id: &str,
        kind: &str,
        detail: &str,
    ) -> AppResult<()> {
        ctx.authorize(&Action::TakeExam, "attempts")?;
        if !["focus_lost", "paste"].contains(&kind) {
            return Err(AppError::invalid("kind", "must be `focus_lost` or `paste`"));
        }
        let mut tx = self.db.begin().await?;
        self.own_open_attempt(ctx, &mut tx, attempt_id).await?;
        sqlx::query(
            "INSERT INTO attempt_events (attempt_id, at, kind, detail) VALUES ($1, $2, $3, $4)",
        )
        .bind(attempt_id)
        .bind(format_instant(self.now()))
        .bind(kind)
        .bind(detail.chars().take(200).collect::<String>())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The candidate hands in the attempt; it is scored at once.
    pub async fn submit_attempt(&self, ctx: &Ctx, attempt_id: &str) -> AppResult<AttemptView> {
        ctx.authorize(&Action::TakeExam, "attempts")?;
        self.finish_if_expired(attempt_id).await?;
        {
            let mut conn = self.db.reader().acquire().await?;
            self.own_open_attempt(ctx, &mut conn, attempt_id).await?;
        }
        self.finish(ctx, attempt_id, "submitted").await?;
        self.attempt(ctx, attempt_id).await
    }

    /// Scores an open attempt and closes it as `submitted` or `timed_out`; a pass counts
    /// towards the candidate's tracks. Does nothing when the attempt is already closed.
    async fn finish(&self, ctx: &Ctx, attempt_id: &str, how: &str) -> AppResult<()> {
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let row = sqlx::query(
            "SELECT person_id, program_id, exam_id, status, form, blueprint FROM attempts WHERE id = $1",
        )
        .bind(attempt_id)
        .fetch_one(&mut *tx)
        .await?;
        let status: String = row.try_get("status").context("status")?;
        if status != "in_progress" {
            return Ok(());
        }
        let person: String = row.try_get("person_id").context("person_id")?;
        let program_id: String = row.try_get("program_id").context("program_id")?;
        let exam_id: String = row.try_get("exam_id").context("exam_id")?;
        let form: Vec<FormItem> =
            serde_json::from_str(&row.try_get::<String, _>("form").context("form")?)
                .context("stored form")?;
        let blueprint: Blueprint =
            serde_json::from_str(&row.try_get::<String, _>("blueprint").context("blueprint")?)
                .context("stored blueprint")?;
        let items = form_items(&mut tx, &program_id, &form).await?;
        let answers: BTreeMap<String, Option<Response>> =
            sqlx::query("SELECT item_id, response FROM attempt_answers WHERE attempt_id = $1")
                .bind(attempt_id)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| {
                    let response: Option<String> = r.try_get("response").context("response")?;
                    Ok((
                        r.try_get("item_id").context("item_id")?,
                        response
                            .as_deref()
                            .map(serde_json::from_str)
                            .transpose()
                            .context("stored response")?,
                    ))
                })
                .collect::<AppResult<_>>()?;
        let mut results = Vec::new();
        let mut per_item = Vec::new();
        for item in &items {
            let response = answers.get(&item.id).cloned().flatten();
            let correct = response.as_ref().is_some_and(|r| is_correct(&item.body, r));
            results.push((item.domain.clone(), correct));
            per_item.push(StoredItemResult {
                item_id: item.id.clone(),
                correct,
                chosen: choice_ids(&response),
            });
        }
        let scored = score(&blueprint, &results);
        let passed = scored.passed;
        sqlx::query(
            "UPDATE attempts SET status = $1, finished_at = $2, score_percent = $3, passed = $4, result = $5
             WHERE id = $6 AND status = 'in_progress'",
        )
        .bind(how)
        .bind(format_instant(now))
        .bind(scored.total_percent)
        .bind(i64::from(passed))
        .bind(serde_json::to_string(&StoredResult { score: scored.clone(), items: per_item }).context("result")?)
        .bind(attempt_id)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            ctx,
            now,
            if how == "timed_out" { "attempt.timed_out" } else { "attempt.submitted" },
            &format!("attempt:{attempt_id}"),
            serde_json::json!({ "score": scored.total_percent, "passed": passed, "answered": answers.len() }),
        )
        .await?;
        tx.commit().await?;
        if passed {
            self.record_evidence_for(
                &Ctx::system(),
                &program_id,
                Evidence::ExamPassed {
                    person,
                    exam: exam_id,
                },
            )
            .await?;
        }
        Ok(())
    }

    async fn finish_if_expired(&self, attempt_id: &str) -> AppResult<()> {
        let deadline: Option<Option<String>> = sqlx::query_scalar(
            "SELECT deadline_at FROM attempts WHERE id = $1 AND status = 'in_progress'",
        )
        .bind(attempt_id)
        .fetch_optional(self.db.reader())
        .await?;
        if let Some(Some(deadline)) = deadline
            && parse_instant(&deadline)? <= self.now()
        {
            self.finish(&Ctx::system(), attempt_id, "timed_out").await?;
        }
        Ok(())
    }

    /// Submits every attempt whose time ran out; costs one indexed query when none did.
    pub async fn expire_attempts(&self) -> AppResult<usize> {
        let due: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM attempts WHERE status = 'in_progress' AND deadline_at <= $1",
        )
        .bind(format_instant(self.now()))
        .fetch_all(self.db.reader())
        .await?;
        for id in &due {
            self.finish(&Ctx::system(), id, "timed_out").await?;
        }
        Ok(due.len())
    }

    /// Open attempts with what the exam page reported, for proctors.
    pub async fn live_attempts(&self, ctx: &Ctx) -> AppResult<Vec<LiveAttempt>> {
        ctx.authorize(&Action::ProctorExams, "attempts")?;
        self.expire_attempts().await?;
        let rows = sqlx::query(
            "SELECT a.id, a.person_id, p.display_name, a.program_id, a.exam_id, a.status, a.created_at, a.deadline_at, a.form,
                    (SELECT COUNT(*) FROM attempt_answers w WHERE w.attempt_id = a.id AND w.response IS NOT NULL) AS answered
             FROM attempts a JOIN people p ON p.id = a.person_id
             WHERE a.status IN ($1, $2) ORDER BY a.created_at",
        )
        .bind(OPEN[0])
        .bind(OPEN[1])
        .fetch_all(self.db.reader())
        .await?;
        let mut live = Vec::new();
        for row in &rows {
            let id: String = row.try_get("id").context("id")?;
            let form: Vec<FormItem> =
                serde_json::from_str(&row.try_get::<String, _>("form").context("form")?)
                    .context("stored form")?;
            let events = sqlx::query(
                "SELECT at, kind, detail FROM attempt_events WHERE attempt_id = $1 ORDER BY at",
            )
            .bind(&id)
            .fetch_all(self.db.reader())
            .await?
            .iter()
            .map(|e| {
                Ok(AttemptEvent {
                    at: e.try_get("at").context("at")?,
                    kind: e.try_get("kind").context("kind")?,
                    detail: e.try_get("detail").context("detail")?,
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
            live.push(LiveAttempt {
                person_id: row.try_get("person_id").context("person_id")?,
                person_name: row.try_get("display_name").context("display_name")?,
                program_id: row.try_get("program_id").context("program_id")?,
                exam_id: row.try_get("exam_id").context("exam_id")?,
                status: row.try_get("status").context("status")?,
                created_at: row.try_get("created_at").context("created_at")?,
                deadline_at: row.try_get("deadline_at").context("deadline_at")?,
                answered: row.try_get("answered").context("answered")?,
                items: form.len() as i64,
                events,
                id,
            });
        }
        Ok(live)
    }

    /// A proctor lets a waiting candidate start; the clock starts now.
    pub async fn approve_attempt(&self, ctx: &Ctx, attempt_id: &str) -> AppResult<AttemptView> {
        ctx.authorize(&Action::ProctorExams, "attempts")?;
        let proctor = person_of(ctx)?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let row = sqlx::query("SELECT person_id, status, blueprint FROM attempts WHERE id = $1")
            .bind(attempt_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("attempt `{attempt_id}`")))?;
        let status: String = row.try_get("status").context("status")?;
        if status != "awaiting_proctor" {
            return Err(AppError::Conflict(format!(
                "the attempt is {}, not waiting for approval",
                status.replace('_', " ")
            )));
        }
        if row.try_get::<String, _>("person_id").context("person_id")? == proctor {
            return Err(AppError::Forbidden(
                "nobody approves their own attempt".into(),
            ));
        }
        let blueprint: Blueprint =
            serde_json::from_str(&row.try_get::<String, _>("blueprint").context("blueprint")?)
                .context("stored blueprint")?;
        let deadline = now + SignedDuration::from_mins(i64::from(blueprint.time_limit_minutes));
        sqlx::query(
            "UPDATE attempts SET status = 'in_progress', started_at = $1, deadline_at = $2, proctor_id = $3 WHERE id = $4",
        )
        .bind(format_instant(now))
        .bind(format_instant(deadline))
        .bind(&proctor)
        .bind(attempt_id)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            ctx,
            now,
            "attempt.approved",
            &format!("attempt:{attempt_id}"),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        self.attempt(ctx, attempt_id).await
    }

    /// A proctor voids an attempt, with the reason on the record. It counts as an attempt.
    pub async fn invalidate_attempt(
        &self,
        ctx: &Ctx,
        attempt_id: &str,
        reason: &str,
    ) -> AppResult<AttemptView> {
        ctx.authorize(&Action::ProctorExams, "attempts")?;
        let reason = reason.trim();
        if reason.len() < 5 {
            return Err(AppError::invalid(
                "reason",
                "say why the attempt is invalidated (at least 5 characters)",
            ));
        }
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let updated = sqlx::query(
            "UPDATE attempts SET status = 'invalidated', invalidated_reason = $1, finished_at = $2, passed = NULL
             WHERE id = $3 AND status IN ('awaiting_proctor', 'in_progress', 'submitted', 'timed_out')",
        )
        .bind(reason)
        .bind(format_instant(now))
        .bind(attempt_id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(AppError::NotFound(format!(
                "attempt `{attempt_id}` (or it is already invalidated)"
            )));
        }
        audit::record(
            &mut tx,
            ctx,
            now,
            "attempt.invalidated",
            &format!("attempt:{attempt_id}"),
            serde_json::json!({ "reason": reason }),
        )
        .await?;
        tx.commit().await?;
        self.attempt(ctx, attempt_id).await
    }

    /// Item quality and reliability from every scored attempt of an exam.
    pub async fn item_statistics(
        &self,
        ctx: &Ctx,
        program_id: &str,
        exam_id: &str,
    ) -> AppResult<ExamStats> {
        ctx.authorize(&Action::ManageItems, "items")?;
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT result FROM attempts WHERE program_id = $1 AND exam_id = $2
               AND status IN ('submitted', 'timed_out') AND result IS NOT NULL ORDER BY created_at",
        )
        .bind(program_id)
        .bind(exam_id)
        .fetch_all(self.db.reader())
        .await?;
        let attempts = rows
            .iter()
            .map(|r| {
                let stored: StoredResult = serde_json::from_str(r).context("stored result")?;
                Ok(ScoredAttempt {
                    passed: stored.score.passed,
                    items: stored
                        .items
                        .into_iter()
                        .map(|i| ItemResult {
                            item_id: i.item_id,
                            correct: i.correct,
                            chosen: i.chosen,
                        })
                        .collect(),
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        Ok(analyse(&attempts))
    }
}

/// The exact item versions a form was drawn with, in form order.
async fn form_items(
    conn: &mut AnyConnection,
    program_id: &str,
    form: &[FormItem],
) -> AppResult<Vec<Item>> {
    if form.is_empty() {
        return Ok(Vec::new());
    }
    // One query for the whole form: every page view and scoring reads it.
    let placeholders: Vec<String> = (0..form.len()).map(|i| format!("${}", i + 2)).collect();
    let mut query = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT id, version, definition FROM items WHERE program_id = $1 AND id IN ({})",
        placeholders.join(", ")
    )))
    .bind(program_id);
    for f in form {
        query = query.bind(&f.item_id);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    form.iter()
        .map(|f| {
            let row = rows
                .iter()
                .find(|r| {
                    r.try_get::<String, _>("id").ok().as_deref() == Some(f.item_id.as_str())
                        && r.try_get::<i64, _>("version").ok() == Some(i64::from(f.version))
                })
                .with_context(|| format!("item {} version {} of a form", f.item_id, f.version))?;
            let json: String = row.try_get("definition").context("definition")?;
            Ok(serde_json::from_str(&json).context("stored item")?)
        })
        .collect()
}

/// GIFT and QTI files.
fn item_file_format(
    lower_name: &str,
    bytes: &[u8],
    default_domain: &str,
) -> Result<Vec<Item>, Vec<accredit_formats::document::FormatError>> {
    use accredit_formats::{gift, qti};
    if lower_name.ends_with(".xml") {
        let options = qti::QtiOptions {
            default_domain: default_domain.to_owned(),
        };
        return qti::parse_item(bytes, &options).map(|item| vec![item]);
    }
    if lower_name.ends_with(".gift") || lower_name.ends_with(".txt") {
        let options = gift::GiftOptions {
            default_domain: default_domain.to_owned(),
        };
        return gift::parse(bytes, &options);
    }
    Err(vec![accredit_formats::document::FormatError::whole_file(
        format!(
            "`{lower_name}` is not an item file Accredit reads; expected .toml (Accredit item file), .gift or .txt (Moodle GIFT) or .xml (QTI)"
        ),
    )])
}
