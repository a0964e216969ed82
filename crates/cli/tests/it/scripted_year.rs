//! A scripted year for each of the four example programs: `accredit jobs run --as-of` runs the
//! daily sweep for each of 400 days while people renew, recertify, miss deadlines and
//! remediate, and every message sent
//! (email, webhook) is checked against a list computed here from the programs' policies — then
//! the whole year is swept again and nothing more is sent.

use crate::on_both_backends;
use crate::support::TestApp;
use accredit_app::accounts::{NewPartner, Partner, Person};
use accredit_app::demo::EXAMPLE_PROGRAMS;
use accredit_app::evidence::Evidence;
use accredit_app::{App, Ctx};
use accredit_domain::Role;
use accredit_domain::program::{Program, Rule, Validity};
use jiff::ToSpan as _;
use jiff::civil::{Date, date};
use std::collections::{BTreeMap, BTreeSet};

on_both_backends!(
    isv_platform_security_year,
    cloud_msp_year,
    crm_solutions_agency_year,
    medical_software_distributor_year,
);

const START: Date = date(2026, 3, 2);
const DAYS: i32 = 400;
const EVENTS: [&str; 6] = [
    "credential.expired",
    "credential.renewed",
    "credential.lapsed",
    "remediation.opened",
    "remediation.closed",
    "recertification.required",
];

fn horizon() -> Date {
    START.checked_add((DAYS - 1).days()).unwrap()
}

/// How a credential's year ends, as the script decides.
#[derive(Clone, Copy)]
enum Ending {
    Expires,
    RenewedOn(Date),
    LapsedOn(Date),
}

/// The messages a year should produce, built from the policies without the engine's calendar.
#[derive(Default)]
struct Expected {
    messages: Vec<(String, String, String)>,
    reminder_days: BTreeSet<Date>,
}

impl Expected {
    fn push(&mut self, day: Date, topic: &str, recipient: &str) {
        if day >= START && day <= horizon() {
            self.messages
                .push((day.to_string(), topic.to_owned(), recipient.to_owned()));
        }
    }

    /// A credential recorded on `recorded` that lapses on `lapses` with a 90-day window.
    fn credential(
        &mut self,
        email: &str,
        hook: &str,
        recorded: Date,
        lapses: Date,
        ending: Ending,
    ) {
        let cut = match ending {
            Ending::Expires => lapses,
            Ending::RenewedOn(day) | Ending::LapsedOn(day) => day,
        };
        for days in [90, 60, 30] {
            let on = lapses.checked_sub(days.days()).unwrap();
            // Milestones before the credential was recorded are not sent late.
            if on < recorded || on >= cut {
                continue;
            }
            if days == 90 {
                self.push(on, "lifecycle.renewal", email);
            }
            self.push(on, "lifecycle.reminder", email);
            if on <= horizon() {
                self.reminder_days.insert(on);
            }
        }
        match ending {
            Ending::Expires => {
                self.push(lapses, "lifecycle.expiry", email);
                self.push(lapses, "credential.expired", hook);
            }
            Ending::RenewedOn(day) => {
                self.push(day, "lifecycle.renewed", email);
                self.push(day, "credential.renewed", hook);
            }
            Ending::LapsedOn(day) => {
                self.push(day, "lifecycle.lapsed", email);
                self.push(day, "credential.lapsed", hook);
            }
        }
    }

    fn finish(mut self, pam: &str) -> Vec<(String, String, String)> {
        for day in std::mem::take(&mut self.reminder_days) {
            self.push(day, "lifecycle.pam_digest", pam);
        }
        self.messages.sort();
        self.messages
    }
}

/// The first day a credential issued on `issued` no longer holds, from the program's policy.
fn lapses_on(program: &Program, track: &str, issued: Date) -> Date {
    let track = program.tracks.iter().find(|t| t.id == track).unwrap();
    match track.validity {
        Validity::Months(months) => issued.checked_add(i64::from(months).months()).unwrap(),
        Validity::ReleaseAligned { min_months } => {
            let earliest = issued.checked_add(i64::from(min_months).months()).unwrap();
            program
                .releases
                .iter()
                .map(|r| r.date)
                .find(|d| *d >= earliest)
                .unwrap_or(earliest)
        }
    }
}

/// Everything a track's requirements name, as evidence.
fn full_track(program: &Program, track: &str, person: &Person) -> Vec<Evidence> {
    let track = program.tracks.iter().find(|t| t.id == track).unwrap();
    track
        .requires
        .walk()
        .into_iter()
        .filter_map(|rule| match rule {
            Rule::Module(m) => Some(Evidence::ModuleCompleted {
                person: person.id.clone(),
                module: m.clone(),
            }),
            Rule::Exam(e) => Some(Evidence::ExamPassed {
                person: person.id.clone(),
                exam: e.clone(),
            }),
            _ => None,
        })
        .collect()
}

struct Year {
    program: Program,
    program_id: String,
    partner: Partner,
    admin: Person,
    pam: Person,
    hook: String,
}

async fn begin(t: &TestApp, file: &str, partner_type: &str) -> Year {
    let ctx = Ctx::system();
    t.set_day(START);
    let text = EXAMPLE_PROGRAMS.iter().find(|(f, _)| *f == file).unwrap().1;
    let program = accredit_formats::program::parse(text).unwrap();
    t.app.apply_program(&ctx, text).await.unwrap();
    let pam = t
        .person("pam@vendor.example", Role::PartnerAccountManager, None)
        .await;
    let partner = t
        .app
        .create_partner(
            &ctx,
            NewPartner {
                name: "Northwind".into(),
                partner_type: partner_type.into(),
                region: "EMEA".into(),
                account_manager_id: Some(pam.id.clone()),
            },
        )
        .await
        .unwrap();
    t.app
        .enroll_partner(&ctx, &partner.id, &program.id)
        .await
        .unwrap();
    let admin = t
        .person(
            "admin@northwind.example",
            Role::PartnerAdmin,
            Some(&partner),
        )
        .await;
    let hook = t
        .app
        .create_webhook(&ctx, "http://127.0.0.1:9/hook", &EVENTS.map(str::to_owned))
        .await
        .unwrap()
        .id;
    Year {
        program_id: program.id.clone(),
        program,
        partner,
        admin,
        pam,
        hook,
    }
}

impl Year {
    async fn person(&self, t: &TestApp, email: &str, job_role: &str) -> Person {
        let name = email.split('@').next().unwrap_or(email);
        t.staff(&self.partner.id, email, name, job_role).await
    }

    async fn record(&self, app: &App, evidence: Evidence) {
        app.record_evidence(&Ctx::system(), &self.program_id, evidence)
            .await
            .unwrap();
    }

    async fn issue(&self, app: &App, person: &Person, track: &str, issued_on: Date) {
        self.record(
            app,
            Evidence::CredentialIssued {
                person: person.id.clone(),
                track: track.into(),
                issued_on,
            },
        )
        .await;
    }
}

type Action<'a> = Box<dyn Fn(&'a TestApp) -> futures_like::BoxFuture<'a> + 'a>;

mod futures_like {
    pub type BoxFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>;
}

/// Runs `accredit jobs run --as-of` for every day of the year, doing each day's actions first;
/// returns the messages written, as (day, topic, recipient), leaving out those written before
/// the year began.
async fn run_year<'a>(
    t: &'a TestApp,
    mut actions: BTreeMap<Date, Vec<Action<'a>>>,
) -> Vec<(String, String, String)> {
    let before = messages(&t.app).await.len();
    let dir = tempfile::tempdir().unwrap();
    let mut day = START;
    for _ in 0..DAYS {
        t.set_day(day);
        for action in actions.remove(&day).unwrap_or_default() {
            action(t).await;
        }
        let as_of = day.to_string();
        let args = [
            "jobs",
            "run",
            "--as-of",
            &as_of,
            "--no-deliver",
            "--database-url",
            &t.db.url,
        ];
        let output = crate::cli::accredit(dir.path(), &args, &[]);
        assert!(
            output.status.success(),
            "{day}: {}",
            crate::cli::stderr(&output)
        );
        day = day.tomorrow().unwrap();
    }
    assert!(actions.is_empty(), "actions outside the year");
    let mut all = messages(&t.app).await;
    let mut year = all.split_off(before);
    year.sort();
    year
}

async fn messages(app: &App) -> Vec<(String, String, String)> {
    let mut rows: Vec<_> = app
        .outbox(&Ctx::system(), None, None, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.topic.starts_with("lifecycle.") || EVENTS.contains(&m.topic.as_str()))
        .map(|m| (m.id, (m.created_at[..10].to_owned(), m.topic, m.recipient)))
        .collect();
    rows.sort();
    rows.into_iter().map(|(_, m)| m).collect()
}

/// Sweeping the whole year again changes nothing.
async fn sweep_again(t: &TestApp) {
    let count = messages(&t.app).await.len();
    let mut day = START;
    for _ in 0..DAYS {
        let report = t.app.run_sweep(&Ctx::system(), day).await.unwrap();
        assert_eq!(
            report.reminders + report.expired + report.lapsed + report.remediation_missed,
            0,
            "{day}: {report:?}"
        );
        day = day.tomorrow().unwrap();
    }
    assert_eq!(messages(&t.app).await.len(), count);
}

fn action<'a, F, Fut>(f: F) -> Action<'a>
where
    F: Fn(&'a TestApp) -> Fut + 'a,
    Fut: std::future::Future<Output = ()> + 'a,
{
    Box::new(move |t| Box::pin(f(t)))
}

async fn isv_platform_security_year(t: TestApp) {
    let y = begin(&t, "isv-platform-security.toml", "isv").await;
    let dev1 = y.person(&t, "dev1@northwind.example", "developer").await;
    let dev2 = y.person(&t, "dev2@northwind.example", "developer").await;
    y.issue(&t.app, &dev1, "platform-security", START).await;
    // Dev2's credential dates from a year before the records start.
    let dev2_issued = date(2025, 4, 1);
    y.issue(&t.app, &dev2, "platform-security", dev2_issued)
        .await;

    let dev1_lapses = lapses_on(&y.program, "platform-security", START);
    let renew_on = dev1_lapses.checked_sub(84.days()).unwrap();
    let mut actions: BTreeMap<Date, Vec<Action>> = BTreeMap::new();
    let (y_ref, dev1_ref) = (&y, &dev1);
    actions
        .entry(renew_on)
        .or_default()
        .push(action(move |t: &TestApp| async move {
            let credential = t
                .app
                .credentials_of(&Ctx::system(), &dev1_ref.id)
                .await
                .unwrap()[0]
                .clone();
            let status = t
                .app
                .complete_delta_module(&Ctx::system(), &credential.id)
                .await
                .unwrap();
            assert!(
                status.renewed_by.is_some(),
                "{} renews by the delta module",
                y_ref.program_id
            );
        }));
    let actual = run_year(&t, actions).await;

    let mut expected = Expected::default();
    expected.credential(
        &dev1.email,
        &y.hook,
        START,
        dev1_lapses,
        Ending::RenewedOn(renew_on),
    );
    let dev2_lapses = lapses_on(&y.program, "platform-security", dev2_issued);
    expected.credential(&dev2.email, &y.hook, START, dev2_lapses, Ending::Expires);
    assert_eq!(actual, expected.finish(&y.pam.email));
    sweep_again(&t).await;
}

async fn cloud_msp_year(t: TestApp) {
    let y = begin(&t, "cloud-msp.toml", "msp").await;
    let tech1 = y.person(&t, "tech1@northwind.example", "technical").await;
    let tech2 = y.person(&t, "tech2@northwind.example", "technical").await;
    y.issue(&t.app, &tech1, "msp-technical", START).await;
    y.issue(&t.app, &tech2, "msp-technical", START).await;
    let lapses = lapses_on(&y.program, "msp-technical", START);
    // Two approved workload reviews inside the window renew Tech1: the second, after the
    // 60-day reminder, completes it.
    let first = lapses.checked_sub(75.days()).unwrap();
    let second = lapses.checked_sub(50.days()).unwrap();
    let mut actions: BTreeMap<Date, Vec<Action>> = BTreeMap::new();
    for day in [first, second] {
        let (y, tech1) = (&y, &tech1);
        actions
            .entry(day)
            .or_default()
            .push(action(move |t: &TestApp| async move {
                y.record(
                    &t.app,
                    Evidence::PracticalApproved {
                        partner: y.partner.id.clone(),
                        person: Some(tech1.id.clone()),
                        practical: "well-architected-review".into(),
                    },
                )
                .await;
            }));
    }
    let actual = run_year(&t, actions).await;
    let mut expected = Expected::default();
    expected.credential(
        &tech1.email,
        &y.hook,
        START,
        lapses,
        Ending::RenewedOn(second),
    );
    expected.credential(&tech2.email, &y.hook, START, lapses, Ending::Expires);
    assert_eq!(actual, expected.finish(&y.pam.email));
    sweep_again(&t).await;
}

async fn crm_solutions_agency_year(t: TestApp) {
    let y = begin(&t, "crm-solutions-agency.toml", "agency").await;
    let ana = y
        .person(&t, "ana@northwind.example", "implementation")
        .await;
    let ben = y.person(&t, "ben@northwind.example", "marketing").await;
    let cy = y.person(&t, "cy@northwind.example", "sales").await;
    y.issue(&t.app, &ana, "crm-implementation", START).await;
    let ben_issued = date(2025, 5, 1);
    y.issue(&t.app, &ben, "marketing-hub", ben_issued).await;
    let cy_issued = date(2026, 6, 15);

    let ana_lapses = lapses_on(&y.program, "crm-implementation", START);
    let renew_on = ana_lapses.checked_sub(80.days()).unwrap();
    let low_score = date(2026, 4, 1);
    let deadline = low_score.checked_add(90.days()).unwrap();
    let missed_on = deadline.tomorrow().unwrap();
    let remediated = date(2026, 8, 1);
    let mut actions: BTreeMap<Date, Vec<Action>> = BTreeMap::new();
    {
        let (y, cy) = (&y, &cy);
        actions
            .entry(cy_issued)
            .or_default()
            .push(action(move |t: &TestApp| async move {
                y.issue(&t.app, cy, "sales-hub", cy_issued).await;
            }));
        let ana = &ana;
        actions
            .entry(renew_on)
            .or_default()
            .push(action(move |t: &TestApp| async move {
                for evidence in full_track(&y.program, "crm-implementation", ana) {
                    y.record(&t.app, evidence).await;
                }
            }));
        actions
            .entry(low_score)
            .or_default()
            .push(action(move |t: &TestApp| async move {
                let report = t
                    .app
                    .import_health_csv(
                        &Ctx::system(),
                        &y.program_id,
                        b"partner,quarter,score\nNorthwind,2026-Q1,12\n",
                    )
                    .await
                    .unwrap();
                assert_eq!(report.remediation_opened, ["Northwind"]);
            }));
        let ben = &ben;
        actions
            .entry(remediated)
            .or_default()
            .push(action(move |t: &TestApp| async move {
                y.record(
                    &t.app,
                    Evidence::ModuleCompleted {
                        person: ben.id.clone(),
                        module: "crm-delivery-remediation".into(),
                    },
                )
                .await;
            }));
    }
    let actual = run_year(&t, actions).await;

    let mut expected = Expected::default();
    expected.credential(
        &ana.email,
        &y.hook,
        START,
        ana_lapses,
        Ending::RenewedOn(renew_on),
    );
    let ben_lapses = lapses_on(&y.program, "marketing-hub", ben_issued);
    expected.credential(&ben.email, &y.hook, START, ben_lapses, Ending::Expires);
    let cy_lapses = lapses_on(&y.program, "sales-hub", cy_issued);
    expected.credential(&cy.email, &y.hook, cy_issued, cy_lapses, Ending::Expires);
    // Remediation: opened, missed, then completed; each told to the partner admin and the
    // account manager, and to the webhook.
    for day in [low_score, missed_on, remediated] {
        expected.push(day, "lifecycle.remediation", &y.admin.email);
        expected.push(day, "lifecycle.remediation", &y.pam.email);
    }
    expected.push(low_score, "remediation.opened", &y.hook);
    expected.push(missed_on, "remediation.closed", &y.hook);
    expected.push(remediated, "remediation.closed", &y.hook);
    assert_eq!(actual, expected.finish(&y.pam.email));
    let cases = t
        .app
        .remediation_cases(&Ctx::system(), &y.program_id)
        .await
        .unwrap();
    assert_eq!(
        (cases[0].state.as_str(), cases[0].deadline.as_str()),
        ("completed", "2026-06-30")
    );
    sweep_again(&t).await;
}

async fn medical_software_distributor_year(t: TestApp) {
    let y = begin(&t, "medical-software-distributor.toml", "distributor").await;
    let rep1 = y.person(&t, "rep1@northwind.example", "sales").await;
    let rep2 = y.person(&t, "rep2@northwind.example", "sales").await;
    let tech = y.person(&t, "tech@northwind.example", "technical").await;
    y.issue(&t.app, &rep1, "sales", START).await;
    y.issue(&t.app, &rep2, "sales", START).await;
    let tech_issued = date(2025, 9, 15);
    y.issue(&t.app, &tech, "technical", tech_issued).await;

    // A regulatory update: sales staff recertify on the whole track within 82 days.
    let triggered = date(2026, 6, 10);
    let deadline = date(2026, 8, 31);
    let recertified = date(2026, 7, 15);
    let mut actions: BTreeMap<Date, Vec<Action>> = BTreeMap::new();
    {
        let y = &y;
        actions
            .entry(triggered)
            .or_default()
            .push(action(move |t: &TestApp| async move {
                let trigger = t
                    .app
                    .record_trigger(
                        &Ctx::system(),
                        &y.program_id,
                        accredit_app::recert::NewTrigger {
                            kind: "regulatory-update".into(),
                            reason:
                                "The intended-use statement changed; sales claims must follow it."
                                    .into(),
                            tracks: vec!["sales".into()],
                            modules: vec![],
                            domains: vec![],
                            deadline,
                        },
                    )
                    .await
                    .unwrap();
                assert_eq!(trigger.affected, 2);
            }));
        let rep1 = &rep1;
        actions
            .entry(recertified)
            .or_default()
            .push(action(move |t: &TestApp| async move {
                for evidence in full_track(&y.program, "sales", rep1) {
                    y.record(&t.app, evidence).await;
                }
            }));
    }
    let actual = run_year(&t, actions).await;

    let lapses = lapses_on(&y.program, "sales", START);
    let mut expected = Expected::default();
    expected.credential(&rep1.email, &y.hook, START, lapses, Ending::Expires);
    let lapsed_on = deadline.tomorrow().unwrap();
    expected.credential(
        &rep2.email,
        &y.hook,
        START,
        lapses,
        Ending::LapsedOn(lapsed_on),
    );
    let tech_lapses = lapses_on(&y.program, "technical", tech_issued);
    expected.credential(&tech.email, &y.hook, START, tech_lapses, Ending::Expires);
    for rep in [&rep1, &rep2] {
        expected.push(triggered, "lifecycle.recertification", &rep.email);
        expected.push(triggered, "recertification.required", &y.hook);
    }
    assert_eq!(actual, expected.finish(&y.pam.email));
    let progress = t.app.triggers(&Ctx::system(), &y.program_id).await.unwrap();
    assert_eq!((progress[0].done, progress[0].lapsed), (1, 1));
    sweep_again(&t).await;
}
