//! Training content: importing a module's transcripts and documents as a new version, reading
//! it, comparing versions section by section, and "what changed since you were certified".

use crate::clock::format_instant;
use crate::error::{AppError, AppResult};
use crate::records::load_programs;
use crate::{App, Ctx, audit};
use accredit_domain::content::{SectionChange, SectionText, compare};
use accredit_domain::{Action, InvalidInput};
use accredit_formats::document::{Document, FormatError};
use accredit_formats::{markdown, transcript};
use anyhow::Context as _;
use serde::Serialize;
use sqlx::{AnyConnection, Row as _};

/// One file given to an import.
#[derive(Debug, Clone)]
pub struct ContentFile {
    pub file_name: String,
    pub bytes: Vec<u8>,
    /// For transcripts: the recording, so each paragraph can link to its moment.
    pub recording_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ModuleVersion {
    pub program_id: String,
    pub module_id: String,
    pub version: i64,
    pub imported_at: String,
    pub imported_by: String,
    pub documents: Vec<DocumentView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DocumentView {
    pub title: String,
    pub file_name: String,
    /// `webvtt`, `srt` or `markdown`.
    pub source_kind: String,
    pub recording_url: Option<String>,
    pub sections: Vec<SectionView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SectionView {
    pub id: String,
    pub anchor: String,
    pub heading: String,
    /// Milliseconds into the recording, for transcript sections.
    pub start_ms: Option<i64>,
    /// The recording at this section's moment (`url#t=seconds`), when there is one.
    pub recording_link: Option<String>,
    pub body: String,
    #[schema(value_type = Vec<Object>)]
    pub blocks: serde_json::Value,
}

/// One version in a module's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VersionSummary {
    pub version: i64,
    pub imported_at: String,
    pub imported_by: String,
    pub documents: i64,
    pub sections: i64,
}

/// Two versions compared.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VersionComparison {
    pub program_id: String,
    pub module_id: String,
    pub from_version: i64,
    pub to_version: i64,
    pub sections: Vec<SectionChange>,
}

/// A link to a moment of a recording, in the Media Fragments form players understand.
pub fn recording_link(url: &str, start_ms: i64) -> String {
    format!("{url}#t={}", start_ms / 1000)
}

fn parse_file(file: &ContentFile) -> Result<(String, Document), Vec<FormatError>> {
    let lower = file.file_name.to_lowercase();
    if lower.ends_with(".md") || lower.ends_with(".markdown") {
        return markdown::parse(&file.bytes).map(|d| ("markdown".to_owned(), d));
    }
    match transcript::detect(&file.bytes, Some(&file.file_name)) {
        Some(format) => {
            let kind = match format {
                transcript::TranscriptFormat::WebVtt => "webvtt",
                transcript::TranscriptFormat::Srt => "srt",
            };
            transcript::parse(
                &file.bytes,
                format,
                &transcript::TranscriptOptions::default(),
            )
            .map(|d| (kind.to_owned(), d))
        }
        None => Err(vec![FormatError::whole_file(
            "not a WebVTT (.vtt), SRT (.srt) or Markdown (.md) file",
        )]),
    }
}

impl App {
    /// Imports a module's files as its next version, all or nothing: a problem in any file
    /// rejects the import, each problem naming its file and line.
    pub async fn import_content(
        &self,
        ctx: &Ctx,
        program_id: &str,
        module_id: &str,
        files: &[ContentFile],
    ) -> AppResult<ModuleVersion> {
        ctx.authorize(&Action::ManagePrograms, "programs")?;
        if files.is_empty() {
            return Err(AppError::invalid("files", "give at least one file"));
        }
        let mut problems = Vec::new();
        let mut parsed = Vec::new();
        for file in files {
            if let Some(url) = &file.recording_url
                && !(url.starts_with("https://") || url.starts_with("http://"))
            {
                problems.push(InvalidInput::new(
                    format!("{}: recording_url", file.file_name),
                    format!("`{url}` is not an http(s) URL"),
                ));
            }
            match parse_file(file) {
                Ok(document) => parsed.push((file, document)),
                Err(errors) => problems.extend(errors.into_iter().map(|e| {
                    let place = match (e.line, e.column) {
                        (0, _) => file.file_name.clone(),
                        (line, Some(column)) => {
                            format!("{}: line {line}, column {column}", file.file_name)
                        }
                        (line, None) => format!("{}: line {line}", file.file_name),
                    };
                    InvalidInput::new(place, e.message)
                })),
            }
        }
        if !problems.is_empty() {
            return Err(AppError::Invalid(problems));
        }
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let program = load_programs(&mut tx)
            .await?
            .into_iter()
            .find(|p| p.id == program_id)
            .ok_or_else(|| {
                AppError::invalid(
                    "program_id",
                    format!("no program `{program_id}` is applied"),
                )
            })?;
        if !program.modules.iter().any(|m| m.id == module_id) {
            return Err(AppError::invalid(
                "module_id",
                format!("program `{program_id}` has no module `{module_id}`"),
            ));
        }
        let latest: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(version) FROM module_versions WHERE program_id = $1 AND module_id = $2",
        )
        .bind(program_id)
        .bind(module_id)
        .fetch_one(&mut *tx)
        .await?;
        let version = latest.unwrap_or(0) + 1;
        let version_id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO module_versions (id, program_id, module_id, version, imported_at, imported_by)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&version_id)
        .bind(program_id)
        .bind(module_id)
        .bind(version)
        .bind(format_instant(now))
        .bind(ctx.principal.audit_name())
        .execute(&mut *tx)
        .await?;
        let mut position = 0_i64;
        let mut section_count = 0;
        let mut used_anchors: Vec<String> = Vec::new();
        for (index, (file, (kind, document))) in parsed.iter().enumerate() {
            let document_id = uuid::Uuid::now_v7().to_string();
            let title = document
                .title
                .clone()
                .unwrap_or_else(|| file.file_name.clone());
            sqlx::query(
                "INSERT INTO module_documents (id, module_version_id, position, title, file_name, source_kind, recording_url)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&document_id)
            .bind(&version_id)
            .bind(index as i64)
            .bind(&title)
            .bind(&file.file_name)
            .bind(kind)
            .bind(&file.recording_url)
            .execute(&mut *tx)
            .await?;
            for section in &document.sections {
                // Anchors stay unique across the module's documents, so links never collide.
                let mut anchor = section.anchor.clone();
                let mut n = 2;
                while used_anchors.contains(&anchor) {
                    anchor = format!("{}-{n}", section.anchor);
                    n += 1;
                }
                used_anchors.push(anchor.clone());
                let body = section
                    .blocks
                    .iter()
                    .map(|b| b.text())
                    .collect::<Vec<_>>()
                    .join("\n\n");
                sqlx::query(
                    "INSERT INTO sections (id, module_version_id, document_id, position, anchor, heading, start_ms, body, blocks)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(&version_id)
                .bind(&document_id)
                .bind(position)
                .bind(&anchor)
                .bind(&section.heading)
                .bind(section.start_ms.map(|ms| ms as i64))
                .bind(&body)
                .bind(serde_json::to_string(&section.blocks).context("section blocks")?)
                .execute(&mut *tx)
                .await?;
                position += 1;
                section_count += 1;
            }
        }
        audit::record(
            &mut tx,
            ctx,
            now,
            "content.imported",
            &format!("module:{program_id}/{module_id}"),
            serde_json::json!({
                "version": version,
                "files": files.iter().map(|f| f.file_name.as_str()).collect::<Vec<_>>(),
                "sections": section_count,
            }),
        )
        .await?;
        self.notify_changed(&mut tx, &[format!("content:{program_id}/{module_id}")])
            .await?;
        tx.commit().await?;
        self.index_module(program_id, module_id).await?;
        self.module_version(ctx, program_id, module_id, Some(version))
            .await
    }

    /// A version of a module's content (the latest when `version` is `None`).
    pub async fn module_version(
        &self,
        ctx: &Ctx,
        program_id: &str,
        module_id: &str,
        version: Option<i64>,
    ) -> AppResult<ModuleVersion> {
        ctx.authorize(&Action::ReadPrograms, "content")?;
        let mut conn = self.db.reader().acquire().await?;
        load_version(&mut conn, program_id, module_id, version).await
    }

    /// The versions of a module, oldest first.
    pub async fn module_versions(
        &self,
        ctx: &Ctx,
        program_id: &str,
        module_id: &str,
    ) -> AppResult<Vec<i64>> {
        ctx.authorize(&Action::ReadPrograms, "content")?;
        Ok(sqlx::query_scalar(
            "SELECT version FROM module_versions WHERE program_id = $1 AND module_id = $2 ORDER BY version",
        )
        .bind(program_id)
        .bind(module_id)
        .fetch_all(self.db.reader())
        .await?)
    }

    /// A module's history, newest first.
    pub async fn module_version_summaries(
        &self,
        ctx: &Ctx,
        program_id: &str,
        module_id: &str,
    ) -> AppResult<Vec<VersionSummary>> {
        ctx.authorize(&Action::ReadPrograms, "content")?;
        let rows = sqlx::query(
            "SELECT v.version, v.imported_at, v.imported_by,
                    (SELECT COUNT(*) FROM module_documents d WHERE d.module_version_id = v.id) AS documents,
                    (SELECT COUNT(*) FROM sections s WHERE s.module_version_id = v.id) AS sections
             FROM module_versions v WHERE v.program_id = $1 AND v.module_id = $2
             ORDER BY v.version DESC",
        )
        .bind(program_id)
        .bind(module_id)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(VersionSummary {
                    version: r.try_get("version").context("version")?,
                    imported_at: r.try_get("imported_at").context("imported_at")?,
                    imported_by: r.try_get("imported_by").context("imported_by")?,
                    documents: r.try_get("documents").context("documents")?,
                    sections: r.try_get("sections").context("sections")?,
                })
            })
            .collect()
    }

    /// Compares two versions section by section.
    pub async fn compare_versions(
        &self,
        ctx: &Ctx,
        program_id: &str,
        module_id: &str,
        from: i64,
        to: i64,
    ) -> AppResult<VersionComparison> {
        ctx.authorize(&Action::ReadPrograms, "content")?;
        let mut conn = self.db.reader().acquire().await?;
        let old = load_version(&mut conn, program_id, module_id, Some(from)).await?;
        let new = load_version(&mut conn, program_id, module_id, Some(to)).await?;
        let texts = |v: &ModuleVersion| -> Vec<SectionText> {
            v.documents
                .iter()
                .flat_map(|d| &d.sections)
                .map(|s| SectionText {
                    anchor: s.anchor.clone(),
                    heading: s.heading.clone(),
                    body: s.body.clone(),
                })
                .collect()
        };
        Ok(VersionComparison {
            program_id: program_id.to_owned(),
            module_id: module_id.to_owned(),
            from_version: from,
            to_version: to,
            sections: compare(&texts(&old), &texts(&new)),
        })
    }

    /// For a person holding a credential: what changed in a module since the version that was
    /// current when the credential was issued. `None` when they hold no credential of the program.
    pub async fn changed_since_certified(
        &self,
        ctx: &Ctx,
        person_id: &str,
        program_id: &str,
        module_id: &str,
    ) -> AppResult<Option<VersionComparison>> {
        // Reading the person checks the caller may see them.
        self.get_person(ctx, person_id).await?;
        let issued: Option<String> = sqlx::query_scalar(
            "SELECT MAX(issued_on) FROM credentials WHERE person_id = $1 AND program_id = $2 AND status IN ('active', 'superseded')",
        )
        .bind(person_id)
        .bind(program_id)
        .fetch_one(self.db.reader())
        .await?;
        let Some(issued) = issued else {
            return Ok(None);
        };
        // The version in force at the end of the day of issue is the one the credential covered.
        let earned_on: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(version) FROM module_versions WHERE program_id = $1 AND module_id = $2 AND imported_at < $3",
        )
        .bind(program_id)
        .bind(module_id)
        .bind(format!("{issued}T24:00:00"))
        .fetch_one(self.db.reader())
        .await?;
        let latest: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(version) FROM module_versions WHERE program_id = $1 AND module_id = $2",
        )
        .bind(program_id)
        .bind(module_id)
        .fetch_one(self.db.reader())
        .await?;
        match (earned_on, latest) {
            (Some(from), Some(to)) => Ok(Some(
                self.compare_versions(ctx, program_id, module_id, from, to)
                    .await?,
            )),
            // Content first imported after the credential: all of it is new to them.
            (None, Some(to)) => Ok(Some(VersionComparison {
                program_id: program_id.to_owned(),
                module_id: module_id.to_owned(),
                from_version: 0,
                to_version: to,
                sections: self
                    .compare_versions(ctx, program_id, module_id, to, to)
                    .await?
                    .sections
                    .into_iter()
                    .map(|mut s| {
                        s.change = "added".into();
                        s
                    })
                    .collect(),
            })),
            _ => Ok(None),
        }
    }
}

async fn load_version(
    conn: &mut AnyConnection,
    program_id: &str,
    module_id: &str,
    version: Option<i64>,
) -> AppResult<ModuleVersion> {
    let what = || match version {
        Some(v) => format!("version {v} of module `{module_id}`"),
        None => format!("content of module `{module_id}`"),
    };
    let row = match version {
        Some(v) => sqlx::query(
            "SELECT id, version, imported_at, imported_by FROM module_versions WHERE program_id = $1 AND module_id = $2 AND version = $3",
        )
        .bind(program_id)
        .bind(module_id)
        .bind(v)
        .fetch_optional(&mut *conn)
        .await?,
        None => sqlx::query(
            "SELECT id, version, imported_at, imported_by FROM module_versions WHERE program_id = $1 AND module_id = $2 ORDER BY version DESC LIMIT 1",
        )
        .bind(program_id)
        .bind(module_id)
        .fetch_optional(&mut *conn)
        .await?,
    }
    .ok_or_else(|| AppError::NotFound(what()))?;
    let version_id: String = row.try_get("id").context("id")?;
    let documents = sqlx::query(
        "SELECT id, title, file_name, source_kind, recording_url FROM module_documents WHERE module_version_id = $1 ORDER BY position",
    )
    .bind(&version_id)
    .fetch_all(&mut *conn)
    .await?;
    let sections = sqlx::query(
        "SELECT id, document_id, anchor, heading, start_ms, body, blocks FROM sections WHERE module_version_id = $1 ORDER BY position",
    )
    .bind(&version_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut views = Vec::new();
    for document in &documents {
        let document_id: String = document.try_get("id").context("document id")?;
        let recording_url: Option<String> =
            document.try_get("recording_url").context("recording_url")?;
        let mut section_views = Vec::new();
        for section in sections
            .iter()
            .filter(|s| s.try_get::<String, _>("document_id").ok().as_deref() == Some(&document_id))
        {
            let start_ms: Option<i64> = section.try_get("start_ms").context("start_ms")?;
            let blocks: String = section.try_get("blocks").context("blocks")?;
            section_views.push(SectionView {
                id: section.try_get("id").context("section id")?,
                anchor: section.try_get("anchor").context("anchor")?,
                heading: section.try_get("heading").context("heading")?,
                recording_link: recording_url
                    .as_deref()
                    .zip(start_ms)
                    .map(|(url, ms)| recording_link(url, ms)),
                start_ms,
                body: section.try_get("body").context("body")?,
                blocks: serde_json::from_str(&blocks).context("stored blocks")?,
            });
        }
        views.push(DocumentView {
            title: document.try_get("title").context("title")?,
            file_name: document.try_get("file_name").context("file_name")?,
            source_kind: document.try_get("source_kind").context("source_kind")?,
            recording_url,
            sections: section_views,
        });
    }
    Ok(ModuleVersion {
        program_id: program_id.to_owned(),
        module_id: module_id.to_owned(),
        version: row.try_get("version").context("version")?,
        imported_at: row.try_get("imported_at").context("imported_at")?,
        imported_by: row.try_get("imported_by").context("imported_by")?,
        documents: views,
    })
}
