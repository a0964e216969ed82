//! A certification program as the vendor defines it: modules, exams and practical assessments,
//! role-based tracks with requirements, validity and renewal policies, partner tiers and the
//! benefits they unlock. This is the validated model; `accredit-formats` reads it from TOML.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A validated program. Ids are unique within their kind and every reference resolves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Program {
    pub id: String,
    pub name: String,
    pub version: String,
    pub description: String,
    /// Partner types that may enrol; empty means any.
    pub partner_types: Vec<String>,
    /// Job roles the program speaks of (sales, technical, ...).
    pub job_roles: Vec<String>,
    /// Release dates, ascending, for validity aligned to releases.
    pub releases: Vec<Release>,
    pub modules: Vec<Module>,
    pub exams: Vec<Exam>,
    pub practicals: Vec<Practical>,
    pub tracks: Vec<Track>,
    /// Ascending rank: the last tier is the highest.
    pub tiers: Vec<Tier>,
    pub benefits: Vec<Benefit>,
    pub health: Option<HealthPolicy>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub name: String,
    pub date: Date,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Module {
    pub id: String,
    pub title: String,
    pub hours: f64,
    pub job_roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exam {
    pub id: String,
    pub title: String,
    pub job_roles: Vec<String>,
    /// What is tested and how it is scored; an exam without one cannot be published.
    #[serde(default)]
    pub blueprint: Option<crate::blueprint::Blueprint>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Practical {
    pub id: String,
    pub title: String,
    pub description: String,
    /// How reviewers judge a submission; the default is one criterion, "meets the bar".
    #[serde(default)]
    pub rubric: crate::review::Rubric,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Track {
    pub id: String,
    pub name: String,
    pub job_roles: Vec<String>,
    pub requires: Rule,
    pub validity: Validity,
    pub renewal: Renewal,
    /// When this version changes the validity or renewal policy: whether current holders keep
    /// their dates or get dates computed under the new policy. Required for such a change.
    #[serde(default)]
    pub existing_holders: Option<HolderPolicy>,
}

/// What a policy change does to credentials already issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HolderPolicy {
    /// Current holders keep their dates; the new policy applies to credentials issued from now.
    Keep,
    /// Current holders' end dates are computed again from their issue dates under the new policy.
    Recompute,
}

/// How long a credential of a track holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validity {
    /// A fixed term from the day of issue.
    Months(u32),
    /// Until the first release boundary at least this many months after issue.
    ReleaseAligned { min_months: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Renewal {
    /// Renewal opens this many days before expiry.
    pub window_days: u32,
    pub requires: RenewalRequirement,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RenewalRequirement {
    /// The whole track again.
    FullTrack,
    /// A delta module of what changed since the credential was earned, optionally with a short
    /// exam.
    DeltaModule { delta_exam: Option<String> },
    /// Named evidence, e.g. annual audit reports: these practicals approved again.
    Practicals { practicals: Vec<String>, count: u32 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tier {
    pub id: String,
    pub name: String,
    pub rule: Rule,
}

/// Who a benefit is granted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    Partner,
    Person,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Benefit {
    pub id: String,
    pub name: String,
    pub subject: Subject,
    pub rule: Rule,
    /// While a partner holds this benefit it appears in the public partner directory.
    #[serde(default)]
    pub directory: bool,
}

/// Customer health scores imported per partner and quarter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthPolicy {
    /// What the score is, e.g. "NPS".
    pub metric: String,
    /// Below this a partner must complete remediation.
    pub threshold: f64,
    pub remediation_modules: Vec<String>,
    pub remediation_days: u32,
}

/// A condition over a person's or a partner's records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    All(Vec<Rule>),
    Any(Vec<Rule>),
    /// The person completed this module.
    Module(String),
    /// The person passed this exam.
    Exam(String),
    /// The person has an approved submission for this practical assessment.
    Practical(String),
    /// The person holds a current credential of this track.
    Credential(String),
    /// The partner is at this tier or above.
    Tier(String),
    /// At least `at_least` active people of the partner hold a current credential of `track`.
    PeopleWithCredential {
        track: String,
        at_least: u32,
    },
    /// The partner has at least `at_least` approved submissions for `practical`.
    ApprovedPracticals {
        practical: String,
        at_least: u32,
    },
    /// The partner's latest health score is at least this.
    HealthScoreAtLeast(f64),
}

impl Rule {
    /// Whether the rule speaks of a person's own records (tracks, person benefits) rather than
    /// of a partner as a whole (tiers, partner benefits). Groups take their members' level.
    pub fn level(&self) -> Option<Subject> {
        match self {
            Rule::Module(_) | Rule::Exam(_) | Rule::Practical(_) | Rule::Credential(_) => {
                Some(Subject::Person)
            }
            Rule::Tier(_)
            | Rule::PeopleWithCredential { .. }
            | Rule::ApprovedPracticals { .. }
            | Rule::HealthScoreAtLeast(_) => Some(Subject::Partner),
            Rule::All(_) | Rule::Any(_) => None,
        }
    }

    /// The rule in words, with the program's titles: the criteria a badge states.
    pub fn describe(&self, program: &Program) -> String {
        let track = |id: &str| program.track_name(id);
        let tier = |id: &str| {
            program
                .tiers
                .iter()
                .find(|t| t.id == id)
                .map_or_else(|| id.to_owned(), |t| t.name.clone())
        };
        let group = |rules: &[Rule], joiner: &str| {
            rules
                .iter()
                .map(|r| r.describe(program))
                .collect::<Vec<_>>()
                .join(joiner)
        };
        match self {
            Rule::All(rules) => group(rules, "; and "),
            Rule::Any(rules) => format!("one of: {}", group(rules, "; or ")),
            Rule::Module(id) => format!("complete the module {}", program.module_title(id)),
            Rule::Exam(id) => format!("pass the exam {}", program.exam_title(id)),
            Rule::Practical(id) => {
                format!(
                    "have the practical {} approved",
                    program.practical_title(id)
                )
            }
            Rule::Credential(id) => format!("hold a current {} credential", track(id)),
            Rule::Tier(id) => format!("belong to a {} partner", tier(id)),
            Rule::PeopleWithCredential {
                track: id,
                at_least,
            } => format!(
                "{at_least} people holding a current {} credential",
                track(id)
            ),
            Rule::ApprovedPracticals {
                practical,
                at_least,
            } => format!(
                "{at_least} approved {} submissions",
                program.practical_title(practical)
            ),
            Rule::HealthScoreAtLeast(score) => {
                format!("a customer health score of at least {score}")
            }
        }
    }

    /// Every rule inside this one, itself included, depth first.
    pub fn walk(&self) -> Vec<&Rule> {
        let mut out = vec![self];
        if let Rule::All(rules) | Rule::Any(rules) = self {
            for rule in rules {
                out.extend(rule.walk());
            }
        }
        out
    }
}

impl Program {
    /// A module's title, or its id when the program has no such module.
    pub fn module_title(&self, id: &str) -> String {
        self.modules
            .iter()
            .find(|m| m.id == id)
            .map_or_else(|| id.to_owned(), |m| m.title.clone())
    }

    /// An exam's title, or its id.
    pub fn exam_title(&self, id: &str) -> String {
        self.exams
            .iter()
            .find(|e| e.id == id)
            .map_or_else(|| id.to_owned(), |e| e.title.clone())
    }

    /// A practical's title, or its id.
    pub fn practical_title(&self, id: &str) -> String {
        self.practicals
            .iter()
            .find(|p| p.id == id)
            .map_or_else(|| id.to_owned(), |p| p.title.clone())
    }

    /// A track's name, or its id.
    pub fn track_name(&self, id: &str) -> String {
        self.track(id)
            .map_or_else(|| id.to_owned(), |t| t.name.clone())
    }

    pub fn track(&self, id: &str) -> Option<&Track> {
        self.tracks.iter().find(|t| t.id == id)
    }

    pub fn tier_rank(&self, id: &str) -> Option<usize> {
        self.tiers.iter().position(|t| t.id == id)
    }

    pub fn benefit(&self, id: &str) -> Option<&Benefit> {
        self.benefits.iter().find(|b| b.id == id)
    }

    /// A readable name for an id of any kind, for explanations.
    pub fn title_of(&self, id: &str) -> String {
        let found = self
            .tracks
            .iter()
            .map(|t| (&t.id, &t.name))
            .chain(self.modules.iter().map(|m| (&m.id, &m.title)))
            .chain(self.exams.iter().map(|e| (&e.id, &e.title)))
            .chain(self.practicals.iter().map(|p| (&p.id, &p.title)))
            .chain(self.tiers.iter().map(|t| (&t.id, &t.name)))
            .find(|(candidate, _)| candidate.as_str() == id);
        match found {
            Some((_, title)) => title.clone(),
            None => id.to_owned(),
        }
    }

    /// The date a credential issued on `issued` stops being valid (the last valid day is the
    /// day before).
    pub fn expiry(&self, validity: &Validity, issued: Date) -> Date {
        match validity {
            Validity::Months(months) => add_months(issued, *months),
            Validity::ReleaseAligned { min_months } => {
                let earliest = add_months(issued, *min_months);
                self.releases
                    .iter()
                    .map(|r| r.date)
                    .find(|d| *d >= earliest)
                    // With no release declared far enough ahead, the minimum term applies.
                    .unwrap_or(earliest)
            }
        }
    }

    /// Ids by kind, for reference checks and diffs.
    pub fn ids(&self) -> BTreeMap<&'static str, Vec<&str>> {
        let mut map = BTreeMap::new();
        map.insert(
            "module",
            self.modules.iter().map(|x| x.id.as_str()).collect(),
        );
        map.insert("exam", self.exams.iter().map(|x| x.id.as_str()).collect());
        map.insert(
            "practical",
            self.practicals.iter().map(|x| x.id.as_str()).collect(),
        );
        map.insert("track", self.tracks.iter().map(|x| x.id.as_str()).collect());
        map.insert("tier", self.tiers.iter().map(|x| x.id.as_str()).collect());
        map.insert(
            "benefit",
            self.benefits.iter().map(|x| x.id.as_str()).collect(),
        );
        map
    }
}

/// Adds calendar months, clamping to the month's last day (31 Jan + 1 month = 28/29 Feb).
pub fn add_months(date: Date, months: u32) -> Date {
    date.checked_add(jiff::Span::new().months(i64::from(months)))
        .unwrap_or(Date::MAX)
}

/// What applying a program file changes, item by item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProgramChange {
    /// `program`, `release`, `module`, `exam`, `practical`, `track`, `tier`, `benefit` or `health`.
    pub kind: String,
    pub id: String,
    /// `added`, `removed` or `changed`.
    pub change: String,
    /// For changes: one line per field, `field: old → new`.
    pub details: Vec<String>,
}

fn items<T: Serialize>(list: &[T], id: impl Fn(&T) -> String) -> Vec<(String, serde_json::Value)> {
    list.iter()
        .map(|item| (id(item), serde_json::to_value(item).unwrap_or_default()))
        .collect()
}

fn field_changes(old: &serde_json::Value, new: &serde_json::Value) -> Vec<String> {
    match (old, new) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter(|k| a.get(*k) != b.get(*k))
                .map(|k| {
                    let show = |v: Option<&serde_json::Value>| {
                        v.map_or_else(|| "(none)".to_owned(), |v| v.to_string())
                    };
                    format!("{k}: {} → {}", show(a.get(k)), show(b.get(k)))
                })
                .collect()
        }
        _ => vec![format!("{old} → {new}")],
    }
}

/// The differences between the applied program (if any) and a new version, in file order.
pub fn diff(old: Option<&Program>, new: &Program) -> Vec<ProgramChange> {
    let header = |p: &Program| {
        serde_json::json!({
            "name": p.name, "version": p.version, "description": p.description,
            "partner_types": p.partner_types, "job_roles": p.job_roles,
        })
    };
    let sections = |p: &Program| -> Vec<(&'static str, Vec<(String, serde_json::Value)>)> {
        vec![
            ("program", vec![(p.id.clone(), header(p))]),
            ("release", items(&p.releases, |r| r.name.clone())),
            ("module", items(&p.modules, |m| m.id.clone())),
            ("exam", items(&p.exams, |e| e.id.clone())),
            ("practical", items(&p.practicals, |x| x.id.clone())),
            ("track", items(&p.tracks, |t| t.id.clone())),
            ("tier", items(&p.tiers, |t| t.id.clone())),
            ("benefit", items(&p.benefits, |b| b.id.clone())),
            (
                "health",
                p.health
                    .iter()
                    .map(|h| {
                        (
                            "health".to_owned(),
                            serde_json::to_value(h).unwrap_or_default(),
                        )
                    })
                    .collect(),
            ),
        ]
    };
    let before = old.map(sections).unwrap_or_default();
    let mut changes = Vec::new();
    for (kind, new_items) in sections(new) {
        let old_items = before
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, items)| items.as_slice())
            .unwrap_or_default();
        for (id, value) in &new_items {
            match old_items.iter().find(|(old_id, _)| old_id == id) {
                None => changes.push(ProgramChange {
                    kind: kind.into(),
                    id: id.clone(),
                    change: "added".into(),
                    details: vec![],
                }),
                Some((_, old_value)) if old_value != value => changes.push(ProgramChange {
                    kind: kind.into(),
                    id: id.clone(),
                    change: "changed".into(),
                    details: field_changes(old_value, value),
                }),
                Some(_) => {}
            }
        }
        for (id, _) in old_items {
            if !new_items.iter().any(|(new_id, _)| new_id == id) {
                changes.push(ProgramChange {
                    kind: kind.into(),
                    id: id.clone(),
                    change: "removed".into(),
                    details: vec![],
                });
            }
        }
    }
    changes
}
