//! Sitting an exam: who may start an attempt and when, the form each attempt gets (drawn and
//! shuffled from a recorded seed, so any form can be rebuilt), and the score.

use crate::blueprint::{Blueprint, Shortfall};
use crate::exam::Item;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An earlier attempt, as eligibility needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct PastAttempt {
    pub started_at: Timestamp,
    /// `None` while the attempt is open.
    pub finished_at: Option<Timestamp>,
    /// `None` when open or invalidated.
    pub passed: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Eligibility {
    pub eligible: bool,
    /// Why not, in words the candidate understands.
    pub reason: Option<String>,
    /// The first moment a new attempt is allowed, when waiting is what stands in the way.
    #[schema(value_type = Option<String>)]
    pub next_attempt_at: Option<Timestamp>,
}

impl Eligibility {
    fn yes() -> Self {
        Self {
            eligible: true,
            reason: None,
            next_attempt_at: None,
        }
    }

    fn no(reason: String, next_attempt_at: Option<Timestamp>) -> Self {
        Self {
            eligible: false,
            reason: Some(reason),
            next_attempt_at,
        }
    }
}

fn days(n: u32) -> SignedDuration {
    SignedDuration::from_hours(24 * i64::from(n))
}

/// Whether a candidate may start an attempt now. Invalidated attempts count towards the limit:
/// otherwise getting caught would be a free retake.
pub fn eligibility(
    blueprint: &Blueprint,
    completed_modules: &[String],
    history: &[PastAttempt],
    now: Timestamp,
) -> Eligibility {
    let missing: Vec<&str> = blueprint
        .prerequisites
        .iter()
        .filter(|m| !completed_modules.contains(m))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Eligibility::no(
            format!(
                "complete the prerequisite module{} first: {}",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            ),
            None,
        );
    }
    if history.iter().any(|a| a.finished_at.is_none()) {
        return Eligibility::no("an attempt is already in progress".into(), None);
    }
    if let Some(passed) = history.iter().find(|a| a.passed == Some(true)) {
        return Eligibility::no(
            format!(
                "already passed on {}",
                passed
                    .finished_at
                    .unwrap_or(passed.started_at)
                    .strftime("%Y-%m-%d")
            ),
            None,
        );
    }
    let mut reasons = Vec::new();
    let mut next: Option<Timestamp> = None;
    let last_fail = history
        .iter()
        .filter(|a| a.passed == Some(false))
        .filter_map(|a| a.finished_at)
        .max();
    if let Some(failed_at) = last_fail {
        let allowed = failed_at + days(blueprint.retake.wait_days);
        if now < allowed {
            reasons.push(format!(
                "the last attempt failed on {}; the retake policy asks for {} days between a failed attempt and the next",
                failed_at.strftime("%Y-%m-%d"),
                blueprint.retake.wait_days
            ));
            next = Some(allowed);
        }
    }
    let window_start = now - days(blueprint.retake.period_days);
    let mut in_window: Vec<Timestamp> = history
        .iter()
        .map(|a| a.started_at)
        .filter(|t| *t > window_start)
        .collect();
    in_window.sort();
    let max = blueprint.retake.max_attempts as usize;
    if max > 0 && in_window.len() >= max {
        // Room for one more once enough of the oldest attempts leave the window.
        let frees = in_window[in_window.len() - max] + days(blueprint.retake.period_days);
        reasons.push(format!(
            "at most {} attempts are allowed in {} days, and {} were started",
            blueprint.retake.max_attempts,
            blueprint.retake.period_days,
            in_window.len()
        ));
        next = Some(next.map_or(frees, |n| n.max(frees)));
    }
    if reasons.is_empty() {
        Eligibility::yes()
    } else {
        Eligibility::no(reasons.join("; "), next)
    }
}

/// One item of an attempt's form, with its options' shuffled order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormItem {
    pub item_id: String,
    pub version: u32,
    pub domain: String,
    pub choice_order: Vec<usize>,
    pub target_order: Vec<usize>,
}

/// SplitMix64: small, fast and stable across releases, which a recorded seed needs to rebuild
/// the same form years later. Also what simulations (the demo's history, benchmarks) draw from.
pub struct SeededRng(pub u64);

impl SeededRng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n); 0 when n is 0.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Fisher–Yates.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }

    fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..n).collect();
        self.shuffle(&mut order);
        order
    }
}

/// Draws each domain's item count from the active items, then shuffles the items and every
/// item's options. The same bank and seed always give the same form.
pub fn assemble(
    blueprint: &Blueprint,
    active: &[Item],
    seed: u64,
) -> Result<Vec<FormItem>, Vec<Shortfall>> {
    let mut by_domain: BTreeMap<&str, Vec<&Item>> = BTreeMap::new();
    for item in active {
        by_domain.entry(&item.domain).or_default().push(item);
    }
    let counts = by_domain
        .iter()
        .map(|(domain, items)| ((*domain).to_owned(), items.len() as u32))
        .collect();
    let short = blueprint.shortfalls(&counts);
    if !short.is_empty() {
        return Err(short);
    }
    let mut rng = SeededRng(seed);
    let mut chosen: Vec<&Item> = Vec::new();
    for domain in &blueprint.domains {
        let mut pool = by_domain.remove(domain.id.as_str()).unwrap_or_default();
        pool.sort_by(|a, b| a.id.cmp(&b.id));
        rng.shuffle(&mut pool);
        chosen.extend(pool.into_iter().take(domain.items as usize));
    }
    rng.shuffle(&mut chosen);
    Ok(chosen
        .into_iter()
        .map(|item| {
            let (choices, targets) = item.option_counts();
            FormItem {
                item_id: item.id.clone(),
                version: item.version,
                domain: item.domain.clone(),
                choice_order: rng.permutation(choices),
                target_order: rng.permutation(targets),
            }
        })
        .collect())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DomainScore {
    pub domain: String,
    pub name: String,
    pub weight: u32,
    /// Items of this domain answered correctly.
    pub answered_correctly: u32,
    pub items: u32,
    /// Correct answers in this domain, in percent.
    pub percent: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AttemptScore {
    pub domains: Vec<DomainScore>,
    /// The blueprint-weighted total, in percent, to two decimals.
    pub total_percent: f64,
    pub passing_score: u32,
    pub passed: bool,
}

fn two_decimals(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Scores an attempt: each domain's share of correct answers, weighted by the blueprint.
/// `results` holds (domain, correct) for every item on the form, answered or not.
pub fn score(blueprint: &Blueprint, results: &[(String, bool)]) -> AttemptScore {
    let domains: Vec<DomainScore> = blueprint
        .domains
        .iter()
        .map(|d| {
            let mine: Vec<bool> = results
                .iter()
                .filter(|(domain, _)| *domain == d.id)
                .map(|(_, correct)| *correct)
                .collect();
            let correct = mine.iter().filter(|c| **c).count() as u32;
            let items = mine.len() as u32;
            DomainScore {
                domain: d.id.clone(),
                name: d.name.clone(),
                weight: d.weight,
                answered_correctly: correct,
                items,
                percent: if items == 0 {
                    0.0
                } else {
                    two_decimals(100.0 * f64::from(correct) / f64::from(items))
                },
            }
        })
        .collect();
    let total: f64 = domains
        .iter()
        .filter(|d| d.items > 0)
        .map(|d| f64::from(d.weight) * f64::from(d.answered_correctly) / f64::from(d.items))
        .sum();
    let total_percent = two_decimals(total);
    AttemptScore {
        domains,
        total_percent,
        passing_score: blueprint.passing_score,
        passed: total_percent >= f64::from(blueprint.passing_score),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blueprint::{BlueprintDomain, RetakePolicy};
    use crate::exam::{Choice, ItemBody, ItemStatus};

    fn blueprint() -> Blueprint {
        Blueprint {
            domains: vec![
                BlueprintDomain {
                    id: "auth".into(),
                    name: "Authentication".into(),
                    weight: 60,
                    items: 3,
                },
                BlueprintDomain {
                    id: "data".into(),
                    name: "Data handling".into(),
                    weight: 40,
                    items: 2,
                },
            ],
            passing_score: 85,
            time_limit_minutes: 60,
            retake: RetakePolicy {
                wait_days: 30,
                max_attempts: 3,
                period_days: 365,
            },
            study_hours: 10,
            prerequisites: vec!["intro".into()],
            proctored: false,
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn attempt(started: &str, finished: &str, passed: bool) -> PastAttempt {
        PastAttempt {
            started_at: at(started),
            finished_at: Some(at(finished)),
            passed: Some(passed),
        }
    }

    #[test]
    fn prerequisites_come_first() {
        let e = eligibility(&blueprint(), &[], &[], at("2027-01-01T00:00:00Z"));
        assert!(!e.eligible);
        assert_eq!(
            e.reason.as_deref(),
            Some("complete the prerequisite module first: intro")
        );
        assert_eq!(e.next_attempt_at, None);
        let done = ["intro".to_owned()];
        assert!(eligibility(&blueprint(), &done, &[], at("2027-01-01T00:00:00Z")).eligible);
    }

    #[test]
    fn a_failed_attempt_means_waiting_thirty_days() {
        let done = ["intro".to_owned()];
        let history = [attempt(
            "2027-01-01T09:00:00Z",
            "2027-01-01T10:00:00Z",
            false,
        )];
        let e = eligibility(&blueprint(), &done, &history, at("2027-01-15T00:00:00Z"));
        assert!(!e.eligible);
        assert_eq!(e.next_attempt_at, Some(at("2027-01-31T10:00:00Z")));
        assert!(e.reason.unwrap().contains("failed on 2027-01-01"));
        assert!(eligibility(&blueprint(), &done, &history, at("2027-01-31T10:00:00Z")).eligible);
    }

    #[test]
    fn the_attempt_limit_frees_up_when_the_oldest_attempt_leaves_the_period() {
        let done = ["intro".to_owned()];
        let history = [
            attempt("2027-01-01T09:00:00Z", "2027-01-01T10:00:00Z", false),
            attempt("2027-02-05T09:00:00Z", "2027-02-05T10:00:00Z", false),
            attempt("2027-03-10T09:00:00Z", "2027-03-10T10:00:00Z", false),
        ];
        let e = eligibility(&blueprint(), &done, &history, at("2027-06-01T00:00:00Z"));
        assert!(!e.eligible);
        assert_eq!(e.next_attempt_at, Some(at("2028-01-01T09:00:00Z")));
        assert!(
            e.reason
                .unwrap()
                .contains("at most 3 attempts are allowed in 365 days")
        );
    }

    #[test]
    fn a_pass_or_an_open_attempt_refuses_a_new_one() {
        let done = ["intro".to_owned()];
        let passed = [attempt(
            "2027-01-01T09:00:00Z",
            "2027-01-01T10:00:00Z",
            true,
        )];
        let e = eligibility(&blueprint(), &done, &passed, at("2027-06-01T00:00:00Z"));
        assert_eq!(e.reason.as_deref(), Some("already passed on 2027-01-01"));
        let open = [PastAttempt {
            started_at: at("2027-01-01T09:00:00Z"),
            finished_at: None,
            passed: None,
        }];
        let e = eligibility(&blueprint(), &done, &open, at("2027-01-01T09:10:00Z"));
        assert_eq!(
            e.reason.as_deref(),
            Some("an attempt is already in progress")
        );
    }

    fn item(id: &str, domain: &str) -> Item {
        Item {
            id: id.into(),
            domain: domain.into(),
            status: ItemStatus::Active,
            version: 1,
            stem: format!("Question {id}"),
            artifact: None,
            body: ItemBody::SingleChoice {
                choices: ["a", "b", "c", "d"]
                    .iter()
                    .map(|c| Choice {
                        id: (*c).into(),
                        text: (*c).into(),
                    })
                    .collect(),
                correct: "a".into(),
            },
            rationale: String::new(),
        }
    }

    #[test]
    fn forms_meet_the_blueprint_counts_and_the_seed_rebuilds_them() {
        let bank: Vec<Item> = (0..6)
            .map(|i| item(&format!("auth-{i}"), "auth"))
            .chain((0..4).map(|i| item(&format!("data-{i}"), "data")))
            .collect();
        let form = assemble(&blueprint(), &bank, 42).unwrap();
        assert_eq!(form.len(), 5);
        assert_eq!(form.iter().filter(|f| f.domain == "auth").count(), 3);
        assert_eq!(form.iter().filter(|f| f.domain == "data").count(), 2);
        assert!(form.iter().all(|f| {
            let mut order = f.choice_order.clone();
            order.sort();
            order == [0, 1, 2, 3]
        }));
        assert_eq!(assemble(&blueprint(), &bank, 42).unwrap(), form);
        let others: Vec<_> = (0..20)
            .map(|seed| assemble(&blueprint(), &bank, seed).unwrap())
            .collect();
        assert!(others.iter().any(|f| f != &form), "seeds vary the form");

        let short = assemble(&blueprint(), &bank[..7], 1).unwrap_err();
        assert_eq!(
            short[0].to_string(),
            "domain `data` needs 2 active items and the bank has 1"
        );
    }

    #[test]
    fn the_total_is_weighted_by_domain() {
        // auth 2 of 3 (66.67 %), data 2 of 2: 60 * 2/3 + 40 = 80 -> below 85.
        let results = [
            ("auth".to_owned(), true),
            ("auth".to_owned(), true),
            ("auth".to_owned(), false),
            ("data".to_owned(), true),
            ("data".to_owned(), true),
        ];
        let s = score(&blueprint(), &results);
        assert_eq!(s.total_percent, 80.0);
        assert!(!s.passed);
        assert_eq!(s.domains[0].percent, 66.67);
        assert_eq!(
            (s.domains[1].answered_correctly, s.domains[1].items),
            (2, 2)
        );
        let all = results.map(|(d, _)| (d, true));
        let s = score(&blueprint(), &all);
        assert_eq!(s.total_percent, 100.0);
        assert!(s.passed);
    }
}
