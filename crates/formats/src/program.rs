//! The program file: a vendor's whole certification program in one TOML document. The schema,
//! with examples, is documented in `docs/PROGRAM-FILE.md`.
//!
//! [`parse`] reads and checks the file in one go and returns either a valid [`Program`] or every
//! problem found, each with its line and column.

use accredit_domain::PartnerType;
use accredit_domain::blueprint::{Blueprint, BlueprintDomain, RetakePolicy};
use accredit_domain::program::{
    Benefit, Exam, HealthPolicy, HolderPolicy, Module, Practical, Program, Release, Renewal,
    RenewalRequirement, Rule, Subject, Tier, Track, Validity,
};
use accredit_domain::review::{Criterion, Rubric};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use toml::Spanned;

/// One problem in a program file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramError {
    /// 1-based line of the offending element.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ProgramError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    program: RawProgram,
    #[serde(default)]
    releases: Vec<RawRelease>,
    #[serde(default)]
    modules: Vec<RawModule>,
    #[serde(default)]
    exams: Vec<RawExam>,
    #[serde(default)]
    practicals: Vec<RawPractical>,
    #[serde(default)]
    tracks: Vec<RawTrack>,
    #[serde(default)]
    tiers: Vec<RawTier>,
    #[serde(default)]
    benefits: Vec<RawBenefit>,
    health: Option<Spanned<RawHealth>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProgram {
    id: Spanned<String>,
    name: Spanned<String>,
    version: Spanned<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    partner_types: Vec<Spanned<String>>,
    #[serde(default)]
    job_roles: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelease {
    name: String,
    date: Spanned<toml::value::Datetime>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModule {
    id: Spanned<String>,
    title: String,
    hours: Spanned<f64>,
    #[serde(default)]
    job_roles: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExam {
    id: Spanned<String>,
    title: String,
    #[serde(default)]
    job_roles: Vec<Spanned<String>>,
    /// The blueprint, all optional until `domains` is given.
    #[serde(default)]
    domains: Option<Spanned<Vec<RawDomain>>>,
    passing_score: Option<Spanned<u32>>,
    time_limit_minutes: Option<Spanned<u32>>,
    #[serde(default)]
    proctored: bool,
    #[serde(default)]
    study_hours: u32,
    #[serde(default)]
    prerequisites: Vec<Spanned<String>>,
    retake: Option<Spanned<RawRetake>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDomain {
    id: Spanned<String>,
    name: String,
    weight: Spanned<u32>,
    items: Spanned<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetake {
    wait_days: u32,
    max_attempts: Spanned<u32>,
    period_days: Spanned<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPractical {
    id: Spanned<String>,
    title: String,
    #[serde(default)]
    description: String,
    /// The rubric reviewers score; one "meets the bar" criterion when absent.
    #[serde(default)]
    criteria: Vec<RawCriterion>,
    #[serde(default)]
    second_review: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCriterion {
    id: Spanned<String>,
    name: String,
    max_score: Spanned<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrack {
    id: Spanned<String>,
    name: String,
    job_roles: Vec<Spanned<String>>,
    requires: Spanned<RawRule>,
    validity: Spanned<RawValidity>,
    renewal: Spanned<RawRenewal>,
    existing_holders: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawValidity {
    months: Option<u32>,
    #[serde(default)]
    aligned_to_releases: bool,
    min_months: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRenewal {
    window_days: u32,
    requires: Spanned<String>,
    delta_exam: Option<Spanned<String>>,
    #[serde(default)]
    practicals: Vec<Spanned<String>>,
    count: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    id: Spanned<String>,
    name: String,
    requires: Spanned<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBenefit {
    id: Spanned<String>,
    name: String,
    subject: Spanned<String>,
    requires: Spanned<RawRule>,
    directory: Option<Spanned<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHealth {
    metric: String,
    threshold: f64,
    #[serde(default)]
    remediation_modules: Vec<Spanned<String>>,
    remediation_days: u32,
}

/// A rule as written: a table with exactly one kind of condition.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    all: Option<Vec<Spanned<RawRule>>>,
    any: Option<Vec<Spanned<RawRule>>>,
    module: Option<Spanned<String>>,
    modules: Option<Vec<Spanned<String>>>,
    exam: Option<Spanned<String>>,
    practical: Option<Spanned<String>>,
    credential: Option<Spanned<String>>,
    tier: Option<Spanned<String>>,
    people_holding: Option<Spanned<String>>,
    approved: Option<Spanned<String>>,
    at_least: Option<u32>,
    health_score_at_least: Option<f64>,
}

/// Reads and checks a program file.
pub fn parse(text: &str) -> Result<Program, Vec<ProgramError>> {
    let lines = LineIndex::new(text);
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map_or((1, 1), |s| lines.position(s.start));
        vec![ProgramError {
            line,
            column,
            message: e.message().trim_end().to_owned(),
        }]
    })?;
    let mut checker = Checker {
        lines,
        errors: Vec::new(),
    };
    let program = checker.program(raw);
    if checker.errors.is_empty() {
        Ok(program)
    } else {
        checker.errors.sort_by_key(|e| (e.line, e.column));
        Err(checker.errors)
    }
}

/// Byte offsets to 1-based line and column.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }

    fn position(&self, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|start| *start <= offset);
        (line, offset - self.starts[line - 1] + 1)
    }
}

struct Checker {
    lines: LineIndex,
    errors: Vec<ProgramError>,
}

/// The ids declared in the file, by kind, for resolving references.
#[derive(Default)]
struct Declared {
    modules: BTreeSet<String>,
    exams: BTreeSet<String>,
    practicals: BTreeSet<String>,
    tracks: BTreeSet<String>,
    tiers: Vec<String>,
    job_roles: BTreeSet<String>,
}

/// Where a rule stands, which decides what it may speak of.
#[derive(Clone, Copy)]
enum RuleSite<'a> {
    Track(&'a str),
    Tier { id: &'a str, rank: usize },
    Benefit { id: &'a str, subject: Subject },
}

impl RuleSite<'_> {
    fn describe(&self) -> String {
        match self {
            RuleSite::Track(id) => format!("track `{id}`"),
            RuleSite::Tier { id, .. } => format!("tier `{id}`"),
            RuleSite::Benefit { id, .. } => format!("benefit `{id}`"),
        }
    }

    fn level(&self) -> Subject {
        match self {
            RuleSite::Track(_) => Subject::Person,
            RuleSite::Tier { .. } => Subject::Partner,
            RuleSite::Benefit { subject, .. } => *subject,
        }
    }
}

impl Checker {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, column) = self.lines.position(span.start);
        self.errors.push(ProgramError {
            line,
            column,
            message: message.into(),
        });
    }

    fn check_id(&mut self, kind: &str, id: &Spanned<String>, seen: &mut BTreeSet<String>) {
        let value = id.get_ref();
        let well_formed = !value.is_empty()
            && value.len() <= 64
            && value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !value.starts_with('-');
        if !well_formed {
            self.error(
                id.span(),
                format!(
                    "{kind} id `{value}` must be 1 to 64 lower-case letters, digits and hyphens"
                ),
            );
        }
        if !seen.insert(value.clone()) {
            self.error(id.span(), format!("{kind} id `{value}` is declared twice"));
        }
    }

    /// An exam's blueprint, when the exam declares its domains.
    fn blueprint(&mut self, exam: &RawExam, declared: &Declared) -> Option<Blueprint> {
        let id = exam.id.get_ref();
        let Some(domains) = &exam.domains else {
            for (field, present) in [
                ("passing_score", exam.passing_score.is_some()),
                ("time_limit_minutes", exam.time_limit_minutes.is_some()),
                ("retake", exam.retake.is_some()),
            ] {
                if present {
                    self.error(
                        exam.id.span(),
                        format!(
                            "exam `{id}`: `{field}` is part of a blueprint, which needs `domains`"
                        ),
                    );
                }
            }
            return None;
        };
        if domains.get_ref().is_empty() {
            self.error(
                domains.span(),
                format!("exam `{id}`: a blueprint needs at least one domain"),
            );
        }
        let mut seen = BTreeSet::new();
        let mut parsed = Vec::new();
        for d in domains.get_ref() {
            self.check_id("domain", &d.id, &mut seen);
            if *d.items.get_ref() == 0 {
                self.error(
                    d.items.span(),
                    format!(
                        "exam `{id}`, domain `{}`: items must be at least 1",
                        d.id.get_ref()
                    ),
                );
            }
            if *d.weight.get_ref() == 0 {
                self.error(
                    d.weight.span(),
                    format!(
                        "exam `{id}`, domain `{}`: weight must be above 0",
                        d.id.get_ref()
                    ),
                );
            }
            parsed.push(BlueprintDomain {
                id: d.id.get_ref().clone(),
                name: d.name.clone(),
                weight: *d.weight.get_ref(),
                items: *d.items.get_ref(),
            });
        }
        let total: u32 = parsed.iter().map(|d| d.weight).sum();
        if !parsed.is_empty() && total != 100 {
            self.error(
                domains.span(),
                format!("exam `{id}`: domain weights must sum to 100; they sum to {total}"),
            );
        }
        let passing_score = match &exam.passing_score {
            Some(score) if (1..=100).contains(score.get_ref()) => *score.get_ref(),
            Some(score) => {
                self.error(
                    score.span(),
                    format!("exam `{id}`: passing_score is a percentage from 1 to 100"),
                );
                100
            }
            None => {
                self.error(
                    exam.id.span(),
                    format!("exam `{id}`: a blueprint needs `passing_score` (percent)"),
                );
                100
            }
        };
        let time_limit_minutes = match &exam.time_limit_minutes {
            Some(limit) if (1..=600).contains(limit.get_ref()) => *limit.get_ref(),
            Some(limit) => {
                self.error(
                    limit.span(),
                    format!("exam `{id}`: time_limit_minutes must be from 1 to 600"),
                );
                60
            }
            None => {
                self.error(
                    exam.id.span(),
                    format!("exam `{id}`: a blueprint needs `time_limit_minutes`"),
                );
                60
            }
        };
        let retake = match &exam.retake {
            Some(r) => {
                let r = r.get_ref();
                if *r.max_attempts.get_ref() == 0 {
                    self.error(
                        r.max_attempts.span(),
                        format!("exam `{id}`: retake.max_attempts must be at least 1"),
                    );
                }
                if *r.period_days.get_ref() == 0 {
                    self.error(
                        r.period_days.span(),
                        format!("exam `{id}`: retake.period_days must be at least 1"),
                    );
                }
                RetakePolicy {
                    wait_days: r.wait_days,
                    max_attempts: *r.max_attempts.get_ref(),
                    period_days: *r.period_days.get_ref(),
                }
            }
            // A common certification default: a month between tries, three tries a year.
            None => RetakePolicy {
                wait_days: 30,
                max_attempts: 3,
                period_days: 365,
            },
        };
        let prerequisites = exam
            .prerequisites
            .iter()
            .map(|m| {
                if !declared.modules.contains(m.get_ref()) {
                    self.error(
                        m.span(),
                        format!(
                            "exam `{id}`: prerequisite `{}` is not a module of this program",
                            m.get_ref()
                        ),
                    );
                }
                m.get_ref().clone()
            })
            .collect();
        Some(Blueprint {
            domains: parsed,
            passing_score,
            time_limit_minutes,
            retake,
            study_hours: exam.study_hours,
            prerequisites,
            proctored: exam.proctored,
        })
    }

    fn check_roles(
        &mut self,
        what: &str,
        roles: &[Spanned<String>],
        declared: &Declared,
    ) -> Vec<String> {
        for role in roles {
            if !declared.job_roles.contains(role.get_ref()) {
                self.error(
                    role.span(),
                    format!(
                        "{what}: job role `{}` is not in program.job_roles ({})",
                        role.get_ref(),
                        join(&declared.job_roles)
                    ),
                );
            }
        }
        roles.iter().map(|r| r.get_ref().clone()).collect()
    }

    fn reference(
        &mut self,
        site: &RuleSite<'_>,
        kind: &str,
        id: &Spanned<String>,
        known: &BTreeSet<String>,
    ) -> String {
        if !known.contains(id.get_ref()) {
            self.error(
                id.span(),
                format!(
                    "{}: unknown {kind} `{}`; declared {kind}s: {}",
                    site.describe(),
                    id.get_ref(),
                    join(known)
                ),
            );
        }
        id.get_ref().clone()
    }

    fn program(&mut self, raw: RawFile) -> Program {
        let mut declared = Declared::default();
        let mut ids = BTreeSet::new();
        self.check_id("program", &raw.program.id, &mut ids);
        for (field, value) in [
            ("name", &raw.program.name),
            ("version", &raw.program.version),
        ] {
            if value.get_ref().trim().is_empty() {
                self.error(value.span(), format!("program.{field} must not be empty"));
            }
        }
        for partner_type in &raw.program.partner_types {
            if partner_type.get_ref().parse::<PartnerType>().is_err() {
                let known: Vec<_> = PartnerType::ALL.iter().map(|t| t.as_str()).collect();
                self.error(
                    partner_type.span(),
                    format!(
                        "unknown partner type `{}`; expected one of {}",
                        partner_type.get_ref(),
                        known.join(", ")
                    ),
                );
            }
        }
        for role in &raw.program.job_roles {
            if !declared.job_roles.insert(role.get_ref().clone()) {
                self.error(
                    role.span(),
                    format!("job role `{}` is listed twice", role.get_ref()),
                );
            }
        }

        let mut releases = Vec::new();
        for release in &raw.releases {
            let date = match to_date(release.date.get_ref()) {
                Some(date) => date,
                None => {
                    self.error(
                        release.date.span(),
                        format!(
                            "release `{}`: date must be a plain date like 2026-02-14",
                            release.name
                        ),
                    );
                    continue;
                }
            };
            if let Some(previous) = releases.last().map(|r: &Release| r.date)
                && date <= previous
            {
                self.error(
                    release.date.span(),
                    format!(
                        "release `{}`: dates must ascend; {date} is not after {previous}",
                        release.name
                    ),
                );
            }
            releases.push(Release {
                name: release.name.clone(),
                date,
            });
        }

        let mut seen = BTreeSet::new();
        let modules: Vec<Module> = raw
            .modules
            .iter()
            .map(|m| {
                self.check_id("module", &m.id, &mut seen);
                if !(*m.hours.get_ref() > 0.0 && *m.hours.get_ref() <= 1000.0) {
                    self.error(
                        m.hours.span(),
                        format!(
                            "module `{}`: hours must be above 0 and at most 1000",
                            m.id.get_ref()
                        ),
                    );
                }
                Module {
                    id: m.id.get_ref().clone(),
                    title: m.title.clone(),
                    hours: *m.hours.get_ref(),
                    job_roles: self.check_roles(
                        &format!("module `{}`", m.id.get_ref()),
                        &m.job_roles,
                        &declared,
                    ),
                }
            })
            .collect();
        declared.modules = seen;

        let mut seen = BTreeSet::new();
        let exams: Vec<Exam> = raw
            .exams
            .iter()
            .map(|e| {
                self.check_id("exam", &e.id, &mut seen);
                Exam {
                    id: e.id.get_ref().clone(),
                    title: e.title.clone(),
                    job_roles: self.check_roles(
                        &format!("exam `{}`", e.id.get_ref()),
                        &e.job_roles,
                        &declared,
                    ),
                    blueprint: self.blueprint(e, &declared),
                }
            })
            .collect();
        declared.exams = seen;

        let mut seen = BTreeSet::new();
        let practicals: Vec<Practical> = raw
            .practicals
            .iter()
            .map(|p| {
                self.check_id("practical", &p.id, &mut seen);
                let mut criteria_seen = BTreeSet::new();
                let criteria: Vec<Criterion> = p
                    .criteria
                    .iter()
                    .map(|c| {
                        self.check_id("criterion", &c.id, &mut criteria_seen);
                        if !(1..=100).contains(c.max_score.get_ref()) {
                            self.error(
                                c.max_score.span(),
                                format!(
                                    "practical `{}`, criterion `{}`: max_score must be from 1 to 100",
                                    p.id.get_ref(),
                                    c.id.get_ref()
                                ),
                            );
                        }
                        Criterion {
                            id: c.id.get_ref().clone(),
                            name: c.name.clone(),
                            max_score: *c.max_score.get_ref(),
                        }
                    })
                    .collect();
                let rubric = if criteria.is_empty() {
                    Rubric {
                        second_review: p.second_review,
                        ..Rubric::default()
                    }
                } else {
                    Rubric {
                        criteria,
                        second_review: p.second_review,
                    }
                };
                Practical {
                    id: p.id.get_ref().clone(),
                    title: p.title.clone(),
                    description: p.description.clone(),
                    rubric,
                }
            })
            .collect();
        declared.practicals = seen;

        let mut seen = BTreeSet::new();
        for track in &raw.tracks {
            self.check_id("track", &track.id, &mut seen);
        }
        declared.tracks = seen;
        let mut seen = BTreeSet::new();
        for tier in &raw.tiers {
            self.check_id("tier", &tier.id, &mut seen);
        }
        declared.tiers = raw.tiers.iter().map(|t| t.id.get_ref().clone()).collect();

        let tracks: Vec<Track> = raw
            .tracks
            .iter()
            .map(|t| {
                let id = t.id.get_ref();
                let site = RuleSite::Track(id);
                if t.job_roles.is_empty() {
                    self.error(
                        t.id.span(),
                        format!("track `{id}`: job_roles must name at least one role"),
                    );
                }
                Track {
                    id: id.clone(),
                    name: t.name.clone(),
                    job_roles: self.check_roles(&format!("track `{id}`"), &t.job_roles, &declared),
                    requires: self.rule(&t.requires, &site, &declared),
                    validity: self.validity(id, &t.validity, &releases),
                    renewal: self.renewal(id, &t.renewal, &t.validity, &declared),
                    existing_holders: t.existing_holders.as_ref().and_then(|policy| {
                        match policy.get_ref().as_str() {
                            "keep" => Some(HolderPolicy::Keep),
                            "recompute" => Some(HolderPolicy::Recompute),
                            other => {
                                self.error(
                                    policy.span(),
                                    format!("track `{id}`: existing_holders is `{other}`; expected `keep` or `recompute`"),
                                );
                                None
                            }
                        }
                    }),
                }
            })
            .collect();
        self.check_prerequisite_cycles(&raw.tracks, &tracks);

        let tiers: Vec<Tier> = raw
            .tiers
            .iter()
            .enumerate()
            .map(|(rank, t)| Tier {
                id: t.id.get_ref().clone(),
                name: t.name.clone(),
                rule: self.rule(
                    &t.requires,
                    &RuleSite::Tier {
                        id: t.id.get_ref(),
                        rank,
                    },
                    &declared,
                ),
            })
            .collect();

        let mut seen = BTreeSet::new();
        let benefits: Vec<Benefit> = raw
            .benefits
            .iter()
            .map(|b| {
                self.check_id("benefit", &b.id, &mut seen);
                let subject = match b.subject.get_ref().as_str() {
                    "partner" => Subject::Partner,
                    "person" => Subject::Person,
                    other => {
                        self.error(
                            b.subject.span(),
                            format!(
                                "benefit `{}`: subject `{other}` must be `partner` or `person`",
                                b.id.get_ref()
                            ),
                        );
                        Subject::Partner
                    }
                };
                let directory = b.directory.as_ref().is_some_and(|d| *d.get_ref());
                if let Some(flag) = b.directory.as_ref().filter(|_| directory)
                    && subject != Subject::Partner
                {
                    self.error(
                        flag.span(),
                        format!(
                            "benefit `{}`: only a partner benefit can list partners in the directory",
                            b.id.get_ref()
                        ),
                    );
                }
                Benefit {
                    id: b.id.get_ref().clone(),
                    name: b.name.clone(),
                    subject,
                    directory,
                    rule: self.rule(
                        &b.requires,
                        &RuleSite::Benefit {
                            id: b.id.get_ref(),
                            subject,
                        },
                        &declared,
                    ),
                }
            })
            .collect();

        let health = raw.health.as_ref().map(|h| {
            let span = h.span();
            let h = h.get_ref();
            for module in &h.remediation_modules {
                if !declared.modules.contains(module.get_ref()) {
                    self.error(
                        module.span(),
                        format!(
                            "health: unknown remediation module `{}`; declared modules: {}",
                            module.get_ref(),
                            join(&declared.modules)
                        ),
                    );
                }
            }
            if h.remediation_days == 0 {
                self.error(span, "health: remediation_days must be at least 1");
            }
            HealthPolicy {
                metric: h.metric.clone(),
                threshold: h.threshold,
                remediation_modules: h
                    .remediation_modules
                    .iter()
                    .map(|m| m.get_ref().clone())
                    .collect(),
                remediation_days: h.remediation_days,
            }
        });

        Program {
            id: raw.program.id.get_ref().clone(),
            name: raw.program.name.get_ref().clone(),
            version: raw.program.version.get_ref().clone(),
            description: raw.program.description,
            partner_types: raw
                .program
                .partner_types
                .iter()
                .map(|p| p.get_ref().clone())
                .collect(),
            job_roles: raw
                .program
                .job_roles
                .iter()
                .map(|r| r.get_ref().clone())
                .collect(),
            releases,
            modules,
            exams,
            practicals,
            tracks,
            tiers,
            benefits,
            health,
        }
    }

    fn validity(
        &mut self,
        track: &str,
        raw: &Spanned<RawValidity>,
        releases: &[Release],
    ) -> Validity {
        let v = raw.get_ref();
        match (v.months, v.aligned_to_releases, v.min_months) {
            (Some(months), false, None) if months > 0 => Validity::Months(months),
            (None, true, Some(min_months)) => {
                if releases.is_empty() {
                    self.error(raw.span(), format!("track `{track}`: validity is aligned to releases but the file declares no [[releases]]"));
                }
                Validity::ReleaseAligned { min_months }
            }
            _ => {
                self.error(
                    raw.span(),
                    format!("track `{track}`: validity must be `{{ months = N }}` (N at least 1) or `{{ aligned_to_releases = true, min_months = N }}`"),
                );
                Validity::Months(12)
            }
        }
    }

    fn renewal(
        &mut self,
        track: &str,
        raw: &Spanned<RawRenewal>,
        validity: &Spanned<RawValidity>,
        declared: &Declared,
    ) -> Renewal {
        let r = raw.get_ref();
        let shortest_term_days = validity
            .get_ref()
            .months
            .or(validity.get_ref().min_months)
            .unwrap_or(12)
            * 28;
        if r.window_days == 0 || r.window_days >= shortest_term_days {
            self.error(
                raw.span(),
                format!("track `{track}`: renewal window_days must be at least 1 and shorter than the validity term ({} days at least)", shortest_term_days),
            );
        }
        let site = RuleSite::Track(track);
        let requires = match r.requires.get_ref().as_str() {
            "full-track" => RenewalRequirement::FullTrack,
            "delta-module" => RenewalRequirement::DeltaModule {
                delta_exam: r
                    .delta_exam
                    .as_ref()
                    .map(|e| self.reference(&site, "exam", e, &declared.exams)),
            },
            "practicals" => {
                if r.practicals.is_empty() {
                    self.error(
                        r.requires.span(),
                        format!("track `{track}`: renewal by practicals must list `practicals`"),
                    );
                }
                RenewalRequirement::Practicals {
                    practicals: r
                        .practicals
                        .iter()
                        .map(|p| self.reference(&site, "practical", p, &declared.practicals))
                        .collect(),
                    count: r.count.unwrap_or(1),
                }
            }
            other => {
                self.error(
                    r.requires.span(),
                    format!("track `{track}`: renewal requires `{other}`; expected `full-track`, `delta-module` or `practicals`"),
                );
                RenewalRequirement::FullTrack
            }
        };
        Renewal {
            window_days: r.window_days,
            requires,
        }
    }

    fn rule(&mut self, raw: &Spanned<RawRule>, site: &RuleSite<'_>, declared: &Declared) -> Rule {
        let r = raw.get_ref();
        let span = raw.span();
        let kinds: Vec<&str> = [
            ("all", r.all.is_some()),
            ("any", r.any.is_some()),
            ("module", r.module.is_some()),
            ("modules", r.modules.is_some()),
            ("exam", r.exam.is_some()),
            ("practical", r.practical.is_some()),
            ("credential", r.credential.is_some()),
            ("tier", r.tier.is_some()),
            ("people_holding", r.people_holding.is_some()),
            ("approved", r.approved.is_some()),
            ("health_score_at_least", r.health_score_at_least.is_some()),
        ]
        .into_iter()
        .filter(|(_, present)| *present)
        .map(|(kind, _)| kind)
        .collect();
        let where_ = site.describe();
        if kinds.len() != 1 {
            self.error(
                span,
                format!(
                    "{where_}: a rule needs exactly one of all, any, module, modules, exam, practical, credential, tier, people_holding, approved, health_score_at_least; found {}",
                    if kinds.is_empty() { "none".to_owned() } else { kinds.join(", ") }
                ),
            );
            return Rule::All(vec![]);
        }
        let counted = matches!(kinds[0], "people_holding" | "approved");
        if counted && r.at_least.is_none_or(|n| n == 0) {
            self.error(
                span.clone(),
                format!("{where_}: `{}` needs `at_least` of 1 or more", kinds[0]),
            );
        }
        if !counted && r.at_least.is_some() {
            self.error(
                span.clone(),
                format!("{where_}: `at_least` only goes with `people_holding` or `approved`"),
            );
        }
        let rule = if let Some(group) = r.all.as_ref().or(r.any.as_ref()) {
            if group.is_empty() {
                self.error(
                    span.clone(),
                    format!("{where_}: `{}` needs at least one rule", kinds[0]),
                );
            }
            let rules = group.iter().map(|g| self.rule(g, site, declared)).collect();
            if r.all.is_some() {
                Rule::All(rules)
            } else {
                Rule::Any(rules)
            }
        } else if let Some(id) = &r.module {
            Rule::Module(self.reference(site, "module", id, &declared.modules))
        } else if let Some(ids) = &r.modules {
            if ids.is_empty() {
                self.error(
                    span.clone(),
                    format!("{where_}: `modules` needs at least one module"),
                );
            }
            Rule::All(
                ids.iter()
                    .map(|id| Rule::Module(self.reference(site, "module", id, &declared.modules)))
                    .collect(),
            )
        } else if let Some(id) = &r.exam {
            Rule::Exam(self.reference(site, "exam", id, &declared.exams))
        } else if let Some(id) = &r.practical {
            Rule::Practical(self.reference(site, "practical", id, &declared.practicals))
        } else if let Some(id) = &r.credential {
            Rule::Credential(self.reference(site, "track", id, &declared.tracks))
        } else if let Some(id) = &r.tier {
            match (declared.tiers.iter().position(|t| t == id.get_ref()), site) {
                (None, _) => {
                    let known: BTreeSet<String> = declared.tiers.iter().cloned().collect();
                    self.reference(site, "tier", id, &known);
                }
                (Some(wanted), RuleSite::Tier { rank, .. }) if wanted >= *rank => {
                    self.error(
                        id.span(),
                        format!(
                            "{where_}: may only require a lower tier, and `{}` is not lower",
                            id.get_ref()
                        ),
                    );
                }
                _ => {}
            }
            Rule::Tier(id.get_ref().clone())
        } else if let Some(id) = &r.people_holding {
            Rule::PeopleWithCredential {
                track: self.reference(site, "track", id, &declared.tracks),
                at_least: r.at_least.unwrap_or(1),
            }
        } else if let Some(id) = &r.approved {
            Rule::ApprovedPracticals {
                practical: self.reference(site, "practical", id, &declared.practicals),
                at_least: r.at_least.unwrap_or(1),
            }
        } else {
            Rule::HealthScoreAtLeast(r.health_score_at_least.unwrap_or_default())
        };
        if let Some(level) = rule.level()
            && level != site.level()
        {
            let (asked, wanted) = match site.level() {
                Subject::Person => (
                    "a partner as a whole",
                    "one person's own records (module, modules, exam, practical, credential)",
                ),
                Subject::Partner => (
                    "one person's own records",
                    "the partner as a whole (tier, people_holding, approved, health_score_at_least)",
                ),
            };
            self.error(
                span,
                format!(
                    "{where_}: `{}` speaks of {asked}, but here rules must speak of {wanted}",
                    kinds[0]
                ),
            );
        }
        rule
    }

    /// A track that requires its own credential, directly or through others, can never be earned.
    fn check_prerequisite_cycles(&mut self, raw: &[RawTrack], tracks: &[Track]) {
        let edges: BTreeMap<&str, Vec<&str>> = tracks
            .iter()
            .map(|t| {
                let needs = t
                    .requires
                    .walk()
                    .into_iter()
                    .filter_map(|r| match r {
                        Rule::Credential(other) => Some(other.as_str()),
                        _ => None,
                    })
                    .collect();
                (t.id.as_str(), needs)
            })
            .collect();
        for (track, raw_track) in tracks.iter().zip(raw) {
            let mut path = vec![track.id.as_str()];
            if let Some(cycle) = find_cycle(&edges, track.id.as_str(), &mut path) {
                // Report each cycle once, at the track where it starts alphabetically first.
                if cycle.iter().min() == Some(&track.id.as_str()) {
                    self.error(
                        raw_track.requires.span(),
                        format!(
                            "track `{}`: prerequisites form a cycle: {}",
                            track.id,
                            cycle.join(" → ")
                        ),
                    );
                }
            }
        }
    }
}

fn find_cycle<'a>(
    edges: &BTreeMap<&'a str, Vec<&'a str>>,
    start: &'a str,
    path: &mut Vec<&'a str>,
) -> Option<Vec<&'a str>> {
    let current = *path.last()?;
    for next in edges.get(current).into_iter().flatten() {
        if *next == start {
            let mut cycle = path.clone();
            cycle.push(start);
            return Some(cycle);
        }
        if !path.contains(next) {
            path.push(next);
            if let Some(found) = find_cycle(edges, start, path) {
                return Some(found);
            }
            path.pop();
        }
    }
    None
}

fn to_date(value: &toml::value::Datetime) -> Option<jiff::civil::Date> {
    match (value.date, value.time, value.offset) {
        (Some(d), None, None) => {
            jiff::civil::Date::new(d.year as i16, d.month as i8, d.day as i8).ok()
        }
        _ => None,
    }
}

fn join(set: &BTreeSet<String>) -> String {
    if set.is_empty() {
        "none".to_owned()
    } else {
        set.iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests;
