//! JSON-LD → RDF → RDFC-1.0 canonical N-Quads, with the guards oxjsonld 0.2.7 lacks.
//!
//! oxjsonld does the JSON-LD expansion. Two of its gaps matter for signatures, and this module
//! closes both before and after calling it:
//!
//! 1. **No safe mode.** A key the contexts do not define, a `type` value that is no term, or a
//!    relative `id` is silently dropped, so it would be displayed but not signed. Before
//!    parsing, the document's context gets a sentinel `@vocab` in front (later contexts such
//!    as examples/v2 may still set their own; it is put back after any `null` context) and the
//!    parser a sentinel base IRI: anything undefined then comes out under a sentinel IRI,
//!    which is an error naming it. Values that would not even form a valid IRI under the
//!    sentinel (a key with a space) are rejected by the pre-pass below, since oxjsonld drops
//!    invalid IRIs silently too.
//! 2. **Several types with type-scoped contexts** (`"type": ["Person", "EmployablePerson"]`):
//!    oxjsonld applies only the last type's scoped context, where JSON-LD 1.1 applies each in
//!    turn. The pre-pass tracks the active context far enough to know each node's type-scoped
//!    contexts; where a node has two or more, it defines (in an embedded context) one extra
//!    type term that sorts last, maps to the same IRI as the last scoped type, and carries all
//!    the scoped contexts in order. oxjsonld then applies that one, which is the accumulated
//!    context the standard asks for; its duplicate `rdf:type` quad vanishes in the dataset.
//!
//! `testdata/jsonld-js/` checks the result byte for byte against jsonld.js in safe mode.

use std::collections::HashMap;
use std::rc::Rc;

use oxiri::Iri;
use oxjsonld::{JsonLdParser, JsonLdRemoteDocument};
use oxrdf::dataset::{CanonicalizationAlgorithm, CanonicalizationHashAlgorithm};
use oxrdf::{Dataset, Quad, Term};
use serde_json::{Map, Value};

use crate::{Error, contexts};

/// Terms that no context defines expand under this vocabulary, and are then reported.
const UNDEFINED_VOCAB: &str = "urn:accredit:undefined-term:";
/// Relative IRIs resolve against this base, and are then reported.
const RELATIVE_BASE: &str = "https://relative-iri.accredit.invalid/";
/// Remote contexts may import others; the bundled ones do not nest deeper than this.
const MAX_CONTEXT_DEPTH: usize = 8;

/// The canonical N-Quads (RDFC-1.0, SHA-256) of a JSON-LD document, using only the bundled
/// contexts. A term the contexts do not define, an unknown context URL or a relative IRI is an
/// error naming it: such data would otherwise be left out of the signature.
pub fn canonicalize(document: &Value) -> Result<String, Error> {
    let mut dataset = to_dataset(document)?;
    dataset.canonicalize(CanonicalizationAlgorithm::Rdfc10 {
        hash_algorithm: CanonicalizationHashAlgorithm::Sha256,
    });
    let mut lines: Vec<String> = dataset.iter().map(|quad| format!("{quad} .\n")).collect();
    // Canonical N-Quads are sorted in code point order, which is UTF-8 byte order.
    lines.sort_unstable();
    Ok(lines.concat())
}

fn to_dataset(document: &Value) -> Result<Dataset, Error> {
    let prepared = prepare(document)?;
    let bytes = serde_json::to_vec(&prepared).expect("a serde_json::Value always serializes");
    let parser = JsonLdParser::new()
        .with_base_iri(RELATIVE_BASE)
        .expect("the sentinel base is a valid IRI")
        .for_slice(&bytes)
        .with_load_document_callback(|url, _| match contexts::text(url) {
            Ok(text) => Ok(JsonLdRemoteDocument {
                document: text.as_bytes().to_vec(),
                document_url: url.to_owned(),
            }),
            Err(error) => Err(Box::new(error)),
        });
    let mut dataset = Dataset::new();
    for quad in parser {
        let quad = quad.map_err(|e| Error::JsonLd(e.to_string()))?;
        check_quad(&quad)?;
        dataset.insert(&quad);
    }
    Ok(dataset)
}

/// Reports IRIs that only exist because of the sentinels.
fn check_quad(quad: &Quad) -> Result<(), Error> {
    let check = |iri: &str| {
        if let Some(term) = iri.strip_prefix(UNDEFINED_VOCAB) {
            Err(Error::UndefinedTerm(term.to_owned()))
        } else if let Some(relative) = iri.strip_prefix(RELATIVE_BASE) {
            Err(Error::RelativeIri(relative.to_owned()))
        } else {
            Ok(())
        }
    };
    if let oxrdf::NamedOrBlankNode::NamedNode(node) = &quad.subject {
        check(node.as_str())?;
    }
    check(quad.predicate.as_str())?;
    match &quad.object {
        Term::NamedNode(node) => check(node.as_str())?,
        Term::Literal(literal) => check(literal.datatype().as_str())?,
        _ => {}
    }
    if let oxrdf::GraphName::NamedNode(node) = &quad.graph_name {
        check(node.as_str())?;
    }
    Ok(())
}

/// The document as oxjsonld should see it: checked, multi-type nodes fixed, sentinel vocab first.
fn prepare(document: &Value) -> Result<Value, Error> {
    if document.get("@context").is_none_or(Value::is_null) {
        return Err(Error::NotADocument);
    }
    let mut document = document.clone();
    add_sentinel_vocab(&mut document["@context"]);
    walk_element(&mut document, &Ctx::default(), None, false)?;
    Ok(document)
}

/// Puts the sentinel `@vocab` first in `context`, or right after its last `null` (which would
/// clear it). Idempotent.
fn add_sentinel_vocab(context: &mut Value) {
    let sentinel = serde_json::json!({ "@vocab": UNDEFINED_VOCAB });
    let mut items = match context.take() {
        Value::Array(items) => items,
        other => vec![other],
    };
    let at = items.iter().rposition(Value::is_null).map_or(0, |i| i + 1);
    if items.get(at) != Some(&sentinel) {
        items.insert(at, sentinel);
    }
    *context = Value::Array(items);
}

fn has_null(context: &Value) -> bool {
    context.is_null()
        || context
            .as_array()
            .is_some_and(|a| a.iter().any(Value::is_null))
}

/// Just enough of a JSON-LD active context to know term definitions: which keys are keyword
/// aliases, which terms carry scoped contexts, containers and type coercion. IRI expansion is
/// left to oxjsonld.
#[derive(Clone, Default)]
struct Ctx {
    /// Shared until changed: nodes inherit their parent's context far more often than they
    /// change it, and copying hundreds of definitions per node dominated the walk.
    terms: Terms,
    /// Set by a non-propagated (type-scoped) context: nested nodes revert to it.
    previous: Option<Rc<Ctx>>,
}

/// Term definitions by term.
type Terms = Rc<HashMap<String, Rc<Value>>>;

impl Ctx {
    fn definition(&self, term: &str) -> Option<&Value> {
        self.terms
            .get(term)
            .map(AsRef::as_ref)
            .filter(|d| !d.is_null())
    }

    /// The keyword `key` stands for: itself, or the keyword its term is an alias of.
    fn keyword<'a>(&'a self, key: &'a str) -> Option<&'a str> {
        if key.starts_with('@') {
            return Some(key);
        }
        let id = match self.definition(key)? {
            Value::String(id) => id,
            definition => definition.get("@id")?.as_str()?,
        };
        id.starts_with('@').then_some(id)
    }

    fn scoped_context(&self, term: &str) -> Option<&Value> {
        self.definition(term)?.get("@context")
    }

    fn type_mapping(&self, term: &str) -> Option<&str> {
        self.definition(term)?.get("@type")?.as_str()
    }

    fn has_container(&self, term: &str, container: &str) -> bool {
        match self.definition(term).and_then(|d| d.get("@container")) {
            Some(Value::String(c)) => c == container,
            Some(Value::Array(cs)) => cs.iter().any(|c| c == container),
            _ => false,
        }
    }

    /// Whether `value` (a key, a type, a vocabulary-coerced string) ends up as an IRI: a
    /// defined term, a compact IRI with a defined prefix, an absolute IRI, or a string that the
    /// sentinel vocabulary turns into one (so that the post-check can name it).
    fn becomes_iri(&self, value: &str) -> bool {
        if self.definition(value).is_some() {
            return true;
        }
        if let Some((prefix, _)) = value.split_once(':') {
            return self.definition(prefix).is_some() || Iri::parse(value).is_ok();
        }
        Iri::parse(format!("{UNDEFINED_VOCAB}{value}")).is_ok()
    }

    /// Checks an `@id`-like value: a blank node, an absolute IRI or a compact IRI.
    fn check_id(&self, value: &str) -> Result<(), Error> {
        let absolute = value.starts_with("_:")
            || value
                .split_once(':')
                .is_some_and(|(prefix, _)| self.definition(prefix).is_some())
            || Iri::parse(value).is_ok();
        if absolute {
            Ok(())
        } else {
            Err(Error::RelativeIri(value.to_owned()))
        }
    }
}

/// [Context processing](https://www.w3.org/TR/json-ld11-api/#context-processing-algorithm),
/// reduced to recording term definitions. Unknown URLs fail here, before oxjsonld runs.
fn process(active: &Ctx, local: &Value, propagate: bool, depth: usize) -> Result<Ctx, Error> {
    if depth > MAX_CONTEXT_DEPTH {
        return Err(Error::JsonLd("contexts are nested too deeply".into()));
    }
    let propagate = local
        .get("@propagate")
        .and_then(Value::as_bool)
        .unwrap_or(propagate);
    let mut result = active.clone();
    if !propagate && result.previous.is_none() {
        result.previous = Some(Rc::new(active.clone()));
    }
    for item in local
        .as_array()
        .map_or(std::slice::from_ref(local), Vec::as_slice)
    {
        match item {
            // The walk puts the sentinel vocabulary back after any null (see `walk_node`).
            Value::Null => {
                result = Ctx {
                    terms: Rc::default(),
                    previous: (!propagate).then(|| Rc::new(result.clone())),
                };
            }
            Value::String(url) => {
                result = process_url(&result, url, depth)?;
            }
            Value::Object(definitions) => {
                if definitions.get("@vocab").is_some_and(Value::is_null) {
                    return Err(Error::Unsupported(
                        "\"@vocab\": null, which would let undefined terms drop out unsigned"
                            .into(),
                    ));
                }
                if let Some(import) = definitions.get("@import") {
                    let url = import.as_str().ok_or_else(|| {
                        Error::JsonLd("@import must be the URL of a context".into())
                    })?;
                    let imported = contexts::context_value(url)?.as_object().ok_or_else(|| {
                        Error::JsonLd(format!("the context {url} cannot be imported"))
                    })?;
                    for (term, definition) in imported {
                        if !definitions.contains_key(term) {
                            define(&mut result, term, definition);
                        }
                    }
                }
                for (term, definition) in definitions {
                    define(&mut result, term, definition);
                }
            }
            _ => {
                return Err(Error::JsonLd(
                    "a context must be a URL, an object, or an array of them".into(),
                ));
            }
        }
    }
    Ok(result)
}

thread_local! {
    /// Bundled contexts processed on top of a given active context, keyed by that context's
    /// term map (kept alive in the value, so its address is never reused) and the URL. The
    /// same few contexts open every credential; processing them once per thread is the point.
    static PROCESSED_URLS: std::cell::RefCell<HashMap<(usize, String), (Terms, Ctx)>> =
        std::cell::RefCell::new(HashMap::new());
}

/// A bounded cache: a handful of context chains occur in practice.
const MAX_PROCESSED_URLS: usize = 64;

fn process_url(active: &Ctx, url: &str, depth: usize) -> Result<Ctx, Error> {
    if active.previous.is_some() {
        return process(active, contexts::context_value(url)?, true, depth + 1);
    }
    let key = (Rc::as_ptr(&active.terms) as usize, url.to_owned());
    if let Some(hit) =
        PROCESSED_URLS.with(|cache| cache.borrow().get(&key).map(|(_, ctx)| ctx.clone()))
    {
        return Ok(hit);
    }
    let processed = process(active, contexts::context_value(url)?, true, depth + 1)?;
    PROCESSED_URLS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() < MAX_PROCESSED_URLS {
            cache.insert(key, (active.terms.clone(), processed.clone()));
        }
    });
    Ok(processed)
}

fn define(ctx: &mut Ctx, term: &str, definition: &Value) {
    if !term.starts_with('@') {
        Rc::make_mut(&mut ctx.terms).insert(term.to_owned(), Rc::new(definition.clone()));
    }
}

fn walk_element(
    value: &mut Value,
    active: &Ctx,
    property: Option<&str>,
    from_map: bool,
) -> Result<(), Error> {
    match value {
        Value::Array(items) => {
            for item in items {
                walk_element(item, active, property, from_map)?;
            }
        }
        Value::Object(node) => walk_node(node, active, property, from_map)?,
        Value::String(s) => match property.and_then(|p| active.type_mapping(p)) {
            Some("@id") => active.check_id(s)?,
            Some("@vocab") if !active.becomes_iri(s) => {
                return Err(Error::UndefinedTerm(s.clone()));
            }
            _ => {}
        },
        _ => {}
    }
    Ok(())
}

/// Follows the [expansion algorithm](https://www.w3.org/TR/json-ld11-api/#expansion-algorithm)
/// steps that change the active context for a map, then visits its entries.
fn walk_node(
    node: &mut Map<String, Value>,
    active: &Ctx,
    property: Option<&str>,
    from_map: bool,
) -> Result<(), Error> {
    let is_value = node.keys().any(|k| active.keyword(k) == Some("@value"));
    // Steps 7–9: revert a non-propagated context, then apply property-scoped and embedded ones.
    let only_id = node.len() == 1 && node.keys().all(|k| active.keyword(k) == Some("@id"));
    let mut ctx = match &active.previous {
        Some(previous) if !(from_map || is_value || only_id) => (**previous).clone(),
        _ => active.clone(),
    };
    let property_scoped = property.and_then(|p| active.scoped_context(p));
    if let Some(scoped) = property_scoped {
        ctx = process(&ctx, scoped, true, 0)?;
    }
    // A null context (v2's `verifiableCredential` has one, so that an embedded credential
    // starts afresh) clears the sentinel vocabulary too: put it back in this node's context.
    if property_scoped.is_some_and(has_null) || node.get("@context").is_some_and(has_null) {
        add_sentinel_vocab(
            node.entry("@context")
                .or_insert_with(|| Value::Array(Vec::new())),
        );
    }
    if let Some(local) = node.get("@context") {
        ctx = process(&ctx, local, true, 0)?;
    }
    if is_value {
        return Ok(());
    }

    // Steps 10–11: type-scoped contexts, in lexicographic order of the type terms.
    let type_scoped = ctx.clone();
    let type_keys: Vec<String> = node
        .keys()
        .filter(|k| type_scoped.keyword(k) == Some("@type"))
        .cloned()
        .collect();
    let mut types: Vec<String> = type_keys
        .iter()
        .flat_map(|k| match &node[k] {
            Value::String(t) => vec![t.clone()],
            Value::Array(ts) => ts
                .iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    types.sort();
    let mut scoped = Vec::new();
    for t in &types {
        if !type_scoped.becomes_iri(t) {
            return Err(Error::UndefinedTerm(t.clone()));
        }
        if let Some(local) = type_scoped.scoped_context(t) {
            ctx = process(&ctx, local, false, 0)?;
            scoped.push((t.clone(), local.clone()));
        }
    }
    if scoped.len() > 1 {
        combine_type_scoped_contexts(node, &type_keys[0], &types, scoped)?;
    }

    // The entries: properties, and keywords whose values hold more nodes.
    let keys: Vec<String> = node.keys().cloned().collect();
    for key in keys {
        if key == "@context" || type_keys.contains(&key) {
            continue;
        }
        let value = node.get_mut(&key).expect("the key was just listed");
        match ctx.keyword(&key) {
            Some("@id") => {
                if let Value::String(id) = value {
                    ctx.check_id(id)?;
                }
            }
            Some("@graph" | "@included") => walk_element(value, &ctx, None, false)?,
            Some("@list" | "@set") => walk_element(value, &ctx, property, false)?,
            Some("@reverse") => {
                if let Value::Object(reverse) = value {
                    for (reverse_key, reverse_value) in reverse {
                        walk_element(reverse_value, &ctx, Some(reverse_key), false)?;
                    }
                }
            }
            Some("@nest") => return Err(Error::Unsupported("@nest".into())),
            Some(_) => {}
            None => {
                if !ctx.becomes_iri(&key) {
                    return Err(Error::UndefinedTerm(key));
                }
                if ctx.has_container(&key, "@language") {
                    continue;
                }
                let is_map = ["@index", "@id", "@type"]
                    .iter()
                    .any(|c| ctx.has_container(&key, c));
                match value {
                    Value::Object(map) if is_map => {
                        for item in map.values_mut() {
                            walk_element(item, &ctx, Some(&key), true)?;
                        }
                    }
                    _ => walk_element(value, &ctx, Some(&key), false)?,
                }
            }
        }
    }
    Ok(())
}

/// Works around oxjsonld keeping only the last type's scoped context (see the module docs).
fn combine_type_scoped_contexts(
    node: &mut Map<String, Value>,
    type_key: &str,
    types: &[String],
    scoped: Vec<(String, Value)>,
) -> Result<(), Error> {
    // oxjsonld sorts the type strings and lets the last scoped one win: this name must sort
    // after every real type. U+10FFFF is the greatest code point, and the name has no `:` or
    // `/`, which would make JSON-LD read it as an IRI.
    const COMBINED: &str = "\u{10FFFF}accredit-combined-type-scoped-contexts";
    if types.iter().any(|t| t.as_str() >= COMBINED) {
        return Err(Error::Unsupported(format!(
            "the type name `{}`",
            types[types.len() - 1]
        )));
    }
    let (iri_term, _) = scoped.last().expect("there are scoped types");
    // Processing an array of contexts is processing each in turn, so arrays are flattened.
    let mut contexts = Vec::new();
    for (_, context) in &scoped {
        match context {
            Value::Array(items) => contexts.extend(items.iter().cloned()),
            single => contexts.push(single.clone()),
        }
    }
    let definition = serde_json::json!({
        COMBINED: { "@id": iri_term, "@context": contexts }
    });
    let context = match node.remove("@context") {
        None => definition,
        Some(Value::Array(mut items)) => {
            items.push(definition);
            Value::Array(items)
        }
        Some(other) => Value::Array(vec![other, definition]),
    };
    node.insert("@context".into(), context);
    match node.get_mut(type_key).expect("the type key exists") {
        Value::Array(values) => values.push(COMBINED.into()),
        single => *single = Value::Array(vec![single.take(), COMBINED.into()]),
    }
    Ok(())
}
