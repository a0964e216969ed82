/// Why a credential could not be signed or verified. Messages are written for the person who
/// issued or presented the credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the context {0} is not bundled; Accredit never fetches contexts")]
    UnknownContext(String),
    #[error("the term `{0}` is not defined by the document's contexts, so it would not be signed")]
    UndefinedTerm(String),
    #[error(
        "the identifier `{0}` is not an absolute IRI (such as https://… or urn:…), so it would not be signed"
    )]
    RelativeIri(String),
    #[error("the document is not valid JSON-LD: {0}")]
    JsonLd(String),
    #[error("the document uses a JSON-LD feature Accredit does not support: {0}")]
    Unsupported(String),
    #[error("the document must be a JSON object with an @context")]
    NotADocument,
    #[error("the document has no proof")]
    MissingProof,
    #[error("the document already has a proof; Accredit adds exactly one")]
    AlreadySigned,
    #[error("the proof is not a valid eddsa-rdfc-2022 Data Integrity proof: {0}")]
    InvalidProof(String),
    #[error("the key {0} could not be resolved, so the proof cannot be checked")]
    UnknownKey(String),
    #[error(
        "the proof does not verify with the key of {0}: the document or its proof was changed after signing, or another key signed it"
    )]
    BadSignature(String),
    #[error("`{0}` is not a valid Ed25519 multibase key: {1}")]
    InvalidKey(String, String),
    #[error("the JWT is malformed: {0}")]
    InvalidJwt(String),
    #[error("the JWT signature does not verify with the key of {0}")]
    BadJwtSignature(String),
    #[error("the status list is invalid: {0}")]
    InvalidStatusList(String),
    #[error("status list index {index} is outside the list of {len} entries")]
    StatusIndexOutOfRange { index: usize, len: usize },
}
