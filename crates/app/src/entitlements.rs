//! The entitlement snapshot: every partner's (and person's) benefit decisions, computed ahead
//! and held in memory, so answering "may partner P do X?" is a hash lookup.
//!
//! It is rebuilt from the database at start and when programs change, and refreshed partner by
//! partner after every commit that can change a decision — before the writing request returns,
//! so the node that wrote is never stale. Other nodes hear of the change through PostgreSQL
//! `NOTIFY` (see [`App::listen_for_changes`]). A decision that holds "until" a date is
//! re-evaluated the first time it is asked for after that date.

use crate::error::AppResult;
use crate::records::{load_programs, load_records};
use crate::{App, Backend};
use accredit_domain::evaluate::{
    Decision, PartnerRecord, decide_for_partner, decide_for_person, standing,
};
use accredit_domain::program::{Program, Subject};
use jiff::civil::Date;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// The PostgreSQL channel on which committed changes are announced to other nodes.
pub const CHANNEL: &str = "accredit_entitlements";
/// Payload asking every node to rebuild from scratch (programs changed).
const EVERYTHING: &str = "*";
/// Payload telling nodes an API token was revoked.
const TOKENS: &str = "tokens";

/// Decisions aligned with a program's benefits; `None` where the benefit is for the other
/// kind of subject.
type Decisions = Vec<Option<Arc<Decision>>>;

/// One program's answers for one partner.
#[derive(Debug, Clone)]
struct ProgramEntry {
    program: usize,
    tier: Option<usize>,
    /// Aligned with `program.benefits`; `None` for benefits granted to people.
    decisions: Decisions,
}

#[derive(Debug, Clone, Default)]
struct PartnerEntry {
    programs: Vec<ProgramEntry>,
    people: Vec<Box<str>>,
}

#[derive(Debug, Clone)]
struct PersonEntry {
    partner: Box<str>,
    /// Per enrolled program: decisions aligned with its benefits, `None` for partner benefits.
    programs: Vec<(usize, Decisions)>,
}

#[derive(Debug, Default)]
struct Snapshot {
    programs: Vec<Arc<Program>>,
    /// Benefit id → (program, benefit) positions.
    benefits: HashMap<String, Vec<(usize, usize)>>,
    partners: HashMap<Box<str>, PartnerEntry>,
    people: HashMap<Box<str>, PersonEntry>,
}

/// What is being asked about.
#[derive(Debug, Clone, Copy)]
pub enum Subjectee<'a> {
    Partner(&'a str),
    Person(&'a str),
}

/// An answer with what it was decided from.
#[derive(Debug, Clone)]
pub struct Answer {
    pub partner_id: String,
    pub program_id: String,
    pub entitlement: String,
    pub tier: Option<String>,
    pub decision: Arc<Decision>,
}

/// The outcome of a lookup.
#[derive(Debug, Clone)]
pub enum Lookup {
    Answer(Answer),
    UnknownPartner,
    UnknownPerson,
    UnknownEntitlement,
    /// Several programs have a benefit of that id; the caller must name the program.
    Ambiguous(Vec<String>),
    /// A benefit granted to people was asked of a partner.
    PersonBenefit,
    /// The decision's "until" has passed: the partner must be re-evaluated first.
    Stale(String),
}

/// Deduplicates identical decisions so a million people share a handful of allocations.
#[derive(Default)]
struct Interner(HashMap<Decision, Arc<Decision>>);

impl Interner {
    fn intern(&mut self, decision: Decision) -> Arc<Decision> {
        if let Some(existing) = self.0.get(&decision) {
            return existing.clone();
        }
        let shared = Arc::new(decision.clone());
        self.0.insert(decision, shared.clone());
        shared
    }
}

#[derive(Debug, Default)]
pub struct EntitlementIndex {
    snapshot: RwLock<Snapshot>,
}

fn not_enrolled(program: &Program, benefit_name: &str) -> Decision {
    Decision::denied(
        format!(
            "{benefit_name} denied: the partner is not enrolled in {}",
            program.name
        ),
        Some(format!("enrol in {}", program.name)),
    )
}

impl EntitlementIndex {
    /// Answers from memory. `program` disambiguates benefit ids used by several programs.
    pub fn lookup(
        &self,
        who: Subjectee<'_>,
        entitlement: &str,
        program: Option<&str>,
        today: Date,
    ) -> Lookup {
        let snapshot = self.snapshot.read().expect("entitlement snapshot lock");
        let Some(places) = snapshot.benefits.get(entitlement) else {
            return Lookup::UnknownEntitlement;
        };
        let place = match program {
            Some(wanted) => places
                .iter()
                .find(|(p, _)| snapshot.programs[*p].id == wanted),
            None if places.len() == 1 => places.first(),
            None => {
                return Lookup::Ambiguous(
                    places
                        .iter()
                        .map(|(p, _)| snapshot.programs[*p].id.clone())
                        .collect(),
                );
            }
        };
        let Some(&(program_index, benefit_index)) = place else {
            return Lookup::UnknownEntitlement;
        };
        let program = &snapshot.programs[program_index];
        let benefit = &program.benefits[benefit_index];
        let (partner_id, person) = match who {
            Subjectee::Partner(id) => (id, None),
            Subjectee::Person(id) => match snapshot.people.get(id) {
                Some(person) => (&*person.partner, Some(person)),
                None => return Lookup::UnknownPerson,
            },
        };
        let Some(partner) = snapshot.partners.get(partner_id) else {
            return Lookup::UnknownPartner;
        };
        let entry = partner.programs.iter().find(|e| e.program == program_index);
        let decision = match (entry, benefit.subject, person) {
            (None, _, _) => Arc::new(not_enrolled(program, &benefit.name)),
            (Some(_), Subject::Person, None) => return Lookup::PersonBenefit,
            (Some(entry), Subject::Partner, _) => entry.decisions[benefit_index]
                .clone()
                .expect("partner decision"),
            (Some(_), Subject::Person, Some(person)) => person
                .programs
                .iter()
                .find(|(p, _)| *p == program_index)
                .and_then(|(_, decisions)| decisions[benefit_index].clone())
                .unwrap_or_else(|| Arc::new(not_enrolled(program, &benefit.name))),
        };
        if decision.allowed && decision.until.is_some_and(|until| until < today) {
            return Lookup::Stale(partner_id.to_owned());
        }
        Lookup::Answer(Answer {
            partner_id: partner_id.to_owned(),
            program_id: program.id.clone(),
            entitlement: benefit.id.clone(),
            tier: entry
                .and_then(|e| e.tier)
                .map(|t| program.tiers[t].id.clone()),
            decision,
        })
    }

    /// How many partners and people the snapshot holds.
    pub fn size(&self) -> (usize, usize) {
        let snapshot = self.snapshot.read().expect("entitlement snapshot lock");
        (snapshot.partners.len(), snapshot.people.len())
    }
}

/// Decisions for one partner in one program, and for each of its people.
fn decide_all(
    program_index: usize,
    program: &Program,
    record: &PartnerRecord,
    today: Date,
    interner: &mut Interner,
) -> (ProgramEntry, Vec<(Box<str>, Decisions)>) {
    let result = standing(program, record, today);
    let decisions = program
        .benefits
        .iter()
        .map(|b| match b.subject {
            Subject::Partner => {
                Some(interner.intern(decide_for_partner(program, b, record, &result, today)))
            }
            Subject::Person => None,
        })
        .collect();
    let people = record
        .people
        .iter()
        .map(|person| {
            let decisions = program
                .benefits
                .iter()
                .map(|b| match b.subject {
                    Subject::Person => Some(interner.intern(decide_for_person(
                        program, b, record, &result, person, today,
                    ))),
                    Subject::Partner => None,
                })
                .collect();
            (person.person_id.as_str().into(), decisions)
        })
        .collect();
    (
        ProgramEntry {
            program: program_index,
            tier: result.tier,
            decisions,
        },
        people,
    )
}

impl App {
    /// Rebuilds the whole snapshot from the database.
    pub async fn rebuild_entitlements(&self) -> AppResult<()> {
        let today = self.today();
        let mut conn = self.db.reader().acquire().await?;
        let programs: Vec<Arc<Program>> = load_programs(&mut conn)
            .await?
            .into_iter()
            .map(Arc::new)
            .collect();
        let mut snapshot = Snapshot {
            programs: programs.clone(),
            ..Snapshot::default()
        };
        for (p, program) in programs.iter().enumerate() {
            for (b, benefit) in program.benefits.iter().enumerate() {
                snapshot
                    .benefits
                    .entry(benefit.id.clone())
                    .or_default()
                    .push((p, b));
            }
        }
        // Every partner appears, enrolled or not, so unknown partners are told apart.
        let all = sqlx::query_scalar::<_, String>("SELECT id FROM partners")
            .fetch_all(&mut *conn)
            .await?;
        for id in all {
            snapshot
                .partners
                .insert(id.into_boxed_str(), PartnerEntry::default());
        }
        let mut interner = Interner::default();
        for (p, program) in programs.iter().enumerate() {
            let records = load_records(&mut conn, &program.id, None).await?;
            for (partner_id, record) in records {
                let (entry, people) = decide_all(p, program, &record, today, &mut interner);
                let partner = snapshot
                    .partners
                    .entry(partner_id.as_str().into())
                    .or_default();
                partner.programs.push(entry);
                for (person_id, decisions) in people {
                    if !partner.people.contains(&person_id) {
                        partner.people.push(person_id.clone());
                    }
                    snapshot
                        .people
                        .entry(person_id)
                        .or_insert_with(|| PersonEntry {
                            partner: partner_id.as_str().into(),
                            programs: Vec::new(),
                        })
                        .programs
                        .push((p, decisions));
                }
            }
        }
        // People of partners in no program still resolve to their partner.
        let people = sqlx::query_as::<_, (String, String)>(
            "SELECT id, partner_id FROM people WHERE partner_id IS NOT NULL",
        )
        .fetch_all(&mut *conn)
        .await?;
        for (person, partner) in people {
            let key: Box<str> = person.into_boxed_str();
            if !snapshot.people.contains_key(&key) {
                if let Some(entry) = snapshot.partners.get_mut(partner.as_str()) {
                    entry.people.push(key.clone());
                }
                snapshot.people.insert(
                    key,
                    PersonEntry {
                        partner: partner.into_boxed_str(),
                        programs: Vec::new(),
                    },
                );
            }
        }
        *self
            .entitlements
            .snapshot
            .write()
            .expect("entitlement snapshot lock") = snapshot;
        Ok(())
    }

    /// Re-evaluates these partners (and their people) from the database into the snapshot.
    pub async fn refresh_entitlements(&self, partners: &[String]) -> AppResult<()> {
        let today = self.today();
        let programs = self
            .entitlements
            .snapshot
            .read()
            .expect("entitlement snapshot lock")
            .programs
            .clone();
        let mut conn = self.db.reader().acquire().await?;
        let mut interner = Interner::default();
        for partner_id in partners {
            let exists: Option<String> =
                sqlx::query_scalar("SELECT id FROM partners WHERE id = $1")
                    .bind(partner_id)
                    .fetch_optional(&mut *conn)
                    .await?;
            let mut entry = PartnerEntry::default();
            let mut people: HashMap<Box<str>, PersonEntry> = HashMap::new();
            for (p, program) in programs.iter().enumerate() {
                let mut records = load_records(&mut conn, &program.id, Some(partner_id)).await?;
                let Some(record) = records.remove(partner_id) else {
                    continue;
                };
                let (program_entry, decided) =
                    decide_all(p, program, &record, today, &mut interner);
                entry.programs.push(program_entry);
                for (person_id, decisions) in decided {
                    people
                        .entry(person_id)
                        .or_insert_with(|| PersonEntry {
                            partner: partner_id.as_str().into(),
                            programs: Vec::new(),
                        })
                        .programs
                        .push((p, decisions));
                }
            }
            let members =
                sqlx::query_scalar::<_, String>("SELECT id FROM people WHERE partner_id = $1")
                    .bind(partner_id)
                    .fetch_all(&mut *conn)
                    .await?;
            for member in members {
                let key: Box<str> = member.into_boxed_str();
                people.entry(key.clone()).or_insert_with(|| PersonEntry {
                    partner: partner_id.as_str().into(),
                    programs: Vec::new(),
                });
            }
            entry.people = people.keys().cloned().collect();
            let mut snapshot = self
                .entitlements
                .snapshot
                .write()
                .expect("entitlement snapshot lock");
            if let Some(old) = snapshot.partners.remove(partner_id.as_str()) {
                for person in old.people {
                    // A person who moved to another partner is owned by that partner's entry.
                    if snapshot
                        .people
                        .get(&person)
                        .is_some_and(|p| *p.partner == **partner_id)
                    {
                        snapshot.people.remove(&person);
                    }
                }
            }
            if exists.is_some() {
                snapshot.people.extend(people);
                snapshot.partners.insert(partner_id.as_str().into(), entry);
            }
        }
        Ok(())
    }

    /// Answers one check, re-evaluating the partner first if its answer has run out.
    pub async fn check_entitlement(
        &self,
        who: Subjectee<'_>,
        entitlement: &str,
        program: Option<&str>,
    ) -> AppResult<Lookup> {
        let today = self.today();
        match self.entitlements.lookup(who, entitlement, program, today) {
            Lookup::Stale(partner) => {
                self.refresh_entitlements(&[partner]).await?;
                Ok(
                    match self.entitlements.lookup(who, entitlement, program, today) {
                        // Still past its date after a fresh evaluation cannot happen; treat as stale data.
                        Lookup::Stale(p) => Lookup::Stale(p),
                        other => other,
                    },
                )
            }
            other => Ok(other),
        }
    }

    /// Announces, inside the writing transaction, which partners changed; PostgreSQL delivers the
    /// notification to other nodes only if the transaction commits.
    pub(crate) async fn notify_changed(
        &self,
        conn: &mut sqlx::AnyConnection,
        partners: &[String],
    ) -> AppResult<()> {
        if self.db.backend != Backend::Postgres {
            return Ok(());
        }
        for partner in partners {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(partner)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    pub(crate) async fn notify_everything(&self, conn: &mut sqlx::AnyConnection) -> AppResult<()> {
        self.notify_changed(conn, &[EVERYTHING.to_owned()]).await
    }

    pub(crate) async fn notify_tokens_changed(
        &self,
        conn: &mut sqlx::AnyConnection,
    ) -> AppResult<()> {
        self.notify_changed(conn, &[TOKENS.to_owned()]).await
    }

    /// After a commit: brings this node's snapshot up to date before the request returns.
    pub(crate) async fn entitlements_changed(&self, partners: &[String]) -> AppResult<()> {
        self.refresh_entitlements(partners).await
    }

    /// Follows other nodes' changes (PostgreSQL only): refreshes the partners they name, and
    /// rebuilds everything after a program change or a lost connection. Runs until the process
    /// ends.
    pub async fn listen_for_changes(&self, database_url: &str) -> AppResult<()> {
        if self.db.backend != Backend::Postgres {
            return Ok(());
        }
        loop {
            let mut listener = match sqlx::postgres::PgListener::connect(database_url).await {
                Ok(listener) => listener,
                Err(e) => {
                    tracing::warn!(error = %e, "entitlement listener cannot connect; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                    continue;
                }
            };
            if let Err(e) = listener.listen(CHANNEL).await {
                tracing::warn!(error = %e, "entitlement listener cannot LISTEN; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                continue;
            }
            // Whatever happened while not listening is caught up by a full rebuild.
            self.tokens.clear();
            if let Err(e) = self.rebuild_entitlements().await {
                tracing::error!(error = ?e, "rebuilding the entitlement snapshot");
            }
            loop {
                match listener.recv().await {
                    Ok(notification) => {
                        let payload = notification.payload();
                        let result = if payload == TOKENS {
                            self.tokens.clear();
                            Ok(())
                        } else if payload == EVERYTHING {
                            self.rebuild_entitlements().await
                        } else {
                            self.refresh_entitlements(&[payload.to_owned()]).await
                        };
                        if let Err(e) = result {
                            tracing::error!(error = ?e, payload, "applying an entitlement change");
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "entitlement listener lost its connection");
                        break;
                    }
                }
            }
        }
    }
}
