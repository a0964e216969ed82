//! Outcome reports, computed from plain facts: exam pass rates per quarter and per domain,
//! first-attempt pass rates, time from enrolment to credential, renewal and lapse rates, and
//! outcome metrics of certified against non-certified partners (with the size of each group,
//! so nobody over-reads a small sample).

use jiff::civil::Date;
use serde::Serialize;
use std::collections::BTreeMap;

/// `2026-Q3` for a day in July 2026.
pub fn quarter_of(day: Date) -> String {
    format!("{}-Q{}", day.year(), (day.month() - 1) / 3 + 1)
}

/// The last day of a quarter like `2026-Q3`.
pub fn quarter_end(quarter: &str) -> Option<Date> {
    let (year, q) = quarter.split_once("-Q")?;
    let year: i16 = year.parse().ok()?;
    let q: i8 = q.parse().ok().filter(|q| (1..=4).contains(q))?;
    let first_of_next = if q == 4 {
        Date::new(year.checked_add(1)?, 1, 1).ok()?
    } else {
        Date::new(year, q * 3 + 1, 1).ok()?
    };
    first_of_next.yesterday().ok()
}

/// One scored exam attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptFact {
    pub person: String,
    pub exam: String,
    pub finished_on: Date,
    pub passed: bool,
    /// Each domain's percent correct.
    pub domains: Vec<(String, f64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PassRate {
    pub exam: String,
    pub quarter: String,
    pub attempts: usize,
    pub passed: usize,
    /// Percent, one decimal.
    pub rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomainScore {
    pub exam: String,
    pub domain: String,
    pub quarter: String,
    pub attempts: usize,
    /// Mean percent correct, one decimal.
    pub mean: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FirstAttempt {
    pub exam: String,
    /// People who sat the exam at least once.
    pub candidates: usize,
    pub passed_first_time: usize,
    pub rate: f64,
}

fn one_decimal(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        one_decimal(part as f64 * 100.0 / whole as f64)
    }
}

/// Pass rate per exam and quarter, in exam then quarter order.
pub fn pass_rates(attempts: &[AttemptFact]) -> Vec<PassRate> {
    let mut groups: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    for a in attempts {
        let entry = groups
            .entry((a.exam.clone(), quarter_of(a.finished_on)))
            .or_default();
        entry.0 += 1;
        entry.1 += usize::from(a.passed);
    }
    groups
        .into_iter()
        .map(|((exam, quarter), (attempts, passed))| PassRate {
            exam,
            quarter,
            attempts,
            passed,
            rate: percent(passed, attempts),
        })
        .collect()
}

/// Mean domain score per exam, domain and quarter.
pub fn domain_scores(attempts: &[AttemptFact]) -> Vec<DomainScore> {
    let mut groups: BTreeMap<(String, String, String), (usize, f64)> = BTreeMap::new();
    for a in attempts {
        for (domain, score) in &a.domains {
            let entry = groups
                .entry((a.exam.clone(), domain.clone(), quarter_of(a.finished_on)))
                .or_default();
            entry.0 += 1;
            entry.1 += score;
        }
    }
    groups
        .into_iter()
        .map(|((exam, domain, quarter), (n, sum))| DomainScore {
            exam,
            domain,
            quarter,
            attempts: n,
            mean: one_decimal(sum / n as f64),
        })
        .collect()
}

/// Per exam: of the people who sat it, how many passed their first scored attempt.
pub fn first_attempts(attempts: &[AttemptFact]) -> Vec<FirstAttempt> {
    let mut first: BTreeMap<(String, String), &AttemptFact> = BTreeMap::new();
    for a in attempts {
        let key = (a.exam.clone(), a.person.clone());
        match first.get(&key) {
            Some(earlier) if earlier.finished_on <= a.finished_on => {}
            _ => {
                first.insert(key, a);
            }
        }
    }
    let mut per_exam: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for ((exam, _), a) in first {
        let entry = per_exam.entry(exam).or_default();
        entry.0 += 1;
        entry.1 += usize::from(a.passed);
    }
    per_exam
        .into_iter()
        .map(|(exam, (candidates, passed))| FirstAttempt {
            exam,
            candidates,
            passed_first_time: passed,
            rate: percent(passed, candidates),
        })
        .collect()
}

/// Days from enrolment to first credential.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Duration {
    pub count: usize,
    pub median_days: Option<i64>,
    pub p90_days: Option<i64>,
}

/// The nearest-rank percentile of sorted values.
fn nearest_rank(sorted: &[i64], q: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank - 1).copied()
}

pub fn time_to_credential(pairs: &[(Date, Date)]) -> Duration {
    let mut days: Vec<i64> = pairs
        .iter()
        .map(|(start, issued)| crate::lifecycle::days_between(*start, *issued).max(0))
        .collect();
    days.sort_unstable();
    Duration {
        count: days.len(),
        median_days: nearest_rank(&days, 0.5),
        p90_days: nearest_rank(&days, 0.9),
    }
}

/// How a credential whose term ended turned out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Renewed,
    Expired,
    Lapsed,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Renewals {
    /// Credentials whose term ended (or that were renewed or lapsed) in the period.
    pub ended: usize,
    pub renewed: usize,
    pub expired: usize,
    pub lapsed: usize,
    pub renewal_rate: f64,
    pub lapse_rate: f64,
}

pub fn renewals(endings: &[Ending]) -> Renewals {
    let count = |e: Ending| endings.iter().filter(|x| **x == e).count();
    let (renewed, expired, lapsed) = (
        count(Ending::Renewed),
        count(Ending::Expired),
        count(Ending::Lapsed),
    );
    let ended = endings.len();
    Renewals {
        ended,
        renewed,
        expired,
        lapsed,
        renewal_rate: percent(renewed, ended),
        lapse_rate: percent(expired + lapsed, ended),
    }
}

/// One metric in one quarter, certified partners against the others.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub metric: String,
    pub quarter: String,
    pub certified_partners: usize,
    pub certified_mean: Option<f64>,
    pub other_partners: usize,
    pub other_mean: Option<f64>,
}

/// Outcome values (partner, quarter, metric, value) split by whether the partner was certified
/// at the end of that quarter.
pub fn compare_outcomes(
    values: &[(String, String, String, f64)],
    certified: impl Fn(&str, &str) -> bool,
) -> Vec<Comparison> {
    let mut groups: BTreeMap<(String, String), [(usize, f64); 2]> = BTreeMap::new();
    for (partner, quarter, metric, value) in values {
        let side = usize::from(!certified(partner, quarter));
        let entry = groups.entry((metric.clone(), quarter.clone())).or_default();
        entry[side].0 += 1;
        entry[side].1 += value;
    }
    let mean = |(n, sum): (usize, f64)| (n > 0).then(|| (sum / n as f64 * 100.0).round() / 100.0);
    groups
        .into_iter()
        .map(|((metric, quarter), [yes, no])| Comparison {
            metric,
            quarter,
            certified_partners: yes.0,
            certified_mean: mean(yes),
            other_partners: no.0,
            other_mean: mean(no),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn attempt(person: &str, day: Date, passed: bool, domains: &[(&str, f64)]) -> AttemptFact {
        AttemptFact {
            person: person.into(),
            exam: "e".into(),
            finished_on: day,
            passed,
            domains: domains.iter().map(|(d, s)| ((*d).into(), *s)).collect(),
        }
    }

    #[test]
    fn quarters_have_their_last_days() {
        assert_eq!(quarter_of(date(2026, 7, 1)), "2026-Q3");
        assert_eq!(quarter_end("2026-Q1"), Some(date(2026, 3, 31)));
        assert_eq!(quarter_end("2026-Q4"), Some(date(2026, 12, 31)));
        assert_eq!(quarter_end("2026-Q5"), None);
    }

    #[test]
    fn pass_rates_first_attempts_and_domain_means() {
        let attempts = [
            attempt("a", date(2026, 1, 5), false, &[("x", 40.0), ("y", 60.0)]),
            attempt("a", date(2026, 2, 9), true, &[("x", 90.0), ("y", 80.0)]),
            attempt("b", date(2026, 2, 1), true, &[("x", 100.0), ("y", 70.0)]),
            attempt("c", date(2026, 4, 1), false, &[("x", 10.0), ("y", 20.0)]),
        ];
        let rates = pass_rates(&attempts);
        assert_eq!(
            (
                rates[0].quarter.as_str(),
                rates[0].attempts,
                rates[0].passed,
                rates[0].rate
            ),
            ("2026-Q1", 3, 2, 66.7)
        );
        assert_eq!((rates[1].attempts, rates[1].rate), (1, 0.0));
        let first = first_attempts(&attempts);
        assert_eq!(
            (
                first[0].candidates,
                first[0].passed_first_time,
                first[0].rate
            ),
            (3, 1, 33.3)
        );
        let domains = domain_scores(&attempts);
        assert_eq!(domains[0].domain, "x");
        assert_eq!(
            (domains[0].quarter.as_str(), domains[0].mean),
            ("2026-Q1", 76.7)
        );
    }

    #[test]
    fn durations_renewals_and_comparisons() {
        let d = time_to_credential(&[
            (date(2026, 1, 1), date(2026, 1, 31)),
            (date(2026, 1, 1), date(2026, 3, 1)),
            (date(2026, 1, 1), date(2026, 1, 11)),
        ]);
        assert_eq!(
            (d.count, d.median_days, d.p90_days),
            (3, Some(30), Some(59))
        );
        let r = renewals(&[
            Ending::Renewed,
            Ending::Expired,
            Ending::Renewed,
            Ending::Lapsed,
        ]);
        assert_eq!((r.ended, r.renewal_rate, r.lapse_rate), (4, 50.0, 50.0));
        let values = vec![
            (
                "p1".to_owned(),
                "2026-Q1".to_owned(),
                "nps".to_owned(),
                50.0,
            ),
            (
                "p2".to_owned(),
                "2026-Q1".to_owned(),
                "nps".to_owned(),
                30.0,
            ),
            (
                "p3".to_owned(),
                "2026-Q1".to_owned(),
                "nps".to_owned(),
                10.0,
            ),
        ];
        let c = compare_outcomes(&values, |p, _| p != "p3");
        assert_eq!(
            (
                c[0].certified_partners,
                c[0].certified_mean,
                c[0].other_partners,
                c[0].other_mean
            ),
            (2, Some(40.0), 1, Some(10.0))
        );
    }
}
