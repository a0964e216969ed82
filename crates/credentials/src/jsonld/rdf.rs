//! [Deserialize JSON-LD to RDF](https://www.w3.org/TR/json-ld11-api/#deserialize-json-ld-to-rdf-algorithm),
//! straight from the expanded tree into an oxrdf `Dataset`.
//!
//! The node map of the standard only merges what a dataset merges anyway (triples about the
//! same subject), so each node's triples are written as the tree is walked. Literal forms
//! follow jsonld.js, against which the canonical output is tested byte for byte.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write;

use oxrdf::{
    BlankNode, Dataset, GraphNameRef, LiteralRef, NamedNodeRef, NamedOrBlankNodeRef, QuadRef,
    TermRef,
};
use serde_json::{Number, Value};

use super::expand::{Item, Literal, Node, utf16_order};
use crate::Error;

const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const RDF_FIRST: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first";
const RDF_REST: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest";
const RDF_NIL: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil";
const RDF_JSON: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON";
const XSD_BOOLEAN: &str = "http://www.w3.org/2001/XMLSchema#boolean";
const XSD_INTEGER: &str = "http://www.w3.org/2001/XMLSchema#integer";
const XSD_DOUBLE: &str = "http://www.w3.org/2001/XMLSchema#double";

pub(crate) fn to_dataset(items: &[Item<'_>]) -> Result<Dataset, Error> {
    let mut writer = Writer {
        dataset: Dataset::new(),
        next_blank: 0,
        labels: HashMap::new(),
    };
    for item in items {
        writer.top(item, None)?;
    }
    Ok(writer.dataset)
}

enum Resource<'x> {
    Iri(&'x str),
    Blank(BlankNode),
}

impl Resource<'_> {
    fn subject(&self) -> NamedOrBlankNodeRef<'_> {
        match self {
            Resource::Iri(iri) => NamedNodeRef::new_unchecked(iri).into(),
            Resource::Blank(node) => node.as_ref().into(),
        }
    }

    fn graph(&self) -> GraphNameRef<'_> {
        match self {
            Resource::Iri(iri) => NamedNodeRef::new_unchecked(iri).into(),
            Resource::Blank(node) => node.as_ref().into(),
        }
    }
}

enum Object<'x> {
    Resource(Resource<'x>),
    Literal {
        value: Cow<'x, str>,
        datatype: Option<&'x str>,
        language: Option<&'x str>,
    },
}

impl Object<'_> {
    fn term(&self) -> TermRef<'_> {
        match self {
            Object::Resource(Resource::Iri(iri)) => NamedNodeRef::new_unchecked(iri).into(),
            Object::Resource(Resource::Blank(node)) => node.as_ref().into(),
            Object::Literal {
                value,
                datatype: Some(datatype),
                ..
            } => LiteralRef::new_typed_literal(value, NamedNodeRef::new_unchecked(datatype)).into(),
            Object::Literal {
                value,
                language: Some(language),
                ..
            } => LiteralRef::new_language_tagged_literal_unchecked(value, language).into(),
            Object::Literal { value, .. } => LiteralRef::new_simple_literal(value).into(),
        }
    }
}

struct Writer {
    dataset: Dataset,
    next_blank: u128,
    /// The document's own blank node labels, to fresh ones (which never collide with them).
    labels: HashMap<String, u128>,
}

impl Writer {
    fn fresh(&mut self) -> BlankNode {
        self.next_blank += 1;
        BlankNode::new_from_unique_id(self.next_blank)
    }

    fn labelled(&mut self, label: &str) -> BlankNode {
        let id = match self.labels.get(label) {
            Some(id) => *id,
            None => {
                self.next_blank += 1;
                self.labels.insert(label.to_owned(), self.next_blank);
                self.next_blank
            }
        };
        BlankNode::new_from_unique_id(id)
    }

    fn resource<'x>(&mut self, id: &'x str) -> Resource<'x> {
        if id.starts_with("_:") {
            Resource::Blank(self.labelled(id))
        } else {
            Resource::Iri(id)
        }
    }

    fn insert(
        &mut self,
        subject: &Resource<'_>,
        predicate: &str,
        object: &Object<'_>,
        graph: Option<&Resource<'_>>,
    ) {
        self.dataset.insert(QuadRef::new(
            subject.subject(),
            NamedNodeRef::new_unchecked(predicate),
            object.term(),
            graph.map_or(GraphNameRef::DefaultGraph, Resource::graph),
        ));
    }

    /// An item directly in a graph: only nodes make triples there.
    fn top(&mut self, item: &Item<'_>, graph: Option<&Resource<'_>>) -> Result<(), Error> {
        match item {
            Item::Node(node) => {
                self.node(node, graph)?;
                Ok(())
            }
            _ => Err(Error::JsonLd(
                "a value directly in a graph would be dropped by JSON-LD, so it would not be signed"
                    .into(),
            )),
        }
    }

    fn node<'x>(
        &mut self,
        node: &'x Node<'_>,
        graph: Option<&Resource<'_>>,
    ) -> Result<Resource<'x>, Error> {
        let subject = match &node.id {
            Some(id) => self.resource(id),
            None => Resource::Blank(self.fresh()),
        };
        for t in &node.types {
            let object = Object::Resource(self.resource(t));
            self.insert(&subject, RDF_TYPE, &object, graph);
        }
        for (predicate, values) in &node.properties {
            for value in values {
                let object = self.object(value, graph)?;
                self.insert(&subject, predicate, &object, graph);
            }
        }
        if let Some(items) = &node.graph {
            for item in items {
                self.top(item, Some(&subject))?;
            }
        }
        for item in &node.included {
            self.top(item, graph)?;
        }
        Ok(subject)
    }

    fn object<'x>(
        &mut self,
        item: &'x Item<'_>,
        graph: Option<&Resource<'_>>,
    ) -> Result<Object<'x>, Error> {
        match item {
            Item::Node(node) => Ok(Object::Resource(self.node(node, graph)?)),
            Item::Value(literal) => self::literal(literal),
            Item::List(items) => self.list(items, graph),
        }
    }

    fn list<'x>(
        &mut self,
        items: &'x [Item<'_>],
        graph: Option<&Resource<'_>>,
    ) -> Result<Object<'x>, Error> {
        let cells: Vec<BlankNode> = items.iter().map(|_| self.fresh()).collect();
        for (i, item) in items.iter().enumerate() {
            let cell = Resource::Blank(cells[i].clone());
            let first = self.object(item, graph)?;
            self.insert(&cell, RDF_FIRST, &first, graph);
            let rest = match cells.get(i + 1) {
                Some(next) => Object::Resource(Resource::Blank(next.clone())),
                None => Object::Resource(Resource::Iri(RDF_NIL)),
            };
            self.insert(&cell, RDF_REST, &rest, graph);
        }
        Ok(Object::Resource(match cells.into_iter().next() {
            Some(head) => Resource::Blank(head),
            None => Resource::Iri(RDF_NIL),
        }))
    }
}

fn literal<'x>(literal: &'x Literal<'_>) -> Result<Object<'x>, Error> {
    let datatype = literal.datatype.as_deref();
    if datatype == Some("@json") {
        let mut canonical = String::new();
        jcs(literal.value, &mut canonical);
        return Ok(Object::Literal {
            value: Cow::Owned(canonical),
            datatype: Some(RDF_JSON),
            language: None,
        });
    }
    let (value, datatype) = match literal.value {
        Value::Bool(b) => (
            Cow::Borrowed(if *b { "true" } else { "false" }),
            datatype.unwrap_or(XSD_BOOLEAN),
        ),
        Value::Number(n) => number(n, datatype)?,
        Value::String(s) => {
            if datatype == Some(XSD_DOUBLE) {
                // jsonld.js reformats such strings as doubles, the standard keeps them: the
                // two would sign different data.
                return Err(Error::Unsupported(format!(
                    "the string \"{s}\" typed as xsd:double (write it as a JSON number)"
                )));
            }
            return Ok(Object::Literal {
                value: Cow::Borrowed(s),
                datatype,
                language: literal.language.as_deref(),
            });
        }
        other => {
            return Err(Error::JsonLd(format!("{other} cannot be a literal")));
        }
    };
    Ok(Object::Literal {
        value,
        datatype: Some(datatype),
        language: None,
    })
}

/// A JSON number as jsonld.js writes it: an `xsd:integer` when its JavaScript string form
/// has no `.` and it is below 10^21, else the canonical `xsd:double`.
fn number<'x>(n: &Number, datatype: Option<&'x str>) -> Result<(Cow<'x, str>, &'x str), Error> {
    let v = n
        .as_f64()
        .ok_or_else(|| Error::JsonLd(format!("the number {n} is out of range")))?;
    let tiny = v != 0.0 && v.abs() < 1e-6;
    let has_point = if tiny {
        format!("{v:e}").contains('.')
    } else {
        v.fract() != 0.0
    };
    if tiny && !has_point {
        // jsonld.js turns 1e-7 into the integer 0; the standard makes it a double.
        return Err(Error::Unsupported(format!(
            "the number {n}: JSON-LD processors disagree on its RDF form"
        )));
    }
    if has_point || v.abs() >= 1e21 || datatype == Some(XSD_DOUBLE) {
        Ok((Cow::Owned(double(v)), datatype.unwrap_or(XSD_DOUBLE)))
    } else if v == 0.0 {
        Ok((Cow::Borrowed("0"), datatype.unwrap_or(XSD_INTEGER)))
    } else {
        Ok((
            Cow::Owned(format!("{v:.0}")),
            datatype.unwrap_or(XSD_INTEGER),
        ))
    }
}

/// The canonical `xsd:double` form: 16 significant digits, trailing zeros dropped but one,
/// `E` exponent (`1.5E0`, `1.0E21`), as JavaScript's `toExponential(15)` then jsonld.js.
pub(crate) fn double(v: f64) -> String {
    // JavaScript writes no sign for negative zero.
    let v = if v == 0.0 { 0.0 } else { v };
    let formatted = exponential_16_digits(v);
    let (mantissa, exponent) = formatted
        .split_once('e')
        .expect("exponential notation has an e");
    let mut mantissa = mantissa.trim_end_matches('0').to_owned();
    if mantissa.ends_with('.') {
        mantissa.push('0');
    }
    format!("{mantissa}E{exponent}")
}

/// `format!("{v:.15e}")`, except that an exact tie rounds away from zero as JavaScript's
/// `toExponential` does, where Rust rounds it to even.
fn exponential_16_digits(v: f64) -> String {
    let rounded = format!("{v:.15e}");
    // A tie needs the 17th significant digit to be 5 and nothing after it.
    if !format!("{v:.16e}")
        .split_once('e')
        .is_some_and(|(m, _)| m.ends_with('5'))
    {
        return rounded;
    }
    // 767 digits hold any double exactly.
    let exact = format!("{:.767e}", v.abs());
    let (mantissa, exponent) = exact.split_once('e').expect("exponential notation");
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    if digits[17..].iter().any(|&d| d != b'0') {
        return rounded;
    }
    let mut kept = digits[..16].to_vec();
    let mut exponent: i32 = exponent.parse().expect("an integer exponent");
    let mut i = kept.len();
    loop {
        if i == 0 {
            kept.insert(0, b'1');
            kept.pop();
            exponent += 1;
            break;
        }
        i -= 1;
        if kept[i] == b'9' {
            kept[i] = b'0';
        } else {
            kept[i] += 1;
            break;
        }
    }
    let sign = if v < 0.0 { "-" } else { "" };
    let kept = String::from_utf8(kept).expect("ASCII digits");
    format!("{sign}{}.{}e{exponent}", &kept[..1], &kept[1..])
}

/// JSON Canonicalization Scheme (RFC 8785), the lexical form of `rdf:JSON` literals.
pub(crate) fn jcs(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&es_number(n.as_f64().unwrap_or(f64::NAN))),
        Value::String(s) => {
            out.push_str(&serde_json::to_string(s).expect("a string always serializes"));
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                jcs(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| utf16_order(a.0, b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key).expect("a string always serializes"));
                out.push(':');
                jcs(item, out);
            }
            out.push('}');
        }
    }
}

/// ECMAScript's Number::toString: the shortest digits that round-trip, laid out as
/// JavaScript does (`1e+21`, `1.5e-7`, `0.000001`, `100`).
pub(crate) fn es_number(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if v < 0.0 {
        return format!("-{}", es_number(-v));
    }
    let shortest = format!("{v:e}");
    let (mantissa, exponent) = shortest
        .split_once('e')
        .expect("exponential notation has an e");
    let mut digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    // When v lies exactly between two shortest candidates JavaScript takes the even one,
    // where Rust may take the other.
    let exact = format!("{v:.767e}");
    let exact_digits = exact
        .split_once('e')
        .map(|(m, _)| m.replace('.', ""))
        .unwrap_or_default();
    let exact_digits = exact_digits.trim_end_matches('0');
    if exact_digits.len() == digits.len() + 1 && exact_digits.ends_with('5') {
        let down = &exact_digits[..digits.len()];
        let even = down
            .bytes()
            .last()
            .is_some_and(|d| (d - b'0').is_multiple_of(2));
        let candidate = format!("{}.{}e{exponent}", &down[..1], &down[1..]);
        if even && down != digits && candidate.parse::<f64>() == Ok(v) {
            digits = down.to_owned();
        }
    }
    let k = digits.len() as i32;
    let n = exponent.parse::<i32>().expect("an integer exponent") + 1;
    let mut out = String::new();
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at(n as usize);
        let _ = write!(out, "{int}.{frac}");
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(&digits);
    } else {
        let e = n - 1;
        let sign = if e < 0 { '-' } else { '+' };
        let (first, rest) = digits.split_at(1);
        if rest.is_empty() {
            let _ = write!(out, "{first}e{sign}{}", e.abs());
        } else {
            let _ = write!(out, "{first}.{rest}e{sign}{}", e.abs());
        }
    }
    out
}
