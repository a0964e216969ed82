//! A year and a half of demo history, played through the real use cases day by day with the
//! clock moved: firms enrol, their people study and take exams (failing, waiting, retrying),
//! earn credentials, renew some and let others lapse while the daily sweep runs; the vendor
//! imports quarterly outcome metrics. The seed fixes who does what when and how well; the exam
//! engine still draws each form at random, so the figures vary a little between runs.

use crate::accounts::{NewPartner, NewPerson};
use crate::error::AppResult;
use crate::evidence::Evidence;
use crate::exams::SavedAnswer;
use crate::{App, Ctx};
use accredit_domain::attempt::SeededRng;
use accredit_domain::exam::Item;
use accredit_domain::program::{Program, RenewalRequirement, Rule};
use accredit_domain::{Principal, Role};
use jiff::ToSpan as _;
use jiff::civil::Date;
use std::collections::BTreeMap;

/// How far back the history starts.
pub const HISTORY_DAYS: i64 = 540;
/// Firms per program with a history.
const FIRMS_PER_PROGRAM: usize = 6;
const STAFF_PER_FIRM: usize = 3;

const FIRMS: [&str; 24] = [
    "Northwind Systems",
    "Bluefin Digital",
    "Copperleaf Labs",
    "Harbor & Pine",
    "Quartz Works",
    "Redwood Analytics",
    "Silverline Tech",
    "Tidewater IT",
    "Summit Cloudworks",
    "Juniper Ops",
    "Lakeside Managed",
    "Ironbridge Cloud",
    "Brightpath Agency",
    "Fieldstone Growth",
    "Lumen & Co",
    "Marigold Media",
    "Orchard CRM",
    "Pinnacle Revenue",
    "Alder Health Supply",
    "Baymed Distribution",
    "Cedar Clinical",
    "Delta Care Systems",
    "Evergreen MedTech",
    "Fjord Health",
];
const FIRST: [&str; 12] = [
    "Ada", "Ben", "Chloe", "Dev", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jon", "Kemi", "Luis",
];
const LAST: [&str; 9] = [
    "Novak", "Osei", "Park", "Quinn", "Rossi", "Silva", "Tanaka", "Usman", "Varga",
];
const REGIONS: [&str; 3] = ["EMEA", "Americas", "APAC"];

/// What a track asks for, flattened: the first alternative of every choice.
#[derive(Default)]
struct Needs {
    modules: Vec<String>,
    exams: Vec<String>,
    practicals: Vec<String>,
}

fn collect(rule: &Rule, needs: &mut Needs) {
    match rule {
        Rule::All(rules) => rules.iter().for_each(|r| collect(r, needs)),
        Rule::Any(rules) => {
            if let Some(first) = rules.first() {
                collect(first, needs);
            }
        }
        Rule::Module(m) => needs.modules.push(m.clone()),
        Rule::Exam(e) => needs.exams.push(e.clone()),
        Rule::Practical(p) => needs.practicals.push(p.clone()),
        _ => {}
    }
}

/// Something a candidate does on a day.
enum Step {
    Study {
        person: String,
        track: String,
    },
    Exam {
        person: String,
        exam: String,
        tries: u32,
    },
    Renew {
        person: String,
        track: String,
    },
}

struct Candidate {
    program: String,
    /// The renewal window of the track they follow.
    window_days: u32,
    /// Chance of answering any one item correctly.
    ability: f64,
}

impl App {
    /// Plays the demo history. `proctor` approves proctored attempts; the firms are shared
    /// among `managers`.
    pub(crate) async fn load_demo_history(
        &self,
        proctor: &str,
        managers: &[String],
        seed: u64,
    ) -> AppResult<()> {
        let system = Ctx::system();
        let today = self.today();
        let start = today - HISTORY_DAYS.days();
        let mut dice = SeededRng(seed);
        let mut agenda: BTreeMap<Date, Vec<Step>> = BTreeMap::new();
        let mut candidates: BTreeMap<String, Candidate> = BTreeMap::new();
        let mut programs: BTreeMap<String, (Program, Vec<Item>)> = BTreeMap::new();
        let mut partners: Vec<(String, String)> = Vec::new();
        let program_ids: Vec<String> = crate::demo::EXAMPLE_PROGRAMS
            .iter()
            .map(|(file, _)| file.trim_end_matches(".toml").to_owned())
            .collect();
        let mut firm_names = FIRMS.iter();
        for program_id in &program_ids {
            let program = self.get_program(&system, program_id).await?;
            let items = self.list_items(&system, program_id).await?;
            for f in 0..FIRMS_PER_PROGRAM {
                let Some(name) = firm_names.next() else { break };
                let joined = start + (f as i64 * 25 + dice.below(20) as i64).days();
                let app = self.at(joined);
                let partner = app
                    .create_partner(
                        &system,
                        NewPartner {
                            name: (*name).into(),
                            partner_type: program
                                .partner_types
                                .first()
                                .cloned()
                                .unwrap_or_else(|| "reseller".into()),
                            region: REGIONS[f % REGIONS.len()].into(),
                            account_manager_id: managers.get(f % managers.len().max(1)).cloned(),
                        },
                    )
                    .await?;
                app.enroll_partner(&system, &partner.id, program_id).await?;
                partners.push((partner.id.clone(), program_id.clone()));
                // The last firm of each program never gets going: the non-certified group.
                let engaged = f + 1 < FIRMS_PER_PROGRAM;
                for s in 0..STAFF_PER_FIRM {
                    let track = &program.tracks[s % program.tracks.len()];
                    let first = FIRST[dice.below(FIRST.len() as u64) as usize];
                    let last = LAST[dice.below(LAST.len() as u64) as usize];
                    let slug: String = name
                        .chars()
                        .filter(char::is_ascii_alphanumeric)
                        .collect::<String>()
                        .to_lowercase();
                    let person = app
                        .create_person(
                            &system,
                            NewPerson {
                                email: format!("{}.{s}@{slug}.example", first.to_lowercase()),
                                display_name: format!("{first} {last}"),
                                roles: vec![Role::Learner],
                                partner_id: Some(partner.id.clone()),
                                job_role: track.job_roles.first().cloned(),
                                password: None,
                            },
                        )
                        .await?;
                    candidates.insert(
                        person.id.clone(),
                        Candidate {
                            program: program_id.clone(),
                            window_days: track.renewal.window_days,
                            ability: 0.6 + 0.38 * dice.unit(),
                        },
                    );
                    if engaged {
                        let day = joined + (10 + dice.below(50) as i64).days();
                        agenda.entry(day).or_default().push(Step::Study {
                            person: person.id.clone(),
                            track: track.id.clone(),
                        });
                    }
                }
            }
            programs.insert(program_id.clone(), (program, items));
        }

        let mut day = start;
        while day <= today {
            let app = self.at(day);
            for step in agenda.remove(&day).unwrap_or_default() {
                match step {
                    Step::Study { person, track } => {
                        let candidate = &candidates[&person];
                        let (program, _) = &programs[&candidate.program];
                        let mut needs = Needs::default();
                        if let Some(t) = program.track(&track) {
                            collect(&t.requires, &mut needs);
                        }
                        app.record_demo_training(
                            &program.id,
                            &person,
                            &needs.modules,
                            needs.practicals.iter(),
                        )
                        .await?;
                        for (i, exam) in needs.exams.iter().enumerate() {
                            let on = day + (3 + 4 * i as i64 + dice.below(5) as i64).days();
                            agenda.entry(on).or_default().push(Step::Exam {
                                person: person.clone(),
                                exam: exam.clone(),
                                tries: 1,
                            });
                        }
                    }
                    Step::Exam {
                        person,
                        exam,
                        tries,
                    } => {
                        let candidate = &candidates[&person];
                        let (program, items) = &programs[&candidate.program];
                        // Each try the candidate has studied a little more.
                        let ability = (candidate.ability + 0.1 * f64::from(tries - 1)).min(0.98);
                        let passed = app
                            .take_demo_attempt(
                                &person, proctor, program, items, &exam, ability, &mut dice,
                            )
                            .await?;
                        let retake = program
                            .exams
                            .iter()
                            .find(|e| e.id == exam)
                            .and_then(|e| e.blueprint.as_ref())
                            .map(|b| (b.retake.wait_days, b.retake.max_attempts));
                        if let (Some(false), Some((wait, max))) = (passed, retake)
                            && tries < max
                        {
                            let on = day + (i64::from(wait) + 1 + dice.below(10) as i64).days();
                            agenda.entry(on).or_default().push(Step::Exam {
                                person,
                                exam,
                                tries: tries + 1,
                            });
                        }
                    }
                    Step::Renew { person, track } => {
                        let candidate = &candidates[&person];
                        let (program, items) = &programs[&candidate.program];
                        app.renew_demo_credential(
                            &person, proctor, program, items, &track, &mut dice,
                        )
                        .await?;
                    }
                }
            }
            app.run_sweep(&system, day).await?;
            self.schedule_demo_renewals(day, &candidates, &mut agenda, &mut dice)
                .await?;
            day = day.tomorrow().map_err(anyhow::Error::from)?;
        }
        self.import_demo_outcomes(&partners, start, today, &mut dice)
            .await
    }

    /// Holders whose renewal window opens today: most renew some weeks in, some let it lapse.
    async fn schedule_demo_renewals(
        &self,
        day: Date,
        candidates: &BTreeMap<String, Candidate>,
        agenda: &mut BTreeMap<Date, Vec<Step>>,
        dice: &mut SeededRng,
    ) -> AppResult<()> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT person_id, track_id, valid_until FROM credentials WHERE status = 'active'",
        )
        .fetch_all(self.db.reader())
        .await?;
        for (person, track, until) in rows {
            if !candidates.contains_key(&person) {
                continue;
            }
            let until: Date = until.parse().map_err(anyhow::Error::from)?;
            let window = candidates[&person].window_days;
            if until - i64::from(window).days() != day {
                continue;
            }
            if dice.unit() < 0.75 {
                let on = day + (5 + dice.below(60) as i64).days();
                agenda
                    .entry(on)
                    .or_default()
                    .push(Step::Renew { person, track });
            }
        }
        Ok(())
    }

    /// One attempt through the exam engine: each item answered by the key with the given
    /// chance, else left blank. Returns whether it passed (`None`: could not start).
    #[allow(clippy::too_many_arguments)]
    async fn take_demo_attempt(
        &self,
        person: &str,
        proctor: &str,
        program: &Program,
        items: &[Item],
        exam: &str,
        ability: f64,
        dice: &mut SeededRng,
    ) -> AppResult<Option<bool>> {
        let ctx = self.person_ctx(person).await?;
        let Ok(mut attempt) = self.start_attempt(&ctx, &program.id, exam).await else {
            return Ok(None);
        };
        if attempt.status == "awaiting_proctor" {
            let proctor_ctx = self.person_ctx(proctor).await?;
            attempt = self.approve_attempt(&proctor_ctx, &attempt.id).await?;
        }
        let answers = attempt
            .items
            .iter()
            .map(|presented| SavedAnswer {
                item_id: presented.id.clone(),
                response: items
                    .iter()
                    .find(|i| i.id == presented.id)
                    .filter(|_| dice.unit() < ability)
                    .map(|i| i.body.keyed_response()),
                flagged: false,
            })
            .collect();
        self.save_answers(&ctx, &attempt.id, answers).await?;
        let done = self.submit_attempt(&ctx, &attempt.id).await?;
        Ok(done.result.map(|r| r.passed))
    }

    /// Renews by whatever the track's policy asks.
    async fn renew_demo_credential(
        &self,
        person: &str,
        proctor: &str,
        program: &Program,
        items: &[Item],
        track: &str,
        dice: &mut SeededRng,
    ) -> AppResult<()> {
        let Some(track) = program.track(track) else {
            return Ok(());
        };
        let credential: Option<String> = sqlx::query_scalar(
            "SELECT id FROM credentials WHERE person_id = $1 AND track_id = $2 AND status = 'active'",
        )
        .bind(person)
        .bind(&track.id)
        .fetch_optional(self.db.reader())
        .await?;
        let Some(credential) = credential else {
            return Ok(());
        };
        match &track.renewal.requires {
            RenewalRequirement::DeltaModule { .. } => {
                // A failed renewal stays visible as not renewed; the demo carries on.
                let _ = self
                    .complete_delta_module(&Ctx::system(), &credential)
                    .await;
            }
            RenewalRequirement::Practicals { practicals, count } => {
                let again = practicals.iter().cycle().take(*count as usize);
                self.record_demo_training(&program.id, person, &[], again)
                    .await?;
            }
            RenewalRequirement::FullTrack => {
                let mut needs = Needs::default();
                collect(&track.requires, &mut needs);
                self.record_demo_training(
                    &program.id,
                    person,
                    &needs.modules,
                    needs.practicals.iter(),
                )
                .await?;
                for exam in &needs.exams {
                    self.take_demo_attempt(person, proctor, program, items, exam, 0.95, dice)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Quarterly outcome metrics for every history firm: certified firms do somewhat better,
    /// with noise, so the comparison report has something honest to show.
    async fn import_demo_outcomes(
        &self,
        partners: &[(String, String)],
        start: Date,
        today: Date,
        dice: &mut SeededRng,
    ) -> AppResult<()> {
        let mut csv = String::from("partner,quarter,metric,value\n");
        let mut quarter_end = quarter_end_of(start);
        while quarter_end < today {
            let quarter = accredit_domain::reports::quarter_of(quarter_end);
            for (partner, _) in partners {
                let certified: bool = sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM credentials c JOIN people p ON p.id = c.person_id
                     WHERE p.partner_id = $1 AND c.issued_on <= $2 AND c.valid_until >= $2
                       AND c.status IN ('active', 'superseded')",
                )
                .bind(partner)
                .bind(quarter_end.to_string())
                .fetch_one(self.db.reader())
                .await?
                    > 0;
                let lift = if certified { 1.0 } else { 0.0 };
                let noise = |dice: &mut SeededRng, spread: f64| (dice.unit() - 0.5) * spread;
                let health = 62.0 + 12.0 * lift + noise(dice, 16.0);
                let nps = 18.0 + 14.0 * lift + noise(dice, 20.0);
                let success = 71.0 + 15.0 * lift + noise(dice, 12.0);
                let escalations = (9.0 - 4.0 * lift + noise(dice, 6.0)).max(0.0);
                for (metric, value) in [
                    ("customer-health", health),
                    ("nps", nps),
                    ("implementation-success", success),
                    ("support-escalations", escalations.round()),
                ] {
                    csv.push_str(&format!("{partner},{quarter},{metric},{value:.1}\n"));
                }
            }
            quarter_end = quarter_end_of(quarter_end.tomorrow().map_err(anyhow::Error::from)?);
        }
        let ctx = Ctx::system();
        self.import_outcomes_csv(&ctx, csv.as_bytes()).await?;
        Ok(())
    }

    /// Modules completed and practicals approved for `person`, as of this app's day.
    async fn record_demo_training(
        &self,
        program: &str,
        person: &str,
        modules: &[String],
        practicals: impl Iterator<Item = &String>,
    ) -> AppResult<()> {
        let system = Ctx::system();
        for module in modules {
            let evidence = Evidence::ModuleCompleted {
                person: person.to_owned(),
                module: module.clone(),
            };
            self.record_evidence(&system, program, evidence).await?;
        }
        let partner = self.get_person(&system, person).await?.partner_id;
        for practical in practicals {
            let evidence = Evidence::PracticalApproved {
                partner: partner.clone().unwrap_or_default(),
                person: Some(person.to_owned()),
                practical: practical.clone(),
            };
            self.record_evidence(&system, program, evidence).await?;
        }
        Ok(())
    }

    async fn person_ctx(&self, person: &str) -> AppResult<Ctx> {
        let mut conn = self.db.reader().acquire().await?;
        let actor = self.load_actor(&mut conn, person).await?;
        Ok(Ctx::new(Principal::Person(actor), None))
    }
}

fn quarter_end_of(day: Date) -> Date {
    let quarter = accredit_domain::reports::quarter_of(day);
    accredit_domain::reports::quarter_end(&quarter).unwrap_or(day)
}
