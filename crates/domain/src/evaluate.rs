//! Evaluating a program's rules against a partner's records: a person's track requirements, a
//! partner's tier, and the benefits (entitlements) they hold — each answer with its reasons, the
//! date until which it holds, and what is missing.

use crate::program::{Benefit, Program, Rule, Subject};
use jiff::civil::Date;
use serde::Serialize;
use std::collections::BTreeMap;

/// A credential a person holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldCredential {
    pub track: String,
    /// The last day the credential is valid.
    pub valid_until: Date,
    /// Suspended or revoked credentials count as not held.
    pub suspended: bool,
}

/// What the rules may ask about one person.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonRecord {
    pub person_id: String,
    pub active: bool,
    /// The job the person does, which selects the tracks they can earn.
    pub job_role: Option<String>,
    pub credentials: Vec<HeldCredential>,
    pub modules: Vec<String>,
    pub exams: Vec<String>,
    pub practicals: Vec<String>,
}

/// What the rules may ask about one partner, in one program.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PartnerRecord {
    pub partner_id: String,
    pub active: bool,
    pub people: Vec<PersonRecord>,
    /// Approved practical submissions by practical id.
    pub approved_practicals: BTreeMap<String, u32>,
    pub health_score: Option<f64>,
    /// A remediation whose deadline passed without the training done, in words: it holds the
    /// partner one tier lower until completed.
    pub remediation_missed: Option<String>,
}

/// The result of evaluating a rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub passed: bool,
    /// When passed: the last day it still holds (`None`: no end in sight).
    pub until: Option<Date>,
    /// When passed: why, in words.
    pub basis: Vec<String>,
    /// When failed: what is missing, in words, first the nearest step.
    pub missing: Vec<String>,
}

impl Outcome {
    fn pass(until: Option<Date>, basis: String) -> Self {
        Self {
            passed: true,
            until,
            basis: vec![basis],
            missing: vec![],
        }
    }

    fn fail(missing: String) -> Self {
        Self {
            passed: false,
            until: None,
            basis: vec![],
            missing: vec![missing],
        }
    }
}

impl HeldCredential {
    pub fn is_current(&self, today: Date) -> bool {
        !self.suspended && today <= self.valid_until
    }
}

impl PersonRecord {
    /// The current credential of a track with the latest end, if any.
    pub fn current_credential(&self, track: &str, today: Date) -> Option<&HeldCredential> {
        self.credentials
            .iter()
            .filter(|c| c.track == track && c.is_current(today))
            .max_by_key(|c| c.valid_until)
    }

    fn lapsed_credential(&self, track: &str, today: Date) -> Option<&HeldCredential> {
        self.credentials
            .iter()
            .filter(|c| c.track == track && !c.suspended && c.valid_until < today)
            .max_by_key(|c| c.valid_until)
    }
}

/// The context a rule is evaluated in.
pub struct Evaluation<'a> {
    pub program: &'a Program,
    pub today: Date,
    pub partner: &'a PartnerRecord,
    /// The partner's tier so far (index into `program.tiers`).
    pub tier: Option<usize>,
}

impl Evaluation<'_> {
    /// Evaluates `rule` for `person` (person-level rules) or the partner (partner-level rules).
    pub fn rule(&self, rule: &Rule, person: Option<&PersonRecord>) -> Outcome {
        let p = self.program;
        let title = |id: &str| p.title_of(id);
        match rule {
            Rule::All(rules) => {
                let outcomes: Vec<_> = rules.iter().map(|r| self.rule(r, person)).collect();
                let passed = outcomes.iter().all(|o| o.passed);
                Outcome {
                    passed,
                    until: if passed {
                        outcomes.iter().filter_map(|o| o.until).min()
                    } else {
                        None
                    },
                    basis: if passed {
                        outcomes.iter().flat_map(|o| o.basis.clone()).collect()
                    } else {
                        vec![]
                    },
                    missing: outcomes.into_iter().flat_map(|o| o.missing).collect(),
                }
            }
            Rule::Any(rules) => {
                let outcomes: Vec<_> = rules.iter().map(|r| self.rule(r, person)).collect();
                let best = outcomes
                    .iter()
                    .filter(|o| o.passed)
                    // No end beats any end; otherwise the latest end.
                    .max_by_key(|o| o.until.map_or((1, Date::MAX), |d| (0, d)));
                match best {
                    Some(best) => best.clone(),
                    None => Outcome {
                        passed: false,
                        until: None,
                        basis: vec![],
                        missing: vec![format!(
                            "one of: {}",
                            outcomes
                                .iter()
                                .map(|o| o.missing.join(" and "))
                                .collect::<Vec<_>>()
                                .join("; or ")
                        )],
                    },
                }
            }
            Rule::Module(id) => match person {
                Some(person) if person.modules.contains(id) => {
                    Outcome::pass(None, format!("completed module “{}”", title(id)))
                }
                _ => Outcome::fail(format!("complete module “{}”", title(id))),
            },
            Rule::Exam(id) => match person {
                Some(person) if person.exams.contains(id) => {
                    Outcome::pass(None, format!("passed exam “{}”", title(id)))
                }
                _ => Outcome::fail(format!("pass exam “{}”", title(id))),
            },
            Rule::Practical(id) => match person {
                Some(person) if person.practicals.contains(id) => {
                    Outcome::pass(None, format!("practical “{}” approved", title(id)))
                }
                _ => Outcome::fail(format!("have practical “{}” approved", title(id))),
            },
            Rule::Credential(track) => {
                let Some(person) = person else {
                    return Outcome::fail(format!("hold a current “{}” credential", title(track)));
                };
                match person.current_credential(track, self.today) {
                    Some(c) => Outcome::pass(
                        Some(c.valid_until),
                        format!("holds “{}”, valid until {}", title(track), c.valid_until),
                    ),
                    None => match person.lapsed_credential(track, self.today) {
                        Some(lapsed) => Outcome::fail(format!(
                            "renew “{}”: the credential expired on {}",
                            title(track),
                            lapsed.valid_until.tomorrow().unwrap_or(lapsed.valid_until)
                        )),
                        None => Outcome::fail(format!("earn the “{}” credential", title(track))),
                    },
                }
            }
            Rule::Tier(id) => {
                let wanted = p.tier_rank(id).unwrap_or(usize::MAX);
                match self.tier {
                    Some(current) if current >= wanted => Outcome::pass(
                        None,
                        format!("partner is at tier {}", p.tiers[current].name),
                    ),
                    current => Outcome::fail(format!(
                        "reach tier {} (now {})",
                        title(id),
                        current.map_or("none", |c| p.tiers[c].name.as_str())
                    )),
                }
            }
            Rule::PeopleWithCredential { track, at_least } => {
                let mut ends: Vec<Date> = self
                    .partner
                    .people
                    .iter()
                    .filter(|person| person.active)
                    .filter_map(|person| person.current_credential(track, self.today))
                    .map(|c| c.valid_until)
                    .collect();
                ends.sort_unstable_by(|a, b| b.cmp(a));
                let have = ends.len() as u32;
                let need = *at_least;
                if have >= need {
                    Outcome::pass(
                        // It holds until the need-th longest-valid credential lapses.
                        ends.get(need.saturating_sub(1) as usize).copied(),
                        format!(
                            "{have} {} a current “{}” credential ({need} required)",
                            if have == 1 {
                                "person holds"
                            } else {
                                "people hold"
                            },
                            title(track)
                        ),
                    )
                } else {
                    let lapsed: Vec<Date> = self
                        .partner
                        .people
                        .iter()
                        .filter(|person| person.active)
                        .filter(|person| person.current_credential(track, self.today).is_none())
                        .filter_map(|person| person.lapsed_credential(track, self.today))
                        .map(|c| c.valid_until)
                        .collect();
                    let more = need - have;
                    let mut text = format!(
                        "{more} more {} a current “{}” credential ({have} of {need} hold one",
                        if more == 1 {
                            "person needs"
                        } else {
                            "people need"
                        },
                        title(track)
                    );
                    if let Some(latest) = lapsed.iter().max() {
                        text.push_str(&format!(
                            "; {} expired, most recently on {}",
                            lapsed.len(),
                            latest.tomorrow().unwrap_or(*latest)
                        ));
                    }
                    text.push(')');
                    Outcome::fail(text)
                }
            }
            Rule::ApprovedPracticals {
                practical,
                at_least,
            } => {
                let have = self
                    .partner
                    .approved_practicals
                    .get(practical)
                    .copied()
                    .unwrap_or(0);
                if have >= *at_least {
                    Outcome::pass(
                        None,
                        format!(
                            "{have} approved “{}” submissions ({at_least} required)",
                            title(practical)
                        ),
                    )
                } else {
                    Outcome::fail(format!(
                        "{} more approved “{}” {} ({have} of {at_least})",
                        at_least - have,
                        title(practical),
                        if at_least - have == 1 {
                            "submission"
                        } else {
                            "submissions"
                        }
                    ))
                }
            }
            Rule::HealthScoreAtLeast(threshold) => {
                let metric = p
                    .health
                    .as_ref()
                    .map_or("health score", |h| h.metric.as_str());
                match self.partner.health_score {
                    Some(score) if score >= *threshold => Outcome::pass(
                        None,
                        format!("{metric} {score} meets the threshold {threshold}"),
                    ),
                    Some(score) => Outcome::fail(format!(
                        "raise {metric} to at least {threshold} (latest: {score})"
                    )),
                    None => Outcome::fail(format!("report a {metric} of at least {threshold}")),
                }
            }
        }
    }
}

/// A partner's standing in one program.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Standing {
    /// Index into `program.tiers` of the highest tier whose rule holds.
    pub tier: Option<usize>,
    /// Each tier's outcome, in rank order.
    pub tiers: Vec<Outcome>,
}

/// The partner's tier: the highest whose rule holds, lower tiers evaluated first so a tier rule
/// may require a lower tier.
pub fn standing(program: &Program, partner: &PartnerRecord, today: Date) -> Standing {
    let mut tier = None;
    let mut outcomes = Vec::with_capacity(program.tiers.len());
    if !partner.active {
        return Standing {
            tier: None,
            tiers: program
                .tiers
                .iter()
                .map(|_| Outcome::fail("reactivate the partner organisation".into()))
                .collect(),
        };
    }
    for (rank, t) in program.tiers.iter().enumerate() {
        let eval = Evaluation {
            program,
            today,
            partner,
            tier,
        };
        let outcome = eval.rule(&t.rule, None);
        if outcome.passed {
            tier = Some(rank);
        }
        outcomes.push(outcome);
    }
    if let (Some(missed), Some(top)) = (&partner.remediation_missed, tier) {
        outcomes[top] = Outcome::fail(format!(
            "complete the overdue remediation to restore this tier ({missed})"
        ));
        tier = (0..top).rev().find(|rank| outcomes[*rank].passed);
    }
    Standing {
        tier,
        tiers: outcomes,
    }
}

/// An answer to "may this partner (or person) have this benefit?".
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Decision {
    pub allowed: bool,
    /// One sentence for people.
    pub reason: String,
    /// The facts the answer rests on (tier, credentials, ...).
    pub basis: Vec<String>,
    /// When allowed: the last day it holds, if it ends.
    pub until: Option<Date>,
    /// When denied: the nearest step that would grant it.
    pub next_action: Option<String>,
}

impl Decision {
    pub fn denied(reason: String, next_action: Option<String>) -> Self {
        Self {
            allowed: false,
            reason,
            basis: vec![],
            until: None,
            next_action,
        }
    }

    fn from_outcome(benefit: &Benefit, outcome: Outcome) -> Self {
        if outcome.passed {
            Decision {
                allowed: true,
                reason: format!("{} granted: {}", benefit.name, outcome.basis.join("; ")),
                basis: outcome.basis,
                until: outcome.until,
                next_action: None,
            }
        } else {
            Decision {
                allowed: false,
                reason: format!("{} denied: {}", benefit.name, outcome.missing.join("; ")),
                basis: vec![],
                until: None,
                next_action: outcome.missing.into_iter().next(),
            }
        }
    }
}

/// Decides a partner-level benefit for a partner whose standing is known.
pub fn decide_for_partner(
    program: &Program,
    benefit: &Benefit,
    partner: &PartnerRecord,
    standing: &Standing,
    today: Date,
) -> Decision {
    if !partner.active {
        return Decision::denied(
            format!(
                "{} denied: the partner organisation is deactivated",
                benefit.name
            ),
            None,
        );
    }
    debug_assert_eq!(benefit.subject, Subject::Partner);
    let eval = Evaluation {
        program,
        today,
        partner,
        tier: standing.tier,
    };
    Decision::from_outcome(benefit, eval.rule(&benefit.rule, None))
}

/// Decides a person-level benefit for one person of the partner.
pub fn decide_for_person(
    program: &Program,
    benefit: &Benefit,
    partner: &PartnerRecord,
    standing: &Standing,
    person: &PersonRecord,
    today: Date,
) -> Decision {
    if !partner.active {
        return Decision::denied(
            format!(
                "{} denied: the partner organisation is deactivated",
                benefit.name
            ),
            None,
        );
    }
    if !person.active {
        return Decision::denied(
            format!("{} denied: the person is deactivated", benefit.name),
            None,
        );
    }
    let eval = Evaluation {
        program,
        today,
        partner,
        tier: standing.tier,
    };
    Decision::from_outcome(benefit, eval.rule(&benefit.rule, Some(person)))
}

/// The tracks a person has just earned: made for their job role, every requirement met today,
/// and no credential of the track in its term (current, suspended or revoked). Issuing a credential for each is what
/// "requirements met" means.
pub fn earned_tracks<'p>(
    program: &'p Program,
    partner: &PartnerRecord,
    person: &PersonRecord,
    today: Date,
) -> Vec<&'p crate::program::Track> {
    if !partner.active || !person.active {
        return Vec::new();
    }
    let tier = standing(program, partner, today).tier;
    let eval = Evaluation {
        program,
        today,
        partner,
        tier,
    };
    program
        .tracks
        .iter()
        .filter(|track| {
            track.job_roles.is_empty()
                || person
                    .job_role
                    .as_ref()
                    .is_some_and(|role| track.job_roles.contains(role))
        })
        // A suspended or revoked credential still in its term blocks a new one: issuing again
        // would undo the decision.
        .filter(|track| {
            !person
                .credentials
                .iter()
                .any(|c| c.track == track.id && c.valid_until >= today)
        })
        .filter(|track| eval.rule(&track.requires, Some(person)).passed)
        .collect()
}

/// A tier the partner would lose if one more credential lapses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierDrop {
    /// Index into `program.tiers` of the tier held today.
    pub from: usize,
    /// The tier the partner would fall to (`None`: no tier at all).
    pub to: Option<usize>,
    /// The first day without the credential.
    pub on: Date,
    pub person_id: String,
    pub track: String,
}

/// The earliest day within `horizon_days` on which the partner's tier falls if the credential
/// that lapses that day is not renewed. Each credential is tried on its own against today's
/// records: "if one more person lapses", not a prediction that everyone due will lapse.
pub fn tier_drop_forecast(
    program: &Program,
    partner: &PartnerRecord,
    today: Date,
    horizon_days: i32,
) -> Option<TierDrop> {
    let from = standing(program, partner, today).tier?;
    let horizon = today
        .checked_add(jiff::Span::new().days(horizon_days))
        .ok()?;
    let mut due: Vec<(Date, usize, usize)> = partner
        .people
        .iter()
        .enumerate()
        .filter(|(_, person)| person.active)
        .flat_map(|(p, person)| {
            person
                .credentials
                .iter()
                .enumerate()
                .filter(|(_, c)| c.is_current(today) && c.valid_until <= horizon)
                .map(move |(c, credential)| (credential.valid_until, p, c))
        })
        .collect();
    due.sort();
    due.into_iter().find_map(|(until, p, c)| {
        let mut without = partner.clone();
        let person = &mut without.people[p];
        let track = person.credentials[c].track.clone();
        // A person may hold an older credential of the same track; losing the newest means
        // losing the track.
        person.credentials.retain(|held| held.track != track);
        let to = standing(program, &without, today).tier;
        (to < Some(from)).then(|| TierDrop {
            from,
            to,
            on: until.tomorrow().unwrap_or(until),
            person_id: partner.people[p].person_id.clone(),
            track,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn tiered() -> Program {
        serde_json::from_value(serde_json::json!({
            "id": "p", "name": "P", "version": "1", "description": "", "partner_types": [],
            "job_roles": [], "releases": [], "modules": [], "exams": [], "practicals": [],
            "tracks": [],
            "tiers": [
                {"id": "silver", "name": "Silver", "rule": {"health_score_at_least": 0.0}},
                {"id": "gold", "name": "Gold", "rule": {"health_score_at_least": 50.0}}
            ],
            "benefits": [], "health": null
        }))
        .unwrap()
    }

    #[test]
    fn a_missed_remediation_holds_the_partner_one_tier_lower_and_says_why() {
        let program = tiered();
        let mut partner = PartnerRecord {
            partner_id: "acme".into(),
            active: true,
            health_score: Some(60.0),
            ..PartnerRecord::default()
        };
        assert_eq!(standing(&program, &partner, date(2027, 1, 1)).tier, Some(1));
        partner.remediation_missed = Some("due 2027-01-01".into());
        let held = standing(&program, &partner, date(2027, 1, 2));
        assert_eq!(held.tier, Some(0));
        assert!(!held.tiers[1].passed);
        assert_eq!(
            held.tiers[1].missing,
            ["complete the overdue remediation to restore this tier (due 2027-01-01)"]
        );
    }

    fn counted() -> Program {
        serde_json::from_value(serde_json::json!({
            "id": "p", "name": "P", "version": "1", "description": "", "partner_types": [],
            "job_roles": [], "releases": [], "modules": [], "exams": [], "practicals": [],
            "tracks": [],
            "tiers": [
                {"id": "silver", "name": "Silver", "rule": {"people_with_credential": {"track": "t", "at_least": 1}}},
                {"id": "gold", "name": "Gold", "rule": {"people_with_credential": {"track": "t", "at_least": 3}}}
            ],
            "benefits": [], "health": null
        }))
        .unwrap()
    }

    fn holder(id: &str, until: Date) -> PersonRecord {
        PersonRecord {
            person_id: id.into(),
            active: true,
            credentials: vec![HeldCredential {
                track: "t".into(),
                valid_until: until,
                suspended: false,
            }],
            ..PersonRecord::default()
        }
    }

    #[test]
    fn a_partner_at_the_margin_drops_on_the_day_after_the_first_credential_in_the_horizon_ends() {
        let program = counted();
        let today = date(2027, 1, 1);
        let partner = PartnerRecord {
            partner_id: "acme".into(),
            active: true,
            people: vec![
                holder("far", date(2028, 1, 1)),
                holder("soon", date(2027, 3, 11)),
                holder("sooner", date(2027, 2, 1)),
            ],
            ..PartnerRecord::default()
        };
        let drop = tier_drop_forecast(&program, &partner, today, 120).expect("at the margin");
        assert_eq!(
            (drop.from, drop.to, drop.on, drop.person_id.as_str()),
            (1, Some(0), date(2027, 2, 2), "sooner")
        );
        // Outside the horizon nothing is forecast.
        assert_eq!(tier_drop_forecast(&program, &partner, today, 20), None);
    }

    #[test]
    fn a_partner_with_a_spare_holder_is_not_forecast_to_drop() {
        let program = counted();
        let today = date(2027, 1, 1);
        let mut partner = PartnerRecord {
            partner_id: "acme".into(),
            active: true,
            people: vec![
                holder("a", date(2027, 2, 1)),
                holder("b", date(2027, 3, 1)),
                holder("c", date(2028, 1, 1)),
                holder("d", date(2028, 1, 1)),
            ],
            ..PartnerRecord::default()
        };
        assert_eq!(tier_drop_forecast(&program, &partner, today, 365), None);
        // A deactivated holder does not count, so the spare is gone.
        partner.people[3].active = false;
        let drop = tier_drop_forecast(&program, &partner, today, 365).expect("no spare left");
        assert_eq!((drop.on, drop.person_id.as_str()), (date(2027, 2, 2), "a"));
    }
}
