//! The entitlement snapshot: every partner's (and person's) benefit decisions, computed ahead
//! and held in memory, so answering "may partner P do X?" is one hash probe.
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
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, RwLock};

/// The PostgreSQL channel on which committed changes are announced to other nodes.
pub const CHANNEL: &str = "accredit_entitlements";
/// Payload asking every node to rebuild from scratch (programs changed).
const EVERYTHING: &str = "*";
/// Payload telling nodes an API token was revoked.
const TOKENS: &str = "tokens";

/// Partner and person ids are UUIDs; as integers they hash and compare in one step.
type Key = u128;

fn key(id: &str) -> Option<Key> {
    uuid::Uuid::parse_str(id).ok().map(|u| u.as_u128())
}

/// Multiplicative hashing for server-generated UUID keys: lookups never insert, so a caller
/// cannot flood the table, and the keys' random bits need no further mixing.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u128(&mut self, value: u128) {
        self.0 = (self.0 ^ value as u64 ^ (value >> 64) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn write_u32(&mut self, value: u32) {
        self.0 = (self.0 ^ u64::from(value)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<KeyHasher>>;

/// A decision as held: shared with every identical one, with the tier it was decided at.
#[derive(Debug, Clone)]
struct Held {
    decision: Arc<Decision>,
    tier: Option<u16>,
}

/// What refreshing a partner needs to know about it.
#[derive(Debug, Clone)]
struct PartnerMeta {
    /// Programs the partner is enrolled in.
    programs: Vec<usize>,
    people: Vec<Key>,
}

#[derive(Debug, Default)]
struct Snapshot {
    programs: Vec<Arc<Program>>,
    program_ids: Vec<Arc<str>>,
    tier_ids: Vec<Vec<Arc<str>>>,
    /// Slot → (program, benefit); a slot names one benefit of one program.
    slots: Vec<(usize, usize)>,
    slot_ids: Vec<Arc<str>>,
    /// Benefit id → its slots (several programs may use one id).
    benefits: HashMap<String, Vec<u32>>,
    /// (partner, slot) for partner benefits and (person, slot) for person benefits.
    decisions: FastMap<(Key, u32), Held>,
    partners: FastMap<Key, PartnerMeta>,
    /// Person → partner.
    people: FastMap<Key, Key>,
}

/// What is being asked about.
#[derive(Debug, Clone, Copy)]
pub enum Subjectee<'a> {
    Partner(&'a str),
    Person(&'a str),
}

/// An answer with what it was decided from. Nothing in it is allocated per lookup.
#[derive(Debug, Clone)]
pub struct Answer {
    partner: Key,
    pub program_id: Arc<str>,
    pub entitlement: Arc<str>,
    pub tier: Option<Arc<str>>,
    pub decision: Arc<Decision>,
}

impl Answer {
    /// The partner the answer is about (for a person: their partner).
    pub fn partner_id(&self) -> String {
        uuid::Uuid::from_u128(self.partner).to_string()
    }
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

impl Snapshot {
    fn with_programs(programs: Vec<Arc<Program>>) -> Self {
        let mut snapshot = Snapshot {
            program_ids: programs.iter().map(|p| Arc::from(p.id.as_str())).collect(),
            tier_ids: programs
                .iter()
                .map(|p| p.tiers.iter().map(|t| Arc::from(t.id.as_str())).collect())
                .collect(),
            ..Snapshot::default()
        };
        for (p, program) in programs.iter().enumerate() {
            for (b, benefit) in program.benefits.iter().enumerate() {
                let slot = snapshot.slots.len() as u32;
                snapshot.slots.push((p, b));
                snapshot.slot_ids.push(Arc::from(benefit.id.as_str()));
                snapshot
                    .benefits
                    .entry(benefit.id.clone())
                    .or_default()
                    .push(slot);
            }
        }
        snapshot.programs = programs;
        snapshot
    }

    fn slot_of(&self, program: usize, benefit: usize) -> u32 {
        self.slots
            .iter()
            .position(|s| *s == (program, benefit))
            .expect("every benefit has a slot") as u32
    }

    /// Removes a partner and everything held for it and its people.
    fn remove_partner(&mut self, partner: Key) {
        let Some(meta) = self.partners.remove(&partner) else {
            return;
        };
        for slot in 0..self.slots.len() as u32 {
            self.decisions.remove(&(partner, slot));
            for person in &meta.people {
                self.decisions.remove(&(*person, slot));
            }
        }
        for person in &meta.people {
            // A person who moved to another partner belongs to that partner's entry now.
            if self.people.get(person) == Some(&partner) {
                self.people.remove(person);
            }
        }
    }

    /// Adds one partner's decisions in one program.
    fn add(
        &mut self,
        program_index: usize,
        record: &PartnerRecord,
        today: Date,
        interner: &mut Interner,
    ) {
        let Some(partner) = key(&record.partner_id) else {
            return;
        };
        let program = self.programs[program_index].clone();
        let result = standing(&program, record, today);
        let tier = result.tier.map(|t| t as u16);
        let meta = self.partners.entry(partner).or_insert_with(|| PartnerMeta {
            programs: Vec::new(),
            people: Vec::new(),
        });
        meta.programs.push(program_index);
        for person in &record.people {
            if let Some(k) = key(&person.person_id)
                && !meta.people.contains(&k)
            {
                meta.people.push(k);
            }
        }
        for (b, benefit) in program.benefits.iter().enumerate() {
            let slot = self.slot_of(program_index, b);
            match benefit.subject {
                Subject::Partner => {
                    let decision = interner.intern(decide_for_partner(
                        &program, benefit, record, &result, today,
                    ));
                    self.decisions
                        .insert((partner, slot), Held { decision, tier });
                }
                Subject::Person => {
                    for person in &record.people {
                        let Some(k) = key(&person.person_id) else {
                            continue;
                        };
                        let decision = interner.intern(decide_for_person(
                            &program, benefit, record, &result, person, today,
                        ));
                        self.decisions.insert((k, slot), Held { decision, tier });
                    }
                }
            }
        }
        for person in &record.people {
            if let Some(k) = key(&person.person_id) {
                self.people.insert(k, partner);
            }
        }
    }

    /// Registers a partner (and its people) that may be enrolled in nothing.
    fn know_partner(&mut self, partner_id: &str, people: &[String]) {
        let Some(partner) = key(partner_id) else {
            return;
        };
        let meta = self.partners.entry(partner).or_insert_with(|| PartnerMeta {
            programs: Vec::new(),
            people: Vec::new(),
        });
        for person in people {
            if let Some(k) = key(person) {
                if !meta.people.contains(&k) {
                    meta.people.push(k);
                }
                self.people.insert(k, partner);
            }
        }
    }
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
        let Some(slots) = snapshot.benefits.get(entitlement) else {
            return Lookup::UnknownEntitlement;
        };
        let slot = match program {
            Some(wanted) => slots
                .iter()
                .copied()
                .find(|s| snapshot.programs[snapshot.slots[*s as usize].0].id == wanted),
            None if slots.len() == 1 => Some(slots[0]),
            None => {
                return Lookup::Ambiguous(
                    slots
                        .iter()
                        .map(|s| snapshot.programs[snapshot.slots[*s as usize].0].id.clone())
                        .collect(),
                );
            }
        };
        let Some(slot) = slot else {
            return Lookup::UnknownEntitlement;
        };
        let (program_index, benefit_index) = snapshot.slots[slot as usize];
        let program = &snapshot.programs[program_index];
        let benefit = &program.benefits[benefit_index];
        let (partner, subject) = match who {
            // Whether the partner exists is only asked when no decision is held for it.
            Subjectee::Partner(id) => match key(id) {
                Some(k) => (k, k),
                None => return Lookup::UnknownPartner,
            },
            Subjectee::Person(id) => {
                match key(id).and_then(|k| snapshot.people.get(&k).map(|p| (*p, k))) {
                    Some(found) => found,
                    None => return Lookup::UnknownPerson,
                }
            }
        };
        let held = match (benefit.subject, who) {
            (Subject::Person, Subjectee::Partner(_)) => return Lookup::PersonBenefit,
            (Subject::Partner, _) => snapshot.decisions.get(&(partner, slot)),
            (Subject::Person, Subjectee::Person(_)) => snapshot.decisions.get(&(subject, slot)),
        };
        let (decision, tier) = match held {
            Some(held) => (held.decision.clone(), held.tier),
            None => match snapshot.partners.get(&partner) {
                // Known, but not enrolled in this program.
                Some(_) => (Arc::new(not_enrolled(program, &benefit.name)), None),
                None => return Lookup::UnknownPartner,
            },
        };
        if decision.allowed && decision.until.is_some_and(|until| until < today) {
            return Lookup::Stale(uuid::Uuid::from_u128(partner).to_string());
        }
        Lookup::Answer(Answer {
            partner,
            program_id: snapshot.program_ids[program_index].clone(),
            entitlement: snapshot.slot_ids[slot as usize].clone(),
            tier: tier.map(|t| snapshot.tier_ids[program_index][t as usize].clone()),
            decision,
        })
    }

    /// How many partners and people the snapshot holds.
    pub fn size(&self) -> (usize, usize) {
        let snapshot = self.snapshot.read().expect("entitlement snapshot lock");
        (snapshot.partners.len(), snapshot.people.len())
    }
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
        let mut snapshot = Snapshot::with_programs(programs.clone());
        let mut interner = Interner::default();
        for (p, program) in programs.iter().enumerate() {
            let records = load_records(&mut conn, &program.id, None).await?;
            for record in records.values() {
                snapshot.add(p, record, today, &mut interner);
            }
        }
        // Every partner and person appears, enrolled or not, so unknown ones are told apart.
        let partners = sqlx::query_scalar::<_, String>("SELECT id FROM partners")
            .fetch_all(&mut *conn)
            .await?;
        for id in &partners {
            snapshot.know_partner(id, &[]);
        }
        let people = sqlx::query_as::<_, (String, String)>(
            "SELECT id, partner_id FROM people WHERE partner_id IS NOT NULL",
        )
        .fetch_all(&mut *conn)
        .await?;
        for (person, partner) in people {
            snapshot.know_partner(&partner, &[person]);
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
            let mut records = Vec::new();
            for (p, program) in programs.iter().enumerate() {
                let mut loaded = load_records(&mut conn, &program.id, Some(partner_id)).await?;
                if let Some(record) = loaded.remove(partner_id) {
                    records.push((p, record));
                }
            }
            let members =
                sqlx::query_scalar::<_, String>("SELECT id FROM people WHERE partner_id = $1")
                    .bind(partner_id)
                    .fetch_all(&mut *conn)
                    .await?;
            let mut snapshot = self
                .entitlements
                .snapshot
                .write()
                .expect("entitlement snapshot lock");
            if let Some(k) = key(partner_id) {
                snapshot.remove_partner(k);
            }
            if exists.is_some() {
                for (p, record) in &records {
                    snapshot.add(*p, record, today, &mut interner);
                }
                snapshot.know_partner(partner_id, &members);
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
                // Time moved the answer: record the partner's new standing, then answer afresh.
                let ctx = crate::Ctx::system();
                let mut tx = self.db.begin().await?;
                self.refresh_standing(&mut tx, &ctx, &partner, None).await?;
                self.notify_changed(&mut tx, std::slice::from_ref(&partner))
                    .await?;
                tx.commit().await?;
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
            if let Err(e) = self.reindex_content(&|_, _| {}).await {
                tracing::error!(error = ?e, "rebuilding the search index");
            }
            if let Err(e) = self.rebuild_entitlements().await {
                tracing::error!(error = ?e, "rebuilding the entitlement snapshot");
            }
            loop {
                match listener.recv().await {
                    Ok(notification) => {
                        let payload = notification.payload();
                        let result = if let Some(module) = payload.strip_prefix("content:") {
                            match module.split_once('/') {
                                Some((program, module)) => {
                                    self.index_module(program, module).await.map(|_| ())
                                }
                                None => Ok(()),
                            }
                        } else if payload == TOKENS {
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
