//! Who may do what. Every use case asks [`authorize`] before it touches anything; list queries
//! ask [`Principal::visibility`] and filter by it. Nothing else in Accredit decides access.

use crate::identity::{InvalidInput, Role, Side};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    };
}

string_id!(
    /// A person's stable identity; never changes, whatever happens to their email address.
    PersonId
);
string_id!(
    /// A partner organisation.
    PartnerId
);

/// A signed-in person, with what the rules need to know about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub person_id: PersonId,
    pub roles: Vec<Role>,
    /// The partner organisation of partner staff; `None` for vendor staff.
    pub partner_id: Option<PartnerId>,
    /// Partners whose Partner Account Manager this person is.
    pub managed_partners: Vec<PartnerId>,
}

impl Actor {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn side(&self) -> Side {
        match self.partner_id {
            Some(_) => Side::Partner,
            None => Side::Vendor,
        }
    }
}

/// What an API token may be used for.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
pub enum Scope {
    #[serde(rename = "partners:read")]
    PartnersRead,
    #[serde(rename = "partners:write")]
    PartnersWrite,
    #[serde(rename = "people:read")]
    PeopleRead,
    #[serde(rename = "people:write")]
    PeopleWrite,
    #[serde(rename = "audit:read")]
    AuditRead,
    #[serde(rename = "entitlements:read")]
    EntitlementsRead,
    #[serde(rename = "programs:write")]
    ProgramsWrite,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Scope::PartnersRead,
        Scope::PartnersWrite,
        Scope::PeopleRead,
        Scope::PeopleWrite,
        Scope::AuditRead,
        Scope::EntitlementsRead,
        Scope::ProgramsWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::PartnersRead => "partners:read",
            Scope::PartnersWrite => "partners:write",
            Scope::PeopleRead => "people:read",
            Scope::PeopleWrite => "people:write",
            Scope::AuditRead => "audit:read",
            Scope::EntitlementsRead => "entitlements:read",
            Scope::ProgramsWrite => "programs:write",
        }
    }

    /// Parses a space- or comma-separated list, refusing unknown names and empty lists.
    pub fn parse_list(raw: &str) -> Result<Vec<Scope>, InvalidInput> {
        let mut scopes = Vec::new();
        for name in raw.split([' ', ',']).filter(|s| !s.is_empty()) {
            let scope = name.parse()?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        if scopes.is_empty() {
            return Err(InvalidInput::new(
                "scopes",
                "at least one scope is required",
            ));
        }
        scopes.sort();
        Ok(scopes)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::identity::parse_name("scopes", "scope", s, &Scope::ALL, Scope::as_str)
    }
}

/// Whoever is making a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Person(Actor),
    /// Another system, holding an API token with these scopes.
    Integration {
        token_id: String,
        scopes: Vec<Scope>,
    },
    /// The operator at the command line, who holds the database itself, and the demo loader.
    System,
}

impl Principal {
    /// How the principal is named in the audit trail.
    pub fn audit_name(&self) -> String {
        match self {
            Principal::Person(actor) => format!("person:{}", actor.person_id),
            Principal::Integration { token_id, .. } => format!("token:{token_id}"),
            Principal::System => "system".to_owned(),
        }
    }

    /// Whether the principal is this very person; everyone may see themself.
    pub fn is_person(&self, person: &PersonId) -> bool {
        matches!(self, Principal::Person(actor) if actor.person_id == *person)
    }

    fn has_scope(&self, scope: Scope) -> bool {
        matches!(self, Principal::Integration { scopes, .. } if scopes.contains(&scope))
    }

    fn actor_with(&self, role: Role) -> Option<&Actor> {
        match self {
            Principal::Person(actor) if actor.has(role) => Some(actor),
            _ => None,
        }
    }

    /// Which people (and partner organisations) the principal may see at all.
    pub fn visibility(&self) -> Visibility {
        match self {
            Principal::System => Visibility::All,
            Principal::Integration { scopes, .. } => {
                if scopes.contains(&Scope::PeopleRead) || scopes.contains(&Scope::PartnersRead) {
                    Visibility::All
                } else {
                    Visibility::Nothing
                }
            }
            Principal::Person(actor) => {
                if actor.has(Role::ProgramAdmin)
                    || actor.has(Role::Reviewer)
                    || actor.has(Role::Proctor)
                {
                    Visibility::All
                } else if actor.has(Role::PartnerAccountManager) {
                    Visibility::Partners(actor.managed_partners.clone())
                } else if let Some(partner) = &actor.partner_id {
                    if actor.has(Role::PartnerAdmin) {
                        Visibility::Partners(vec![partner.clone()])
                    } else {
                        Visibility::OnlySelf {
                            person: actor.person_id.clone(),
                            partner: partner.clone(),
                        }
                    }
                } else {
                    Visibility::Nothing
                }
            }
        }
    }
}

/// The set of people and partners a principal may see; list queries filter by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    All,
    /// People of these partners, and the partners themselves.
    Partners(Vec<PartnerId>),
    /// Only the person themself, and their own partner organisation.
    OnlySelf {
        person: PersonId,
        partner: PartnerId,
    },
    Nothing,
}

impl Visibility {
    pub fn sees_person(&self, person: &PersonId, partner: Option<&PartnerId>) -> bool {
        match self {
            Visibility::All => true,
            Visibility::Partners(partners) => partner.is_some_and(|p| partners.contains(p)),
            Visibility::OnlySelf { person: me, .. } => me == person,
            Visibility::Nothing => false,
        }
    }

    pub fn sees_partner(&self, partner: &PartnerId) -> bool {
        match self {
            Visibility::All => true,
            Visibility::Partners(partners) => partners.contains(partner),
            Visibility::OnlySelf { partner: mine, .. } => mine == partner,
            Visibility::Nothing => false,
        }
    }
}

/// Something a principal wants to do, with the facts about its target that the rules need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action<'a> {
    ReadAuditTrail,
    ManageApiTokens,
    ListPartners,
    ReadPartner(&'a PartnerId),
    CreatePartner,
    ListPeople,
    ReadPerson {
        person: &'a PersonId,
        partner: Option<&'a PartnerId>,
    },
    CreatePerson {
        partner: Option<&'a PartnerId>,
        roles: &'a [Role],
    },
    ChangeEmail {
        person: &'a PersonId,
        partner: Option<&'a PartnerId>,
    },
    /// Apply program files and enrol partners.
    ManagePrograms,
    /// Read program definitions (any signed-in person or token).
    ReadPrograms,
    /// Ask what a partner (or one of its people) may do.
    CheckEntitlement(&'a PartnerId),
    /// Change a person's details, roles, partner or active state.
    UpdatePerson {
        person: &'a PersonId,
        partner: Option<&'a PartnerId>,
    },
    /// Change a partner's details or active state.
    UpdatePartner(&'a PartnerId),
    /// Import, edit and read the item bank (keys included), publish exams, see item quality.
    ManageItems,
    /// Sit an exam: partner staff, for themselves.
    TakeExam,
    /// Approve starts, watch live attempts and invalidate them.
    ProctorExams,
    /// Submit a practical assessment: partner staff, for their own firm.
    SubmitPractical,
    /// Review practical submissions and sign decisions.
    ReviewPracticals,
    /// Record recertification triggers and health scores, manage webhooks, run the daily
    /// sweep, inspect and replay outgoing messages.
    ManageLifecycle,
    /// Read outcome reports: program admins over every partner, Partner Account Managers over
    /// the partners they manage.
    ReadReports,
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The principal may not even know the target exists; shown as "not found".
    #[error("not found")]
    Hidden,
    /// The principal sees the target but may not do this.
    #[error("{0}")]
    Forbidden(String),
}

fn forbidden(why: &str) -> Result<(), Denied> {
    Err(Denied::Forbidden(why.to_owned()))
}

/// The one place that decides whether `principal` may perform `action`.
pub fn authorize(principal: &Principal, action: &Action<'_>) -> Result<(), Denied> {
    if *principal == Principal::System {
        return Ok(());
    }
    let visibility = principal.visibility();
    let admin = principal.actor_with(Role::ProgramAdmin).is_some();
    match action {
        Action::ReadAuditTrail => {
            if admin || principal.has_scope(Scope::AuditRead) {
                Ok(())
            } else {
                forbidden("only program admins may read the audit trail")
            }
        }
        Action::ManageApiTokens => {
            if admin {
                Ok(())
            } else {
                forbidden("only program admins manage API tokens")
            }
        }
        Action::ListPartners | Action::ListPeople => {
            if visibility == Visibility::Nothing {
                forbidden("this principal may not list partners or people")
            } else {
                Ok(())
            }
        }
        Action::ReadPartner(partner) => {
            if visibility.sees_partner(partner) {
                Ok(())
            } else {
                Err(Denied::Hidden)
            }
        }
        Action::CreatePartner => {
            if admin || principal.has_scope(Scope::PartnersWrite) {
                Ok(())
            } else {
                forbidden("only program admins create partner organisations")
            }
        }
        Action::ReadPerson { person, partner } => {
            if principal.is_person(person) || visibility.sees_person(person, *partner) {
                Ok(())
            } else {
                Err(Denied::Hidden)
            }
        }
        Action::CreatePerson { partner, roles } => {
            if admin || principal.has_scope(Scope::PeopleWrite) {
                return Ok(());
            }
            let Some(actor) = principal.actor_with(Role::PartnerAdmin) else {
                return forbidden("only program admins and partner admins add people");
            };
            if *partner != actor.partner_id.as_ref() {
                return forbidden("partner admins add people to their own organisation only");
            }
            if roles.iter().any(|r| r.side() != Side::Partner) {
                return forbidden("partner admins cannot grant vendor roles");
            }
            Ok(())
        }
        Action::ManagePrograms => {
            if admin || principal.has_scope(Scope::ProgramsWrite) {
                Ok(())
            } else {
                forbidden("only program admins apply program files and enrol partners")
            }
        }
        Action::ReadPrograms => Ok(()),
        Action::ManageItems => {
            if admin || principal.has_scope(Scope::ProgramsWrite) {
                Ok(())
            } else {
                forbidden("only program admins manage the item bank and publish exams")
            }
        }
        Action::ReadReports => {
            if admin
                || principal.has_scope(Scope::ProgramsWrite)
                || principal.actor_with(Role::PartnerAccountManager).is_some()
            {
                Ok(())
            } else {
                forbidden("outcome reports are for program admins and Partner Account Managers")
            }
        }
        Action::ManageLifecycle => {
            if admin || principal.has_scope(Scope::ProgramsWrite) {
                Ok(())
            } else {
                forbidden(
                    "only program admins manage recertification, health scores, webhooks and outgoing messages",
                )
            }
        }
        Action::TakeExam => match principal {
            Principal::Person(actor) if actor.partner_id.is_some() => Ok(()),
            _ => forbidden("exams are taken by partner staff, signed in as themselves"),
        },
        Action::SubmitPractical => match principal {
            Principal::Person(actor) if actor.partner_id.is_some() => Ok(()),
            _ => forbidden("practicals are submitted by partner staff, signed in as themselves"),
        },
        Action::ReviewPracticals => {
            if admin || principal.actor_with(Role::Reviewer).is_some() {
                Ok(())
            } else {
                forbidden("only reviewers and program admins review practical submissions")
            }
        }
        Action::ProctorExams => {
            if admin || principal.actor_with(Role::Proctor).is_some() {
                Ok(())
            } else {
                forbidden("only proctors and program admins supervise exam attempts")
            }
        }
        Action::CheckEntitlement(partner) => {
            if principal.has_scope(Scope::EntitlementsRead) || visibility.sees_partner(partner) {
                Ok(())
            } else {
                Err(Denied::Hidden)
            }
        }
        Action::UpdatePartner(partner) => {
            if !visibility.sees_partner(partner) {
                return Err(Denied::Hidden);
            }
            if admin || principal.has_scope(Scope::PartnersWrite) {
                Ok(())
            } else {
                forbidden("only program admins change partner organisations")
            }
        }
        Action::UpdatePerson { person, partner } => {
            if !principal.is_person(person) && !visibility.sees_person(person, *partner) {
                return Err(Denied::Hidden);
            }
            let partner_admin_of_firm = principal
                .actor_with(Role::PartnerAdmin)
                .is_some_and(|a| partner.is_some() && a.partner_id.as_ref() == *partner);
            if admin || principal.has_scope(Scope::PeopleWrite) || partner_admin_of_firm {
                Ok(())
            } else {
                forbidden("only program admins and the person's partner admin change people")
            }
        }
        Action::ChangeEmail { person, partner } => {
            if !principal.is_person(person) && !visibility.sees_person(person, *partner) {
                return Err(Denied::Hidden);
            }
            match principal {
                Principal::Person(actor)
                    if actor.person_id == **person
                        || actor.has(Role::ProgramAdmin)
                        || (actor.has(Role::PartnerAdmin)
                            && partner.is_some()
                            && actor.partner_id.as_ref() == *partner) =>
                {
                    Ok(())
                }
                Principal::Integration { .. } if principal.has_scope(Scope::PeopleWrite) => Ok(()),
                _ => forbidden("you may change only your own email address"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: &str, roles: &[Role], partner: Option<&str>) -> Principal {
        Principal::Person(Actor {
            person_id: id.into(),
            roles: roles.to_vec(),
            partner_id: partner.map(PartnerId::from),
            managed_partners: vec![],
        })
    }

    #[test]
    fn partner_staff_never_see_another_partners_people() {
        let acme: PartnerId = "acme".into();
        let globex: PartnerId = "globex".into();
        let stranger: PersonId = "p-globex".into();
        for principal in [
            person("a1", &[Role::PartnerAdmin], Some("acme")),
            person("a2", &[Role::Learner], Some("acme")),
        ] {
            let read = Action::ReadPerson {
                person: &stranger,
                partner: Some(&globex),
            };
            assert_eq!(authorize(&principal, &read), Err(Denied::Hidden));
            assert_eq!(
                authorize(&principal, &Action::ReadPartner(&globex)),
                Err(Denied::Hidden)
            );
            assert!(!principal.visibility().sees_person(&stranger, Some(&globex)));
        }
        let admin = person("a1", &[Role::PartnerAdmin], Some("acme"));
        assert!(
            authorize(
                &admin,
                &Action::ReadPerson {
                    person: &"colleague".into(),
                    partner: Some(&acme)
                }
            )
            .is_ok()
        );
    }

    #[test]
    fn learners_see_only_themselves() {
        let learner = person("me", &[Role::Learner], Some("acme"));
        let acme: PartnerId = "acme".into();
        assert!(
            authorize(
                &learner,
                &Action::ReadPerson {
                    person: &"me".into(),
                    partner: Some(&acme)
                }
            )
            .is_ok()
        );
        assert_eq!(
            authorize(
                &learner,
                &Action::ReadPerson {
                    person: &"colleague".into(),
                    partner: Some(&acme)
                }
            ),
            Err(Denied::Hidden)
        );
        assert!(authorize(&learner, &Action::ReadPartner(&acme)).is_ok());
    }

    #[test]
    fn partner_account_managers_see_the_partners_they_manage() {
        let pam = Principal::Person(Actor {
            person_id: "pam".into(),
            roles: vec![Role::PartnerAccountManager],
            partner_id: None,
            managed_partners: vec!["acme".into()],
        });
        assert!(authorize(&pam, &Action::ReadPartner(&"acme".into())).is_ok());
        let me = Action::ReadPerson {
            person: &"pam".into(),
            partner: None,
        };
        assert!(authorize(&pam, &me).is_ok(), "everyone sees themself");
        assert_eq!(
            authorize(&pam, &Action::ReadPartner(&"globex".into())),
            Err(Denied::Hidden)
        );
    }

    #[test]
    fn only_program_admins_read_the_audit_trail_and_manage_tokens() {
        for role in Role::ALL {
            let partner = (role.side() == Side::Partner).then_some("acme");
            let principal = person("x", &[role], partner);
            let expected = role == Role::ProgramAdmin;
            assert_eq!(
                authorize(&principal, &Action::ReadAuditTrail).is_ok(),
                expected,
                "{role}"
            );
            assert_eq!(
                authorize(&principal, &Action::ManageApiTokens).is_ok(),
                expected,
                "{role}"
            );
        }
    }

    #[test]
    fn partner_admins_add_partner_staff_to_their_own_firm_only() {
        let admin = person("a", &[Role::PartnerAdmin], Some("acme"));
        let acme: PartnerId = "acme".into();
        let globex: PartnerId = "globex".into();
        let ok = Action::CreatePerson {
            partner: Some(&acme),
            roles: &[Role::Learner],
        };
        assert!(authorize(&admin, &ok).is_ok());
        let other_firm = Action::CreatePerson {
            partner: Some(&globex),
            roles: &[Role::Learner],
        };
        assert!(matches!(
            authorize(&admin, &other_firm),
            Err(Denied::Forbidden(_))
        ));
        let vendor_role = Action::CreatePerson {
            partner: Some(&acme),
            roles: &[Role::Reviewer],
        };
        assert!(matches!(
            authorize(&admin, &vendor_role),
            Err(Denied::Forbidden(_))
        ));
    }

    #[test]
    fn tokens_act_only_within_their_scopes() {
        let token = Principal::Integration {
            token_id: "t".into(),
            scopes: vec![Scope::PeopleRead],
        };
        assert!(authorize(&token, &Action::ListPeople).is_ok());
        assert!(authorize(&token, &Action::ReadAuditTrail).is_err());
        assert!(authorize(&token, &Action::ManageApiTokens).is_err());
        assert!(
            authorize(
                &token,
                &Action::CreatePerson {
                    partner: None,
                    roles: &[Role::Learner]
                }
            )
            .is_err()
        );
        let auditor = Principal::Integration {
            token_id: "t".into(),
            scopes: vec![Scope::AuditRead],
        };
        assert!(authorize(&auditor, &Action::ReadAuditTrail).is_ok());
        assert!(authorize(&auditor, &Action::ListPeople).is_err());
    }

    #[test]
    fn scope_lists_parse_and_reject_unknown_names() {
        assert_eq!(
            Scope::parse_list("people:read, audit:read people:read").unwrap(),
            vec![Scope::PeopleRead, Scope::AuditRead]
        );
        assert!(
            Scope::parse_list("people:fly")
                .unwrap_err()
                .message
                .contains("unknown scope")
        );
        assert!(Scope::parse_list(" ").is_err());
    }
}
