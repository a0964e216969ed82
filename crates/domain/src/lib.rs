//! Accredit's rules: plain Rust over plain data.
//!
//! Nothing in this crate performs I/O, spawns tasks or reads a clock; the time is always a
//! parameter. Everything that decides something — who may do what, whether the audit chain
//! holds, whether a login attempt is allowed — lives here so it can be tested in isolation.

pub mod access;
pub mod attempt;
pub mod audit;
pub mod blueprint;
pub mod content;
pub mod evaluate;
pub mod exam;
pub mod identity;
pub mod item_stats;
pub mod lifecycle;
pub mod program;
pub mod reports;
pub mod review;
pub mod throttle;

pub use access::{Action, Actor, Denied, PartnerId, PersonId, Principal, Scope, Visibility};
pub use identity::{Email, InvalidInput, NewPassword, PartnerType, Role, Side};
