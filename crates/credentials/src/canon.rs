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
//! process rather than once per document. RDFC-1.0 itself (the canonical blank node labels) is
//! oxrdf's; the N-Quads are written here, straight from the dataset and those labels.
//!
//! `testdata/jsonld-js/` checks the result byte for byte against jsonld.js in safe mode, and
//! the tests compare it with oxjsonld wherever oxjsonld is not affected by the gaps above.

use std::collections::HashMap;

use oxrdf::dataset::{CanonicalizationAlgorithm, CanonicalizationHashAlgorithm};
use oxrdf::vocab::{rdf, xsd};
use oxrdf::{BlankNode, BlankNodeRef, GraphNameRef, NamedOrBlankNodeRef, TermRef};
use serde_json::Value;

use crate::{Error, jsonld};

/// The canonical N-Quads (RDFC-1.0, SHA-256) of a JSON-LD document, using only the bundled
/// contexts. A term the contexts do not define, an unknown context URL or a relative IRI is an
/// error naming it: such data would otherwise be left out of the signature.
pub fn canonicalize(document: &Value) -> Result<String, Error> {
    if document.get("@context").is_none_or(Value::is_null) {
        return Err(Error::NotADocument);
    }
    let dataset = jsonld::to_dataset(document)?;
    // The canonical labels alone: relabelling the dataset itself would rebuild its indexes.
    let labels = dataset.canonicalize_blank_nodes(CanonicalizationAlgorithm::Rdfc10 {
        hash_algorithm: CanonicalizationHashAlgorithm::Sha256,
    });
    let mut lines: Vec<String> = dataset
        .iter()
        .map(|quad| {
            let mut line = String::with_capacity(160);
            subject(quad.subject, &labels, &mut line);
            line.push_str(" <");
            line.push_str(quad.predicate.as_str());
            line.push_str("> ");
            object(quad.object, &labels, &mut line);
            match quad.graph_name {
                GraphNameRef::NamedNode(iri) => {
                    line.push_str(" <");
                    line.push_str(iri.as_str());
                    line.push('>');
                }
                GraphNameRef::BlankNode(node) => {
                    line.push(' ');
                    blank(node, &labels, &mut line);
                }
                GraphNameRef::DefaultGraph => {}
            }
            line.push_str(" .\n");
            line
        })
        .collect();
    // Canonical N-Quads are sorted in code point order, which is UTF-8 byte order.
    lines.sort_unstable();
    Ok(lines.concat())
}

type Labels<'a> = HashMap<BlankNodeRef<'a>, BlankNode>;

fn blank(node: BlankNodeRef<'_>, labels: &Labels<'_>, out: &mut String) {
    out.push_str("_:");
    out.push_str(labels.get(&node).map_or(node.as_str(), BlankNode::as_str));
}

fn subject(node: NamedOrBlankNodeRef<'_>, labels: &Labels<'_>, out: &mut String) {
    match node {
        NamedOrBlankNodeRef::NamedNode(iri) => {
            out.push('<');
            out.push_str(iri.as_str());
            out.push('>');
        }
        NamedOrBlankNodeRef::BlankNode(node) => blank(node, labels, out),
    }
}

/// IRIs need no escaping: only valid IRIs get this far.
fn object(term: TermRef<'_>, labels: &Labels<'_>, out: &mut String) {
    match term {
        TermRef::NamedNode(iri) => {
            out.push('<');
            out.push_str(iri.as_str());
            out.push('>');
        }
        TermRef::BlankNode(node) => blank(node, labels, out),
        TermRef::Literal(literal) => {
            quoted(literal.value(), out);
            if let Some(language) = literal.language() {
                out.push('@');
                out.push_str(language);
            } else if literal.datatype() != xsd::STRING && literal.datatype() != rdf::LANG_STRING {
                out.push_str("^^<");
                out.push_str(literal.datatype().as_str());
                out.push('>');
            }
        }
    }
}

/// A literal's lexical form, escaped exactly as oxrdf escapes it when it hashes quads for
/// RDFC-1.0 (which for all but U+FFFE and U+FFFF is also how jsonld.js escapes it).
fn quoted(value: &str, out: &mut String) {
    out.push('"');
    let plain = !value
        .bytes()
        .any(|b| b < 0x20 || b == 0x7f || b == b'"' || b == b'\\')
        && !value.contains(['\u{fffe}', '\u{ffff}']);
    if plain {
        out.push_str(value);
        out.push('"');
        return;
    }
    for c in value.chars() {
        match c {
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0'..='\u{1f}' | '\u{7f}' | '\u{fffe}' | '\u{ffff}' => {
                use std::fmt::Write;
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            _ => out.push(c),
        }
    }
    out.push('"');
}
