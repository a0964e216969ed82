//! Full-text search over published content (the latest version of every module) with tantivy:
//! BM25 ranking, phrases, one-typo tolerance, filters by program, module, track and role, and
//! snippets with the matched words marked. Each node keeps its own index, built from the
//! database at start, updated after every import (and, through NOTIFY, after other nodes'
//! imports), and rebuilt on demand.

use crate::error::{AppError, AppResult};
use crate::records::load_programs;
use crate::{App, Ctx};
use accredit_domain::Action;
use accredit_domain::program::{Program, Rule};
use anyhow::Context as _;
use serde::Serialize;
use sqlx::Row as _;
use std::path::Path;
use std::sync::Mutex;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, FuzzyTermQuery, Occur, Query, QueryParser, TermQuery};
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
    Value,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::{Index, IndexReader, IndexWriter, TantivyDocument, Term};

/// Fields of the index.
#[derive(Debug, Clone, Copy)]
struct Fields {
    section_id: Field,
    module_key: Field,
    program: Field,
    module: Field,
    module_title: Field,
    version: Field,
    anchor: Field,
    heading: Field,
    body: Field,
    /// The same words unstemmed, for typo-tolerant matching: a stem is too short to misspell.
    words: Field,
    start_ms: Field,
    recording_link: Field,
    track: Field,
    role: Field,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let text = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("en_stem")
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let fields = Fields {
        section_id: builder.add_text_field("section_id", STRING | STORED),
        module_key: builder.add_text_field("module_key", STRING),
        program: builder.add_text_field("program", STRING | STORED),
        module: builder.add_text_field("module", STRING | STORED),
        module_title: builder.add_text_field("module_title", STORED),
        version: builder.add_i64_field("version", STORED),
        anchor: builder.add_text_field("anchor", STORED),
        heading: builder.add_text_field("heading", text.clone()),
        body: builder.add_text_field("body", text),
        words: builder.add_text_field(
            "words",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer("default")
                    .set_index_option(IndexRecordOption::WithFreqs),
            ),
        ),
        start_ms: builder.add_i64_field("start_ms", STORED | INDEXED),
        recording_link: builder.add_text_field("recording_link", STORED),
        track: builder.add_text_field("track", STRING),
        role: builder.add_text_field("role", STRING),
    };
    (builder.build(), fields)
}

/// The index of one node.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SearchIndex")
    }
}

/// One hit, deep-linking to its section and, for transcripts, its moment in the recording.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchHit {
    pub program_id: String,
    pub module_id: String,
    pub module_title: String,
    pub version: i64,
    pub section_id: String,
    pub anchor: String,
    pub heading: String,
    /// HTML: the passage with matched words in `<b>`; everything else escaped.
    pub snippet: String,
    pub start_ms: Option<i64>,
    pub recording_link: Option<String>,
    pub score: f32,
}

/// What to search for and where.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub text: String,
    pub program: Option<String>,
    pub module: Option<String>,
    pub track: Option<String>,
    pub role: Option<String>,
    pub limit: usize,
}

fn index_error(e: tantivy::TantivyError) -> AppError {
    AppError::Internal(anyhow::anyhow!("search index: {e}"))
}

impl SearchIndex {
    /// An index in memory (tests, or nodes that rebuild at every start anyway).
    pub fn in_memory() -> Self {
        let (schema, fields) = schema();
        Self::from_index(Index::create_in_ram(schema), fields).expect("an in-memory index opens")
    }

    /// An index in a directory of its own; fails clearly when another process holds it.
    pub fn open(dir: &Path) -> AppResult<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the search index directory {}", dir.display()))?;
        let (schema, fields) = schema();
        let directory = tantivy::directory::MmapDirectory::open(dir)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("opening {}: {e}", dir.display())))?;
        let index = Index::open_or_create(directory, schema).map_err(index_error)?;
        Self::from_index(index, fields).map_err(|e| match e {
            tantivy::TantivyError::LockFailure(..) => AppError::Conflict(format!(
                "the search index in {} is in use by a running server; rebuild it there with POST /api/v1/search/reindex",
                dir.display()
            )),
            other => index_error(other),
        })
    }

    fn from_index(index: Index, fields: Fields) -> tantivy::Result<Self> {
        let writer = index.writer(50_000_000)?;
        let reader = index.reader()?;
        Ok(Self {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
        })
    }

    /// Exact matches (all words, phrases kept) rank first; only when they are fewer than the
    /// limit does a typo-tolerant pass, where every word must match within one edit, fill up.
    /// Running the fuzzy pass only then keeps common queries fast and keeps it a conjunction.
    pub fn search(&self, query: &SearchQuery) -> AppResult<Vec<SearchHit>> {
        let f = self.fields;
        let searcher = self.reader.searcher();
        let mut parser = QueryParser::for_index(&self.index, vec![f.heading, f.body]);
        parser.set_field_boost(f.heading, 2.0);
        parser.set_conjunction_by_default();
        let (parsed, _) = parser.parse_query_lenient(&query.text);
        let limit = query.limit.clamp(1, 100);
        let exact = self.filtered(parsed, query);
        let mut found = searcher
            .search(&exact, &TopDocs::with_limit(limit).order_by_score())
            .map_err(index_error)?;
        if found.len() < limit
            && let Some(tolerant) = self.typo_tolerant(query)?
        {
            let tolerant = self.filtered(tolerant, query);
            let more = searcher
                .search(&tolerant, &TopDocs::with_limit(limit).order_by_score())
                .map_err(index_error)?;
            for (score, address) in more {
                if found.len() == limit {
                    break;
                }
                if !found.iter().any(|(_, a)| *a == address) {
                    found.push((score, address));
                }
            }
        }
        let mut snippets =
            SnippetGenerator::create(&searcher, &exact, f.body).map_err(index_error)?;
        snippets.set_max_num_chars(240);
        let text = |doc: &TantivyDocument, field: Field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        found
            .into_iter()
            .map(|(score, address)| {
                let doc: TantivyDocument = searcher.doc(address).map_err(index_error)?;
                let mut snippet = snippets.snippet_from_doc(&doc).to_html();
                if snippet.is_empty() {
                    // A heading-only or typo match: show the passage's opening words.
                    let body = text(&doc, f.body);
                    snippet = html_escape(&body.chars().take(240).collect::<String>());
                }
                Ok(SearchHit {
                    program_id: text(&doc, f.program),
                    module_id: text(&doc, f.module),
                    module_title: text(&doc, f.module_title),
                    version: doc
                        .get_first(f.version)
                        .and_then(|v| v.as_i64())
                        .unwrap_or(0),
                    section_id: text(&doc, f.section_id),
                    anchor: text(&doc, f.anchor),
                    heading: text(&doc, f.heading),
                    snippet,
                    start_ms: doc.get_first(f.start_ms).and_then(|v| v.as_i64()),
                    recording_link: doc
                        .get_first(f.recording_link)
                        .and_then(|v| v.as_str())
                        .map(str::to_owned),
                    score,
                })
            })
            .collect()
    }

    /// Every word must match, longer words within one edit; `None` when no word is long enough
    /// to misspell (the exact pass already said everything).
    fn typo_tolerant(&self, query: &SearchQuery) -> AppResult<Option<Box<dyn Query>>> {
        let f = self.fields;
        let mut analyzer = self
            .index
            .tokenizer_for_field(f.words)
            .map_err(index_error)?;
        let mut stream = analyzer.token_stream(&query.text);
        let mut words: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut any_long = false;
        while let Some(token) = stream.next() {
            let term = Term::from_field_text(f.words, &token.text);
            if token.text.chars().count() >= 4 {
                any_long = true;
                words.push((Occur::Must, Box::new(FuzzyTermQuery::new(term, 1, true))));
            } else {
                words.push((
                    Occur::Must,
                    Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
                ));
            }
        }
        Ok(any_long.then(|| Box::new(BooleanQuery::new(words)) as Box<dyn Query>))
    }

    /// The query limited to the requested program, module, track and role.
    fn filtered(&self, matching: Box<dyn Query>, query: &SearchQuery) -> BooleanQuery {
        let f = self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, matching)];
        for (field, value) in [
            (f.program, &query.program),
            (f.module, &query.module),
            (f.track, &query.track),
            (f.role, &query.role),
        ] {
            if let Some(value) = value {
                clauses.push((
                    Occur::Must,
                    Box::new(TermQuery::new(
                        Term::from_field_text(field, value),
                        IndexRecordOption::Basic,
                    )),
                ));
            }
        }
        BooleanQuery::new(clauses)
    }

    /// How many sections are indexed.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Tracks whose requirements name the module.
fn tracks_requiring(program: &Program, module: &str) -> Vec<String> {
    program
        .tracks
        .iter()
        .filter(|t| {
            t.requires
                .walk()
                .into_iter()
                .any(|r| matches!(r, Rule::Module(m) if m == module))
        })
        .map(|t| t.id.clone())
        .collect()
}

impl App {
    /// Replaces a module's sections in the index with those of its latest version.
    pub async fn index_module(&self, program_id: &str, module_id: &str) -> AppResult<usize> {
        let programs = load_programs(&mut *self.db.reader().acquire().await?).await?;
        let Some(program) = programs.iter().find(|p| p.id == program_id) else {
            return Ok(0);
        };
        let documents = self.module_documents(program, module_id).await?;
        let count = documents.len();
        let mut writer = self.search.writer.lock().expect("search writer lock");
        writer.delete_term(Term::from_field_text(
            self.search.fields.module_key,
            &format!("{program_id}/{module_id}"),
        ));
        for doc in documents {
            writer.add_document(doc).map_err(index_error)?;
        }
        writer.commit().map_err(index_error)?;
        drop(writer);
        self.search.reader.reload().map_err(index_error)?;
        Ok(count)
    }

    /// The index documents of a module's latest version.
    async fn module_documents(
        &self,
        program: &Program,
        module_id: &str,
    ) -> AppResult<Vec<TantivyDocument>> {
        let rows = sqlx::query(
            "SELECT s.id, s.anchor, s.heading, s.start_ms, s.body, d.recording_url, v.version
             FROM sections s
             JOIN module_documents d ON d.id = s.document_id
             JOIN module_versions v ON v.id = s.module_version_id
             WHERE v.program_id = $1 AND v.module_id = $2
               AND v.version = (SELECT MAX(version) FROM module_versions WHERE program_id = $1 AND module_id = $2)
             ORDER BY s.position",
        )
        .bind(&program.id)
        .bind(module_id)
        .fetch_all(self.db.reader())
        .await?;
        let f = self.search.fields;
        let module = program.modules.iter().find(|m| m.id == module_id);
        let title = module.map_or_else(|| module_id.to_owned(), |m| m.title.clone());
        let roles = module.map(|m| m.job_roles.clone()).unwrap_or_default();
        let tracks = tracks_requiring(program, module_id);
        let key = format!("{}/{module_id}", program.id);
        rows.iter()
            .map(|row| {
                let mut doc = TantivyDocument::default();
                doc.add_text(f.section_id, row.try_get::<String, _>("id").context("id")?);
                doc.add_text(f.module_key, &key);
                doc.add_text(f.program, &program.id);
                doc.add_text(f.module, module_id);
                doc.add_text(f.module_title, &title);
                doc.add_i64(
                    f.version,
                    row.try_get::<i64, _>("version").context("version")?,
                );
                doc.add_text(
                    f.anchor,
                    row.try_get::<String, _>("anchor").context("anchor")?,
                );
                let heading: String = row.try_get("heading").context("heading")?;
                let body: String = row.try_get("body").context("body")?;
                doc.add_text(f.words, &heading);
                doc.add_text(f.words, &body);
                doc.add_text(f.heading, heading);
                doc.add_text(f.body, body);
                let start_ms: Option<i64> = row.try_get("start_ms").context("start_ms")?;
                let recording: Option<String> =
                    row.try_get("recording_url").context("recording_url")?;
                if let Some(ms) = start_ms {
                    doc.add_i64(f.start_ms, ms);
                    if let Some(url) = &recording {
                        doc.add_text(f.recording_link, crate::content::recording_link(url, ms));
                    }
                }
                for track in &tracks {
                    doc.add_text(f.track, track);
                }
                for role in &roles {
                    doc.add_text(f.role, role);
                }
                Ok(doc)
            })
            .collect()
    }

    /// Rebuilds the whole index from the database in one commit, so searches see the old index
    /// until the new one is complete; `progress(done, total)` counts modules.
    pub async fn reindex_content(
        &self,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> AppResult<usize> {
        let modules: Vec<(String, String)> =
            sqlx::query_as("SELECT DISTINCT program_id, module_id FROM module_versions ORDER BY program_id, module_id")
                .fetch_all(self.db.reader())
                .await?;
        let programs = load_programs(&mut *self.db.reader().acquire().await?).await?;
        self.search
            .writer
            .lock()
            .expect("search writer lock")
            .delete_all_documents()
            .map_err(index_error)?;
        let mut sections = 0;
        for (done, (program_id, module_id)) in modules.iter().enumerate() {
            progress(done, modules.len());
            // Content of a program no longer applied stays out of the index.
            let Some(program) = programs.iter().find(|p| &p.id == program_id) else {
                continue;
            };
            let documents = self.module_documents(program, module_id).await?;
            sections += documents.len();
            let writer = self.search.writer.lock().expect("search writer lock");
            // An import that landed during the rebuild may have indexed this module already.
            writer.delete_term(Term::from_field_text(
                self.search.fields.module_key,
                &format!("{program_id}/{module_id}"),
            ));
            for doc in documents {
                writer.add_document(doc).map_err(index_error)?;
            }
        }
        self.search
            .writer
            .lock()
            .expect("search writer lock")
            .commit()
            .map_err(index_error)?;
        progress(modules.len(), modules.len());
        self.search.reader.reload().map_err(index_error)?;
        Ok(sections)
    }

    /// Searches published content.
    pub async fn search_content(
        &self,
        ctx: &Ctx,
        query: &SearchQuery,
    ) -> AppResult<Vec<SearchHit>> {
        ctx.authorize(&Action::ReadPrograms, "content")?;
        if query.text.trim().is_empty() {
            return Err(AppError::invalid("q", "type something to search for"));
        }
        if query.text.chars().count() > 500 {
            return Err(AppError::invalid("q", "at most 500 characters"));
        }
        self.search.search(query)
    }
}
