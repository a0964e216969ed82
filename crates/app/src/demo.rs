//! Demo data: the four reference programs, partners in each in varied states (certified,
//! expiring, lapsed, below the health threshold), and someone in every role, so a new user
//! sees a working program the moment the server starts.

use crate::accounts::{NewPartner, NewPerson};
use crate::error::{AppError, AppResult};
use crate::evidence::Evidence;
use crate::{App, Ctx};
use accredit_domain::Role;
use jiff::civil::Date;
use jiff::{Span, ToSpan as _};
use sqlx::Row as _;

pub const DEMO_VENDOR: &str = "Meridian Cloud";
/// The demo history is the same on every machine.
const DEMO_SEED: u64 = 20_261_126;

/// The example program files, built into the binary so the demo runs anywhere.
pub const EXAMPLE_PROGRAMS: [(&str, &str); 4] = [
    (
        "isv-platform-security.toml",
        include_str!("../../../examples/programs/isv-platform-security.toml"),
    ),
    (
        "cloud-msp.toml",
        include_str!("../../../examples/programs/cloud-msp.toml"),
    ),
    (
        "crm-solutions-agency.toml",
        include_str!("../../../examples/programs/crm-solutions-agency.toml"),
    ),
    (
        "medical-software-distributor.toml",
        include_str!("../../../examples/programs/medical-software-distributor.toml"),
    ),
];

include!(concat!(env!("OUT_DIR"), "/demo_content.rs"));

/// The example item banks: (program, item file). Their exams are published with every item
/// active.
pub const DEMO_ITEM_BANKS: [(&str, &str); 4] = [
    (
        "isv-platform-security",
        include_str!("../../../examples/items/isv-platform-security.toml"),
    ),
    (
        "cloud-msp",
        include_str!("../../../examples/items/cloud-msp.toml"),
    ),
    (
        "crm-solutions-agency",
        include_str!("../../../examples/items/crm-solutions-agency.toml"),
    ),
    (
        "medical-software-distributor",
        include_str!("../../../examples/items/medical-software-distributor.toml"),
    ),
];

/// One demo account, for printing the sign-in table.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub organisation: String,
}

/// A partner staff member of the demo and what they have achieved.
struct Staff {
    email: &'static str,
    name: &'static str,
    role: Role,
    job_role: &'static str,
    modules: &'static [&'static str],
    exams: &'static [&'static str],
    /// Tracks held, with how the credential stands today.
    credentials: &'static [(&'static str, Held)],
}

#[derive(Clone, Copy)]
enum Held {
    /// Issued two months ago.
    Current,
    /// Ends in about 45 days.
    Expiring,
    /// Ends in 90 days: today's sweep sends the first reminder.
    RemindedToday,
    /// Ended 20 days ago.
    Lapsed,
}

struct DemoPartner {
    name: &'static str,
    partner_type: &'static str,
    region: &'static str,
    program: &'static str,
    staff: &'static [Staff],
    approved: &'static [(&'static str, u32)],
    health: Option<f64>,
}

const LEARNER: Role = Role::Learner;
const ADMIN: Role = Role::PartnerAdmin;

const PARTNERS: &[DemoPartner] = &[
    DemoPartner {
        name: "Acme Integrations",
        partner_type: "isv",
        region: "EMEA",
        program: "isv-platform-security",
        staff: &[
            Staff {
                email: "admin@acme.example",
                name: "Lena Fischer",
                role: ADMIN,
                job_role: "developer",
                modules: &[],
                exams: &[],
                credentials: &[("platform-security", Held::Expiring)],
            },
            Staff {
                email: "dev@acme.example",
                name: "Sam Carter",
                role: LEARNER,
                job_role: "developer",
                modules: &[
                    "platform-security-model",
                    "query-injection-prevention",
                    "data-residency",
                ],
                exams: &[],
                credentials: &[("platform-security", Held::Current)],
            },
        ],
        approved: &[],
        health: None,
    },
    DemoPartner {
        name: "Nimbus Apps",
        partner_type: "isv",
        region: "APAC",
        program: "isv-platform-security",
        staff: &[Staff {
            email: "dev@nimbus.example",
            name: "Kenji Sato",
            role: LEARNER,
            job_role: "developer",
            modules: &[
                "platform-security-model",
                "query-injection-prevention",
                "data-residency",
            ],
            exams: &[],
            credentials: &[],
        }],
        approved: &[],
        health: None,
    },
    DemoPartner {
        name: "Stratus Managed Services",
        partner_type: "msp",
        region: "North America",
        program: "cloud-msp",
        staff: &[Staff {
            email: "ops@stratus.example",
            name: "Dana Brooks",
            role: LEARNER,
            job_role: "technical",
            modules: &[],
            exams: &[],
            credentials: &[("msp-technical", Held::RemindedToday)],
        }],
        approved: &[("well-architected-review", 1)],
        health: None,
    },
    DemoPartner {
        name: "Cirrus Ops",
        partner_type: "msp",
        region: "EMEA",
        program: "cloud-msp",
        staff: &[Staff {
            email: "ops@cirrus.example",
            name: "Piotr Nowak",
            role: LEARNER,
            job_role: "technical",
            modules: &[],
            exams: &[],
            credentials: &[("msp-technical", Held::Lapsed)],
        }],
        approved: &[("well-architected-review", 1)],
        health: None,
    },
    DemoPartner {
        name: "Brightpath Digital",
        partner_type: "agency",
        region: "EMEA",
        program: "crm-solutions-agency",
        staff: &[
            Staff {
                email: "lead@brightpath.example",
                name: "Aisha Bello",
                role: ADMIN,
                job_role: "implementation",
                modules: &[],
                exams: &[],
                credentials: &[("crm-implementation", Held::Current)],
            },
            Staff {
                email: "consultant@brightpath.example",
                name: "Marco Rossi",
                role: LEARNER,
                job_role: "implementation",
                modules: &[],
                exams: &[],
                credentials: &[("crm-implementation", Held::Current)],
            },
            Staff {
                email: "marketing@brightpath.example",
                name: "Chloe Martin",
                role: LEARNER,
                job_role: "marketing",
                modules: &[],
                exams: &[],
                credentials: &[("marketing-hub", Held::Current)],
            },
            Staff {
                email: "sales@brightpath.example",
                name: "Ben Okoro",
                role: LEARNER,
                job_role: "sales",
                modules: &[],
                exams: &[],
                credentials: &[("sales-hub", Held::Current)],
            },
        ],
        approved: &[("client-implementation", 3)],
        health: Some(42.0),
    },
    DemoPartner {
        name: "Lumen Marketing Co",
        partner_type: "agency",
        region: "North America",
        program: "crm-solutions-agency",
        staff: &[
            Staff {
                email: "owner@lumen.example",
                name: "Rosa Diaz",
                role: ADMIN,
                job_role: "implementation",
                modules: &[],
                exams: &[],
                credentials: &[("crm-implementation", Held::Current)],
            },
            Staff {
                email: "builder@lumen.example",
                name: "Tom Becker",
                role: LEARNER,
                job_role: "implementation",
                modules: &[],
                exams: &[],
                credentials: &[("crm-implementation", Held::Expiring)],
            },
            Staff {
                email: "campaigns@lumen.example",
                name: "Ivy Chen",
                role: LEARNER,
                job_role: "marketing",
                modules: &[],
                exams: &[],
                credentials: &[("marketing-hub", Held::Current)],
            },
            Staff {
                email: "deals@lumen.example",
                name: "Raj Patel",
                role: LEARNER,
                job_role: "sales",
                modules: &[],
                exams: &[],
                credentials: &[("sales-hub", Held::Current)],
            },
        ],
        approved: &[("client-implementation", 3)],
        health: Some(18.0),
    },
    DemoPartner {
        name: "Bluebird Health Distribution",
        partner_type: "distributor",
        region: "North America",
        program: "medical-software-distributor",
        staff: &[
            Staff {
                email: "admin@bluebird.example",
                name: "Grace Liu",
                role: ADMIN,
                job_role: "sales",
                modules: &[],
                exams: &[],
                credentials: &[],
            },
            Staff {
                email: "sales@bluebird.example",
                name: "Omar Haddad",
                role: LEARNER,
                job_role: "sales",
                modules: &[],
                exams: &[],
                credentials: &[("sales", Held::Current)],
            },
            Staff {
                email: "validation@bluebird.example",
                name: "Ana Souza",
                role: LEARNER,
                job_role: "technical",
                // Re-certifying: the module is done, the exam is next.
                modules: &["iq-oq-pq-validation"],
                exams: &[],
                credentials: &[("technical", Held::Lapsed)],
            },
        ],
        approved: &[],
        health: None,
    },
    DemoPartner {
        name: "Helix Medical Supply",
        partner_type: "distributor",
        region: "EMEA",
        program: "medical-software-distributor",
        staff: &[
            Staff {
                email: "sales@helix.example",
                name: "Sofia Lindqvist",
                role: ADMIN,
                job_role: "sales",
                modules: &[],
                exams: &[],
                credentials: &[("sales", Held::Current)],
            },
            Staff {
                email: "qa@helix.example",
                name: "Yusuf Demir",
                role: LEARNER,
                job_role: "technical",
                modules: &[],
                exams: &[],
                credentials: &[("technical", Held::Expiring)],
            },
        ],
        approved: &[],
        health: None,
    },
];

impl App {
    /// Loads an example item bank, activates its items and publishes the program's exams.
    async fn load_demo_exams(&self, ctx: &Ctx, program: &str, file: &str) -> AppResult<()> {
        let items = accredit_formats::item_bank::parse(file.as_bytes()).map_err(|errors| {
            AppError::Internal(anyhow::anyhow!(
                "example items of {program}: {}",
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ))
        })?;
        let ids: Vec<String> = items.iter().map(|i| i.id.clone()).collect();
        self.import_items(ctx, program, items, "demo").await?;
        for id in &ids {
            self.set_item_status(ctx, program, id, accredit_domain::exam::ItemStatus::Active)
                .await?;
        }
        let exams = self.get_program(ctx, program).await?.exams;
        for exam in exams.iter().filter(|e| e.blueprint.is_some()) {
            self.publish_exam(ctx, program, &exam.id).await?;
        }
        Ok(())
    }
}

impl App {
    /// True when the database holds no people and no partners yet.
    pub async fn is_empty(&self) -> AppResult<bool> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM people) + (SELECT COUNT(*) FROM partners) AS n",
        )
        .fetch_one(self.db.reader())
        .await?;
        Ok(row.try_get::<i64, _>("n").map_err(anyhow::Error::from)? == 0)
    }

    pub async fn vendor_name(&self) -> AppResult<Option<String>> {
        let row = sqlx::query("SELECT value FROM settings WHERE key = 'vendor_name'")
            .fetch_optional(self.db.reader())
            .await?;
        Ok(row
            .map(|r| r.try_get::<String, _>("value"))
            .transpose()
            .map_err(anyhow::Error::from)?)
    }

    /// The issue date that makes a credential of `track` stand as `held` today.
    async fn demo_issue_date(&self, program_id: &str, track: &str, held: Held) -> AppResult<Date> {
        let today = self.today();
        let program = self.get_program(&Ctx::system(), program_id).await?;
        let validity = &program.track(track).expect("demo track exists").validity;
        let target_end = match held {
            Held::Current => return Ok(today - 2.months()),
            Held::Expiring => today + 45.days(),
            Held::RemindedToday => today + 90.days(),
            Held::Lapsed => today - 20.days(),
        };
        // Walk back from the target end to the issue date whose term ends closest to it.
        let mut issued = target_end - Span::new().months(12);
        for _ in 0..800 {
            let end = program.expiry(validity, issued);
            if end >= target_end {
                break;
            }
            issued = issued.tomorrow().unwrap_or(issued);
        }
        Ok(issued)
    }

    /// Loads the demo program; every account gets `password`.
    pub async fn load_demo(&self, password: &str) -> AppResult<Vec<DemoAccount>> {
        let ctx = Ctx::system();
        let mut tx = self.db.begin().await?;
        sqlx::query("INSERT INTO settings (key, value) VALUES ('vendor_name', $1)")
            .bind(DEMO_VENDOR)
            .execute(&mut *tx)
            .await?;
        crate::audit::record(
            &mut tx,
            &ctx,
            self.now(),
            "settings.changed",
            "settings:vendor_name",
            serde_json::json!({ "vendor_name": DEMO_VENDOR }),
        )
        .await?;
        tx.commit().await?;

        for (_, text) in EXAMPLE_PROGRAMS {
            self.apply_program(&ctx, text).await?;
        }
        for (program, module, file_name, bytes) in DEMO_CONTENT {
            let recording_url = (file_name.ends_with(".vtt") || file_name.ends_with(".srt"))
                .then(|| format!("https://videos.meridian.example/{program}/{module}.mp4"));
            let file = crate::content::ContentFile {
                file_name: (*file_name).to_owned(),
                bytes: bytes.to_vec(),
                recording_url,
            };
            self.import_content(&ctx, program, module, &[file]).await?;
        }
        for (program, file) in DEMO_ITEM_BANKS {
            self.load_demo_exams(&ctx, program, file).await?;
        }

        let vendor_staff = [
            ("admin@meridian.example", "Maya Okafor", Role::ProgramAdmin),
            (
                "pam@meridian.example",
                "Jonas Weber",
                Role::PartnerAccountManager,
            ),
            (
                "pam2@meridian.example",
                "Elena Petrova",
                Role::PartnerAccountManager,
            ),
            ("reviewer@meridian.example", "Priya Raman", Role::Reviewer),
            ("proctor@meridian.example", "Tomás Ruiz", Role::Proctor),
        ];
        let mut accounts = Vec::new();
        let mut managers = Vec::new();
        let mut proctor = String::new();
        for (email, name, role) in vendor_staff {
            let person = self
                .create_person(
                    &ctx,
                    NewPerson {
                        email: email.into(),
                        display_name: name.into(),
                        roles: vec![role],
                        partner_id: None,
                        job_role: None,
                        password: Some(password.into()),
                    },
                )
                .await?;
            if role == Role::PartnerAccountManager {
                managers.push(person.id.clone());
            }
            if role == Role::Proctor {
                proctor = person.id.clone();
            }
            accounts.push(DemoAccount {
                email: email.into(),
                name: name.into(),
                role,
                organisation: DEMO_VENDOR.into(),
            });
        }

        for (index, demo) in PARTNERS.iter().enumerate() {
            let partner = self
                .create_partner(
                    &ctx,
                    NewPartner {
                        name: demo.name.into(),
                        partner_type: demo.partner_type.into(),
                        region: demo.region.into(),
                        // The first PAM looks after the first half of the partners.
                        account_manager_id: Some(
                            managers[usize::from(index >= PARTNERS.len() / 2)].clone(),
                        ),
                    },
                )
                .await?;
            self.enroll_partner(&ctx, &partner.id, demo.program).await?;
            for staff in demo.staff {
                let person = self
                    .create_person(
                        &ctx,
                        NewPerson {
                            email: staff.email.into(),
                            display_name: staff.name.into(),
                            roles: vec![staff.role],
                            partner_id: Some(partner.id.clone()),
                            job_role: Some(staff.job_role.into()),
                            password: Some(password.into()),
                        },
                    )
                    .await?;
                for module in staff.modules {
                    let evidence = Evidence::ModuleCompleted {
                        person: person.id.clone(),
                        module: (*module).into(),
                    };
                    self.record_evidence(&ctx, demo.program, evidence).await?;
                }
                for exam in staff.exams {
                    let evidence = Evidence::ExamPassed {
                        person: person.id.clone(),
                        exam: (*exam).into(),
                    };
                    self.record_evidence(&ctx, demo.program, evidence).await?;
                }
                for (track, held) in staff.credentials {
                    let issued_on = self.demo_issue_date(demo.program, track, *held).await?;
                    let evidence = Evidence::CredentialIssued {
                        person: person.id.clone(),
                        track: (*track).into(),
                        issued_on,
                    };
                    self.record_evidence(&ctx, demo.program, evidence).await?;
                }
                accounts.push(DemoAccount {
                    email: staff.email.into(),
                    name: staff.name.into(),
                    role: staff.role,
                    organisation: demo.name.into(),
                });
            }
            for (practical, count) in demo.approved {
                for _ in 0..*count {
                    let evidence = Evidence::PracticalApproved {
                        partner: partner.id.clone(),
                        person: None,
                        practical: (*practical).into(),
                    };
                    self.record_evidence(&ctx, demo.program, evidence).await?;
                }
            }
            if let Some(score) = demo.health {
                let quarter = format!(
                    "{}-Q{}",
                    self.today().year(),
                    (self.today().month() - 1) / 3 + 1
                );
                let evidence = Evidence::HealthScore {
                    partner: partner.id.clone(),
                    quarter,
                    score,
                };
                self.record_evidence(&ctx, demo.program, evidence).await?;
            }
        }
        self.load_demo_history(&proctor, &managers, DEMO_SEED)
            .await?;
        // A regulatory update the distributors' sales staff must recertify for, so the
        // lifecycle pages and notifications have something to show.
        self.record_trigger(
            &ctx,
            "medical-software-distributor",
            crate::recert::NewTrigger {
                kind: "regulatory-update".into(),
                reason: "The intended-use statement was revised: sales claims must follow the new wording.".into(),
                tracks: vec!["sales".into()],
                modules: vec!["indications-for-use".into()],
                domains: vec![],
                deadline: self.today() + 60.days(),
            },
        )
        .await?;
        self.run_sweep(&ctx, self.today()).await?;
        Ok(accounts)
    }
}
