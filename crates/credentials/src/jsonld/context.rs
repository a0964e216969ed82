//! Active contexts: [context processing], [create term definition] and [IRI expansion] of
//! JSON-LD 1.1. A context named by URL can only be one of the bundled ones; nothing is fetched.
//!
//! Processed contexts are immutable and shared (`Arc`). Processing a bundled context (a URL, or
//! a scoped context inside one) on top of a context that itself came only from bundled
//! contexts always gives the same result, so such results are cached process-wide, keyed by
//! the identity of the active context and of the local context. A credential naming the usual
//! contexts therefore pays for context processing once per process, not once per document.
//!
//! [context processing]: https://www.w3.org/TR/json-ld11-api/#context-processing-algorithm
//! [create term definition]: https://www.w3.org/TR/json-ld11-api/#create-term-definition
//! [IRI expansion]: https://www.w3.org/TR/json-ld11-api/#iri-expansion

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde_json::{Map, Value};

use crate::{Error, contexts};

pub(crate) type Str = Arc<str>;

/// Contexts that name contexts that name contexts: the bundled ones nest two levels at most.
const MAX_DEPTH: usize = 16;
/// Entries of the process-wide cache: a few dozen context chains occur in practice. Documents
/// can combine scoped types at will, so the cache is bounded; a full one only means
/// recomputing.
const MAX_CACHED: usize = 1024;

/// A string of the expansion output: borrowed from the document, shared with a context, or
/// built (vocabulary mapping plus term, prefix plus suffix).
#[derive(Clone, Debug)]
pub(crate) enum Text<'a> {
    Doc(&'a str),
    Shared(Str),
    Owned(String),
}

impl Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Text::Doc(s) => s,
            Text::Shared(s) => s,
            Text::Owned(s) => s,
        }
    }
}

impl Text<'_> {
    /// Whether the string is an absolute IRI that RDF can carry. Term IRIs were checked when
    /// their definition was created.
    pub(crate) fn is_valid_iri(&self) -> bool {
        match self {
            Text::Shared(s) => !s.starts_with('@') && !s.starts_with("_:"),
            Text::Doc(s) => is_absolute_iri(s),
            Text::Owned(s) => is_absolute_iri(s),
        }
    }
}

pub(crate) fn is_absolute_iri(s: &str) -> bool {
    has_scheme(s) && !s.starts_with("_:") && oxiri::Iri::parse(s).is_ok()
}

/// `scheme ":"`, the shape JSON-LD uses to tell IRIs from terms.
fn has_scheme(s: &str) -> bool {
    let Some((scheme, _)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The first `:` that is not the first character.
pub(crate) fn colon_after_first(s: &str) -> Option<usize> {
    s.bytes().skip(1).position(|b| b == b':').map(|i| i + 1)
}

/// `@` followed by letters only: reserved for future keywords, so JSON-LD ignores it.
pub(crate) fn has_keyword_form(s: &str) -> bool {
    s.len() > 1 && s.starts_with('@') && s[1..].bytes().all(|b| b.is_ascii_alphabetic())
}

const KEYWORDS: &[&str] = &[
    "@base",
    "@container",
    "@context",
    "@direction",
    "@graph",
    "@id",
    "@import",
    "@included",
    "@index",
    "@json",
    "@language",
    "@list",
    "@nest",
    "@none",
    "@prefix",
    "@propagate",
    "@protected",
    "@reverse",
    "@set",
    "@type",
    "@value",
    "@version",
    "@vocab",
];

pub(crate) fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

/// A term's `@container`, as flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Container(u8);

impl Container {
    pub(crate) const GRAPH: u8 = 1;
    pub(crate) const ID: u8 = 2;
    pub(crate) const INDEX: u8 = 4;
    pub(crate) const LANGUAGE: u8 = 8;
    pub(crate) const LIST: u8 = 16;
    pub(crate) const SET: u8 = 32;
    pub(crate) const TYPE: u8 = 64;

    pub(crate) fn has(self, flag: u8) -> bool {
        self.0 & flag != 0
    }
}

/// A scoped context (`@context` inside a term definition).
#[derive(Clone, Debug)]
pub(crate) enum Scoped {
    /// Part of a bundled context: its address identifies it for the cache.
    Bundled(&'static Value),
    /// From the document's own contexts.
    Owned(Arc<Value>),
}

impl Scoped {
    pub(crate) fn local(&self) -> Local<'_> {
        match self {
            Scoped::Bundled(value) => Local::Bundled(value),
            Scoped::Owned(value) => Local::Document(value),
        }
    }

    fn value(&self) -> &Value {
        match self {
            Scoped::Bundled(value) => value,
            Scoped::Owned(value) => value,
        }
    }
}

impl PartialEq for Scoped {
    fn eq(&self, other: &Self) -> bool {
        self.value() == other.value()
    }
}

/// A local context to process.
#[derive(Clone, Copy)]
pub(crate) enum Local<'a> {
    Bundled(&'static Value),
    Document(&'a Value),
}

impl<'a> Local<'a> {
    fn value(self) -> &'a Value {
        match self {
            Local::Bundled(value) => value,
            Local::Document(value) => value,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TermDef {
    /// `None` for a term explicitly mapped to `null`.
    pub(crate) iri: Option<Str>,
    pub(crate) prefix: bool,
    pub(crate) protected: bool,
    pub(crate) type_mapping: Option<Str>,
    pub(crate) container: Container,
    /// `Some(None)`: the term resets the default language.
    pub(crate) language: Option<Option<Str>>,
    pub(crate) context: Option<Scoped>,
}

impl TermDef {
    pub(crate) fn keyword(&self) -> Option<&str> {
        self.iri.as_deref().filter(|iri| iri.starts_with('@'))
    }

    /// Equal but for `@protected`: what redefining a protected term may do.
    fn same_as(&self, other: &TermDef) -> bool {
        let mut other = other.clone();
        other.protected = self.protected;
        *self == other
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Context {
    /// Identity for the cache; 0 for contexts built from the document's own data.
    id: u64,
    terms: HashMap<Str, Arc<TermDef>>,
    pub(crate) vocab: Option<Str>,
    pub(crate) language: Option<Str>,
    /// Set by a type-scoped context, which does not reach nested nodes.
    pub(crate) previous: Option<Arc<Context>>,
}

impl Context {
    pub(crate) fn term(&self, term: &str) -> Option<&TermDef> {
        self.terms.get(term).map(Arc::as_ref)
    }

    /// The keyword `key` stands for, if any: itself, or the keyword its term aliases.
    pub(crate) fn keyword<'k>(&'k self, key: &'k str) -> Option<&'k str> {
        if key.starts_with('@') {
            return Some(key);
        }
        self.term(key)?.keyword()
    }

    /// [IRI expansion](https://www.w3.org/TR/json-ld11-api/#iri-expansion) against a finished
    /// context. `None` when the value expands to nothing (a term mapped to `null`, or a
    /// reserved `@word`). A value returned unchanged may still be relative: the caller decides
    /// what that means for its value.
    pub(crate) fn expand_iri<'v>(&self, value: &'v str, vocab: bool) -> Option<Text<'v>> {
        if is_keyword(value) {
            return Some(Text::Doc(value));
        }
        if has_keyword_form(value) {
            return None;
        }
        if let Some(definition) = self.term(value)
            && (vocab || definition.keyword().is_some())
        {
            return definition.iri.clone().map(Text::Shared);
        }
        if let Some(colon) = colon_after_first(value) {
            let (prefix, suffix) = (&value[..colon], &value[colon + 1..]);
            if prefix == "_" || suffix.starts_with("//") {
                return Some(Text::Doc(value));
            }
            if let Some(definition) = self.term(prefix)
                && definition.prefix
                && let Some(iri) = &definition.iri
            {
                return Some(Text::Owned(format!("{iri}{suffix}")));
            }
            if has_scheme(value) {
                return Some(Text::Doc(value));
            }
        }
        if vocab && let Some(vocabulary) = &self.vocab {
            return Some(Text::Owned(format!("{vocabulary}{value}")));
        }
        Some(Text::Doc(value))
    }
}

/// The empty context every document starts from.
pub(crate) fn initial() -> Arc<Context> {
    static INITIAL: OnceLock<Arc<Context>> = OnceLock::new();
    INITIAL
        .get_or_init(|| {
            Arc::new(Context {
                id: next_id(),
                ..Context::default()
            })
        })
        .clone()
}

fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// (active context id, local context address, propagate, override protected).
type CacheKey = (u64, usize, bool, bool);

fn cache() -> &'static Mutex<HashMap<CacheKey, Arc<Context>>> {
    static CACHE: OnceLock<Mutex<HashMap<CacheKey, Arc<Context>>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

/// [Context processing](https://www.w3.org/TR/json-ld11-api/#context-processing-algorithm).
pub(crate) fn process(
    active: &Arc<Context>,
    local: Local<'_>,
    propagate: bool,
    override_protected: bool,
) -> Result<Arc<Context>, Error> {
    process_at(active, local, propagate, override_protected, 0)
}

fn process_at(
    active: &Arc<Context>,
    local: Local<'_>,
    propagate: bool,
    override_protected: bool,
    depth: usize,
) -> Result<Arc<Context>, Error> {
    if depth > MAX_DEPTH {
        return Err(Error::JsonLd("contexts are nested too deeply".into()));
    }
    let key = match local {
        Local::Bundled(value) if active.id != 0 => Some((
            active.id,
            std::ptr::from_ref(value) as usize,
            propagate,
            override_protected,
        )),
        _ => None,
    };
    if let Some(key) = key
        && let Some(hit) = cache()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
    {
        return Ok(hit.clone());
    }
    let mut result = process_uncached(active, local, propagate, override_protected, depth)?;
    if let Some(key) = key {
        let mut cache = cache().lock().unwrap_or_else(PoisonError::into_inner);
        if result.id == 0
            && cache.len() < MAX_CACHED
            && let Some(fresh) = Arc::get_mut(&mut result)
        {
            fresh.id = next_id();
        }
        if result.id != 0 {
            cache.insert(key, result.clone());
        }
    }
    Ok(result)
}

/// A context being changed: no longer the one its id names.
fn edit(context: &mut Arc<Context>) -> &mut Context {
    let context = Arc::make_mut(context);
    context.id = 0;
    context
}

fn process_uncached(
    active: &Arc<Context>,
    local: Local<'_>,
    propagate: bool,
    override_protected: bool,
    depth: usize,
) -> Result<Arc<Context>, Error> {
    let propagate = match local.value().get("@propagate") {
        None => propagate,
        Some(Value::Bool(propagate)) => *propagate,
        Some(other) => {
            return Err(Error::JsonLd(format!(
                "@propagate must be true or false, not {other}"
            )));
        }
    };
    let mut result = active.clone();
    if !propagate && result.previous.is_none() {
        edit(&mut result).previous = Some(active.clone());
    }
    match local {
        Local::Bundled(Value::Array(items)) => {
            for item in items {
                result = process_item(
                    result,
                    Local::Bundled(item),
                    propagate,
                    override_protected,
                    depth,
                )?;
            }
        }
        Local::Document(Value::Array(items)) => {
            for item in items {
                result = process_item(
                    result,
                    Local::Document(item),
                    propagate,
                    override_protected,
                    depth,
                )?;
            }
        }
        single => {
            result = process_item(result, single, propagate, override_protected, depth)?;
        }
    }
    Ok(result)
}

fn process_item(
    mut result: Arc<Context>,
    item: Local<'_>,
    propagate: bool,
    override_protected: bool,
    depth: usize,
) -> Result<Arc<Context>, Error> {
    match item.value() {
        Value::Null => {
            if !override_protected && result.terms.values().any(|d| d.protected) {
                return Err(Error::JsonLd(
                    "a null context would clear protected term definitions".into(),
                ));
            }
            let previous = (!propagate).then(|| result.clone());
            Ok(Arc::new(Context {
                previous,
                ..Context::default()
            }))
        }
        Value::String(url) => {
            let context = contexts::context_value(url)?;
            process_at(&result, Local::Bundled(context), true, false, depth + 1)
        }
        Value::Object(map) => {
            match item {
                Local::Bundled(Value::Object(map)) => define_all(
                    edit(&mut result),
                    map,
                    &|v| Scoped::Bundled(v),
                    override_protected,
                    depth,
                )?,
                _ => {
                    if let Some(import) = map.get("@import") {
                        let url = import.as_str().ok_or_else(|| {
                            Error::JsonLd("@import must be the URL of a context".into())
                        })?;
                        let Value::Object(imported) = contexts::context_value(url)? else {
                            return Err(Error::JsonLd(format!(
                                "the context {url} cannot be imported"
                            )));
                        };
                        if imported.contains_key("@import") {
                            return Err(Error::JsonLd(format!(
                                "the context {url} imports another and cannot be imported"
                            )));
                        }
                        let mut merged = imported.clone();
                        for (key, value) in map {
                            if key != "@import" {
                                merged.insert(key.clone(), value.clone());
                            }
                        }
                        define_all(
                            edit(&mut result),
                            &merged,
                            &|v| Scoped::Owned(Arc::new(v.clone())),
                            override_protected,
                            depth,
                        )?;
                    } else {
                        define_all(
                            edit(&mut result),
                            map,
                            &|v| Scoped::Owned(Arc::new(v.clone())),
                            override_protected,
                            depth,
                        )?;
                    }
                }
            }
            Ok(result)
        }
        other => Err(Error::JsonLd(format!(
            "a context must be a URL, an object, an array of them or null, not {other}"
        ))),
    }
}

/// Steps 5.5–5.13 of context processing for one context object.
fn define_all<'m>(
    result: &mut Context,
    map: &'m Map<String, Value>,
    scoped: &dyn Fn(&'m Value) -> Scoped,
    override_protected: bool,
    depth: usize,
) -> Result<(), Error> {
    if let Some(version) = map.get("@version")
        && version.as_f64() != Some(1.1)
    {
        return Err(Error::JsonLd(format!(
            "@version must be 1.1, not {version}"
        )));
    }
    if map.contains_key("@base") {
        return Err(Error::Unsupported(
            "@base: identifiers must be absolute IRIs".into(),
        ));
    }
    if map.contains_key("@direction") {
        return Err(Error::Unsupported("@direction".into()));
    }
    let protected = match map.get("@protected") {
        None => false,
        Some(Value::Bool(protected)) => *protected,
        Some(other) => {
            return Err(Error::JsonLd(format!(
                "@protected must be true or false, not {other}"
            )));
        }
    };
    let options = Defining {
        protected,
        override_protected,
        scoped,
        depth,
    };
    let mut defined = HashMap::new();
    if let Some(vocab) = map.get("@vocab") {
        match vocab {
            Value::Null => {
                return Err(Error::Unsupported(
                    "\"@vocab\": null, which would let undefined terms drop out unsigned".into(),
                ));
            }
            Value::String(value) => match result.expand_iri(value, true) {
                Some(iri) if iri.starts_with("_:") || is_absolute_iri(&iri) => {
                    result.vocab = Some(Str::from(&*iri));
                }
                _ => return Err(Error::RelativeIri(value.clone())),
            },
            other => {
                return Err(Error::JsonLd(format!("@vocab must be an IRI, not {other}")));
            }
        }
    }
    if let Some(language) = map.get("@language") {
        result.language = match language {
            Value::Null => None,
            Value::String(tag) => Some(Str::from(language_tag(tag)?)),
            other => {
                return Err(Error::JsonLd(format!(
                    "@language must be a language tag, not {other}"
                )));
            }
        };
    }
    for term in map.keys() {
        if !matches!(
            term.as_str(),
            "@base"
                | "@direction"
                | "@import"
                | "@language"
                | "@propagate"
                | "@protected"
                | "@version"
                | "@vocab"
        ) {
            define(result, map, term, &mut defined, &options)?;
        }
    }
    Ok(())
}

/// A language tag as jsonld.js accepts it, lowercased as it outputs it.
pub(crate) fn language_tag(tag: &str) -> Result<String, Error> {
    let mut parts = tag.split('-');
    let first = parts.next().unwrap_or_default();
    let well_formed = (1..=8).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_alphabetic())
        && parts
            .all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if well_formed {
        Ok(tag.to_ascii_lowercase())
    } else {
        Err(Error::JsonLd(format!(
            "`{tag}` is not a well-formed language tag"
        )))
    }
}

struct Defining<'s, 'm> {
    protected: bool,
    override_protected: bool,
    scoped: &'s dyn Fn(&'m Value) -> Scoped,
    depth: usize,
}

/// [Create term definition](https://www.w3.org/TR/json-ld11-api/#create-term-definition).
fn define<'m>(
    result: &mut Context,
    map: &'m Map<String, Value>,
    term: &'m str,
    defined: &mut HashMap<&'m str, bool>,
    options: &Defining<'_, 'm>,
) -> Result<(), Error> {
    match defined.get(term) {
        Some(true) => return Ok(()),
        Some(false) => {
            return Err(Error::JsonLd(format!(
                "the term `{term}` is defined in terms of itself"
            )));
        }
        None => {}
    }
    if term.is_empty() {
        return Err(Error::JsonLd("a term must not be empty".into()));
    }
    defined.insert(term, false);
    let value = &map[term];
    if term == "@type" {
        let only_set = value.as_object().is_some_and(|m| {
            m.get("@container").is_some_and(|c| c == "@set")
                && m.keys().all(|k| k == "@container" || k == "@protected")
        });
        if !only_set {
            return Err(Error::JsonLd("@type cannot be redefined".into()));
        }
        // Only compaction reads it.
        defined.insert(term, true);
        return Ok(());
    }
    if is_keyword(term) {
        return Err(Error::JsonLd(format!(
            "the keyword {term} cannot be redefined"
        )));
    }
    if has_keyword_form(term) {
        // Reserved for future keywords: ignored, as JSON-LD says.
        defined.insert(term, true);
        return Ok(());
    }
    let previous = result.terms.remove(term);
    let (entries, simple) = match value {
        Value::Null => (None, false),
        Value::String(_) => (None, true),
        Value::Object(entries) => (Some(entries), false),
        other => {
            return Err(Error::JsonLd(format!(
                "the definition of `{term}` must be an IRI or an object, not {other}"
            )));
        }
    };
    let get = |key: &str| entries.and_then(|e| e.get(key));
    let id_value = match value {
        Value::Null => Some(&Value::Null),
        Value::String(_) => Some(value),
        _ => get("@id"),
    };
    let mut definition = TermDef {
        iri: None,
        prefix: false,
        protected: options.protected,
        type_mapping: None,
        container: Container::default(),
        language: None,
        context: None,
    };
    if let Some(entries) = entries {
        for key in entries.keys() {
            match key.as_str() {
                "@id" | "@type" | "@container" | "@context" | "@language" | "@prefix"
                | "@protected" | "@index" => {}
                "@reverse" | "@nest" | "@direction" => {
                    return Err(Error::Unsupported(format!("{key} (in the term `{term}`)")));
                }
                other => {
                    return Err(Error::JsonLd(format!(
                        "the definition of `{term}` has an unknown entry `{other}`"
                    )));
                }
            }
        }
    }
    if let Some(protected) = get("@protected") {
        definition.protected = protected.as_bool().ok_or_else(|| {
            Error::JsonLd(format!("@protected of `{term}` must be true or false"))
        })?;
    }
    if let Some(type_mapping) = get("@type") {
        let Value::String(type_value) = type_mapping else {
            return Err(Error::JsonLd(format!(
                "the @type of `{term}` must be a string"
            )));
        };
        let expanded = expand_iri_defining(result, map, defined, type_value, true, options)?;
        match expanded.as_deref() {
            Some(keyword @ ("@id" | "@json" | "@none" | "@vocab")) => {
                definition.type_mapping = Some(Str::from(keyword));
            }
            Some(iri) if is_absolute_iri(iri) => definition.type_mapping = Some(Str::from(iri)),
            _ => return Err(Error::UndefinedTerm(type_value.clone())),
        }
    }
    match id_value {
        Some(Value::Null) => {}
        Some(Value::String(id)) if id != term => {
            if !is_keyword(id) && has_keyword_form(id) {
                // An IRI mapping to a reserved word is ignored: the term stays undefined.
                defined.insert(term, true);
                return Ok(());
            }
            let iri = expand_iri_defining(result, map, defined, id, true, options)?
                .ok_or_else(|| Error::UndefinedTerm(id.clone()))?;
            if iri == "@context" {
                return Err(Error::JsonLd("@context cannot be aliased".into()));
            }
            if !iri.starts_with('@') && !iri.starts_with("_:") && !is_absolute_iri(&iri) {
                return Err(Error::UndefinedTerm(id.clone()));
            }
            let inner_colon = colon_after_first(term).is_some_and(|i| i + 1 < term.len());
            if inner_colon || term.contains('/') {
                defined.insert(term, true);
                let as_iri = expand_iri_defining(result, map, defined, term, true, options)?;
                if as_iri.as_deref() != Some(&*iri) {
                    return Err(Error::JsonLd(format!(
                        "the term `{term}` looks like an IRI but maps to another one"
                    )));
                }
            }
            if !term.contains(':')
                && !term.contains('/')
                && simple
                && (iri.starts_with("_:") || iri.ends_with([':', '/', '?', '#', '[', ']', '@']))
            {
                definition.prefix = true;
            }
            definition.iri = Some(Str::from(iri));
        }
        Some(Value::String(_)) | None => {
            definition.iri = Some(iri_of_term(result, map, defined, term, options)?);
        }
        Some(other) => {
            return Err(Error::JsonLd(format!(
                "the @id of `{term}` must be a string, not {other}"
            )));
        }
    }
    if let Some(container) = get("@container") {
        definition.container = container_mapping(term, container)?;
        if definition.container.has(Container::TYPE) {
            match definition.type_mapping.as_deref() {
                None => definition.type_mapping = Some(Str::from("@id")),
                Some("@id" | "@vocab") => {}
                Some(_) => {
                    return Err(Error::JsonLd(format!(
                        "the @type map `{term}` must map types to @id or @vocab"
                    )));
                }
            }
        }
    }
    if get("@index").is_some() {
        return Err(Error::Unsupported(format!(
            "property-valued indexes (@index in the term `{term}`)"
        )));
    }
    if let Some(context) = get("@context") {
        let context = (options.scoped)(context);
        if let Scoped::Owned(value) = &context {
            // Checked now, as JSON-LD asks; bundled scoped contexts are known to be valid.
            let snapshot = Arc::new(Context {
                id: 0,
                ..result.clone()
            });
            process_at(
                &snapshot,
                Local::Document(value),
                true,
                true,
                options.depth + 1,
            )?;
        }
        definition.context = Some(context);
    }
    if let Some(language) = get("@language")
        && get("@type").is_none()
    {
        definition.language = Some(match language {
            Value::Null => None,
            Value::String(tag) => Some(Str::from(language_tag(tag)?)),
            other => {
                return Err(Error::JsonLd(format!(
                    "the @language of `{term}` must be a language tag, not {other}"
                )));
            }
        });
    }
    if let Some(prefix) = get("@prefix") {
        if term.contains(':') || term.contains('/') {
            return Err(Error::JsonLd(format!(
                "`{term}` cannot be a prefix: it contains `:` or `/`"
            )));
        }
        definition.prefix = prefix
            .as_bool()
            .ok_or_else(|| Error::JsonLd(format!("@prefix of `{term}` must be true or false")))?;
        if definition.prefix && definition.keyword().is_some() {
            return Err(Error::JsonLd(format!(
                "`{term}` aliases a keyword and cannot be a prefix"
            )));
        }
    }
    if !options.override_protected
        && let Some(previous) = previous
        && previous.protected
    {
        if !definition.same_as(&previous) {
            return Err(Error::JsonLd(format!(
                "the protected term `{term}` cannot be redefined"
            )));
        }
        result.terms.insert(Str::from(term), previous);
    } else {
        result.terms.insert(Str::from(term), Arc::new(definition));
    }
    defined.insert(term, true);
    Ok(())
}

/// The IRI of a term whose definition gives none (steps 15–18).
fn iri_of_term<'m>(
    result: &mut Context,
    map: &'m Map<String, Value>,
    defined: &mut HashMap<&'m str, bool>,
    term: &'m str,
    options: &Defining<'_, 'm>,
) -> Result<Str, Error> {
    if let Some(colon) = colon_after_first(term) {
        let (prefix, suffix) = (&term[..colon], &term[colon + 1..]);
        if map.contains_key(prefix) {
            define(result, map, prefix, defined, options)?;
        }
        if let Some(iri) = result.term(prefix).and_then(|d| d.iri.as_deref()) {
            let iri = format!("{iri}{suffix}");
            if !iri.starts_with("_:") && !is_absolute_iri(&iri) {
                return Err(Error::UndefinedTerm(term.to_owned()));
            }
            return Ok(Str::from(iri));
        }
        if term.starts_with("_:") || is_absolute_iri(term) {
            return Ok(Str::from(term));
        }
        return Err(Error::UndefinedTerm(term.to_owned()));
    }
    if term.contains('/') {
        let iri = expand_iri_defining(result, map, defined, term, true, options)?;
        return match iri {
            Some(iri) if is_absolute_iri(&iri) => Ok(Str::from(&*iri)),
            _ => Err(Error::UndefinedTerm(term.to_owned())),
        };
    }
    match &result.vocab {
        Some(vocab) => {
            let iri = format!("{vocab}{term}");
            if is_absolute_iri(&iri) {
                Ok(Str::from(iri))
            } else {
                Err(Error::UndefinedTerm(term.to_owned()))
            }
        }
        None => Err(Error::UndefinedTerm(term.to_owned())),
    }
}

fn container_mapping(term: &str, value: &Value) -> Result<Container, Error> {
    let items = match value {
        Value::Array(items) => items.as_slice(),
        single => std::slice::from_ref(single),
    };
    let mut flags = 0;
    for item in items {
        flags |= match item.as_str() {
            Some("@graph") => Container::GRAPH,
            Some("@id") => Container::ID,
            Some("@index") => Container::INDEX,
            Some("@language") => Container::LANGUAGE,
            Some("@list") => Container::LIST,
            Some("@set") => Container::SET,
            Some("@type") => Container::TYPE,
            _ => {
                return Err(Error::JsonLd(format!(
                    "the @container of `{term}` has an invalid value {item}"
                )));
            }
        };
    }
    let exclusive = Container::ID | Container::INDEX | Container::LANGUAGE | Container::TYPE;
    let valid = if flags & Container::LIST != 0 {
        flags == Container::LIST
    } else {
        (flags & exclusive).count_ones() <= 1
            && (flags & Container::GRAPH == 0
                || flags & (Container::LANGUAGE | Container::TYPE) == 0)
    };
    if valid {
        Ok(Container(flags))
    } else {
        Err(Error::JsonLd(format!(
            "the @container of `{term}` combines containers JSON-LD does not allow together"
        )))
    }
}

/// IRI expansion while a context is being defined: terms of the same context it depends on
/// are defined first.
fn expand_iri_defining<'m>(
    result: &mut Context,
    map: &'m Map<String, Value>,
    defined: &mut HashMap<&'m str, bool>,
    value: &'m str,
    vocab: bool,
    options: &Defining<'_, 'm>,
) -> Result<Option<String>, Error> {
    if map.contains_key(value) && defined.get(value) != Some(&true) && !value.starts_with('@') {
        define(result, map, value, defined, options)?;
    }
    if let Some(colon) = colon_after_first(value) {
        let prefix = &value[..colon];
        if map.contains_key(prefix) && defined.get(prefix) != Some(&true) {
            define(result, map, prefix, defined, options)?;
        }
    }
    Ok(result.expand_iri(value, vocab).map(|text| text.to_string()))
}
