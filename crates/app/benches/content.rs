//! Content search at scale: generates a corpus (default 1,000 modules of 100 sections: 100,000
//! sections), imports it through `App::import_content` (parse, store, index), rebuilds the index
//! from the database, then runs a set of queries through `App::search_content` and the same
//! queries against an SQLite FTS5 table over the same sections, in the same run.
//!
//! cargo bench -p accredit-app --bench content -- [--modules N] [--sections M] [--iterations K]
//!
//! Text is a word-pair chain trained on the demo's training content, with one word in fifty
//! drawn from 20,000 generated product terms, so queries meet both very common and rare words.

use accredit_app::content::ContentFile;
use accredit_app::demo::DEMO_CONTENT;
use accredit_app::search::{SearchIndex, SearchQuery};
use accredit_app::{App, AppConfig, Ctx, Db, SystemClock};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PROGRAMS: usize = 10;
const ROLES: [&str; 3] = ["sales", "technical", "support"];

struct Options {
    modules: usize,
    sections: usize,
    iterations: usize,
}

fn options() -> Options {
    let mut options = Options {
        modules: 1000,
        sections: 100,
        iterations: 300,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| {
            args.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} needs a number"))
        };
        match arg.as_str() {
            "--modules" => options.modules = number("--modules"),
            "--sections" => options.sections = number("--sections"),
            "--iterations" => options.iterations = number("--iterations"),
            // cargo bench passes --bench; anything else is ignored.
            _ => {}
        }
    }
    options
}

/// SplitMix64: deterministic, so every run generates the same corpus.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Generates sentences from word pairs seen in the demo content.
struct Chain {
    followers: HashMap<String, Vec<String>>,
    starts: Vec<String>,
    rare: Vec<String>,
}

impl Chain {
    fn train() -> Self {
        let mut words = Vec::new();
        for (_, _, name, bytes) in DEMO_CONTENT {
            let text = String::from_utf8_lossy(bytes);
            for line in text.lines() {
                // Skip cue timings and markup-only lines.
                if line.contains("-->") || name.ends_with(".srt") && line.parse::<u32>().is_ok() {
                    continue;
                }
                words.extend(
                    line.split(|c: char| !c.is_alphanumeric() && c != '-' && c != '\'')
                        .filter(|w| !w.is_empty() && w.chars().any(char::is_alphabetic))
                        .map(str::to_lowercase),
                );
            }
        }
        let mut followers: HashMap<String, Vec<String>> = HashMap::new();
        for pair in words.windows(2) {
            followers
                .entry(pair[0].clone())
                .or_default()
                .push(pair[1].clone());
        }
        let mut starts: Vec<String> = followers.keys().cloned().collect();
        starts.sort();
        let syllables = [
            "zor", "vex", "tal", "mir", "quan", "dro", "sel", "nyx", "plo", "cor", "fen", "bri",
            "ost", "lum", "tark", "vin", "ela", "gro", "hux", "jab",
        ];
        let mut rng = Rng(7);
        let rare = (0..20_000)
            .map(|i| {
                let a = syllables[rng.below(syllables.len())];
                let b = syllables[rng.below(syllables.len())];
                format!("{a}{b}{i}")
            })
            .collect();
        Self {
            followers,
            starts,
            rare,
        }
    }

    fn words(&self, rng: &mut Rng, count: usize) -> String {
        let mut out = String::new();
        let mut current = &self.starts[rng.below(self.starts.len())];
        for i in 0..count {
            if i > 0 {
                out.push(' ');
            }
            if rng.below(50) == 0 {
                // Product terms follow a long tail: low numbers are far more frequent.
                let n = self.rare.len();
                let skewed = rng.below(n).min(rng.below(n)).min(rng.below(n));
                out.push_str(&self.rare[skewed]);
            } else {
                out.push_str(current);
            }
            current = match self.followers.get(current) {
                Some(next) if !next.is_empty() => &next[rng.below(next.len())],
                _ => &self.starts[rng.below(self.starts.len())],
            };
        }
        out
    }
}

fn program_file(index: usize, modules: &[usize]) -> String {
    let mut toml = format!(
        "[program]\nid = \"bench-{index}\"\nname = \"Bench program {index}\"\nversion = \"1\"\njob_roles = [\"sales\", \"technical\", \"support\"]\n\n"
    );
    for &m in modules {
        let _ = write!(
            toml,
            "[[modules]]\nid = \"m{m}\"\ntitle = \"Module {m}\"\nhours = 2\njob_roles = [\"{}\"]\n\n",
            ROLES[m % ROLES.len()]
        );
    }
    let first = modules[0];
    let _ = write!(
        toml,
        "[[tracks]]\nid = \"t\"\nname = \"Track\"\njob_roles = [\"technical\"]\nvalidity = {{ months = 12 }}\nrenewal = {{ window_days = 30, requires = \"full-track\" }}\nrequires = {{ module = \"m{first}\" }}\n\n[[tiers]]\nid = \"certified\"\nname = \"Certified\"\nrequires = {{ people_holding = \"t\", at_least = 1 }}\n"
    );
    toml
}

fn module_markdown(chain: &Chain, rng: &mut Rng, module: usize, sections: usize) -> String {
    let mut text = format!("# Module {module}\n\n");
    for s in 0..sections {
        let length = 3 + rng.below(3);
        let heading = chain.words(rng, length);
        let _ = write!(text, "## {s}. {heading}\n\n");
        for _ in 0..2 {
            let length = 30 + rng.below(40);
            let _ = write!(text, "{}.\n\n", chain.words(rng, length));
        }
    }
    text
}

struct Stats {
    p50: f64,
    p95: f64,
    p99: f64,
}

fn stats(samples: &mut [Duration]) -> Stats {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
        samples[i].as_secs_f64() * 1000.0
    };
    Stats {
        p50: at(0.50),
        p95: at(0.95),
        p99: at(0.99),
    }
}

/// A query for both engines: the tantivy text and filters, and the FTS5 equivalent.
struct BenchQuery {
    label: &'static str,
    text: String,
    fts: String,
    program: Option<String>,
    role: Option<String>,
}

fn queries(chain: &Chain) -> Vec<BenchQuery> {
    let q = |label, text: &str, fts: &str| BenchQuery {
        label,
        text: text.to_owned(),
        fts: fts.to_owned(),
        program: None,
        role: None,
    };
    vec![
        q("common word", "customer", "customer"),
        q("two words", "webhook signature", "webhook signature"),
        q(
            "three words",
            "customer data region",
            "customer data region",
        ),
        q("phrase", "\"audit trail\"", "\"audit trail\""),
        q("rare product term", &chain.rare[5], &chain.rare[5]),
        q(
            "typo (tantivy: fuzzy; FTS5: exact only)",
            "webhok",
            "webhok",
        ),
        BenchQuery {
            program: Some("bench-3".into()),
            ..q("word + program filter", "credential", "credential")
        },
        BenchQuery {
            role: Some("technical".into()),
            ..q("word + role filter", "workflow", "workflow")
        },
    ]
}

async fn fts_search(db: &Db, query: &BenchQuery) -> usize {
    let mut sql = String::from(
        "SELECT section_id, heading, snippet(bench_fts, 1, '<b>', '</b>', '…', 24) AS snippet
         FROM bench_fts WHERE bench_fts MATCH $1",
    );
    if query.program.is_some() {
        sql.push_str(" AND program = $2");
    }
    if query.role.is_some() {
        sql.push_str(if query.program.is_some() {
            " AND role = $3"
        } else {
            " AND role = $2"
        });
    }
    sql.push_str(" ORDER BY bm25(bench_fts, 2.0, 1.0) LIMIT 20");
    let mut statement = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&query.fts);
    if let Some(program) = &query.program {
        statement = statement.bind(program);
    }
    if let Some(role) = &query.role {
        statement = statement.bind(role);
    }
    statement
        .fetch_all(db.reader())
        .await
        .expect("FTS5 query")
        .len()
}

fn main() {
    let options = options();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(run(options));
}

async fn run(options: Options) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}/content.db?mode=rwc", dir.path().display());
    let db = Db::connect_and_migrate(&url).await.expect("database");
    let index = SearchIndex::open(&dir.path().join("search-index")).expect("index");
    let app =
        App::new(db.clone(), Arc::new(SystemClock), AppConfig::default()).with_search_index(index);
    let ctx = Ctx::system();
    let chain = Chain::train();
    let mut rng = Rng(42);

    let modules: Vec<usize> = (0..options.modules).collect();
    for (p, chunk) in modules
        .chunks(options.modules.div_ceil(PROGRAMS))
        .enumerate()
    {
        app.apply_program(&ctx, &program_file(p, chunk))
            .await
            .expect("bench program applies");
    }
    println!(
        "corpus: {} modules x {} sections, date={}, cores={}",
        options.modules,
        options.sections,
        jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%MZ"),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // Import: parse, store and index each module, one import per module.
    let per_program = options.modules.div_ceil(PROGRAMS);
    let (mut sections, mut bytes) = (0usize, 0usize);
    let mut elapsed = Duration::ZERO;
    for m in 0..options.modules {
        let text = module_markdown(&chain, &mut rng, m, options.sections);
        bytes += text.len();
        let file = ContentFile {
            file_name: format!("module-{m}.md"),
            bytes: text.into_bytes(),
            recording_url: None,
        };
        let started = Instant::now();
        let version = app
            .import_content(
                &ctx,
                &format!("bench-{}", m / per_program),
                &format!("m{m}"),
                &[file],
            )
            .await
            .expect("import");
        elapsed += started.elapsed();
        sections += version
            .documents
            .iter()
            .map(|d| d.sections.len())
            .sum::<usize>();
        if (m + 1) % 100 == 0 {
            eprintln!("imported {} modules", m + 1);
        }
    }
    let seconds = elapsed.as_secs_f64();
    println!(
        "import: {sections} sections ({:.1} MB of Markdown) in {seconds:.1} s: {:.0} sections/s, {:.1} modules/s, {:.2} MB/s",
        bytes as f64 / 1e6,
        sections as f64 / seconds,
        options.modules as f64 / seconds,
        bytes as f64 / 1e6 / seconds
    );

    let started = Instant::now();
    let reindexed = app.reindex_content(&|_, _| {}).await.expect("reindex");
    println!(
        "full reindex (tantivy, from the database): {reindexed} sections in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let mut tx = db.begin().await.expect("begin");
    sqlx::query(
        "CREATE VIRTUAL TABLE bench_fts USING fts5(heading, body, section_id UNINDEXED, program UNINDEXED, role UNINDEXED, tokenize = 'porter unicode61')",
    )
    .execute(&mut *tx)
    .await
    .expect("FTS5 is available in this SQLite");
    // Role is the module's one job role, as generated.
    let role_case = format!(
        "CASE CAST(SUBSTR(v.module_id, 2) AS INTEGER) % 3 WHEN 0 THEN '{}' WHEN 1 THEN '{}' ELSE '{}' END",
        ROLES[0], ROLES[1], ROLES[2]
    );
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO bench_fts (heading, body, section_id, program, role)
         SELECT s.heading, s.body, s.id, v.program_id, {role_case}
         FROM sections s JOIN module_versions v ON v.id = s.module_version_id"
    )))
    .execute(&mut *tx)
    .await
    .expect("FTS5 build");
    tx.commit().await.expect("commit");
    println!(
        "full rebuild (SQLite FTS5, INSERT ... SELECT): {:.1} s",
        started.elapsed().as_secs_f64()
    );

    println!(
        "\nsearch: top 20 with snippets, {} timed runs per query after 20 warm-up runs",
        options.iterations
    );
    println!(
        "| query | tantivy hits | tantivy p50 ms | p95 ms | p99 ms | FTS5 hits | FTS5 p50 ms | p95 ms | p99 ms |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let (mut all_tantivy, mut all_fts) = (Vec::new(), Vec::new());
    for query in queries(&chain) {
        let search = SearchQuery {
            text: query.text.clone(),
            program: query.program.clone(),
            role: query.role.clone(),
            limit: 20,
            ..Default::default()
        };
        let mut tantivy_hits = 0;
        let mut fts_hits = 0;
        for _ in 0..20 {
            tantivy_hits = app
                .search_content(&ctx, &search)
                .await
                .expect("search")
                .len();
            fts_hits = fts_search(&db, &query).await;
        }
        let (mut tantivy_times, mut fts_times) = (Vec::new(), Vec::new());
        // Interleaved, so both engines see the same machine noise.
        for _ in 0..options.iterations {
            let started = Instant::now();
            std::hint::black_box(app.search_content(&ctx, &search).await.expect("search"));
            tantivy_times.push(started.elapsed());
            let started = Instant::now();
            std::hint::black_box(fts_search(&db, &query).await);
            fts_times.push(started.elapsed());
        }
        all_tantivy.extend_from_slice(&tantivy_times);
        all_fts.extend_from_slice(&fts_times);
        let t = stats(&mut tantivy_times);
        let f = stats(&mut fts_times);
        println!(
            "| {} (`{}`) | {tantivy_hits} | {:.2} | {:.2} | {:.2} | {fts_hits} | {:.2} | {:.2} | {:.2} |",
            query.label, query.text, t.p50, t.p95, t.p99, f.p50, f.p95, f.p99
        );
    }
    let t = stats(&mut all_tantivy);
    let f = stats(&mut all_fts);
    println!(
        "| **all queries** | | {:.2} | {:.2} | {:.2} | | {:.2} | {:.2} | {:.2} |",
        t.p50, t.p95, t.p99, f.p50, f.p95, f.p99
    );
}
