//! People, their roles and the values that identify them.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A rejected input, naming the field and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidInput {
    pub field: String,
    pub message: String,
}

impl InvalidInput {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Parses one of a closed set of names; an unknown name is refused with the list of known ones.
pub(crate) fn parse_name<T: Copy>(
    field: &str,
    kind: &str,
    raw: &str,
    all: &[T],
    name: fn(T) -> &'static str,
) -> Result<T, InvalidInput> {
    all.iter()
        .copied()
        .find(|v| name(*v) == raw)
        .ok_or_else(|| {
            let known: Vec<_> = all.iter().map(|v| name(*v)).collect();
            InvalidInput::new(
                field,
                format!(
                    "unknown {kind} `{raw}`; expected one of {}",
                    known.join(", ")
                ),
            )
        })
}

/// Which side of the program a role belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Staff of the vendor that runs the program.
    Vendor,
    /// Staff of one partner organisation.
    Partner,
}

/// What a person does in the program. A person may hold several roles, all on one side.
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
#[serde(rename_all = "snake_case")]
pub enum Role {
    ProgramAdmin,
    PartnerAccountManager,
    Reviewer,
    Proctor,
    PartnerAdmin,
    Learner,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::ProgramAdmin,
        Role::PartnerAccountManager,
        Role::Reviewer,
        Role::Proctor,
        Role::PartnerAdmin,
        Role::Learner,
    ];

    pub fn side(self) -> Side {
        match self {
            Role::ProgramAdmin | Role::PartnerAccountManager | Role::Reviewer | Role::Proctor => {
                Side::Vendor
            }
            Role::PartnerAdmin | Role::Learner => Side::Partner,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::ProgramAdmin => "program_admin",
            Role::PartnerAccountManager => "partner_account_manager",
            Role::Reviewer => "reviewer",
            Role::Proctor => "proctor",
            Role::PartnerAdmin => "partner_admin",
            Role::Learner => "learner",
        }
    }

    /// How the role is called on pages.
    pub fn label(self) -> &'static str {
        match self {
            Role::ProgramAdmin => "Program admin",
            Role::PartnerAccountManager => "Partner Account Manager",
            Role::Reviewer => "Reviewer",
            Role::Proctor => "Proctor",
            Role::PartnerAdmin => "Partner admin",
            Role::Learner => "Learner",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_name("role", "role", s, &Role::ALL, Role::as_str)
    }
}

/// The kind of business a partner organisation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartnerType {
    Reseller,
    Isv,
    Msp,
    Agency,
    Integrator,
    Distributor,
}

impl PartnerType {
    pub const ALL: [PartnerType; 6] = [
        PartnerType::Reseller,
        PartnerType::Isv,
        PartnerType::Msp,
        PartnerType::Agency,
        PartnerType::Integrator,
        PartnerType::Distributor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PartnerType::Reseller => "reseller",
            PartnerType::Isv => "isv",
            PartnerType::Msp => "msp",
            PartnerType::Agency => "agency",
            PartnerType::Integrator => "integrator",
            PartnerType::Distributor => "distributor",
        }
    }
}

impl FromStr for PartnerType {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_name(
            "partner_type",
            "partner type",
            s,
            &PartnerType::ALL,
            PartnerType::as_str,
        )
    }
}

/// A required, trimmed piece of text of bounded length.
pub fn required_text(field: &str, raw: &str, max_chars: usize) -> Result<String, InvalidInput> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(InvalidInput::new(field, "must not be empty"));
    }
    if value.chars().count() > max_chars {
        return Err(InvalidInput::new(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// Checks that a set of roles fits a person: at least one role, all on one side, and a partner
/// organisation exactly when the roles are partner roles.
pub fn check_roles(roles: &[Role], has_partner: bool) -> Result<Side, InvalidInput> {
    let Some(first) = roles.first() else {
        return Err(InvalidInput::new(
            "roles",
            "a person needs at least one role",
        ));
    };
    let side = first.side();
    if let Some(other) = roles.iter().find(|r| r.side() != side) {
        return Err(InvalidInput::new(
            "roles",
            format!(
                "`{first}` is a {side:?} role and `{other}` is not; a person's roles are all vendor roles or all partner roles"
            ),
        ));
    }
    match (side, has_partner) {
        (Side::Partner, false) => Err(InvalidInput::new(
            "partner_id",
            "partner staff must belong to a partner organisation",
        )),
        (Side::Vendor, true) => Err(InvalidInput::new(
            "partner_id",
            "vendor staff do not belong to a partner organisation",
        )),
        _ => Ok(side),
    }
}

/// An email address, trimmed and lower-cased. It identifies a login, never a person: people keep
/// their id when their address changes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let value = raw.trim().to_lowercase();
        let invalid = |why: &str| InvalidInput::new("email", format!("`{raw}` {why}"));
        if value.is_empty() {
            return Err(InvalidInput::new("email", "an email address is required"));
        }
        if value.len() > 254 {
            return Err(invalid("is longer than 254 characters"));
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("contains white space"));
        }
        let Some((local, domain)) = value.rsplit_once('@') else {
            return Err(invalid("has no `@`"));
        };
        if local.is_empty() || local.contains('@') {
            return Err(invalid("needs exactly one `@` with a name before it"));
        }
        if domain.is_empty()
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err(invalid("has no valid domain after the `@`"));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = InvalidInput;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Email::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password that meets the policy; only ever held long enough to be hashed.
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_BYTES: usize = 1024;

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        if raw.chars().count() < Self::MIN_CHARS {
            return Err(InvalidInput::new(
                "password",
                format!("must be at least {} characters long", Self::MIN_CHARS),
            ));
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(InvalidInput::new(
                "password",
                format!("must be at most {} bytes long", Self::MAX_BYTES),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_normalised_and_validated() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@@x.com",
            "a da@x.com",
            "ada@.x",
            "ada@x..y",
        ] {
            let err = Email::parse(bad).unwrap_err();
            assert_eq!(err.field, "email", "{bad}");
        }
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        let err = "wizard".parse::<Role>().unwrap_err();
        assert!(err.message.contains("program_admin"), "{}", err.message);
    }

    #[test]
    fn a_person_has_roles_of_one_side_and_a_partner_exactly_when_partner_side() {
        assert_eq!(
            check_roles(&[Role::Learner, Role::PartnerAdmin], true),
            Ok(Side::Partner)
        );
        assert_eq!(
            check_roles(&[Role::Reviewer, Role::Proctor], false),
            Ok(Side::Vendor)
        );
        assert_eq!(check_roles(&[], false).unwrap_err().field, "roles");
        assert_eq!(
            check_roles(&[Role::Learner, Role::Reviewer], true)
                .unwrap_err()
                .field,
            "roles"
        );
        assert_eq!(
            check_roles(&[Role::Learner], false).unwrap_err().field,
            "partner_id"
        );
        assert_eq!(
            check_roles(&[Role::ProgramAdmin], true).unwrap_err().field,
            "partner_id"
        );
    }

    #[test]
    fn passwords_shorter_than_the_minimum_are_refused() {
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse("long enough pw").is_ok());
        assert_eq!(
            format!("{:?}", NewPassword::parse("long enough pw").unwrap()),
            "NewPassword(***)"
        );
    }
}
