//! Reviewing practical submissions: the rubric, who may review, how reviews combine into a
//! decision (one reviewer, or two blind reviewers with a third deciding when they disagree), and
//! inter-rater agreement (Cohen's kappa) per rubric.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rubric {
    pub criteria: Vec<Criterion>,
    /// A second, blind reviewer; a third decides when the two disagree.
    pub second_review: bool,
}

impl Default for Rubric {
    fn default() -> Self {
        Self {
            criteria: vec![Criterion {
                id: "meets-bar".into(),
                name: "Meets the bar described for this practical".into(),
                max_score: 1,
            }],
            second_review: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Criterion {
    pub id: String,
    pub name: String,
    /// Scores run from 0 to this.
    pub max_score: u32,
}

/// What a reviewer decided; also the meaning of their electronic signature.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Reject,
    RequestChanges,
}

impl Verdict {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "approve" => Some(Self::Approve),
            "reject" => Some(Self::Reject),
            "request_changes" => Some(Self::RequestChanges),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::RequestChanges => "request_changes",
        }
    }

    /// The meaning recorded with the signature.
    pub fn meaning(self) -> &'static str {
        match self {
            Self::Approve => "approved",
            Self::Reject => "rejected",
            Self::RequestChanges => "changes requested",
        }
    }
}

/// Where a submission stands after its reviews of the current round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Waiting for this many more reviews.
    NeedsReviews(usize),
    Decided(Verdict),
}

/// Combines a round's verdicts, in the order they were given.
pub fn outcome(rubric: &Rubric, verdicts: &[Verdict]) -> Outcome {
    if !rubric.second_review {
        return match verdicts.first() {
            Some(v) => Outcome::Decided(*v),
            None => Outcome::NeedsReviews(1),
        };
    }
    match verdicts {
        [] => Outcome::NeedsReviews(2),
        [_] => Outcome::NeedsReviews(1),
        [a, b] if a == b => Outcome::Decided(*a),
        [_, _] => Outcome::NeedsReviews(1),
        [_, _, third, ..] => Outcome::Decided(*third),
    }
}

/// Scores must name every criterion once, within its range.
pub fn score_problems(rubric: &Rubric, scores: &[(String, u32)]) -> Vec<String> {
    let mut problems = Vec::new();
    for criterion in &rubric.criteria {
        match scores.iter().filter(|(id, _)| *id == criterion.id).count() {
            0 => problems.push(format!("score criterion `{}`", criterion.id)),
            1 => {}
            _ => problems.push(format!("criterion `{}` is scored twice", criterion.id)),
        }
    }
    for (id, score) in scores {
        match rubric.criteria.iter().find(|c| c.id == *id) {
            None => problems.push(format!("`{id}` is not a criterion of this rubric")),
            Some(c) if *score > c.max_score => problems.push(format!(
                "criterion `{id}` is scored {score}; the most is {}",
                c.max_score
            )),
            Some(_) => {}
        }
    }
    problems
}

/// Cohen's kappa for pairs of verdicts on the same submissions: κ = (pₒ − pₑ) / (1 − pₑ), with
/// pₒ the share of pairs that agree and pₑ the agreement expected by chance from each reviewer
/// slot's own verdict rates. `None` without pairs, or when chance agreement is already total.
pub fn cohens_kappa(pairs: &[(Verdict, Verdict)]) -> Option<f64> {
    if pairs.is_empty() {
        return None;
    }
    let n = pairs.len() as f64;
    let observed = pairs.iter().filter(|(a, b)| a == b).count() as f64 / n;
    let all = [Verdict::Approve, Verdict::Reject, Verdict::RequestChanges];
    let expected: f64 = all
        .iter()
        .map(|v| {
            let first = pairs.iter().filter(|(a, _)| a == v).count() as f64 / n;
            let second = pairs.iter().filter(|(_, b)| b == v).count() as f64 / n;
            first * second
        })
        .sum();
    (expected < 1.0).then(|| (observed - expected) / (1.0 - expected))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Verdict::*;

    fn double() -> Rubric {
        Rubric {
            second_review: true,
            ..Rubric::default()
        }
    }

    #[test]
    fn one_review_decides_unless_a_second_is_required() {
        assert_eq!(outcome(&Rubric::default(), &[]), Outcome::NeedsReviews(1));
        assert_eq!(
            outcome(&Rubric::default(), &[Reject]),
            Outcome::Decided(Reject)
        );
        assert_eq!(outcome(&double(), &[Approve]), Outcome::NeedsReviews(1));
        assert_eq!(
            outcome(&double(), &[Approve, Approve]),
            Outcome::Decided(Approve)
        );
        // Disagreement: a third reviewer decides.
        assert_eq!(
            outcome(&double(), &[Approve, Reject]),
            Outcome::NeedsReviews(1)
        );
        assert_eq!(
            outcome(&double(), &[Approve, Reject, Reject]),
            Outcome::Decided(Reject)
        );
    }

    #[test]
    fn scores_must_cover_the_rubric_within_range() {
        let rubric = Rubric {
            criteria: vec![
                Criterion {
                    id: "lifecycle".into(),
                    name: "Lifecycle stages".into(),
                    max_score: 4,
                },
                Criterion {
                    id: "reporting".into(),
                    name: "Reporting".into(),
                    max_score: 4,
                },
            ],
            second_review: false,
        };
        assert!(
            score_problems(&rubric, &[("lifecycle".into(), 4), ("reporting".into(), 0)]).is_empty()
        );
        assert_eq!(
            score_problems(&rubric, &[("lifecycle".into(), 5), ("style".into(), 1)]),
            [
                "score criterion `reporting`",
                "criterion `lifecycle` is scored 5; the most is 4",
                "`style` is not a criterion of this rubric",
            ]
        );
    }

    /// Ten double-reviewed submissions:
    /// both approve 5, both reject 2, approve/reject 2, reject/approve 1.
    /// pₒ = 7/10 = 0.7. First reviewer approves 7/10, rejects 3/10; second approves 6/10,
    /// rejects 4/10. pₑ = 0.7·0.6 + 0.3·0.4 = 0.42 + 0.12 = 0.54.
    /// κ = (0.7 − 0.54) / (1 − 0.54) = 0.16 / 0.46 = 0.347826…
    #[test]
    fn kappa_matches_the_hand_computed_value() {
        let mut pairs = vec![(Approve, Approve); 5];
        pairs.extend([(Reject, Reject); 2]);
        pairs.extend([(Approve, Reject); 2]);
        pairs.push((Reject, Approve));
        let kappa = cohens_kappa(&pairs).unwrap();
        assert!((kappa - 0.347_826_087).abs() < 1e-6, "{kappa}");
        assert_eq!(cohens_kappa(&[(Approve, Approve)]), None, "all chance");
        assert_eq!(cohens_kappa(&[]), None);
        assert_eq!(
            cohens_kappa(&[(Approve, Approve), (Reject, Reject)]),
            Some(1.0)
        );
    }
}
