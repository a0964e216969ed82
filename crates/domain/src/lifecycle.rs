//! Keeping credentials current: what is due for a credential on a given day — reminders 90, 60
//! and 30 days before it lapses, the opening of its renewal window, its expiry — and the next day
//! anything will be, so that a daily sweep only ever reads what is due.

use crate::program::{Program, RenewalRequirement, Rule, Track};
use jiff::civil::Date;
use jiff::{Span, ToSpan as _};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Reminders go out this many days before a credential lapses.
pub const REMINDER_DAYS: [u32; 3] = [90, 60, 30];

/// Something that happens to a credential on a fixed day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Milestone {
    /// The renewal window opens: renewing is possible from this day.
    RenewalOpens,
    /// A reminder this many days before the credential lapses.
    Reminder { days_before: u32 },
    /// The first day the credential is no longer valid.
    Expiry,
}

impl Milestone {
    /// A stable name, used in deduplication keys and message topics.
    pub fn key(&self) -> String {
        match self {
            Self::RenewalOpens => "renewal-opens".into(),
            Self::Reminder { days_before } => format!("reminder-{days_before}"),
            Self::Expiry => "expiry".into(),
        }
    }
}

/// The first day a credential valid through `valid_until` no longer holds.
pub fn lapses_on(valid_until: Date) -> Date {
    valid_until.tomorrow().unwrap_or(Date::MAX)
}

fn days_before(day: Date, days: u32) -> Date {
    day.checked_sub(Span::new().days(i64::from(days)))
        .unwrap_or(Date::MIN)
}

/// Every milestone of a credential, in date order (on the same day: renewal window, then
/// reminder, then expiry).
pub fn schedule(valid_until: Date, renewal_window_days: u32) -> Vec<(Date, Milestone)> {
    let lapses = lapses_on(valid_until);
    let mut items: Vec<(Date, Milestone)> = REMINDER_DAYS
        .iter()
        .map(|&d| {
            (
                days_before(lapses, d),
                Milestone::Reminder { days_before: d },
            )
        })
        .collect();
    if renewal_window_days > 0 {
        items.push((
            days_before(lapses, renewal_window_days),
            Milestone::RenewalOpens,
        ));
    }
    items.push((lapses, Milestone::Expiry));
    items.sort();
    items
}

/// The first day on or after `from` with a milestone; `None` once expiry has passed.
pub fn next_due(valid_until: Date, renewal_window_days: u32, from: Date) -> Option<Date> {
    schedule(valid_until, renewal_window_days)
        .into_iter()
        .map(|(day, _)| day)
        .find(|day| *day >= from)
}

/// Where a credential's schedule starts when it is recorded on `from`: its next milestone, or
/// for a credential already past its end, its expiry (so the sweep marks it expired). Earlier
/// reminders are not sent late.
pub fn first_due(valid_until: Date, renewal_window_days: u32, from: Date) -> Date {
    next_due(valid_until, renewal_window_days, from).unwrap_or_else(|| lapses_on(valid_until))
}

/// What the sweep of `as_of` does for a credential whose milestones from `from` on (the day it
/// was last due) have not been handled yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// What to act on now, in order.
    pub act_on: Vec<(Date, Milestone)>,
    /// Milestones passed over: a later one made them pointless (a 90-day reminder when the
    /// 60-day one is due too, or any reminder once the credential has expired).
    pub passed_over: Vec<(Date, Milestone)>,
    /// The next day something will be due; `None` when nothing ever will.
    pub next: Option<Date>,
}

/// Splits the unhandled milestones up to `as_of` into those to act on and those passed over.
/// When the sweep runs every day, nothing is passed over; after a gap, only the latest reminder
/// is sent, and an expiry makes reminders and the renewal notice moot.
pub fn due(valid_until: Date, renewal_window_days: u32, from: Date, as_of: Date) -> Due {
    let all = schedule(valid_until, renewal_window_days);
    let pending: Vec<(Date, Milestone)> = all
        .iter()
        .copied()
        .filter(|(day, _)| *day >= from && *day <= as_of)
        .collect();
    let expired = pending.iter().any(|(_, m)| *m == Milestone::Expiry);
    let latest_reminder = pending
        .iter()
        .filter(|(_, m)| matches!(m, Milestone::Reminder { .. }))
        .map(|(day, _)| *day)
        .max();
    let (act_on, passed_over) = pending.into_iter().partition(|(day, m)| match m {
        Milestone::Expiry => true,
        _ if expired => false,
        Milestone::RenewalOpens => true,
        Milestone::Reminder { .. } => Some(*day) == latest_reminder,
    });
    let next = all.iter().map(|(day, _)| *day).find(|day| *day > as_of);
    Due {
        act_on,
        passed_over,
        next,
    }
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: Date, to: Date) -> i64 {
    // Civil dates have no time zone, so every day is 24 hours long.
    from.duration_until(to).as_hours() / 24
}

/// A recertification deadline or remediation deadline `days` after `from`.
pub fn deadline_after(from: Date, days: u32) -> Date {
    from.checked_add(i64::from(days).days())
        .unwrap_or(Date::MAX)
}

/// The first day a credential valid through `valid_until` can be renewed.
pub fn renewal_opens(valid_until: Date, renewal_window_days: u32) -> Date {
    days_before(lapses_on(valid_until), renewal_window_days)
}

/// What a person did, with the latest date of each, as renewal reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenewalEvidence {
    pub modules: BTreeMap<String, Date>,
    pub exams: BTreeMap<String, Date>,
    /// Approved practical submissions: which practical, and when.
    pub approvals: Vec<(String, Date)>,
    /// When the person finished the credential's delta module, if they did.
    pub delta_read_on: Option<Date>,
}

/// Whether the renewal requirement of `track` is met by evidence dated on or after `since`
/// (the day the renewal window opened). `Err` lists what is missing, in words.
pub fn renewal_met(
    program: &Program,
    track: &Track,
    evidence: &RenewalEvidence,
    since: Date,
) -> Result<(), Vec<String>> {
    let recent =
        |dates: &BTreeMap<String, Date>, id: &str| dates.get(id).is_some_and(|d| *d >= since);
    match &track.renewal.requires {
        RenewalRequirement::FullTrack => {
            let mut missing = Vec::new();
            full_track_missing(
                &track.requires,
                evidence,
                since,
                &mut |rule| match rule {
                    Rule::Module(id) => {
                        format!("complete the module {} again", program.module_title(id))
                    }
                    Rule::Exam(id) => format!("pass the exam {} again", program.exam_title(id)),
                    Rule::Practical(id) => {
                        format!("have {} approved again", program.practical_title(id))
                    }
                    _ => String::new(),
                },
                &mut missing,
            );
            if missing.is_empty() {
                Ok(())
            } else {
                Err(missing)
            }
        }
        RenewalRequirement::DeltaModule { delta_exam } => {
            let mut missing = Vec::new();
            if evidence.delta_read_on.is_none_or(|d| d < since) {
                missing.push("read the delta module (what changed since you earned it)".to_owned());
            }
            if let Some(exam) = delta_exam
                && !recent(&evidence.exams, exam)
            {
                missing.push(format!("pass the exam {}", program.exam_title(exam)));
            }
            if missing.is_empty() {
                Ok(())
            } else {
                Err(missing)
            }
        }
        RenewalRequirement::Practicals {
            practicals: names,
            count,
        } => {
            let done = evidence
                .approvals
                .iter()
                .filter(|(p, d)| names.contains(p) && *d >= since)
                .count();
            let count = *count as usize;
            if done >= count {
                Ok(())
            } else {
                let titles: Vec<String> =
                    names.iter().map(|n| program.practical_title(n)).collect();
                Err(vec![format!(
                    "have {} more approved: {} ({done} of {count} so far)",
                    count - done,
                    titles.join(" or ")
                )])
            }
        }
    }
}

/// Collects the evidence leaves of a full track not renewed since `since`. In a choice, a
/// branch already renewed satisfies it; otherwise the first branch's gaps are reported.
fn full_track_missing(
    rule: &Rule,
    evidence: &RenewalEvidence,
    since: Date,
    describe: &mut dyn FnMut(&Rule) -> String,
    missing: &mut Vec<String>,
) {
    let fresh =
        |dates: &BTreeMap<String, Date>, id: &str| dates.get(id).is_some_and(|d| *d >= since);
    match rule {
        Rule::All(rules) => {
            for r in rules {
                full_track_missing(r, evidence, since, describe, missing);
            }
        }
        Rule::Any(rules) => {
            let mut gaps: Vec<Vec<String>> = rules
                .iter()
                .map(|r| {
                    let mut branch = Vec::new();
                    full_track_missing(r, evidence, since, describe, &mut branch);
                    branch
                })
                .collect();
            if !gaps.iter().any(Vec::is_empty)
                && let Some(first) = gaps.first_mut()
            {
                missing.append(first);
            }
        }
        Rule::Module(id) if !fresh(&evidence.modules, id) => missing.push(describe(rule)),
        Rule::Exam(id) if !fresh(&evidence.exams, id) => missing.push(describe(rule)),
        Rule::Practical(id)
            if !evidence
                .approvals
                .iter()
                .any(|(p, d)| p == id && *d >= since) =>
        {
            missing.push(describe(rule));
        }
        // Holding another credential, tiers and the like are checked as when it was earned.
        _ => {}
    }
}

/// What a recertification trigger names as changed: modules, exam domains, or (neither) the
/// whole track.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecertScope {
    pub modules: Vec<String>,
    pub domains: Vec<String>,
}

/// The exams `track` requires whose blueprints test one of `domains`.
fn exams_covering<'a>(program: &'a Program, track: &Track, domains: &[String]) -> Vec<&'a str> {
    let required: Vec<&str> = track
        .requires
        .walk()
        .into_iter()
        .filter_map(|r| match r {
            Rule::Exam(e) => Some(e.as_str()),
            _ => None,
        })
        .collect();
    program
        .exams
        .iter()
        .filter(|e| required.contains(&e.id.as_str()))
        .filter(|e| {
            e.blueprint
                .as_ref()
                .is_some_and(|b| b.domains.iter().any(|d| domains.contains(&d.id)))
        })
        .map(|e| e.id.as_str())
        .collect()
}

/// Whether a credential of `track`, earned on the modules `earned_on`, covered what the
/// trigger names. A trigger naming nothing covers every credential of its tracks.
pub fn trigger_covers(
    program: &Program,
    track: &Track,
    earned_on: &[String],
    scope: &RecertScope,
) -> bool {
    if scope.modules.is_empty() && scope.domains.is_empty() {
        return true;
    }
    let track_modules: Vec<&str> = track
        .requires
        .walk()
        .into_iter()
        .filter_map(|r| match r {
            Rule::Module(m) => Some(m.as_str()),
            _ => None,
        })
        .collect();
    let covered_module = scope.modules.iter().any(|m| {
        if earned_on.is_empty() {
            track_modules.contains(&m.as_str())
        } else {
            earned_on.contains(m)
        }
    });
    covered_module || !exams_covering(program, track, &scope.domains).is_empty()
}

/// Whether a holder has recertified since `since` (the day the trigger was recorded): the
/// named modules completed again and the exams testing the named domains passed again; with
/// nothing named, the whole track again. `Err` lists what is missing.
pub fn recertified(
    program: &Program,
    track: &Track,
    scope: &RecertScope,
    evidence: &RenewalEvidence,
    since: Date,
) -> Result<(), Vec<String>> {
    if scope.modules.is_empty() && scope.domains.is_empty() {
        let mut full = track.clone();
        full.renewal.requires = RenewalRequirement::FullTrack;
        return renewal_met(program, &full, evidence, since);
    }
    let fresh =
        |dates: &BTreeMap<String, Date>, id: &str| dates.get(id).is_some_and(|d| *d >= since);
    let mut missing = Vec::new();
    for module in &scope.modules {
        if !fresh(&evidence.modules, module) {
            missing.push(format!(
                "complete the updated module {}",
                program.module_title(module)
            ));
        }
    }
    for exam in exams_covering(program, track, &scope.domains) {
        if !fresh(&evidence.exams, exam) {
            missing.push(format!("pass the exam {} again", program.exam_title(exam)));
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_year_credential_is_reminded_at_90_60_30_days_and_expires_the_day_after_its_last_day() {
        // Valid through 2027-11-25: lapses 2027-11-26.
        let items = schedule(date(2027, 11, 25), 90);
        assert_eq!(
            items,
            vec![
                (date(2027, 8, 28), Milestone::RenewalOpens),
                (date(2027, 8, 28), Milestone::Reminder { days_before: 90 }),
                (date(2027, 9, 27), Milestone::Reminder { days_before: 60 }),
                (date(2027, 10, 27), Milestone::Reminder { days_before: 30 }),
                (date(2027, 11, 26), Milestone::Expiry),
            ]
        );
    }

    #[test]
    fn a_daily_sweep_acts_on_each_milestone_on_its_day_and_then_points_at_the_next() {
        let valid_until = date(2027, 11, 25);
        let mut from = date(2026, 11, 26);
        let mut seen = Vec::new();
        let mut day = from;
        while day <= date(2027, 12, 31) {
            if day >= from {
                let due = due(valid_until, 90, from, day);
                assert!(due.passed_over.is_empty(), "nothing is skipped on {day}");
                seen.extend(due.act_on.iter().map(|(d, m)| (*d, *m, day)));
                match due.next {
                    Some(next) => from = next,
                    None => break,
                }
            }
            day = day.tomorrow().unwrap();
        }
        assert_eq!(seen.len(), 5);
        assert!(seen.iter().all(|(due_on, _, acted_on)| due_on == acted_on));
        assert_eq!(seen.last().unwrap().1, Milestone::Expiry);
    }

    #[test]
    fn after_a_gap_only_the_latest_reminder_goes_out() {
        let due = due(date(2027, 11, 25), 0, date(2027, 8, 28), date(2027, 9, 30));
        assert_eq!(
            due.act_on,
            vec![(date(2027, 9, 27), Milestone::Reminder { days_before: 60 })]
        );
        assert_eq!(
            due.passed_over,
            vec![(date(2027, 8, 28), Milestone::Reminder { days_before: 90 })]
        );
        assert_eq!(due.next, Some(date(2027, 10, 27)));
    }

    #[test]
    fn once_expired_reminders_are_moot_and_nothing_more_is_due() {
        let due = due(date(2027, 11, 25), 90, date(2027, 8, 1), date(2028, 1, 1));
        assert_eq!(due.act_on, vec![(date(2027, 11, 26), Milestone::Expiry)]);
        assert_eq!(due.passed_over.len(), 4);
        assert_eq!(due.next, None);
    }

    #[test]
    fn nothing_is_due_before_the_first_milestone() {
        let due = due(date(2027, 11, 25), 90, date(2026, 11, 26), date(2027, 1, 1));
        assert!(due.act_on.is_empty() && due.passed_over.is_empty());
        assert_eq!(due.next, Some(date(2027, 8, 28)));
        assert_eq!(
            next_due(date(2027, 11, 25), 90, date(2026, 11, 26)),
            Some(date(2027, 8, 28))
        );
    }

    #[test]
    fn a_credential_recorded_after_its_end_is_due_for_expiry_at_once() {
        assert_eq!(
            first_due(date(2026, 1, 31), 30, date(2026, 6, 1)),
            date(2026, 2, 1)
        );
        assert_eq!(
            first_due(date(2027, 1, 31), 30, date(2026, 6, 1)),
            date(2026, 11, 3)
        );
    }

    fn program(renewal: &str) -> Program {
        let mut program: Program = serde_json::from_value(serde_json::json!({
            "id": "p", "name": "P", "version": "1", "description": "", "partner_types": [],
            "job_roles": ["sales"], "releases": [],
            "modules": [
                {"id": "m1", "title": "Module one", "hours": 1.0, "job_roles": []},
                {"id": "m2", "title": "Module two", "hours": 1.0, "job_roles": []}
            ],
            "exams": [{"id": "e1", "title": "Exam one", "job_roles": []}],
            "practicals": [{"id": "audit", "title": "Annual audit", "description": ""}],
            "tracks": [{
                "id": "t", "name": "T", "job_roles": ["sales"],
                "requires": {"all": [{"module": "m1"}, {"any": [{"exam": "e1"}, {"module": "m2"}]}]},
                "validity": {"months": 12},
                "renewal": {"window_days": 30, "requires": "full_track"}
            }],
            "tiers": [], "benefits": [], "health": null
        }))
        .unwrap();
        program.tracks[0].renewal.requires = serde_json::from_str(renewal).unwrap();
        program
    }

    #[test]
    fn full_track_renewal_needs_each_requirement_again_within_the_window() {
        let p = program(r#""full_track""#);
        let since = date(2027, 2, 1);
        let mut ev = RenewalEvidence::default();
        ev.modules.insert("m1".into(), date(2026, 3, 1));
        ev.exams.insert("e1".into(), date(2026, 3, 1));
        assert_eq!(
            renewal_met(&p, &p.tracks[0], &ev, since),
            Err(vec![
                "complete the module Module one again".to_owned(),
                "pass the exam Exam one again".to_owned()
            ])
        );
        ev.modules.insert("m1".into(), date(2027, 2, 3));
        ev.modules.insert("m2".into(), date(2027, 2, 4));
        assert_eq!(
            renewal_met(&p, &p.tracks[0], &ev, since),
            Ok(()),
            "either branch of a choice"
        );
    }

    #[test]
    fn delta_renewal_needs_the_delta_module_read_and_the_delta_exam_passed_in_the_window() {
        let p = program(r#"{"delta_module": {"delta_exam": "e1"}}"#);
        let since = date(2027, 2, 1);
        let mut ev = RenewalEvidence {
            delta_read_on: Some(date(2027, 1, 31)),
            ..RenewalEvidence::default()
        };
        assert_eq!(
            renewal_met(&p, &p.tracks[0], &ev, since).unwrap_err().len(),
            2
        );
        ev.delta_read_on = Some(date(2027, 2, 1));
        ev.exams.insert("e1".into(), date(2027, 2, 2));
        assert_eq!(renewal_met(&p, &p.tracks[0], &ev, since), Ok(()));
    }

    #[test]
    fn practical_renewal_counts_approvals_in_the_window() {
        let p = program(r#"{"practicals": {"practicals": ["audit"], "count": 2}}"#);
        let since = date(2027, 2, 1);
        let mut ev = RenewalEvidence {
            approvals: vec![
                ("audit".into(), date(2027, 1, 1)),
                ("audit".into(), date(2027, 2, 5)),
            ],
            ..RenewalEvidence::default()
        };
        assert_eq!(
            renewal_met(&p, &p.tracks[0], &ev, since),
            Err(vec![
                "have 1 more approved: Annual audit (1 of 2 so far)".to_owned()
            ])
        );
        ev.approvals.push(("audit".into(), date(2027, 2, 20)));
        assert_eq!(renewal_met(&p, &p.tracks[0], &ev, since), Ok(()));
        assert_eq!(renewal_opens(date(2027, 3, 1), 30), date(2027, 1, 31));
    }

    #[test]
    fn a_trigger_covers_credentials_earned_on_its_modules_and_asks_for_them_again() {
        let p = program(r#""full_track""#);
        let track = &p.tracks[0];
        let scope = RecertScope {
            modules: vec!["m2".into()],
            domains: vec![],
        };
        assert!(
            trigger_covers(&p, track, &[], &scope),
            "the track requires m2 in a choice"
        );
        assert!(
            !trigger_covers(&p, track, &["m1".into()], &scope),
            "earned without m2"
        );
        assert!(trigger_covers(
            &p,
            track,
            &["m1".into()],
            &RecertScope::default()
        ));
        let since = date(2027, 5, 1);
        let mut ev = RenewalEvidence::default();
        ev.modules.insert("m2".into(), date(2027, 4, 1));
        assert_eq!(
            recertified(&p, track, &scope, &ev, since),
            Err(vec!["complete the updated module Module two".to_owned()])
        );
        ev.modules.insert("m2".into(), date(2027, 5, 2));
        assert_eq!(recertified(&p, track, &scope, &ev, since), Ok(()));
        assert_eq!(
            recertified(&p, track, &RecertScope::default(), &ev, since).unwrap_err(),
            vec!["complete the module Module one again".to_owned()],
            "naming nothing asks for the whole track"
        );
    }

    #[test]
    fn days_between_counts_calendar_days() {
        assert_eq!(days_between(date(2027, 1, 1), date(2027, 3, 1)), 59);
        assert_eq!(days_between(date(2027, 3, 1), date(2027, 1, 1)), -59);
        assert_eq!(deadline_after(date(2027, 1, 1), 60), date(2027, 3, 2));
    }
}
