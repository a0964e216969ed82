//! Signing and verifying W3C Verifiable Credentials 2.0 / Open Badges 3.0.
//!
//! - Data Integrity proofs with the `eddsa-rdfc-2022` cryptosuite ([`sign`], [`verify`]), over
//!   the RDFC-1.0 canonical form of the JSON-LD ([`canonicalize`]).
//! - VC-JWT (VC-JOSE-COSE, EdDSA) ([`sign_jwt`], [`verify_jwt`]).
//! - Bitstring Status List ([`StatusList`]) and did:web documents ([`did_web_document`]).
//!
//! Pure: no I/O, no network, no clock. Times are parameters, keys come from a resolver the
//! caller supplies, and JSON-LD contexts are compiled in ([`CREDENTIALS_V2`],
//! [`OPEN_BADGES_V3_0_3`], [`OPEN_BADGES_V3_0_2`]); any other context URL is an error.
//! Terms the contexts do not define are an error too, because JSON-LD would leave them out of
//! the signed data while people still read them.

mod canon;
mod contexts;
mod did;
mod error;
mod jsonld;
mod jwt;
mod keys;
mod proof;
mod status_list;

pub use canon::canonicalize;
pub use contexts::{CREDENTIALS_V2, OPEN_BADGES_V3_0_2, OPEN_BADGES_V3_0_3};
pub use did::{did_web, did_web_document, did_web_url, key_from_did_document};
pub use ed25519_dalek::VerifyingKey;
pub use error::Error;
pub use jwt::{sign_jwt, verify_jwt};
pub use keys::{Keypair, public_key_from_multibase};
pub use proof::{VerifiedProof, sign, verify};
pub use status_list::{MIN_STATUS_LIST_BITS, StatusList};

#[cfg(test)]
mod tests;
