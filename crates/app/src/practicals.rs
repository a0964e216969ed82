//! Practical assessments: partner staff submit (a description and links); vendor reviewers
//! score them on the practical's rubric and sign a decision by re-entering their password. With
//! a second review the two reviewers do not see each other's verdicts, and a third decides when
//! they disagree. An approval is evidence for the partner's tracks.

use crate::clock::format_instant;
use crate::error::{AppError, AppResult};
use crate::evidence::Evidence;
use crate::progress::person_of;
use crate::secrets::verify_password;
use crate::{App, Ctx, audit};
use accredit_domain::program::{Practical, Program};
use accredit_domain::review::{Outcome, Rubric, Verdict, cohens_kappa, outcome, score_problems};
use accredit_domain::{Action, InvalidInput, Principal};
use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubmission {
    pub description: String,
    #[serde(default)]
    pub links: Vec<String>,
    /// Whose work it is; the submitter when absent. Partner-level practicals may leave it out
    /// with `for_partner: true`.
    #[serde(default)]
    pub for_partner: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Submission {
    pub id: String,
    pub program_id: String,
    pub practical_id: String,
    pub practical_title: String,
    pub partner_id: String,
    pub person_id: Option<String>,
    pub description: String,
    pub links: Vec<String>,
    /// `submitted`, `changes_requested`, `approved` or `rejected`.
    pub status: String,
    pub round: i64,
    pub rubric: Rubric,
    pub files: Vec<SubmissionFile>,
    pub created_at: String,
    pub updated_at: String,
}

/// A file attached to a submission (its content is downloaded separately).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubmissionFile {
    pub id: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub uploaded_at: String,
}

/// At most this many bytes per file: reports and screenshots, not recordings.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

/// What a file's first bytes say it is; only documents and images reviewers can open.
fn sniff_content_type(name: &str, bytes: &[u8]) -> Option<&'static str> {
    let lower = name.to_lowercase();
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(b"\x89PNG") {
        Some("image/png")
    } else if bytes.starts_with(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if (lower.ends_with(".txt") || lower.ends_with(".md") || lower.ends_with(".csv"))
        && std::str::from_utf8(bytes).is_ok()
    {
        Some("text/plain; charset=utf-8")
    } else {
        None
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// `approve`, `reject` or `request_changes`: the meaning of the signature.
    pub verdict: String,
    /// (criterion id, score) for every criterion of the rubric.
    pub scores: Vec<(String, u32)>,
    #[serde(default)]
    pub comment: String,
    /// The reviewer's password, re-entered: the electronic signature.
    pub password: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReviewResult {
    pub submission: Submission,
    /// The signature as recorded: who, what it means, when.
    pub signed_by: String,
    pub meaning: String,
    pub signed_at: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Agreement {
    pub program_id: String,
    pub practical_id: String,
    /// Rounds reviewed twice.
    pub pairs: usize,
    pub kappa: Option<f64>,
}

const SUBMISSION: &str = "SELECT id, program_id, practical_id, partner_id, person_id, description, links, status, round, created_at, updated_at FROM practical_submissions";

fn practical<'p>(program: &'p Program, id: &str) -> AppResult<&'p Practical> {
    program
        .practicals
        .iter()
        .find(|p| p.id == id)
        .ok_or_else(|| AppError::NotFound(format!("practical `{id}` of program `{}`", program.id)))
}

use crate::records::applied_program_named as program;

async fn submission(conn: &mut AnyConnection, row: &AnyRow) -> AppResult<Submission> {
    let program_id: String = row.try_get("program_id").context("program_id")?;
    let practical_id: String = row.try_get("practical_id").context("practical_id")?;
    let id: String = row.try_get("id").context("id")?;
    let files = sqlx::query(
        "SELECT id, file_name, content_type, size, uploaded_at FROM submission_files WHERE submission_id = $1 ORDER BY uploaded_at, file_name",
    )
    .bind(&id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|f| {
        Ok(SubmissionFile {
            id: f.try_get("id").context("file id")?,
            file_name: f.try_get("file_name").context("file_name")?,
            content_type: f.try_get("content_type").context("content_type")?,
            size: f.try_get("size").context("size")?,
            uploaded_at: f.try_get("uploaded_at").context("uploaded_at")?,
        })
    })
    .collect::<AppResult<Vec<_>>>()?;
    let program = program(conn, &program_id).await?;
    let definition = practical(&program, &practical_id)?;
    Ok(Submission {
        id,
        files,
        practical_title: definition.title.clone(),
        rubric: definition.rubric.clone(),
        program_id,
        practical_id,
        partner_id: row.try_get("partner_id").context("partner_id")?,
        person_id: row.try_get("person_id").context("person_id")?,
        description: row.try_get("description").context("description")?,
        links: serde_json::from_str(&row.try_get::<String, _>("links").context("links")?)
            .context("stored links")?,
        status: row.try_get("status").context("status")?,
        round: row.try_get("round").context("round")?,
        created_at: row.try_get("created_at").context("created_at")?,
        updated_at: row.try_get("updated_at").context("updated_at")?,
    })
}

fn check_input(input: &NewSubmission) -> AppResult<()> {
    let mut problems = Vec::new();
    if input.description.trim().len() < 20 {
        problems.push(InvalidInput::new(
            "description",
            "describe the work in at least 20 characters",
        ));
    }
    for (i, link) in input.links.iter().enumerate() {
        if !(link.starts_with("https://") || link.starts_with("http://")) || link.contains(' ') {
            problems.push(InvalidInput::new(
                format!("links[{i}]"),
                format!("`{link}` is not a web address (http:// or https://)"),
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(problems))
    }
}

impl App {
    /// Submits a practical for the signed-in person's firm (and, unless `for_partner`, as their
    /// own work).
    pub async fn submit_practical(
        &self,
        ctx: &Ctx,
        program_id: &str,
        practical_id: &str,
        input: NewSubmission,
    ) -> AppResult<Submission> {
        ctx.authorize(&Action::SubmitPractical, "practicals")?;
        check_input(&input)?;
        let person = person_of(ctx)?;
        let Principal::Person(actor) = &ctx.principal else {
            unreachable!("authorized as a person")
        };
        let partner = actor
            .partner_id
            .as_ref()
            .map(|p| p.0.clone())
            .context("partner staff have a partner")?;
        let now = format_instant(self.now());
        let mut tx = self.db.begin().await?;
        let program = program(&mut tx, program_id).await?;
        practical(&program, practical_id)?;
        let enrolled: Option<String> = sqlx::query_scalar(
            "SELECT partner_id FROM partner_programs WHERE partner_id = $1 AND program_id = $2",
        )
        .bind(&partner)
        .bind(program_id)
        .fetch_optional(&mut *tx)
        .await?;
        if enrolled.is_none() {
            return Err(AppError::Conflict(format!(
                "your organisation is not enrolled in `{program_id}`"
            )));
        }
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO practical_submissions (id, program_id, practical_id, partner_id, person_id, submitted_by, description, links, status, round, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'submitted', 1, $9, $9)",
        )
        .bind(&id)
        .bind(program_id)
        .bind(practical_id)
        .bind(&partner)
        .bind((!input.for_partner).then_some(person.clone()))
        .bind(&person)
        .bind(input.description.trim())
        .bind(serde_json::to_string(&input.links).context("links")?)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            ctx,
            self.now(),
            "practical.submitted",
            &format!("submission:{id}"),
            serde_json::json!({ "program": program_id, "practical": practical_id, "partner": partner }),
        )
        .await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SUBMISSION} WHERE id = $1")))
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?;
        let created = submission(&mut tx, &row).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Submissions waiting for this reviewer: never their own, never their own firm's, never
    /// one they already reviewed this round, and never showing other reviewers' verdicts.
    pub async fn review_queue(&self, ctx: &Ctx) -> AppResult<Vec<Submission>> {
        ctx.authorize(&Action::ReviewPracticals, "practicals")?;
        let reviewer = person_of(ctx)?;
        let reviewer_partner = match &ctx.principal {
            Principal::Person(actor) => actor.partner_id.as_ref().map(|p| p.0.clone()),
            _ => None,
        };
        let mut conn = self.db.reader().acquire().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SUBMISSION} s WHERE s.status = 'submitted' AND s.submitted_by <> $1
               AND (s.person_id IS NULL OR s.person_id <> $1)
               AND NOT EXISTS (SELECT 1 FROM practical_reviews r WHERE r.submission_id = s.id AND r.round = s.round AND r.reviewer_id = $1)
             ORDER BY s.updated_at"
        )))
        .bind(&reviewer)
        .fetch_all(&mut *conn)
        .await?;
        let mut queue = Vec::new();
        for row in &rows {
            let item = submission(&mut conn, row).await?;
            if reviewer_partner.as_deref() == Some(item.partner_id.as_str()) {
                continue;
            }
            queue.push(item);
        }
        Ok(queue)
    }

    /// Attaches a file to the firm's submission while it waits for review or for changes.
    pub async fn attach_file(
        &self,
        ctx: &Ctx,
        id: &str,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> AppResult<Submission> {
        ctx.authorize(&Action::SubmitPractical, "practicals")?;
        let current = self.get_submission(ctx, id).await?;
        if !matches!(current.status.as_str(), "submitted" | "changes_requested") {
            return Err(AppError::Conflict(format!(
                "the submission is {}; files can no longer be added",
                current.status
            )));
        }
        let name = file_name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(file_name)
            .trim();
        if name.is_empty() {
            return Err(AppError::invalid("file", "the file has no name"));
        }
        if bytes.is_empty() {
            return Err(AppError::invalid("file", format!("`{name}` is empty")));
        }
        if bytes.len() > MAX_FILE_BYTES {
            return Err(AppError::invalid(
                "file",
                format!(
                    "`{name}` is {} bytes; at most {MAX_FILE_BYTES} are accepted",
                    bytes.len()
                ),
            ));
        }
        let Some(content_type) = sniff_content_type(name, &bytes) else {
            return Err(AppError::invalid(
                "file",
                format!("`{name}` is not a PDF, PNG, JPEG or UTF-8 text file (.txt, .md, .csv)"),
            ));
        };
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let file_id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO submission_files (id, submission_id, file_name, content_type, size, content, uploaded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&file_id)
        .bind(id)
        .bind(name)
        .bind(content_type)
        .bind(bytes.len() as i64)
        .bind(bytes)
        .bind(format_instant(now))
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            ctx,
            now,
            "practical.file_attached",
            &format!("submission:{id}"),
            serde_json::json!({ "file": file_id, "name": name }),
        )
        .await?;
        tx.commit().await?;
        self.get_submission(ctx, id).await
    }

    /// A file of a submission: (name, content type, bytes), for whoever may see the submission.
    pub async fn submission_file(
        &self,
        ctx: &Ctx,
        id: &str,
        file_id: &str,
    ) -> AppResult<(String, String, Vec<u8>)> {
        self.get_submission(ctx, id).await?;
        let row = sqlx::query(
            "SELECT file_name, content_type, content FROM submission_files WHERE id = $1 AND submission_id = $2",
        )
        .bind(file_id)
        .bind(id)
        .fetch_optional(self.db.reader())
        .await?
        .ok_or_else(|| AppError::NotFound(format!("file `{file_id}` of submission `{id}`")))?;
        Ok((
            row.try_get("file_name").context("file_name")?,
            row.try_get("content_type").context("content_type")?,
            row.try_get("content").context("content")?,
        ))
    }

    /// The signed-in person's firm's submissions, newest first.
    pub async fn firm_submissions(&self, ctx: &Ctx) -> AppResult<Vec<Submission>> {
        ctx.authorize(&Action::SubmitPractical, "practicals")?;
        let Principal::Person(actor) = &ctx.principal else {
            return Ok(Vec::new());
        };
        let partner = actor
            .partner_id
            .as_ref()
            .map(|p| p.0.clone())
            .unwrap_or_default();
        let mut conn = self.db.reader().acquire().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SUBMISSION} WHERE partner_id = $1 ORDER BY updated_at DESC"
        )))
        .bind(&partner)
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::new();
        for row in &rows {
            out.push(submission(&mut conn, row).await?);
        }
        Ok(out)
    }

    /// One submission, for its firm's people, reviewers and program admins.
    pub async fn get_submission(&self, ctx: &Ctx, id: &str) -> AppResult<Submission> {
        let mut conn = self.db.reader().acquire().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SUBMISSION} WHERE id = $1")))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("submission `{id}`")))?;
        let found = submission(&mut conn, &row).await?;
        let reviewer = ctx
            .authorize(&Action::ReviewPracticals, "practicals")
            .is_ok();
        let own_firm = matches!(&ctx.principal, Principal::Person(actor)
            if actor.partner_id.as_ref().is_some_and(|p| p.0 == found.partner_id));
        if reviewer || own_firm {
            Ok(found)
        } else {
            Err(AppError::NotFound(format!("submission `{id}`")))
        }
    }

    /// The partner revises a submission a reviewer sent back; a new round of review starts.
    pub async fn resubmit_practical(
        &self,
        ctx: &Ctx,
        id: &str,
        input: NewSubmission,
    ) -> AppResult<Submission> {
        ctx.authorize(&Action::SubmitPractical, "practicals")?;
        check_input(&input)?;
        let current = self.get_submission(ctx, id).await?;
        if current.status != "changes_requested" {
            return Err(AppError::Conflict(format!(
                "the submission is {}; only one sent back for changes can be revised",
                current.status.replace('_', " ")
            )));
        }
        let now = self.now();
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "UPDATE practical_submissions SET description = $1, links = $2, status = 'submitted', round = round + 1, updated_at = $3
             WHERE id = $4 AND status = 'changes_requested'",
        )
        .bind(input.description.trim())
        .bind(serde_json::to_string(&input.links).context("links")?)
        .bind(format_instant(now))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            ctx,
            now,
            "practical.resubmitted",
            &format!("submission:{id}"),
            serde_json::json!({ "round": current.round + 1 }),
        )
        .await?;
        tx.commit().await?;
        self.get_submission(ctx, id).await
    }

    /// A reviewer scores a submission and signs a verdict with their password. The signature's
    /// meaning, name and time go to the audit trail; once the round is decided the submission is
    /// approved (evidence for the tracks), rejected, or sent back for changes.
    pub async fn review_practical(
        &self,
        ctx: &Ctx,
        id: &str,
        input: ReviewInput,
    ) -> AppResult<ReviewResult> {
        ctx.authorize(&Action::ReviewPracticals, "practicals")?;
        let reviewer = person_of(ctx)?;
        let Some(verdict) = Verdict::parse(&input.verdict) else {
            return Err(AppError::invalid(
                "verdict",
                "must be `approve`, `reject` or `request_changes`",
            ));
        };
        let queue = self.review_queue(ctx).await?;
        let Some(current) = queue.into_iter().find(|s| s.id == id) else {
            let exists = self.get_submission(ctx, id).await?;
            return Err(AppError::Conflict(format!(
                "submission `{}` is not waiting for your review (it is {}, it is your own or your firm's, or you reviewed this round already)",
                exists.id,
                exists.status.replace('_', " ")
            )));
        };
        let problems = score_problems(&current.rubric, &input.scores);
        if !problems.is_empty() {
            return Err(AppError::Invalid(
                problems
                    .into_iter()
                    .map(|p| InvalidInput::new("scores", p))
                    .collect(),
            ));
        }
        // The signature: the reviewer proves who they are again, now.
        let row = sqlx::query("SELECT display_name, password_hash FROM people WHERE id = $1")
            .bind(&reviewer)
            .fetch_one(self.db.reader())
            .await?;
        let name: String = row.try_get("display_name").context("display_name")?;
        let hash: Option<String> = row.try_get("password_hash").context("password_hash")?;
        if !verify_password(input.password.clone(), hash).await? {
            return Err(AppError::invalid(
                "password",
                "the password does not match your account; nothing was signed",
            ));
        }
        let now = self.now();
        let signed_at = format_instant(now);
        let mut tx = self.db.begin().await?;
        let earlier: Vec<String> = sqlx::query_scalar(
            "SELECT verdict FROM practical_reviews WHERE submission_id = $1 AND round = $2 ORDER BY position",
        )
        .bind(id)
        .bind(current.round)
        .fetch_all(&mut *tx)
        .await?;
        let mut verdicts: Vec<Verdict> = earlier.iter().filter_map(|v| Verdict::parse(v)).collect();
        verdicts.push(verdict);
        sqlx::query(
            "INSERT INTO practical_reviews (id, submission_id, round, position, reviewer_id, verdict, scores, comment, signed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(id)
        .bind(current.round)
        .bind(verdicts.len() as i64)
        .bind(&reviewer)
        .bind(verdict.as_str())
        .bind(serde_json::to_string(&input.scores).context("scores")?)
        .bind(input.comment.trim())
        .bind(&signed_at)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            ctx,
            now,
            "practical.review_signed",
            &format!("submission:{id}"),
            serde_json::json!({
                "signed_by": name,
                "reviewer": reviewer,
                "meaning": verdict.meaning(),
                "signed_at": signed_at,
                "round": current.round,
                "position": verdicts.len(),
                "scores": input.scores,
            }),
        )
        .await?;
        let decided = match outcome(&current.rubric, &verdicts) {
            Outcome::NeedsReviews(_) => None,
            Outcome::Decided(v) => Some(v),
        };
        if let Some(decision) = decided {
            let status = match decision {
                Verdict::Approve => "approved",
                Verdict::Reject => "rejected",
                Verdict::RequestChanges => "changes_requested",
            };
            sqlx::query(
                "UPDATE practical_submissions SET status = $1, updated_at = $2 WHERE id = $3",
            )
            .bind(status)
            .bind(&signed_at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            audit::record(
                &mut tx,
                ctx,
                now,
                "practical.decided",
                &format!("submission:{id}"),
                serde_json::json!({ "status": status, "reviews": verdicts.len() }),
            )
            .await?;
        }
        tx.commit().await?;
        if decided == Some(Verdict::Approve) {
            let evidence = Evidence::PracticalApproved {
                partner: current.partner_id.clone(),
                person: current.person_id.clone(),
                practical: current.practical_id.clone(),
            };
            self.record_evidence_for(&Ctx::system(), &current.program_id, evidence)
                .await?;
        }
        let submission = self.get_submission(ctx, id).await?;
        Ok(ReviewResult {
            submission,
            signed_by: name,
            meaning: verdict.meaning().to_owned(),
            signed_at,
        })
    }

    /// How often the first two reviewers of a round agreed, beyond chance (Cohen's kappa).
    pub async fn review_agreement(
        &self,
        ctx: &Ctx,
        program_id: &str,
        practical_id: &str,
    ) -> AppResult<Agreement> {
        ctx.authorize(&Action::ReviewPracticals, "practicals")?;
        let rows = sqlx::query(
            "SELECT r.submission_id, r.round, r.position, r.verdict FROM practical_reviews r
             JOIN practical_submissions s ON s.id = r.submission_id
             WHERE s.program_id = $1 AND s.practical_id = $2 AND r.position <= 2
             ORDER BY r.submission_id, r.round, r.position",
        )
        .bind(program_id)
        .bind(practical_id)
        .fetch_all(self.db.reader())
        .await?;
        let mut pairs = Vec::new();
        let mut first: Option<(String, i64, Verdict)> = None;
        for row in &rows {
            let submission: String = row.try_get("submission_id").context("submission_id")?;
            let round: i64 = row.try_get("round").context("round")?;
            let position: i64 = row.try_get("position").context("position")?;
            let verdict = Verdict::parse(&row.try_get::<String, _>("verdict").context("verdict")?)
                .context("stored verdict")?;
            match (&first, position) {
                (Some((s, r, a)), 2) if *s == submission && *r == round => {
                    pairs.push((*a, verdict));
                }
                _ => {}
            }
            if position == 1 {
                first = Some((submission, round, verdict));
            }
        }
        Ok(Agreement {
            program_id: program_id.to_owned(),
            practical_id: practical_id.to_owned(),
            pairs: pairs.len(),
            kappa: cohens_kappa(&pairs),
        })
    }
}
