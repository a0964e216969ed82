//! JSON-LD → RDF → RDFC-1.0 canonical N-Quads: what a Data Integrity proof signs.
//!
//! The JSON-LD part is the crate's own (`crate::jsonld`): JSON-LD 1.1 expansion and
//! "deserialize JSON-LD to RDF", over the bundled contexts only. Two properties matter for
//! signatures, and general-purpose processors lack at least one of them:
//!
//! 1. **Safe mode, always.** Standard JSON-LD silently drops a key no context defines, a `type`
//!    that is no term, a relative or invalid IRI, a value outside any node: such data would be
//!    displayed but not signed. Here each is an error naming the term or value
//!    ([`Error::UndefinedTerm`], [`Error::RelativeIri`], [`Error::JsonLd`]). Features the
//!    bundled contexts and realistic credentials do not need, or whose data RDF does not keep
//!    (index maps, `@reverse`, `@nest`, `@direction`, `@base`, `"@vocab": null`), are refused
//!    with [`Error::Unsupported`] rather than half-supported.
//! 2. **JSON-LD 1.1 scoping.** A node with several types applies each type's scoped context in
//!    turn (the W3C employment vector, typed `Person` and `EmployablePerson`, depends on it);
//!    type-scoped contexts stop at nested nodes; property-scoped contexts apply to the
//!    property's values, and protected terms stay protected.
//!
//! Processed contexts are cached process-wide, so the bundled contexts are processed once per
//! process rather than once per document. RDFC-1.0 itself is oxrdf's.
//!
//! `testdata/jsonld-js/` checks the result byte for byte against jsonld.js in safe mode, and
//! the tests compare it with oxjsonld wherever oxjsonld is not affected by the gaps above.

use oxrdf::dataset::{CanonicalizationAlgorithm, CanonicalizationHashAlgorithm};
use serde_json::Value;

use crate::{Error, jsonld};

/// The canonical N-Quads (RDFC-1.0, SHA-256) of a JSON-LD document, using only the bundled
/// contexts. A term the contexts do not define, an unknown context URL or a relative IRI is an
/// error naming it: such data would otherwise be left out of the signature.
pub fn canonicalize(document: &Value) -> Result<String, Error> {
    if document.get("@context").is_none_or(Value::is_null) {
        return Err(Error::NotADocument);
    }
    let mut dataset = jsonld::to_dataset(document)?;
    dataset.canonicalize(CanonicalizationAlgorithm::Rdfc10 {
        hash_algorithm: CanonicalizationHashAlgorithm::Sha256,
    });
    let mut lines: Vec<String> = dataset.iter().map(|quad| format!("{quad} .\n")).collect();
    // Canonical N-Quads are sorted in code point order, which is UTF-8 byte order.
    lines.sort_unstable();
    Ok(lines.concat())
}
