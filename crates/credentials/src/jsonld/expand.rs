//! The [expansion algorithm](https://www.w3.org/TR/json-ld11-api/#expansion-algorithm), into
//! a tree that borrows the document's strings. Wherever JSON-LD would silently drop data (an
//! undefined term, a relative IRI, a value outside any node, an index key), this is an error
//! naming it: what is dropped is not signed, yet people would still read it.

use std::cmp::Ordering;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::context::{self, Container, Context, Local, TermDef, Text, language_tag};
use crate::Error;

pub(crate) enum Item<'a> {
    Node(Box<Node<'a>>),
    Value(Literal<'a>),
    List(Vec<Item<'a>>),
}

#[derive(Default)]
pub(crate) struct Node<'a> {
    pub(crate) id: Option<Text<'a>>,
    pub(crate) types: Vec<Text<'a>>,
    pub(crate) properties: Vec<(Text<'a>, Vec<Item<'a>>)>,
    pub(crate) graph: Option<Vec<Item<'a>>>,
    pub(crate) included: Vec<Item<'a>>,
}

impl Node<'_> {
    fn is_graph_object(&self) -> bool {
        self.graph.is_some()
            && self.types.is_empty()
            && self.properties.is_empty()
            && self.included.is_empty()
    }

    fn is_empty(&self) -> bool {
        self.types.is_empty()
            && self.properties.is_empty()
            && self.graph.is_none()
            && self.included.is_empty()
    }
}

pub(crate) struct Literal<'a> {
    /// A string, number or boolean; any JSON when the datatype is `@json`.
    pub(crate) value: &'a Value,
    /// An absolute IRI, or `@json`.
    pub(crate) datatype: Option<Text<'a>>,
    /// Lowercase.
    pub(crate) language: Option<Text<'a>>,
}

enum Expanded<'a> {
    Null,
    One(Item<'a>),
    Many(Vec<Item<'a>>),
}

impl<'a> Expanded<'a> {
    fn into_vec(self) -> Vec<Item<'a>> {
        match self {
            Expanded::Null => Vec::new(),
            Expanded::One(item) => vec![item],
            Expanded::Many(items) => items,
        }
    }
}

/// The expanded form of a whole document: the nodes of its default graph.
pub(crate) fn expand_document(document: &Value) -> Result<Vec<Item<'_>>, Error> {
    let initial = context::initial();
    Ok(match element(&initial, None, document, false)? {
        Expanded::One(Item::Node(node)) if node.id.is_none() && node.is_graph_object() => {
            node.graph.expect("a graph object has a graph")
        }
        other => other.into_vec(),
    })
}

/// Whether values directly under `property` are outside any node (top level or `@graph`).
fn is_top_level(active: &Context, property: Option<&str>) -> bool {
    property.is_none_or(|p| active.keyword(p) == Some("@graph"))
}

fn free_floating(what: &str) -> Error {
    Error::JsonLd(format!(
        "{what} outside any property would be dropped by JSON-LD, so it would not be signed"
    ))
}

fn element<'a>(
    active: &Arc<Context>,
    property: Option<&'a str>,
    element: &'a Value,
    from_map: bool,
) -> Result<Expanded<'a>, Error> {
    match element {
        Value::Null => Ok(Expanded::Null),
        Value::Array(items) => {
            let list = property
                .and_then(|p| active.term(p))
                .is_some_and(|d| d.container.has(Container::LIST));
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match self::element(active, property, item, from_map)? {
                    Expanded::Null => {}
                    Expanded::One(item) => out.push(item),
                    Expanded::Many(items) if list => out.push(Item::List(items)),
                    Expanded::Many(items) => out.extend(items),
                }
            }
            Ok(Expanded::Many(out))
        }
        Value::Object(map) => object(active, property, map, from_map),
        scalar => {
            if is_top_level(active, property) {
                return Err(free_floating(&format!("the value {scalar}")));
            }
            let scoped = property
                .and_then(|p| active.term(p))
                .and_then(|d| d.context.as_ref());
            let item = match scoped {
                Some(scoped) => {
                    let context = context::process(active, scoped.local(), true, true)?;
                    value(&context, property, scalar)?
                }
                None => value(active, property, scalar)?,
            };
            Ok(Expanded::One(item))
        }
    }
}

/// [Value expansion](https://www.w3.org/TR/json-ld11-api/#value-expansion).
fn value<'a>(
    active: &Context,
    property: Option<&str>,
    value: &'a Value,
) -> Result<Item<'a>, Error> {
    let definition = property.and_then(|p| active.term(p));
    let type_mapping = definition.and_then(|d| d.type_mapping.as_ref());
    match (type_mapping.map(AsRef::as_ref), value) {
        (Some("@id"), Value::String(id)) => Ok(node_reference(expand_id(active, id)?)),
        (Some("@vocab"), Value::String(term)) => {
            let iri = active
                .expand_iri(term, true)
                .filter(|iri| iri.starts_with("_:") || iri.is_valid_iri())
                .ok_or_else(|| Error::UndefinedTerm(term.clone()))?;
            Ok(node_reference(iri))
        }
        _ => {
            let datatype = type_mapping
                .filter(|t| !matches!(t.as_ref(), "@id" | "@vocab" | "@none"))
                .map(|t| Text::Shared(t.clone()));
            let language = match (&datatype, value) {
                (None, Value::String(_)) => match definition.and_then(|d| d.language.as_ref()) {
                    Some(language) => language.clone(),
                    None => active.language.clone(),
                }
                .map(Text::Shared),
                _ => None,
            };
            Ok(Item::Value(Literal {
                value,
                datatype,
                language,
            }))
        }
    }
}

fn node_reference(id: Text<'_>) -> Item<'_> {
    Item::Node(Box::new(Node {
        id: Some(id),
        ..Node::default()
    }))
}

/// An `@id` value: a blank node identifier or an absolute IRI, compact or not.
fn expand_id<'a>(active: &Context, id: &'a str) -> Result<Text<'a>, Error> {
    match active.expand_iri(id, false) {
        Some(iri) if iri.starts_with("_:") => Ok(iri),
        Some(iri) if !iri.starts_with('@') && iri.is_valid_iri() => Ok(iri),
        _ => Err(Error::RelativeIri(id.to_owned())),
    }
}

/// Entries in the order JSON-LD processes them: keys sorted by UTF-16 code units, as
/// jsonld.js sorts them (which decides which of several errors is reported).
fn sorted_entries(map: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = map.iter().collect();
    if !entries.is_sorted_by(|a, b| utf16_order(a.0, b.0) != Ordering::Greater) {
        entries.sort_by(|a, b| utf16_order(a.0, b.0));
    }
    entries
}

pub(crate) fn utf16_order(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.cmp(b)
    } else {
        a.encode_utf16().cmp(b.encode_utf16())
    }
}

/// What a map expands to, before deciding whether it is a node, a value, a list or a set.
#[derive(Default)]
struct Partial<'a> {
    node: Node<'a>,
    value: Option<&'a Value>,
    language: Option<Text<'a>>,
    list: Option<Vec<Item<'a>>>,
    set: Option<Expanded<'a>>,
    /// Keywords seen, to refuse the same keyword twice (through aliases).
    seen: Vec<&'static str>,
}

fn object<'a>(
    active: &Arc<Context>,
    property: Option<&'a str>,
    map: &'a Map<String, Value>,
    from_map: bool,
) -> Result<Expanded<'a>, Error> {
    // Step 7: a type-scoped context does not reach nested nodes.
    let mut ctx = active.clone();
    if let Some(previous) = &active.previous
        && !from_map
    {
        let is_value = map.keys().any(|k| active.keyword(k) == Some("@value"));
        let only_id = map.len() == 1 && map.keys().all(|k| active.keyword(k) == Some("@id"));
        if !is_value && !only_id {
            ctx = previous.clone();
        }
    }
    // Steps 8–9: property-scoped, then embedded contexts.
    if let Some(scoped) = property
        .and_then(|p| active.term(p))
        .and_then(|d| d.context.as_ref())
    {
        ctx = context::process(&ctx, scoped.local(), true, true)?;
    }
    if let Some(local) = map.get("@context") {
        ctx = context::process(&ctx, Local::Document(local), true, false)?;
    }

    // Steps 10–11: each type's scoped context, in order, as looked up before any applied.
    let entries = sorted_entries(map);
    let type_scoped = ctx.clone();
    let mut json_input = None;
    for (key, value) in &entries {
        if type_scoped.keyword(key) != Some("@type") {
            continue;
        }
        let mut types: Vec<&str> = match value {
            Value::String(t) => vec![t.as_str()],
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if json_input.is_none() {
            json_input = Some(
                types
                    .last()
                    .and_then(|t| type_scoped.expand_iri(t, true))
                    .is_some_and(|t| &*t == "@json"),
            );
        }
        types.sort_by(|a, b| utf16_order(a, b));
        for t in types {
            if let Some(scoped) = type_scoped.term(t).and_then(|d| d.context.as_ref()) {
                ctx = context::process(&ctx, scoped.local(), false, false)?;
            }
        }
    }
    let json_input = json_input.unwrap_or(false);
    let is_value = entries
        .iter()
        .any(|(k, _)| ctx.keyword(k) == Some("@value"));

    // Step 13.
    let mut result = Partial::default();
    for (key, value) in entries {
        if key == "@context" {
            continue;
        }
        let Some(expanded) = ctx.expand_iri(key, true) else {
            return Err(Error::UndefinedTerm(key.clone()));
        };
        if expanded.starts_with('@') {
            keyword(
                &mut result,
                &ctx,
                &type_scoped,
                property,
                key,
                &expanded,
                value,
                json_input,
                is_value,
            )?;
            continue;
        }
        if expanded.starts_with("_:") {
            return Err(Error::Unsupported(format!(
                "the property `{key}`, a blank node, which RDF cannot carry"
            )));
        }
        if !expanded.is_valid_iri() {
            return Err(Error::UndefinedTerm(key.clone()));
        }
        let definition = ctx.term(key);
        let values = property_value(&ctx, key, definition, value)?;
        if let Some(values) = values {
            result.node.properties.push((expanded, values));
        }
    }
    finish(result, active, property)
}

/// Steps 13.5–13.13 for one property: its values, expanded.
fn property_value<'a>(
    ctx: &Arc<Context>,
    key: &'a str,
    definition: Option<&TermDef>,
    value: &'a Value,
) -> Result<Option<Vec<Item<'a>>>, Error> {
    let container = definition.map(|d| d.container).unwrap_or_default();
    let is_json = definition.and_then(|d| d.type_mapping.as_deref()) == Some("@json");
    let expanded = if is_json {
        Expanded::One(Item::Value(Literal {
            value,
            datatype: Some(Text::Doc("@json")),
            language: None,
        }))
    } else if container.has(Container::LANGUAGE) && value.is_object() {
        language_map(ctx, value.as_object().expect("checked"))?
    } else if container.has(Container::INDEX) && value.is_object() {
        return Err(Error::Unsupported(format!(
            "the index map `{key}`: its keys would not be signed"
        )));
    } else if (container.has(Container::ID) || container.has(Container::TYPE)) && value.is_object()
    {
        id_or_type_map(ctx, key, container, value.as_object().expect("checked"))?
    } else {
        element(ctx, Some(key), value, false)?
    };
    if matches!(expanded, Expanded::Null) {
        return Ok(None);
    }
    let mut values = match expanded {
        Expanded::One(list @ Item::List(_)) if container.has(Container::LIST) => vec![list],
        other if container.has(Container::LIST) => vec![Item::List(other.into_vec())],
        other => other.into_vec(),
    };
    if container.has(Container::GRAPH) && !container.has(Container::ID) {
        values = values.into_iter().map(graph_object).collect();
    }
    Ok(Some(values))
}

fn graph_object(item: Item<'_>) -> Item<'_> {
    Item::Node(Box::new(Node {
        graph: Some(vec![item]),
        ..Node::default()
    }))
}

/// Steps 13.4.1–13.4.16: a keyword entry.
#[allow(clippy::too_many_arguments)]
fn keyword<'a>(
    result: &mut Partial<'a>,
    ctx: &Arc<Context>,
    type_scoped: &Context,
    property: Option<&'a str>,
    key: &'a str,
    keyword: &str,
    value: &'a Value,
    json_input: bool,
    is_value: bool,
) -> Result<(), Error> {
    let keyword: &'static str = match keyword {
        "@id" => "@id",
        "@type" => "@type",
        "@graph" => "@graph",
        "@included" => "@included",
        "@value" => "@value",
        "@language" => "@language",
        "@index" => "@index",
        "@list" => "@list",
        "@set" => "@set",
        "@reverse" | "@nest" | "@direction" => {
            return Err(Error::Unsupported(keyword.to_owned()));
        }
        other => {
            return Err(Error::JsonLd(format!(
                "`{key}` ({other}) cannot be used as an entry of a node or value"
            )));
        }
    };
    if !matches!(keyword, "@type" | "@included") {
        if result.seen.contains(&keyword) {
            return Err(Error::JsonLd(format!(
                "{keyword} appears twice (`{key}` is an alias of it)"
            )));
        }
        result.seen.push(keyword);
    }
    let invalid = |what: &str| Error::JsonLd(format!("`{key}` must be {what}, not {value}"));
    match keyword {
        "@id" => {
            let Value::String(id) = value else {
                return Err(invalid("a string"));
            };
            result.node.id = Some(expand_id(ctx, id)?);
        }
        "@type" => {
            let types = match value {
                Value::String(_) => std::slice::from_ref(value),
                Value::Array(items) => items.as_slice(),
                _ => return Err(invalid("a string or an array of strings")),
            };
            for t in types {
                let Value::String(t) = t else {
                    return Err(invalid("a string or an array of strings"));
                };
                let iri = type_scoped
                    .expand_iri(t, true)
                    .ok_or_else(|| Error::UndefinedTerm(t.clone()))?;
                let valid = if is_value {
                    &*iri == "@json" || iri.is_valid_iri()
                } else {
                    iri.starts_with("_:") || iri.is_valid_iri()
                };
                if !valid {
                    return Err(Error::UndefinedTerm(t.clone()));
                }
                result.node.types.push(iri);
            }
        }
        "@graph" => {
            result.node.graph = Some(element(ctx, Some("@graph"), value, false)?.into_vec());
        }
        "@included" => {
            for item in element(ctx, None, value, false)?.into_vec() {
                if !matches!(item, Item::Node(_)) {
                    return Err(invalid("node objects"));
                }
                result.node.included.push(item);
            }
        }
        "@value" => {
            if !json_input && (value.is_array() || value.is_object()) {
                return Err(invalid("a string, number, boolean or null"));
            }
            result.value = Some(value);
        }
        "@language" => {
            let Value::String(tag) = value else {
                return Err(invalid("a language tag"));
            };
            result.language = Some(Text::Owned(language_tag(tag)?));
        }
        "@index" => {
            return Err(Error::Unsupported(format!(
                "`{key}`: an index is not signed"
            )));
        }
        "@list" => {
            if is_top_level(ctx, property) {
                return Err(free_floating("a list"));
            }
            result.list = Some(element(ctx, property, value, false)?.into_vec());
        }
        "@set" => {
            result.set = Some(element(ctx, property, value, false)?);
        }
        _ => unreachable!("keywords are matched above"),
    }
    Ok(())
}

/// Steps 15–19: what the map turned out to be.
fn finish<'a>(
    result: Partial<'a>,
    active: &Context,
    property: Option<&str>,
) -> Result<Expanded<'a>, Error> {
    let Partial {
        mut node,
        value,
        language,
        list,
        set,
        ..
    } = result;
    let dropped_here = is_top_level(active, property)
        || property
            .and_then(|p| active.term(p))
            .is_some_and(|d| d.container.has(Container::GRAPH));
    if let Some(value) = value {
        let only_type =
            node.properties.is_empty() && node.graph.is_none() && node.included.is_empty();
        if node.id.is_some() || !only_type || list.is_some() || set.is_some() {
            return Err(Error::JsonLd(format!(
                "a value object (@value {value}) may only have @type, @language and @index"
            )));
        }
        if node.types.len() > 1 || (!node.types.is_empty() && language.is_some()) {
            return Err(Error::JsonLd(format!(
                "the value {value} must have one @type, or a @language, not both"
            )));
        }
        if dropped_here {
            return Err(free_floating(&format!("the value {value}")));
        }
        let datatype = node.types.pop();
        let is_json = datatype.as_deref() == Some("@json");
        if !is_json {
            if value.is_null() {
                return Err(Error::JsonLd(
                    "a value object with a null @value would be dropped".into(),
                ));
            }
            if language.is_some() && !value.is_string() {
                return Err(Error::JsonLd(format!(
                    "only strings may have a language, not {value}"
                )));
            }
        }
        return Ok(Expanded::One(Item::Value(Literal {
            value,
            datatype,
            language,
        })));
    }
    if list.is_some() || set.is_some() {
        if node.id.is_some() || !node.is_empty() || language.is_some() {
            return Err(Error::JsonLd(
                "@list and @set may not have other entries".into(),
            ));
        }
        if let Some(items) = list {
            return Ok(Expanded::One(Item::List(items)));
        }
        return Ok(set.expect("checked"));
    }
    if language.is_some() {
        return Err(Error::JsonLd(
            "@language on a node would be dropped, so it would not be signed".into(),
        ));
    }
    if dropped_here && node.is_empty() {
        return Err(free_floating(&match &node.id {
            Some(id) => format!("the node `{}`, which has only an id,", &**id),
            None => "an empty object".to_owned(),
        }));
    }
    Ok(Expanded::One(Item::Node(Box::new(node))))
}

/// Step 13.7: a `@language` map.
fn language_map<'a>(ctx: &Context, map: &'a Map<String, Value>) -> Result<Expanded<'a>, Error> {
    let mut out = Vec::new();
    for (tag, value) in sorted_entries(map) {
        let language = if tag == "@none" || ctx.expand_iri(tag, true).as_deref() == Some("@none") {
            None
        } else {
            Some(language_tag(tag)?)
        };
        let items = match value {
            Value::Array(items) => items.as_slice(),
            single => std::slice::from_ref(single),
        };
        for item in items {
            match item {
                Value::Null => {}
                Value::String(_) => out.push(Item::Value(Literal {
                    value: item,
                    datatype: None,
                    language: language.clone().map(Text::Owned),
                })),
                other => {
                    return Err(Error::JsonLd(format!(
                        "a language map holds strings, not {other}"
                    )));
                }
            }
        }
    }
    Ok(Expanded::Many(out))
}

/// Step 13.8 for `@id` and `@type` maps, whose keys become identifiers and types (and so
/// are signed).
fn id_or_type_map<'a>(
    ctx: &Arc<Context>,
    key: &'a str,
    container: Container,
    map: &'a Map<String, Value>,
) -> Result<Expanded<'a>, Error> {
    let by_type = container.has(Container::TYPE);
    // jsonld.js reverts a type-scoped context for @type maps only.
    let map_ctx = match &ctx.previous {
        Some(previous) if by_type => previous.clone(),
        _ => ctx.clone(),
    };
    let mut out = Vec::new();
    for (index, value) in sorted_entries(map) {
        if by_type && map_ctx.term(index).is_some_and(|d| d.context.is_some()) {
            return Err(Error::Unsupported(format!(
                "the @type map `{key}` keyed by `{index}`, a type with a scoped context"
            )));
        }
        let is_none = map_ctx.expand_iri(index, true).as_deref() == Some("@none");
        for item in element(&map_ctx, Some(key), value, true)?.into_vec() {
            let mut item = if container.has(Container::GRAPH)
                && !matches!(&item, Item::Node(node) if node.is_graph_object())
            {
                graph_object(item)
            } else {
                item
            };
            let Item::Node(node) = &mut item else {
                return Err(Error::JsonLd(format!(
                    "the map `{key}` must hold node objects under `{index}`"
                )));
            };
            if !is_none {
                if by_type {
                    let iri = map_ctx
                        .expand_iri(index, true)
                        .filter(|iri| iri.starts_with("_:") || iri.is_valid_iri())
                        .ok_or_else(|| Error::UndefinedTerm(index.clone()))?;
                    node.types.insert(0, iri);
                } else if node.id.is_none() {
                    node.id = Some(expand_id(ctx, index)?);
                }
            }
            out.push(item);
        }
    }
    Ok(Expanded::Many(out))
}
