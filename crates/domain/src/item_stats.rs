//! Item quality from scored attempts: each item's difficulty (p-value), its discrimination
//! (point-biserial correlation with the rest of the attempt), how often each option was
//! chosen, and the exam's KR-20 reliability and pass rate. Items that misbehave are flagged.

use serde::Serialize;
use std::collections::BTreeMap;

/// One scored attempt: per item on its form, whether it was right and which options were
/// picked (for choice items).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredAttempt {
    pub passed: bool,
    pub items: Vec<ItemResult>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ItemResult {
    pub item_id: String,
    pub correct: bool,
    pub chosen: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ItemStats {
    pub item_id: String,
    /// Attempts that had this item on their form.
    pub responses: u32,
    /// Share of those attempts that got it right, 0 to 1.
    pub p_value: f64,
    /// Correlation of getting it right with the score on the rest of the form; `None` when
    /// every candidate scored alike.
    pub point_biserial: Option<f64>,
    /// (option id, share of responses that chose it), for choice items.
    pub option_rates: Vec<(String, f64)>,
    pub flags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ExamStats {
    pub attempts: u32,
    pub pass_rate: Option<f64>,
    /// KR-20 reliability; `None` with fewer than two attempts, items or no score variance.
    pub kr20: Option<f64>,
    pub items: Vec<ItemStats>,
}

/// Below this many responses an item's figures are shown but not judged.
pub const MIN_RESPONSES_FOR_FLAGS: u32 = 10;

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Population variance: the attempts analysed are the whole population of interest.
fn variance(values: &[f64]) -> f64 {
    let m = mean(values);
    values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / values.len() as f64
}

/// Point-biserial r = (M1 − M0) / s · √(p·q), with M1 and M0 the mean rest-scores of those who
/// got the item right and wrong and s the population standard deviation of the rest-scores.
/// The rest-score leaves the item itself out, so it cannot correlate with itself.
fn point_biserial(pairs: &[(bool, f64)]) -> Option<f64> {
    let scores: Vec<f64> = pairs.iter().map(|(_, s)| *s).collect();
    let right: Vec<f64> = pairs.iter().filter(|(c, _)| *c).map(|(_, s)| *s).collect();
    let wrong: Vec<f64> = pairs.iter().filter(|(c, _)| !*c).map(|(_, s)| *s).collect();
    let sd = variance(&scores).sqrt();
    if right.is_empty() || wrong.is_empty() || sd == 0.0 {
        return None;
    }
    let p = right.len() as f64 / pairs.len() as f64;
    Some((mean(&right) - mean(&wrong)) / sd * (p * (1.0 - p)).sqrt())
}

pub fn analyse(attempts: &[ScoredAttempt]) -> ExamStats {
    let totals: Vec<f64> = attempts
        .iter()
        .map(|a| a.items.iter().filter(|i| i.correct).count() as f64)
        .collect();
    let mut per_item: BTreeMap<&str, Vec<(usize, &ItemResult)>> = BTreeMap::new();
    for (n, attempt) in attempts.iter().enumerate() {
        for result in &attempt.items {
            per_item
                .entry(&result.item_id)
                .or_default()
                .push((n, result));
        }
    }
    let items: Vec<ItemStats> = per_item
        .into_iter()
        .map(|(item_id, results)| {
            let responses = results.len() as u32;
            let right = results.iter().filter(|(_, r)| r.correct).count();
            let p_value = right as f64 / f64::from(responses);
            let pairs: Vec<(bool, f64)> = results
                .iter()
                .map(|(n, r)| (r.correct, totals[*n] - if r.correct { 1.0 } else { 0.0 }))
                .collect();
            let point_biserial = point_biserial(&pairs);
            let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
            for (_, r) in &results {
                for option in &r.chosen {
                    *counts.entry(option).or_default() += 1;
                }
            }
            let option_rates: Vec<(String, f64)> = counts
                .into_iter()
                .map(|(option, n)| (option.to_owned(), f64::from(n) / f64::from(responses)))
                .collect();
            let mut flags = Vec::new();
            if responses >= MIN_RESPONSES_FOR_FLAGS {
                if p_value < 0.2 {
                    flags.push(format!(
                        "too hard: only {:.0}% answer it correctly",
                        p_value * 100.0
                    ));
                }
                if p_value > 0.95 {
                    flags.push(format!(
                        "too easy: {:.0}% answer it correctly",
                        p_value * 100.0
                    ));
                }
                match point_biserial {
                    Some(r) if r < 0.0 => flags.push(format!(
                        "negative discrimination ({r:.2}): stronger candidates get it wrong more often; check the key"
                    )),
                    Some(r) if r < 0.15 => flags.push(format!(
                        "weak discrimination ({r:.2}): it barely separates strong from weak candidates"
                    )),
                    _ => {}
                }
            }
            ItemStats {
                item_id: item_id.to_owned(),
                responses,
                p_value,
                point_biserial,
                option_rates,
                flags,
            }
        })
        .collect();

    // With forms drawn from a larger bank each item is weighted by how often it appeared, so
    // a fixed form gives the textbook KR-20 = k/(k−1) · (1 − Σpq / σ²).
    let n = attempts.len();
    let k = if n == 0 {
        0.0
    } else {
        attempts.iter().map(|a| a.items.len()).sum::<usize>() as f64 / n as f64
    };
    let item_variance: f64 = items
        .iter()
        .map(|i| i.p_value * (1.0 - i.p_value) * f64::from(i.responses) / n as f64)
        .sum();
    let total_variance = if n > 0 { variance(&totals) } else { 0.0 };
    let kr20 = (n >= 2 && k >= 2.0 && total_variance > 0.0)
        .then(|| k / (k - 1.0) * (1.0 - item_variance / total_variance));
    ExamStats {
        attempts: n as u32,
        pass_rate: (n > 0).then(|| attempts.iter().filter(|a| a.passed).count() as f64 / n as f64),
        kr20,
        items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Five candidates, four items, one fixed form. Rows are candidates, columns items q1–q4.
    ///
    /// ```text
    ///        q1 q2 q3 q4  total
    /// c1      1  1  1  1    4
    /// c2      1  1  1  0    3
    /// c3      1  1  0  0    2
    /// c4      1  0  0  1    2
    /// c5      0  0  0  1    1
    /// ```
    /// By hand:
    /// - p: q1 = 4/5 = 0.8, q2 = 0.6, q3 = 0.4, q4 = 0.6.
    /// - Σpq = 0.16 + 0.24 + 0.24 + 0.24 = 0.88; totals 4,3,2,2,1 have mean 2.4 and population
    ///   variance (2.56 + 0.36 + 0.16 + 0.16 + 1.96) / 5 = 1.04.
    /// - KR-20 = 4/3 · (1 − 0.88/1.04) = 4/3 · 0.153846… = 0.205128…
    /// - q1 rest-scores (total − own): c1 3, c2 2, c3 1, c4 1 (right) and c5 1 (wrong):
    ///   M1 = 7/4 = 1.75, M0 = 1; rest-scores 3,2,1,1,1 have mean 1.6, variance
    ///   (1.96 + 0.16 + 0.36·3) / 5 = 0.64, sd 0.8; r = 0.75 / 0.8 · √(0.8·0.2) = 0.375.
    /// - q4 rest-scores: c1 3, c4 1, c5 0 (right), c2 3, c3 2 (wrong): M1 = 4/3, M0 = 2.5;
    ///   rest-scores 3,3,2,1,0 mean 1.8, variance (1.44·2 + 0.04 + 0.64 + 3.24) / 5 = 1.36;
    ///   r = (4/3 − 2.5) / √1.36 · √(0.6·0.4) = −1.166667 / 1.166190 · 0.489898 = −0.490098…
    fn fixed_form() -> Vec<ScoredAttempt> {
        let rows = [
            [true, true, true, true],
            [true, true, true, false],
            [true, true, false, false],
            [true, false, false, true],
            [false, false, false, true],
        ];
        rows.iter()
            .enumerate()
            .map(|(n, row)| ScoredAttempt {
                passed: n < 2,
                items: row
                    .iter()
                    .enumerate()
                    .map(|(i, correct)| ItemResult {
                        item_id: format!("q{}", i + 1),
                        correct: *correct,
                        // q1's key is `a`; c5 chose the distractor `b`.
                        chosen: if i == 0 {
                            vec![if *correct { "a" } else { "b" }.to_owned()]
                        } else {
                            vec![]
                        },
                    })
                    .collect(),
            })
            .collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn figures_match_the_hand_computed_values() {
        let stats = analyse(&fixed_form());
        let p: Vec<f64> = stats.items.iter().map(|i| i.p_value).collect();
        assert_eq!(p, [0.8, 0.6, 0.4, 0.6]);
        assert!(
            close(stats.kr20.unwrap(), 0.205_128_205),
            "{:?}",
            stats.kr20
        );
        assert!(close(stats.items[0].point_biserial.unwrap(), 0.375));
        assert!(close(
            stats.items[3].point_biserial.unwrap(),
            -0.490_098_029
        ));
        assert_eq!(stats.pass_rate, Some(0.4));
        assert_eq!(
            stats.items[0].option_rates,
            [("a".to_owned(), 0.8), ("b".to_owned(), 0.2)]
        );
        // Five responses are too few to judge an item.
        assert!(stats.items.iter().all(|i| i.flags.is_empty()));
    }

    #[test]
    fn misbehaving_items_are_flagged_once_there_are_enough_responses() {
        let mut attempts = fixed_form();
        attempts.extend(fixed_form());
        let stats = analyse(&attempts);
        assert_eq!(stats.items[0].responses, 10);
        assert!(
            stats.items[3].flags[0].starts_with("negative discrimination (-0.49)"),
            "{:?}",
            stats.items[3].flags
        );
        assert!(
            stats.items[1].flags.is_empty(),
            "{:?}",
            stats.items[1].flags
        );
    }

    #[test]
    fn nothing_to_say_without_attempts() {
        let stats = analyse(&[]);
        assert_eq!(
            (stats.attempts, stats.pass_rate, stats.kr20),
            (0, None, None)
        );
    }
}
