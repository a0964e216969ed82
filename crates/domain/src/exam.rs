//! Exam items and how a response is scored. Every item is scored right (1) or wrong (0): partial
//! credit would make the pass mark harder to explain and the item statistics (p-value,
//! point-biserial, KR-20) assume dichotomous items.

use serde::{Deserialize, Serialize};

/// Where an item is in its life: only active items are put on forms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    #[default]
    Draft,
    Active,
    Retired,
}

impl ItemStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Active => "active",
            Self::Retired => "retired",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "draft" => Some(Self::Draft),
            "active" => Some(Self::Active),
            "retired" => Some(Self::Retired),
            _ => None,
        }
    }
}

/// What a scenario item shows the candidate: the code, log, configuration or payload in which
/// they diagnose the failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Artifact {
    /// `code`, `log`, `config` or `payload`.
    pub kind: String,
    /// For highlighting: `python`, `json`, `yaml`, `sql`, `text`, ...
    pub language: String,
    pub content: String,
}

/// An option the candidate can pick, order or match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Choice {
    pub id: String,
    pub text: String,
}

/// An accepted short-text answer: the exact words (case and surrounding space ignored), or a
/// pattern where `*` stands for any text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum TextAnswer {
    Exact(String),
    Pattern(String),
}

/// The interaction and its key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ItemBody {
    SingleChoice {
        choices: Vec<Choice>,
        correct: String,
    },
    MultipleResponse {
        choices: Vec<Choice>,
        /// Every one of these and no other.
        correct: Vec<String>,
    },
    TrueFalse {
        correct: bool,
    },
    Numeric {
        answer: f64,
        /// Accepted distance from the answer, inclusive.
        tolerance: f64,
    },
    ShortText {
        accepted: Vec<TextAnswer>,
    },
    Ordering {
        /// In the correct order.
        choices: Vec<Choice>,
    },
    Matching {
        prompts: Vec<Choice>,
        targets: Vec<Choice>,
        /// (prompt id, target id) for every prompt.
        pairs: Vec<(String, String)>,
    },
    /// Pick the faulty line or lines of the item's artifact (1-based).
    FaultyLines {
        lines: Vec<u32>,
    },
}

impl ItemBody {
    /// The response the key gives full marks: for simulations and demos that answer
    /// correctly on purpose.
    pub fn keyed_response(&self) -> Response {
        match self {
            Self::SingleChoice { correct, .. } => Response::Choice(correct.clone()),
            Self::MultipleResponse { correct, .. } => Response::Choices(correct.clone()),
            Self::TrueFalse { correct } => Response::Bool(*correct),
            Self::Numeric { answer, .. } => Response::Number(*answer),
            Self::ShortText { accepted } => Response::Text(match accepted.first() {
                Some(TextAnswer::Exact(text)) => text.clone(),
                Some(TextAnswer::Pattern(pattern)) => pattern.replace('*', ""),
                None => String::new(),
            }),
            Self::Ordering { choices } => {
                Response::Order(choices.iter().map(|c| c.id.clone()).collect())
            }
            Self::Matching { pairs, .. } => Response::Pairs(pairs.clone()),
            Self::FaultyLines { lines } => Response::Lines(lines.clone()),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::SingleChoice { .. } => "single_choice",
            Self::MultipleResponse { .. } => "multiple_response",
            Self::TrueFalse { .. } => "true_false",
            Self::Numeric { .. } => "numeric",
            Self::ShortText { .. } => "short_text",
            Self::Ordering { .. } => "ordering",
            Self::Matching { .. } => "matching",
            Self::FaultyLines { .. } => "faulty_lines",
        }
    }
}

/// An item of the bank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Item {
    /// Stable across versions; from the source file when it names one.
    pub id: String,
    /// The blueprint domain the item tests.
    pub domain: String,
    /// Set by the bank: imports arrive as drafts.
    #[serde(default)]
    pub status: ItemStatus,
    /// Set by the bank: each changed import is a new version.
    #[serde(default)]
    pub version: u32,
    /// The question, as plain text.
    pub stem: String,
    pub artifact: Option<Artifact>,
    pub body: ItemBody,
    /// Why the key is right; shown to reviewers, never to candidates.
    #[serde(default)]
    pub rationale: String,
}

impl Item {
    /// What makes the item unusable, each problem in words: a key naming no option, a faulty
    /// line outside the artifact, and so on. Every importer checks items with this.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let well_formed = |id: &str| {
            !id.is_empty()
                && id.len() <= 64
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        if !well_formed(&self.id) {
            problems.push(format!(
                "id `{}` must be 1 to 64 letters, digits, `-`, `_` or `.`",
                self.id
            ));
        }
        if self.stem.trim().is_empty() {
            problems.push("the question text is empty".into());
        }
        let unique = |choices: &[Choice], what: &str, problems: &mut Vec<String>| {
            for (i, c) in choices.iter().enumerate() {
                if choices[..i].iter().any(|o| o.id == c.id) {
                    problems.push(format!("{what} `{}` appears twice", c.id));
                }
                if c.text.trim().is_empty() {
                    problems.push(format!("{what} `{}` has no text", c.id));
                }
            }
        };
        let known = |choices: &[Choice], id: &str| choices.iter().any(|c| c.id == id);
        match &self.body {
            ItemBody::SingleChoice { choices, correct } => {
                unique(choices, "choice", &mut problems);
                if choices.len() < 2 {
                    problems.push("a single-choice item needs at least two choices".into());
                }
                if !known(choices, correct) {
                    problems.push(format!("the key `{correct}` is not one of the choices"));
                }
            }
            ItemBody::MultipleResponse { choices, correct } => {
                unique(choices, "choice", &mut problems);
                if correct.is_empty() {
                    problems
                        .push("a multiple-response item needs at least one correct choice".into());
                }
                for key in correct.iter().filter(|k| !known(choices, k)) {
                    problems.push(format!("the key `{key}` is not one of the choices"));
                }
            }
            ItemBody::TrueFalse { .. } => {}
            ItemBody::Numeric { answer, tolerance } => {
                if !answer.is_finite() || !tolerance.is_finite() || *tolerance < 0.0 {
                    problems.push(
                        "a numeric item needs a finite answer and a tolerance of 0 or more".into(),
                    );
                }
            }
            ItemBody::ShortText { accepted } => {
                if accepted.is_empty() {
                    problems.push("a short-text item needs at least one accepted answer".into());
                }
            }
            ItemBody::Ordering { choices } => {
                unique(choices, "step", &mut problems);
                if choices.len() < 2 {
                    problems.push("an ordering item needs at least two steps".into());
                }
            }
            ItemBody::Matching {
                prompts,
                targets,
                pairs,
            } => {
                unique(prompts, "prompt", &mut problems);
                unique(targets, "target", &mut problems);
                for (prompt, target) in pairs {
                    if !known(prompts, prompt) {
                        problems.push(format!("pair names unknown prompt `{prompt}`"));
                    }
                    if !known(targets, target) {
                        problems.push(format!("pair names unknown target `{target}`"));
                    }
                }
                if prompts
                    .iter()
                    .any(|p| !pairs.iter().any(|(q, _)| *q == p.id))
                {
                    problems.push("every prompt needs its matching target".into());
                }
            }
            ItemBody::FaultyLines { lines } => match &self.artifact {
                None => {
                    problems.push("a faulty-lines item needs an artifact to pick lines from".into())
                }
                Some(artifact) => {
                    let count = artifact.content.lines().count() as u32;
                    if lines.is_empty() {
                        problems.push("name at least one faulty line".into());
                    }
                    for line in lines.iter().filter(|l| **l == 0 || **l > count) {
                        problems.push(format!(
                            "faulty line {line} is outside the artifact's {count} lines"
                        ));
                    }
                }
            },
        }
        problems
    }
}

/// A candidate's answer to one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Response {
    Choice(String),
    Choices(Vec<String>),
    Bool(bool),
    Number(f64),
    Text(String),
    Order(Vec<String>),
    Pairs(Vec<(String, String)>),
    Lines(Vec<u32>),
}

fn normalise(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// `*` matches any run of characters, everything else itself.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

fn same_set<T: Ord + Clone>(a: &[T], b: &[T]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort();
    a.dedup();
    b.sort();
    b.dedup();
    a == b
}

/// Whether the response is right. A response of the wrong shape is simply wrong.
pub fn is_correct(body: &ItemBody, response: &Response) -> bool {
    match (body, response) {
        (ItemBody::SingleChoice { correct, .. }, Response::Choice(picked)) => picked == correct,
        (ItemBody::MultipleResponse { correct, .. }, Response::Choices(picked)) => {
            same_set(correct, picked)
        }
        (ItemBody::TrueFalse { correct }, Response::Bool(answer)) => correct == answer,
        (ItemBody::Numeric { answer, tolerance }, Response::Number(given)) => {
            given.is_finite() && (given - answer).abs() <= *tolerance + f64::EPSILON * answer.abs()
        }
        (ItemBody::ShortText { accepted }, Response::Text(given)) => {
            let given = normalise(given);
            accepted.iter().any(|a| match a {
                TextAnswer::Exact(text) => normalise(text) == given,
                TextAnswer::Pattern(pattern) => wildcard_match(&normalise(pattern), &given),
            })
        }
        (ItemBody::Ordering { choices }, Response::Order(order)) => {
            choices.len() == order.len() && choices.iter().zip(order).all(|(c, o)| &c.id == o)
        }
        (ItemBody::Matching { pairs, .. }, Response::Pairs(given)) => same_set(pairs, given),
        (ItemBody::FaultyLines { lines }, Response::Lines(given)) => same_set(lines, given),
        _ => false,
    }
}

/// What the candidate may see of an item: the stem, artifact and options, never the key.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PresentedItem {
    pub id: String,
    pub version: u32,
    /// The interaction: `single_choice`, `multiple_response`, ...
    pub kind: String,
    pub stem: String,
    pub artifact: Option<Artifact>,
    /// Options to pick from or put in order, in the attempt's shuffled order.
    pub choices: Vec<Choice>,
    /// For matching: the targets, shuffled.
    pub targets: Vec<Choice>,
}

impl Item {
    /// The item as shown in an attempt, options in the given permutation (indices into the
    /// item's own option list; ignored when its length does not fit).
    pub fn present(&self, choice_order: &[usize], target_order: &[usize]) -> PresentedItem {
        let arrange = |options: &[Choice], order: &[usize]| -> Vec<Choice> {
            if order.len() == options.len() {
                order.iter().map(|&i| options[i].clone()).collect()
            } else {
                options.to_vec()
            }
        };
        let (choices, targets) = match &self.body {
            ItemBody::SingleChoice { choices, .. }
            | ItemBody::MultipleResponse { choices, .. }
            | ItemBody::Ordering { choices } => (arrange(choices, choice_order), Vec::new()),
            ItemBody::Matching {
                prompts, targets, ..
            } => (
                arrange(prompts, choice_order),
                arrange(targets, target_order),
            ),
            _ => (Vec::new(), Vec::new()),
        };
        PresentedItem {
            id: self.id.clone(),
            version: self.version,
            kind: self.body.kind().to_owned(),
            stem: self.stem.clone(),
            artifact: self.artifact.clone(),
            choices,
            targets,
        }
    }

    /// How many options shuffle (choices, matching targets).
    pub fn option_counts(&self) -> (usize, usize) {
        match &self.body {
            ItemBody::SingleChoice { choices, .. }
            | ItemBody::MultipleResponse { choices, .. }
            | ItemBody::Ordering { choices } => (choices.len(), 0),
            ItemBody::Matching {
                prompts, targets, ..
            } => (prompts.len(), targets.len()),
            _ => (0, 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choices(ids: &[&str]) -> Vec<Choice> {
        ids.iter()
            .map(|id| Choice {
                id: (*id).into(),
                text: format!("option {id}"),
            })
            .collect()
    }

    #[test]
    fn each_item_type_is_scored_right_or_wrong() {
        let single = ItemBody::SingleChoice {
            choices: choices(&["a", "b"]),
            correct: "b".into(),
        };
        assert!(is_correct(&single, &Response::Choice("b".into())));
        assert!(!is_correct(&single, &Response::Choice("a".into())));
        assert!(!is_correct(&single, &Response::Choices(vec!["b".into()])));

        let multiple = ItemBody::MultipleResponse {
            choices: choices(&["a", "b", "c"]),
            correct: vec!["a".into(), "c".into()],
        };
        assert!(is_correct(
            &multiple,
            &Response::Choices(vec!["c".into(), "a".into()])
        ));
        assert!(!is_correct(&multiple, &Response::Choices(vec!["a".into()])));
        assert!(!is_correct(
            &multiple,
            &Response::Choices(vec!["a".into(), "b".into(), "c".into()])
        ));

        let numeric = ItemBody::Numeric {
            answer: 99.9,
            tolerance: 0.05,
        };
        assert!(is_correct(&numeric, &Response::Number(99.95)));
        assert!(!is_correct(&numeric, &Response::Number(99.96)));
        assert!(!is_correct(&numeric, &Response::Number(f64::NAN)));

        let text = ItemBody::ShortText {
            accepted: vec![
                TextAnswer::Exact("least privilege".into()),
                TextAnswer::Pattern("rotate * keys".into()),
            ],
        };
        assert!(is_correct(
            &text,
            &Response::Text("  Least   Privilege ".into())
        ));
        assert!(is_correct(
            &text,
            &Response::Text("rotate the API keys".into())
        ));
        assert!(!is_correct(
            &text,
            &Response::Text("rotate keys later".into())
        ));

        let ordering = ItemBody::Ordering {
            choices: choices(&["iq", "oq", "pq"]),
        };
        assert!(is_correct(
            &ordering,
            &Response::Order(vec!["iq".into(), "oq".into(), "pq".into()])
        ));
        assert!(!is_correct(
            &ordering,
            &Response::Order(vec!["oq".into(), "iq".into(), "pq".into()])
        ));

        let matching = ItemBody::Matching {
            prompts: choices(&["p1", "p2"]),
            targets: choices(&["t1", "t2"]),
            pairs: vec![("p1".into(), "t2".into()), ("p2".into(), "t1".into())],
        };
        assert!(is_correct(
            &matching,
            &Response::Pairs(vec![("p2".into(), "t1".into()), ("p1".into(), "t2".into())])
        ));
        assert!(!is_correct(
            &matching,
            &Response::Pairs(vec![("p1".into(), "t1".into()), ("p2".into(), "t2".into())])
        ));

        let faulty = ItemBody::FaultyLines { lines: vec![4, 7] };
        assert!(is_correct(&faulty, &Response::Lines(vec![7, 4])));
        assert!(!is_correct(&faulty, &Response::Lines(vec![4])));
        assert!(is_correct(
            &ItemBody::TrueFalse { correct: false },
            &Response::Bool(false)
        ));
    }

    #[test]
    fn broken_items_are_described() {
        let mut item = Item {
            id: "bad id".into(),
            domain: "d".into(),
            status: ItemStatus::Draft,
            version: 1,
            stem: " ".into(),
            artifact: Some(Artifact {
                kind: "code".into(),
                language: "python".into(),
                content: "a = 1\nb = 2\n".into(),
            }),
            body: ItemBody::FaultyLines { lines: vec![3] },
            rationale: String::new(),
        };
        assert_eq!(
            item.problems(),
            [
                "id `bad id` must be 1 to 64 letters, digits, `-`, `_` or `.`",
                "the question text is empty",
                "faulty line 3 is outside the artifact's 2 lines",
            ]
        );
        item.id = "ok".into();
        item.stem = "Which line?".into();
        item.body = ItemBody::SingleChoice {
            choices: choices(&["a", "a"]),
            correct: "z".into(),
        };
        assert_eq!(
            item.problems(),
            [
                "choice `a` appears twice",
                "the key `z` is not one of the choices"
            ]
        );
    }

    #[test]
    fn wildcards_match_any_run_of_characters() {
        assert!(wildcard_match("a*c", "abbbc"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a*b*c", "a-b-c"));
        assert!(!wildcard_match("a*b*c", "a-c-b"));
        assert!(!wildcard_match("ab*ba", "aba"));
    }

    #[test]
    fn presenting_an_item_never_carries_its_key() {
        let item = Item {
            id: "i1".into(),
            domain: "d".into(),
            status: ItemStatus::Active,
            version: 1,
            stem: "Which?".into(),
            artifact: None,
            body: ItemBody::SingleChoice {
                choices: choices(&["a", "b", "c"]),
                correct: "c".into(),
            },
            rationale: "Because c.".into(),
        };
        let shown = item.present(&[2, 0, 1], &[]);
        let ids: Vec<_> = shown.choices.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["c", "a", "b"]);
        let json = serde_json::to_string(&shown).unwrap();
        assert!(
            !json.contains("correct") && !json.contains("Because"),
            "{json}"
        );
    }
}
