//! QTI `assessmentItem` documents: [`parse_item`] reads one item of QTI 2.0, 2.1, 2.2 (camelCase
//! elements) or QTI 3.0 (`qti-` kebab-case elements) into an exam [`Item`]; [`export_item`] writes
//! an item as QTI 2.1 that [`parse_item`] reads back to the same item.
//!
//! [`parse_item`] returns the item or every problem found, each at the line of the element it is
//! about (line 0 for the file as a whole: size, encoding, emptiness). Response processing is not
//! run: an Accredit item is scored right or wrong against its key, so the key is read from the
//! `correctResponse` (or, failing that, from the mapping) and response processing is only looked at
//! for a numeric tolerance and for `*` patterns.
//!
//! Decisions beyond the brief, each pinned by a test:
//! - What makes the whole item unusable (a template, no interaction or a second one, one Accredit
//!   cannot score, no item body) is reported alone; otherwise every problem is. Mistakes in parts
//!   Accredit does not use (outcome declarations, response processing logic) are not reported.
//! - A correct response whose `<value>` is empty is refused, not replaced by the mapping: which of
//!   the two the author meant would be a guess.
//! - Namespaces: QTI 2.0/2.1/2.2, and QTI 3.0 including the `.../xsd/qti/imsqtiasi_v3p0` spelling
//!   that Citolab's examples use. Element names are read per element, so the QTI 3 drafts that
//!   kept camelCase names in the 3.0 namespace (qti-sdk's aQTI samples) are read too. The reverse,
//!   `qti-` elements in a QTI 2 namespace, is refused: it is the 1EdTech conformance suite's
//!   negative test for exactly that mistake.
//! - Items with `templateDeclaration`/`templateProcessing` are refused: their text and key change
//!   per attempt, while an Accredit item is fixed.
//! - `img` becomes `[image: alt]` (`[image]` without alt text) in the stem: the candidate must know
//!   a picture was meant. An option that is only an image without alt text is refused, as it
//!   cannot be told apart from the others. MathML becomes a linear text (`E=mc^2`), or its
//!   `alttext`.
//! - An inline interaction (text entry, inline choice) that shares its line with text leaves a
//!   `_____` blank in the stem; alone in its paragraph it leaves nothing.
//! - Hottext passages are part of the stem, since the options make no sense without them. Rubric
//!   blocks are when their view includes the candidate.
//! - The first `<pre>` of the stem (the item body outside the interaction, the prompt and the
//!   hottext passage) is the artifact; any further `<pre>` stays in the stem verbatim. The
//!   artifact's language comes from a `language-X` (or `lang-X`) class, its kind from an
//!   `artifact-code|log|config|payload` class (default `code`); the exporter writes both.
//! - Faulty lines: a hottext interaction whose hottexts are the lines of one `<pre>` (each
//!   non-blank line is exactly one hottext, with at most whitespace beside it) is a
//!   [`ItemBody::FaultyLines`] item over that `<pre>`, whatever the cardinality. When some
//!   non-blank line is not selectable it stays a choice among the hottexts, so that it never
//!   offers lines the author did not.
//! - True/false: a single choice between identifiers `true` and `false` is a true/false item only
//!   when the interaction has the class `true-false` (as the exporter writes it); otherwise it
//!   stays a single choice, as the texts alone would be a guess.
//! - Associate interactions become matching items: in each pair the option listed first is the
//!   prompt, the other its target; options in no pair are extra targets. An option in two pairs
//!   is refused. Match interactions must pair every prompt of the first set with exactly one
//!   target, as Accredit's matching does.
//! - Text entry answers are the correct response plus every positively mapped key (partial credit
//!   becomes full credit: items are scored right or wrong), duplicates ignoring case and spaces
//!   dropped. A `patternMatch` on the response whose pattern is literal text with `.*` becomes a
//!   `*` pattern; any other regular expression is refused rather than silently ignored.
//! - Numeric tolerance: `equal` with `absolute` (symmetric only) or `relative` (percent of the
//!   answer) tolerance; `equalRounded` to n decimal places or significant figures becomes half a
//!   unit of the last kept digit. A mapping that credits other numbers is refused.
//! - `rationale` is the text of every `feedbackBlock` and `modalFeedback`, in document order;
//!   `feedbackInline` (per-option remarks) is left out of both options and rationale.
//! - Ids: an identifier of 1-64 `[A-Za-z0-9._-]` is kept, except that a leading `_` before a
//!   digit, `.` or `-` is dropped: QTI identifiers cannot start with those, so exporters (this
//!   one included, and kennisnet's for its UUIDs) prefix `_`. Anything else is slugified: each run
//!   of other characters becomes `-`, case is kept, at most 64 characters. Option identifiers get
//!   the same `_` rule, so that they survive the round trip.
//! - Files over 5 MB, with a DTD, or nested deeper than 200 elements are refused: no real item
//!   comes near, and the limits keep a hostile file cheap. XML declared as ISO-8859-1 is decoded
//!   as such; other non-UTF-8 encodings are refused with the encoding named.

use crate::document::FormatError;
use accredit_domain::exam::{Artifact, Choice, Item, ItemBody, ItemStatus, TextAnswer};
use roxmltree::{Document, Node, ParsingOptions};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

/// How imported items are filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QtiOptions {
    /// The blueprint domain every imported item gets: QTI items name none.
    pub default_domain: String,
}

const MAX_BYTES: usize = 5 * 1024 * 1024;
const MAX_DEPTH: usize = 200;
const MAX_ID_CHARS: usize = 64;
/// Past this, further messages are noise: the file is probably not a QTI item at all.
const MAX_ERRORS: usize = 100;
/// What an inline interaction leaves in the stem.
const BLANK: &str = "_____";
/// Marks where an inline interaction stands while the stem is built (a private-use character).
const GAP: char = '\u{e000}';
const SUPPORTED: &str = "choice, order, match, associate, text entry, hottext, inline choice";

const QTI2_NAMESPACES: &[(&str, &str)] = &[
    ("http://www.imsglobal.org/xsd/imsqti_v2p0", "2.0"),
    ("http://www.imsglobal.org/xsd/imsqti_v2p1", "2.1"),
    ("http://www.imsglobal.org/xsd/imsqti_v2p2", "2.2"),
];
const QTI3_NAMESPACES: &[&str] = &[
    "http://www.imsglobal.org/xsd/imsqtiasi_v3p0",
    // Citolab's examples; no schema has it, but nothing else could be meant.
    "http://www.imsglobal.org/xsd/qti/imsqtiasi_v3p0",
];
const QTI21_NAMESPACE: &str = "http://www.imsglobal.org/xsd/imsqti_v2p1";
const MATHML: &str = "http://www.w3.org/1998/Math/MathML";
const XINCLUDE: &str = "http://www.w3.org/2001/XInclude";
const ARTIFACT_KINDS: &[&str] = &["code", "log", "config", "payload"];

/// Reads one `assessmentItem` document.
pub fn parse_item(bytes: &[u8], options: &QtiOptions) -> Result<Item, Vec<FormatError>> {
    if bytes.len() > MAX_BYTES {
        return Err(vec![FormatError::whole_file(format!(
            "the file is {:.1} MB; a QTI item may be at most 5 MB (images and media belong in \
             the content package beside it, not inside the item)",
            bytes.len() as f64 / (1024.0 * 1024.0)
        ))]);
    }
    let text = decode(bytes).map_err(|e| vec![e])?;
    let parsing = ParsingOptions {
        allow_dtd: false,
        ..ParsingOptions::default()
    };
    let doc =
        Document::parse_with_options(&text, parsing).map_err(|e| vec![xml_error(&text, e)])?;
    check_nesting(&doc).map_err(|e| vec![e])?;
    let reader = Reader::new(&doc).map_err(|e| vec![e])?;
    reader.item(options).map_err(capped)
}

fn capped(mut errors: Vec<FormatError>) -> Vec<FormatError> {
    errors.sort_by_key(|e| e.line);
    crate::document::capped(errors, MAX_ERRORS)
}

// ---------------------------------------------------------------------------------------------
// Bytes to text

/// UTF-8 (with or without a byte-order mark), UTF-16 with one, or ISO-8859-1 when the XML
/// declaration says so.
fn decode(bytes: &[u8]) -> Result<String, FormatError> {
    if bytes.is_empty() {
        return Err(FormatError::whole_file("the file is empty"));
    }
    if let Some(kind) = crate::document::binary_kind(bytes) {
        // A QTI content package is a ZIP archive.
        let hint = if kind == "a ZIP archive" {
            " (a QTI content package is one: upload the item's .xml file from inside it)"
        } else {
            ""
        };
        return Err(FormatError::whole_file(format!(
            "the file is {kind}{hint}, not a QTI item"
        )));
    }
    let text = if let Some(rest) = bytes.strip_prefix(b"\xef\xbb\xbf") {
        utf8(rest)?
    } else if let Some(rest) = bytes.strip_prefix(b"\xff\xfe") {
        utf16(rest, u16::from_le_bytes)?
    } else if let Some(rest) = bytes.strip_prefix(b"\xfe\xff") {
        utf16(rest, u16::from_be_bytes)?
    } else if looks_like_utf16(bytes) {
        return Err(FormatError::whole_file(
            "the file looks like UTF-16 text without a byte-order mark; save it as UTF-8",
        ));
    } else {
        match declared_encoding(bytes) {
            Some(name) if is_latin1(&name) => bytes.iter().map(|&b| char::from(b)).collect(),
            Some(name) if std::str::from_utf8(bytes).is_err() && !is_utf8(&name) => {
                return Err(FormatError::whole_file(format!(
                    "the file is encoded as {name} (its XML declaration says so), which Accredit \
                     does not read; save it as UTF-8"
                )));
            }
            _ => utf8(bytes)?,
        }
    };
    let nuls = text.chars().filter(|c| *c == '\0').count();
    if nuls * 8 > text.chars().count() {
        return Err(FormatError::whole_file(format!(
            "the file is binary, not XML text ({nuls} of its {} characters are NUL)",
            text.chars().count()
        )));
    }
    if text.trim().is_empty() {
        return Err(FormatError::whole_file("the file contains only whitespace"));
    }
    Ok(text)
}

/// The `encoding` of an XML declaration at the very start, if any.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = bytes.get(..bytes.len().min(200))?;
    let head: String = head.iter().map(|&b| char::from(b)).collect();
    let declaration = head.strip_prefix("<?xml")?;
    let declaration = &declaration[..declaration.find("?>")?];
    let at = declaration.find("encoding")?;
    let rest = declaration[at + "encoding".len()..].trim_start();
    let rest = rest.strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|q| matches!(q, '"' | '\''))?;
    let value = &rest[1..];
    Some(value[..value.find(quote)?].to_owned())
}

fn is_latin1(name: &str) -> bool {
    [
        "iso-8859-1",
        "iso8859-1",
        "iso_8859-1",
        "latin1",
        "latin-1",
        "l1",
    ]
    .iter()
    .any(|n| n.eq_ignore_ascii_case(name))
}

fn is_utf8(name: &str) -> bool {
    name.eq_ignore_ascii_case("utf-8") || name.eq_ignore_ascii_case("utf8")
}

/// Latin text written as UTF-16 has a NUL in every other byte.
fn looks_like_utf16(bytes: &[u8]) -> bool {
    let (mut even, mut odd) = (0, 0);
    for (i, b) in bytes.iter().enumerate() {
        if *b == 0 {
            if i % 2 == 0 {
                even += 1;
            } else {
                odd += 1;
            }
        }
    }
    let nuls = even + odd;
    bytes.len() >= 4 && nuls * 10 >= bytes.len() * 4 && even.max(odd) * 10 >= nuls * 9
}

fn utf8(bytes: &[u8]) -> Result<String, FormatError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(e) => {
            let at = e.valid_up_to();
            let line = 1 + bytes[..at].iter().filter(|b| **b == b'\n').count();
            let problem = match e.error_len() {
                Some(_) => format!("invalid byte 0x{:02x} on line {line}", bytes[at]),
                None => "it ends inside a multi-byte character".to_owned(),
            };
            Err(FormatError::whole_file(format!(
                "the file is not UTF-8 text ({problem}); save it as UTF-8"
            )))
        }
    }
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, FormatError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(FormatError::whole_file(
            "the file is not UTF-16 text (it ends with a stray byte)",
        ));
    }
    char::decode_utf16(bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]])))
        .collect::<Result<String, _>>()
        .map_err(|e| {
            FormatError::whole_file(format!(
                "the file is not UTF-16 text (unpaired surrogate 0x{:04x})",
                e.unpaired_surrogate()
            ))
        })
}

// ---------------------------------------------------------------------------------------------
// Well-formedness

fn position(line: u32, column: u32, message: impl Into<String>) -> FormatError {
    FormatError {
        line: line as usize,
        column: Some(column as usize),
        message: message.into(),
    }
}

/// roxmltree's error, said for people who edit the file.
fn xml_error(text: &str, error: roxmltree::Error) -> FormatError {
    use roxmltree::Error as E;
    if let Some((line, start)) = not_xml(text) {
        return FormatError::at(line, start);
    }
    let pos = error.pos();
    let at = |message: String| position(pos.row, pos.col, message);
    match error {
        E::UnexpectedCloseTag(expected, actual, _) => at(format!(
            "</{actual}> does not close the open <{expected}>; expected </{expected}> first \
             (a tag is left open or closed twice)"
        )),
        E::UnknownEntityReference(name, _) => at(format!(
            "&{name}; is not defined in XML (HTML entities such as &nbsp; are not); write the \
             character itself or a numeric reference such as &#160;"
        )),
        E::MalformedEntityReference(_) => {
            at("a bare & starts no entity; write it as &amp;".to_owned())
        }
        E::InvalidAttributeValue(_) => {
            at("an attribute value contains <; write it as &lt;".to_owned())
        }
        E::DuplicatedAttribute(name, _) => at(format!(
            "the attribute {name} is given twice on the same element"
        )),
        E::UnknownNamespace(prefix, _) => at(format!(
            "the prefix {prefix}: is used but never declared; expected \
             xmlns:{prefix}=\"...\" on this element or an ancestor"
        )),
        E::NonXmlChar(c, _) => at(format!(
            "the character U+{:04X} is not allowed in XML",
            u32::from(c)
        )),
        E::InvalidComment(_) => at("a comment contains --, which XML forbids".to_owned()),
        E::UnexpectedDeclaration(_) => {
            at("the <?xml ...?> declaration must be the very first thing in the file".to_owned())
        }
        E::DtdDetected => {
            let line = line_of_offset(text, find_ignore_case(text, "<!DOCTYPE").unwrap_or(0));
            if find_ignore_case(text, "<!DOCTYPE html").is_some() {
                FormatError::at(
                    line,
                    "the file is an HTML page (<!DOCTYPE html>), not a QTI assessmentItem",
                )
            } else {
                FormatError::at(
                    line,
                    "the file has a <!DOCTYPE> declaration; QTI items use none: remove it",
                )
            }
        }
        E::UnexpectedEndOfStream | E::UnclosedRootNode | E::NoRootNode => {
            let last = line_of_offset(text, text.trim_end().len());
            match (unclosed_element(text), error) {
                (Some((name, line)), _) => FormatError::at(
                    line,
                    format!(
                        "<{name}> is never closed: the file ends (line {last}) before its \
                         </{name}>; the file may be cut short"
                    ),
                ),
                (None, E::NoRootNode) => FormatError::whole_file("the file holds no XML element"),
                (None, _) => FormatError::at(last, "the file ends in the middle of the XML"),
            }
        }
        E::InvalidChar(expected, b'<', _) => at(format!(
            "found < where {} was expected; a < inside an attribute value must be written &lt;",
            char::from(expected)
        )),
        E::InvalidChar2("a quote", _, _) => {
            at("an attribute value is not in quotes; expected name=\"value\"".to_owned())
        }
        E::UnknownToken(_) => at(
            "unexpected text or markup here; is there something after the end of the root \
             element, or a stray <?"
                .to_owned(),
        ),
        other => {
            // The remaining errors are syntax slips whose own words are clear enough once the
            // position, which they append, is moved to the front.
            let message = other.to_string();
            let message = match message.rfind(" at ") {
                Some(i) => message[..i].to_owned(),
                None => message,
            };
            at(format!("the XML is malformed: {message}"))
        }
    }
}

/// When the text does not even start like XML: its line and a message quoting the start.
fn not_xml(text: &str) -> Option<(usize, String)> {
    let start = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if start.starts_with('<') {
        return None;
    }
    let line = line_of_offset(text, text.len() - start.len());
    let first: String = start
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(30)
        .collect();
    let what = if start.starts_with(['{', '[']) {
        "it looks like JSON"
    } else {
        "it starts with text"
    };
    Some((
        line,
        format!(
            "the file is not XML: {what} (\"{first}\"); a QTI item starts with <?xml or \
             <assessmentItem"
        ),
    ))
}

fn find_ignore_case(text: &str, needle: &str) -> Option<usize> {
    text.as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn line_of_offset(text: &str, offset: usize) -> usize {
    1 + text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
}

/// The innermost element still open at the end of a cut-short file, and its line: a rough scan
/// (comments, CDATA, declarations and quoted attribute values skipped) that only runs on error.
fn unclosed_element(text: &str) -> Option<(String, usize)> {
    let mut open: Vec<(&str, usize)> = Vec::new();
    let mut at = 0;
    while let Some(lt) = text[at..].find('<') {
        at += lt;
        let rest = &text[at..];
        let skip_past = |end: &str| rest.find(end).map(|i| at + i + end.len());
        let special = [
            ("<!--", "-->"),
            ("<![CDATA[", "]]>"),
            ("<?", "?>"),
            ("<!", ">"),
        ]
        .into_iter()
        .find(|(start, _)| rest.starts_with(start));
        if let Some((_, end)) = special {
            at = skip_past(end)?;
            continue;
        }
        let closing = rest.starts_with("</");
        let name = rest[if closing { 2 } else { 1 }..]
            .split(|c: char| c.is_whitespace() || matches!(c, '>' | '/'))
            .next()
            .unwrap_or("");
        let line = line_of_offset(text, at);
        // The end of the tag, past quoted attribute values.
        let mut quote = None;
        let mut end = None;
        for (i, c) in rest.char_indices().skip(1) {
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if matches!(c, '"' | '\'') => quote = Some(c),
                None if c == '>' => {
                    end = Some(i);
                    break;
                }
                None => {}
            }
        }
        let self_closing = end.is_some_and(|e| rest[..e].ends_with('/'));
        if closing {
            if open.last().is_some_and(|(n, _)| *n == name) {
                open.pop();
            }
        } else if !self_closing && !name.is_empty() {
            open.push((name, line));
        }
        match end {
            Some(e) => at += e + 1,
            None => break,
        }
    }
    open.last().map(|(name, line)| ((*name).to_owned(), *line))
}

/// Refuses absurd nesting before any recursive walk meets it.
fn check_nesting(doc: &Document) -> Result<(), FormatError> {
    // Nodes come in document order, so a parent's depth is known before its children's.
    let mut depths: Vec<usize> = Vec::new();
    for node in doc.root().descendants() {
        let depth = node
            .parent()
            .and_then(|p| depths.get(p.id().get_usize()).copied())
            .map_or(0, |d| d + 1);
        let index = node.id().get_usize();
        if depths.len() <= index {
            depths.resize(index + 1, 0);
        }
        depths[index] = depth;
        if node.is_element() && depth > MAX_DEPTH {
            let line = doc.text_pos_at(node.range().start).row as usize;
            return Err(FormatError::at(
                line,
                format!(
                    "<{}> is nested {depth} elements deep; a QTI item needs far fewer, at most \
                     {MAX_DEPTH}",
                    node.tag_name().name()
                ),
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Names

/// QTI 2 (camelCase) or QTI 3 (`qti-` kebab-case), for naming elements in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Qti2,
    Qti3,
}

/// `responseIdentifier` → `response-identifier`.
fn kebab(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('-');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The QTI 2 name of an element: `qti-choice-interaction` → `choiceInteraction`.
fn canonical(local: &str) -> Cow<'_, str> {
    let Some(rest) = local.strip_prefix("qti-") else {
        return Cow::Borrowed(local);
    };
    let mut out = String::with_capacity(rest.len());
    let mut upper = false;
    for c in rest.chars() {
        if c == '-' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

// ---------------------------------------------------------------------------------------------
// Reading the item

/// The interactions Accredit scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Choice,
    Order,
    Match,
    Associate,
    TextEntry,
    Hottext,
    InlineChoice,
}

/// Which interaction an element is, or why it is refused.
fn kind_of(name: &str) -> Result<Kind, &'static str> {
    Ok(match name {
        "choiceInteraction" => Kind::Choice,
        "orderInteraction" => Kind::Order,
        "matchInteraction" => Kind::Match,
        "associateInteraction" => Kind::Associate,
        "textEntryInteraction" => Kind::TextEntry,
        "hottextInteraction" => Kind::Hottext,
        "inlineChoiceInteraction" => Kind::InlineChoice,
        "extendedTextInteraction" => {
            return Err("asks for a written answer that only a person can score");
        }
        "uploadInteraction" => {
            return Err("asks for an uploaded file that only a person can score");
        }
        "drawingInteraction" => return Err("asks for a drawing that only a person can score"),
        "hotspotInteraction"
        | "graphicOrderInteraction"
        | "graphicAssociateInteraction"
        | "graphicGapMatchInteraction"
        | "selectPointInteraction"
        | "positionObjectInteraction" => {
            return Err("asks for a graphical answer that Accredit cannot score");
        }
        "sliderInteraction" => {
            return Err("asks for a value on a slider, which Accredit does not offer");
        }
        "gapMatchInteraction" => {
            return Err("asks to drag words into gaps, which Accredit does not offer");
        }
        "mediaInteraction" => {
            return Err("counts how often media is played, which is no answer Accredit can score");
        }
        "customInteraction" | "portableCustomInteraction" => {
            return Err("is a custom interaction whose answers Accredit cannot know");
        }
        "endAttemptInteraction" => {
            return Err(
                "is an end-attempt button for adaptive items, which Accredit does not offer",
            );
        }
        _ => return Err("is not an interaction Accredit knows"),
    })
}

struct Reader<'a, 'input> {
    root: Node<'a, 'input>,
    /// The QTI namespace of the root element; elements outside it are content (MathML, SSML).
    ns: &'a str,
    dialect: Dialect,
    /// Where each line starts: roxmltree's own lookup counts from the start every time.
    line_starts: Vec<usize>,
}

/// A `<value>` of a correct response, or a positively mapped `<mapEntry>` standing in for one.
#[derive(Clone)]
struct Value<'a, 'input> {
    node: Node<'a, 'input>,
    text: String,
}

struct MapEntry<'a, 'input> {
    node: Node<'a, 'input>,
    key: String,
    value: f64,
}

struct Declaration<'a, 'input> {
    node: Node<'a, 'input>,
    identifier: &'a str,
    cardinality: Option<&'a str>,
    base_type: Option<&'a str>,
    correct: Option<Node<'a, 'input>>,
    mapping: Vec<MapEntry<'a, 'input>>,
}

/// An option as read, with its element for messages.
struct ReadOption<'a, 'input> {
    node: Node<'a, 'input>,
    choice: Choice,
}

/// The options of an interaction (or match set) in document order.
struct Options<'a, 'input> {
    list: Vec<ReadOption<'a, 'input>>,
    /// Position in `list` by identifier.
    index: HashMap<String, usize>,
    /// Identifiers of options that were refused with a message of their own.
    refused: HashSet<String>,
}

impl<'a, 'input> Options<'a, 'input> {
    fn len(&self) -> usize {
        self.list.len()
    }

    fn contains(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    fn choices(&self) -> Vec<Choice> {
        self.list.iter().map(|o| o.choice.clone()).collect()
    }

    /// The identifiers, for messages: the first ten.
    fn ids(&self) -> String {
        let mut shown: Vec<&str> = self
            .list
            .iter()
            .take(10)
            .map(|o| o.choice.id.as_str())
            .collect();
        let more = format!("… ({} in all)", self.list.len());
        if self.list.len() > 10 {
            shown.push(&more);
        }
        shown.join(", ")
    }
}

impl<'a, 'input> Reader<'a, 'input> {
    fn new(doc: &'a Document<'input>) -> Result<Self, FormatError> {
        let root = doc.root_element();
        let local = root.tag_name().name();
        let line = doc.text_pos_at(root.range().start).row as usize;
        let name = canonical(local);
        if name != "assessmentItem" {
            let what = match name.as_ref() {
                "assessmentTest" => {
                    ", a test that refers to items: import the item files one by one"
                }
                "assessmentSection" => ", a section of a test: import the item files one by one",
                "manifest" => ", the manifest of a content package: import the item files it lists",
                "questestinterop" => ", a QTI 1.x file: Accredit reads QTI 2.x and 3.0 items",
                _ => "",
            };
            return Err(FormatError::at(
                line,
                format!("not a QTI assessmentItem: the root element is <{local}>{what}"),
            ));
        }
        let kebab_root = local.starts_with("qti-");
        let expected = if kebab_root {
            QTI3_NAMESPACES[0]
        } else {
            QTI21_NAMESPACE
        };
        let ns = root.tag_name().namespace();
        let dialect = match ns {
            None => {
                return Err(FormatError::at(
                    line,
                    format!("<{local}> has no namespace; expected xmlns=\"{expected}\""),
                ));
            }
            Some(ns) if QTI3_NAMESPACES.contains(&ns) => {
                if kebab_root {
                    Dialect::Qti3
                } else {
                    // QTI 3 drafts (aQTI) kept the QTI 2 names.
                    Dialect::Qti2
                }
            }
            Some(ns) => match QTI2_NAMESPACES.iter().find(|(n, _)| *n == ns) {
                Some((_, version)) if kebab_root => {
                    return Err(FormatError::at(
                        line,
                        format!(
                            "<{local}> is a QTI 3.0 element but its namespace is QTI {version}'s \
                             ({ns}); expected xmlns=\"{expected}\""
                        ),
                    ));
                }
                Some(_) => Dialect::Qti2,
                None => {
                    return Err(FormatError::at(
                        line,
                        format!(
                            "<{local}> is in the namespace \"{ns}\", which is no QTI 2.x or 3.0 \
                             namespace; expected xmlns=\"{expected}\""
                        ),
                    ));
                }
            },
        };
        let text = doc.input_text();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Ok(Self {
            root,
            ns: ns.unwrap_or_default(),
            dialect,
            line_starts,
        })
    }

    fn line(&self, node: Node) -> usize {
        let offset = node.range().start;
        self.line_starts.partition_point(|start| *start <= offset)
    }

    fn at(&self, node: Node, message: impl Into<String>) -> FormatError {
        FormatError::at(self.line(node), message)
    }

    /// The QTI 2 name of a QTI element; None for text and for elements of other namespaces.
    fn name(&self, node: Node<'a, 'input>) -> Option<Cow<'a, str>> {
        if !node.is_element() || node.tag_name().namespace() != Some(self.ns) {
            return None;
        }
        let local: &'a str = node.tag_name().name();
        Some(canonical(local))
    }

    fn is(&self, node: Node<'a, 'input>, name: &str) -> bool {
        self.name(node).as_deref() == Some(name)
    }

    /// An attribute by its QTI 2 name, or its QTI 3 kebab-case spelling.
    fn attr(&self, node: Node<'a, 'input>, name: &str) -> Option<&'a str> {
        node.attribute(name)
            .or_else(|| node.attribute(kebab(name).as_str()))
    }

    fn children_named(
        &self,
        node: Node<'a, 'input>,
        name: &'static str,
    ) -> impl Iterator<Item = Node<'a, 'input>> {
        node.children().filter(move |c| self.is(*c, name))
    }

    fn child_named(&self, node: Node<'a, 'input>, name: &'static str) -> Option<Node<'a, 'input>> {
        self.children_named(node, name).next()
    }

    /// An element's name in the document's own spelling: `choiceInteraction` or
    /// `qti-choice-interaction`.
    fn bare(&self, name: &str) -> String {
        match self.dialect {
            Dialect::Qti2 => name.to_owned(),
            Dialect::Qti3 => format!("qti-{}", kebab(name)),
        }
    }

    /// An element's tag in the document's own spelling: `<choiceInteraction>`.
    fn el(&self, name: &str) -> String {
        format!("<{}>", self.bare(name))
    }

    /// An attribute's name in the document's own spelling.
    fn attr_name(&self, name: &str) -> String {
        match self.dialect {
            Dialect::Qti2 => name.to_owned(),
            Dialect::Qti3 => kebab(name),
        }
    }

    /// An element as written, with the attribute that identifies it:
    /// `<choiceInteraction responseIdentifier="RESPONSE">`.
    fn tag(&self, node: Node<'a, 'input>) -> String {
        let local = node.tag_name().name();
        let key = ["identifier", "responseIdentifier", "mapKey"]
            .iter()
            .find_map(|name| {
                let kebab = kebab(name);
                node.attribute(*name)
                    .map(|v| ((*name).to_owned(), v))
                    .or_else(|| node.attribute(kebab.as_str()).map(|v| (kebab, v)))
            });
        match key {
            Some((name, value)) => format!("<{local} {name}=\"{value}\">"),
            None => format!("<{local}>"),
        }
    }

    /// How a key value is named in messages: `<value>X</value>` or `<mapEntry mapKey="X">`.
    fn value_tag(&self, value: &Value<'a, 'input>) -> String {
        if self.is(value.node, "value") {
            let local = value.node.tag_name().name();
            format!("<{local}>{}</{local}>", value.text)
        } else {
            self.tag(value.node)
        }
    }

    // -----------------------------------------------------------------------------------------

    fn item(&self, options: &QtiOptions) -> Result<Item, Vec<FormatError>> {
        let mut errors = Vec::new();
        let id = match self.item_id() {
            Ok(id) => id,
            Err(e) => {
                errors.push(e);
                String::new()
            }
        };
        // What makes the item unusable as a whole comes first, alone: the details of an item
        // that cannot be imported anyway would only distract.
        self.refuse_whole_item().map_err(|e| vec![e])?;
        let body = self.child_named(self.root, "itemBody").ok_or_else(|| {
            vec![self.at(
                self.root,
                format!(
                    "{} has no {}; expected the question inside one",
                    self.tag(self.root),
                    self.el("itemBody")
                ),
            )]
        })?;
        let (interaction, kind) = self.the_interaction(body).map_err(|e| vec![e])?;
        let declaration = self.declaration(interaction, &mut errors);
        let Some(declaration) = declaration else {
            return Err(errors);
        };
        let (item_body, artifact_pre) =
            match self.read_body(interaction, kind, &declaration, &mut errors) {
                Some(read) => read,
                None => return Err(errors),
            };
        let (stem, artifact) = self.stem(body, interaction, kind, artifact_pre);
        if stem.is_empty() {
            errors.push(self.at(
                body,
                format!(
                    "{} has no question text; expected a <p> or a {} with the question",
                    self.tag(body),
                    self.el("prompt")
                ),
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Item {
            id,
            domain: options.default_domain.clone(),
            status: ItemStatus::Draft,
            version: 1,
            stem,
            artifact,
            body: item_body,
            rationale: self.rationale(),
        })
    }

    fn item_id(&self) -> Result<String, FormatError> {
        let Some(raw) = self.attr(self.root, "identifier") else {
            return Err(self.at(
                self.root,
                format!(
                    "{} has no identifier; expected identifier=\"...\" naming the item",
                    self.tag(self.root)
                ),
            ));
        };
        let raw = raw.trim();
        let id = local_id(raw);
        if is_accredit_id(&id) {
            return Ok(id);
        }
        let slug = slugify(raw);
        if slug.is_empty() {
            return Err(self.at(
                self.root,
                format!(
                    "the identifier \"{raw}\" has no letter or digit to make an id of; expected \
                     1-{MAX_ID_CHARS} of A-Z, a-z, 0-9, '.', '_' and '-'"
                ),
            ));
        }
        Ok(slug)
    }

    /// Templates (text and key drawn per attempt) and external includes.
    fn refuse_whole_item(&self) -> Result<(), FormatError> {
        for node in self.root.descendants().filter(|n| n.is_element()) {
            if node.tag_name().namespace() == Some(XINCLUDE) {
                return Err(self.at(
                    node,
                    format!(
                        "<{}> pulls content from another file, which an item imported on its own \
                         cannot have; put the content in the item",
                        node.tag_name().name()
                    ),
                ));
            }
            if self.is(node, "templateDeclaration") || self.is(node, "templateProcessing") {
                return Err(self.at(
                    node,
                    format!(
                        "{} makes the item a template whose text and key change per attempt; an \
                         Accredit item is fixed: export one item per variant",
                        self.tag(node)
                    ),
                ));
            }
        }
        Ok(())
    }

    fn the_interaction(
        &self,
        body: Node<'a, 'input>,
    ) -> Result<(Node<'a, 'input>, Kind), FormatError> {
        let interactions: Vec<_> = body
            .descendants()
            .filter(|n| {
                self.name(*n)
                    .is_some_and(|name| name.ends_with("Interaction"))
            })
            .collect();
        let Some(&first) = interactions.first() else {
            return Err(self.at(
                body,
                format!(
                    "{} holds no interaction; expected one of: {SUPPORTED}",
                    self.tag(body)
                ),
            ));
        };
        if let Some(&second) = interactions.get(1) {
            return Err(self.at(
                second,
                format!(
                    "{} is a second interaction after {} at line {} (the item has {}); an \
                     Accredit item has exactly one interaction: make one item per interaction",
                    self.tag(second),
                    self.tag(first),
                    self.line(first),
                    interactions.len()
                ),
            ));
        }
        let name = self.name(first).unwrap_or_default();
        match kind_of(&name) {
            Ok(kind) => Ok((first, kind)),
            Err(reason) => Err(self.at(
                first,
                format!("{} {reason}; supported: {SUPPORTED}", self.tag(first)),
            )),
        }
    }

    fn declaration(
        &self,
        interaction: Node<'a, 'input>,
        errors: &mut Vec<FormatError>,
    ) -> Option<Declaration<'a, 'input>> {
        let Some(identifier) = self.attr(interaction, "responseIdentifier") else {
            errors.push(self.at(
                interaction,
                format!(
                    "{} has no {}; expected {}=\"RESPONSE\" naming its {}",
                    self.tag(interaction),
                    self.attr_name("responseIdentifier"),
                    self.attr_name("responseIdentifier"),
                    self.el("responseDeclaration")
                ),
            ));
            return None;
        };
        let Some(node) = self
            .children_named(self.root, "responseDeclaration")
            .find(|d| self.attr(*d, "identifier") == Some(identifier))
        else {
            let declaration = self.bare("responseDeclaration");
            errors.push(self.at(
                interaction,
                format!(
                    "{} names no {declaration}; expected <{declaration} identifier=\"{identifier}\">",
                    self.tag(interaction),
                ),
            ));
            return None;
        };
        let mut mapping = Vec::new();
        if let Some(map) = self.child_named(node, "mapping") {
            for entry in self.children_named(map, "mapEntry") {
                let Some(key) = self.attr(entry, "mapKey") else {
                    errors.push(self.at(
                        entry,
                        format!(
                            "{} has no {}; expected the answer it scores",
                            self.tag(entry),
                            self.attr_name("mapKey")
                        ),
                    ));
                    continue;
                };
                let raw = self.attr(entry, "mappedValue").unwrap_or("");
                let Some(value) = number(raw) else {
                    errors.push(self.at(
                        entry,
                        format!(
                            "{} has {}=\"{raw}\"; expected a number",
                            self.tag(entry),
                            self.attr_name("mappedValue")
                        ),
                    ));
                    continue;
                };
                mapping.push(MapEntry {
                    node: entry,
                    key: key.trim().to_owned(),
                    value,
                });
            }
        }
        Some(Declaration {
            node,
            identifier,
            cardinality: self.attr(node, "cardinality"),
            base_type: self.attr(node, "baseType"),
            correct: self.child_named(node, "correctResponse"),
            mapping,
        })
    }

    /// "no correct answer" for a declaration.
    fn no_key(&self, decl: &Declaration<'a, 'input>) -> FormatError {
        self.at(
            decl.node,
            format!(
                "{} gives no correct answer; expected a {} (or a {} that gives an answer a \
                 positive value): Accredit scores every item against its key",
                self.tag(decl.node),
                self.el("correctResponse"),
                self.el("mapping"),
            ),
        )
    }

    /// The values of the correct response, None when there is none; `expected` says what a
    /// value should be.
    fn correct_values(
        &self,
        decl: &Declaration<'a, 'input>,
        expected: &str,
        errors: &mut Vec<FormatError>,
    ) -> Option<Vec<Value<'a, 'input>>> {
        let correct = decl.correct?;
        let nodes: Vec<_> = self.children_named(correct, "value").collect();
        if nodes.is_empty() {
            errors.push(self.at(
                correct,
                format!(
                    "{} of {} is empty; expected at least one {}",
                    self.el("correctResponse"),
                    decl.identifier,
                    self.el("value")
                ),
            ));
            return Some(Vec::new());
        }
        let mut values = Vec::new();
        for node in nodes {
            let text = text_content(node).trim().to_owned();
            if text.is_empty() {
                errors.push(self.at(
                    node,
                    format!(
                        "{} in the {} of {} is empty; expected {expected}",
                        self.el("value"),
                        self.el("correctResponse"),
                        decl.identifier
                    ),
                ));
            } else {
                values.push(Value { node, text });
            }
        }
        Some(values)
    }

    /// The key of an interaction over identifiers: the correct response, else the positively
    /// mapped keys.
    fn identifier_key(
        &self,
        decl: &Declaration<'a, 'input>,
        expected: &str,
        errors: &mut Vec<FormatError>,
    ) -> Vec<Value<'a, 'input>> {
        if let Some(values) = self.correct_values(decl, expected, errors) {
            return values;
        }
        let positive: Vec<_> = decl
            .mapping
            .iter()
            .filter(|e| e.value > 0.0 && !e.key.is_empty())
            .map(|e| Value {
                node: e.node,
                text: e.key.clone(),
            })
            .collect();
        if positive.is_empty() {
            errors.push(self.no_key(decl));
        }
        positive
    }

    /// The options of an interaction: direct children named `name`, or for `hottexts` all
    /// descendants, as hottexts sit anywhere in their passage (and may be blank: a faulty line
    /// can be).
    fn options(
        &self,
        parent: Node<'a, 'input>,
        name: &'static str,
        hottexts: bool,
        errors: &mut Vec<FormatError>,
    ) -> Options<'a, 'input> {
        let nodes: Vec<_> = if hottexts {
            parent.descendants().filter(|n| self.is(*n, name)).collect()
        } else {
            self.children_named(parent, name).collect()
        };
        let mut options = Options {
            list: Vec::new(),
            index: HashMap::new(),
            refused: HashSet::new(),
        };
        for node in nodes {
            let Some(raw) = self.attr(node, "identifier") else {
                errors.push(self.at(
                    node,
                    format!(
                        "{} has no identifier; expected identifier=\"...\" for the key to name it",
                        self.tag(node)
                    ),
                ));
                continue;
            };
            let id = local_id(raw.trim());
            if let Some(earlier) = options.index.get(&id) {
                errors.push(self.at(
                    node,
                    format!(
                        "{} repeats the identifier of line {}; each option needs its own",
                        self.tag(node),
                        self.line(options.list[*earlier].node)
                    ),
                ));
                continue;
            }
            let mut text = Text::default();
            Walker::plain(self).children(node, &mut text);
            let text = text.finish();
            let problem = if text.is_empty() {
                (!hottexts).then_some("has no text; expected the option's words")
            } else if text.replace("[image]", "").trim().is_empty() {
                Some(
                    "shows only an image without alt text; Accredit shows options as text: give \
                     the image an alt text",
                )
            } else {
                None
            };
            if let Some(problem) = problem {
                errors.push(self.at(node, format!("{} {problem}", self.tag(node))));
                options.refused.insert(id);
                continue;
            }
            options.index.insert(id.clone(), options.list.len());
            options.list.push(ReadOption {
                node,
                choice: Choice { id, text },
            });
        }
        options
    }

    /// The option a key value names, or an error listing the options.
    fn resolve(
        &self,
        value: &Value<'a, 'input>,
        options: &Options<'a, 'input>,
        interaction: Node<'a, 'input>,
        errors: &mut Vec<FormatError>,
    ) -> Option<String> {
        let id = local_id(&value.text);
        if options.contains(&id) {
            return Some(id);
        }
        if options.refused.contains(&id) {
            return None;
        }
        errors.push(self.at(
            value.node,
            format!(
                "{} names no option of {} at line {}; expected one of: {}",
                self.value_tag(value),
                self.tag(interaction),
                self.line(interaction),
                options.ids()
            ),
        ));
        None
    }

    /// The cardinality check shared by the interactions: `allowed` lists what fits.
    fn cardinality(
        &self,
        decl: &Declaration<'a, 'input>,
        interaction: Node<'a, 'input>,
        allowed: &[&str],
    ) -> Result<&'a str, FormatError> {
        match decl.cardinality {
            Some(c) if allowed.contains(&c) => Ok(c),
            found => {
                let found = match found {
                    Some(c) => format!("has cardinality=\"{c}\""),
                    None => "has no cardinality".to_owned(),
                };
                let expected: Vec<String> = allowed.iter().map(|c| format!("\"{c}\"")).collect();
                Err(self.at(
                    decl.node,
                    format!(
                        "{} {found}; {} expects cardinality={}",
                        self.tag(decl.node),
                        self.tag(interaction),
                        expected.join(" or ")
                    ),
                ))
            }
        }
    }

    /// The item body (interaction and key) and, for faulty lines, the `<pre>` that is the
    /// artifact. None when errors were recorded that leave no body.
    fn read_body(
        &self,
        interaction: Node<'a, 'input>,
        kind: Kind,
        decl: &Declaration<'a, 'input>,
        errors: &mut Vec<FormatError>,
    ) -> Option<(ItemBody, Option<Node<'a, 'input>>)> {
        let before = errors.len();
        let body = match kind {
            Kind::Choice => {
                let options = self.options(interaction, "simpleChoice", false, errors);
                self.choice_body(interaction, decl, options, errors, true)
            }
            Kind::InlineChoice => {
                let options = self.options(interaction, "inlineChoice", false, errors);
                self.choice_body(interaction, decl, options, errors, false)
            }
            Kind::Hottext => {
                // A faulty line may be blank; a hottext offered as an option may not.
                let mut options = self.options(interaction, "hottext", true, errors);
                if let Some((pre, lines)) = self.faulty_lines(interaction, &options) {
                    let body = self.faulty_body(interaction, decl, &options, &lines, errors);
                    return body
                        .filter(|_| errors.len() == before)
                        .map(|b| (b, Some(pre)));
                }
                let (blank, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut options.list)
                    .into_iter()
                    .partition(|o| o.choice.text.is_empty());
                for option in blank {
                    errors.push(self.at(
                        option.node,
                        format!(
                            "{} has no text; expected the option's words",
                            self.tag(option.node)
                        ),
                    ));
                    options.refused.insert(option.choice.id);
                }
                options.index = kept
                    .iter()
                    .enumerate()
                    .map(|(i, o)| (o.choice.id.clone(), i))
                    .collect();
                options.list = kept;
                self.choice_body(interaction, decl, options, errors, true)
            }
            Kind::Order => self.order_body(interaction, decl, errors),
            Kind::Match => self.match_body(interaction, decl, errors),
            Kind::Associate => self.associate_body(interaction, decl, errors),
            Kind::TextEntry => self.text_entry_body(interaction, decl, errors),
        };
        body.filter(|_| errors.len() == before).map(|b| (b, None))
    }

    fn too_few(
        &self,
        interaction: Node<'a, 'input>,
        count: usize,
        refused: bool,
        option: &str,
        errors: &mut Vec<FormatError>,
    ) -> bool {
        if count >= 2 {
            return false;
        }
        // Refused options have their own message; saying that too few are left adds nothing.
        if !refused {
            errors.push(self.at(
                interaction,
                format!(
                    "{} offers {count} {}; expected at least two options",
                    self.tag(interaction),
                    self.el(option),
                ),
            ));
        }
        true
    }

    fn choice_body(
        &self,
        interaction: Node<'a, 'input>,
        decl: &Declaration<'a, 'input>,
        options: Options<'a, 'input>,
        errors: &mut Vec<FormatError>,
        may_be_multiple: bool,
    ) -> Option<ItemBody> {
        let option_name = match self.name(interaction).as_deref() {
            Some("inlineChoiceInteraction") => "inlineChoice",
            Some("hottextInteraction") => "hottext",
            _ => "simpleChoice",
        };
        let refused = !options.refused.is_empty();
        let too_few = self.too_few(interaction, options.len(), refused, option_name, errors);
        let allowed: &[&str] = if may_be_multiple {
            &["single", "multiple"]
        } else {
            &["single"]
        };
        let cardinality = match self.cardinality(decl, interaction, allowed) {
            Ok(c) => c,
            Err(e) => {
                errors.push(e);
                return None;
            }
        };
        let values = self.identifier_key(decl, "the identifier of an option", errors);
        let mut correct: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        for value in &values {
            if let Some(id) = self.resolve(value, &options, interaction, errors)
                && seen.insert(id.clone())
            {
                correct.push(id);
            }
        }
        if too_few || correct.is_empty() {
            return None;
        }
        let choices = options.choices();
        if cardinality == "multiple" {
            return Some(ItemBody::MultipleResponse { choices, correct });
        }
        if correct.len() > 1 {
            let message = match decl.correct {
                Some(node) => self.at(
                    node,
                    format!(
                        "{} of {} has {} values ({}) but the cardinality is \"single\"; expected \
                         one {}",
                        self.el("correctResponse"),
                        decl.identifier,
                        correct.len(),
                        correct.join(", "),
                        self.el("value")
                    ),
                ),
                None => self.at(
                    decl.node,
                    format!(
                        "the {} of {} gives credit to {} options ({}) and no {} says which one is \
                         the key of this single choice",
                        self.el("mapping"),
                        decl.identifier,
                        correct.len(),
                        correct.join(", "),
                        self.el("correctResponse")
                    ),
                ),
            };
            errors.push(message);
            return None;
        }
        let correct = correct.remove(0);
        let true_false = self
            .attr(interaction, "class")
            .is_some_and(|c| c.split_whitespace().any(|c| c == "true-false"));
        if true_false && choices.len() == 2 {
            let mut ids: Vec<&str> = choices.iter().map(|c| c.id.as_str()).collect();
            ids.sort_unstable();
            if ids == ["false", "true"] {
                return Some(ItemBody::TrueFalse {
                    correct: correct == "true",
                });
            }
        }
        Some(ItemBody::SingleChoice { choices, correct })
    }

    fn order_body(
        &self,
        interaction: Node<'a, 'input>,
        decl: &Declaration<'a, 'input>,
        errors: &mut Vec<FormatError>,
    ) -> Option<ItemBody> {
        let options = self.options(interaction, "simpleChoice", false, errors);
        let refused = !options.refused.is_empty();
        let too_few = self.too_few(interaction, options.len(), refused, "simpleChoice", errors);
        if let Err(e) = self.cardinality(decl, interaction, &["ordered"]) {
            errors.push(e);
            return None;
        }
        let Some(values) = self.correct_values(decl, "the identifier of an option", errors) else {
            errors.push(self.no_key(decl));
            return None;
        };
        let mut order: Vec<String> = Vec::new();
        let mut placed = HashSet::new();
        for value in &values {
            let Some(id) = self.resolve(value, &options, interaction, errors) else {
                continue;
            };
            if !placed.insert(id.clone()) {
                errors.push(self.at(
                    value.node,
                    format!(
                        "{} repeats {id}; each option has one place in the order",
                        self.value_tag(value)
                    ),
                ));
                continue;
            }
            order.push(id);
        }
        let missing: Vec<&str> = options
            .list
            .iter()
            .map(|o| o.choice.id.as_str())
            .filter(|id| !placed.contains(*id))
            .collect();
        if !missing.is_empty() && !values.is_empty() {
            errors.push(self.at(
                decl.correct.unwrap_or(decl.node),
                format!(
                    "the {} of {} leaves out {}; Accredit puts every option in order: expected \
                     all of {}",
                    self.el("correctResponse"),
                    decl.identifier,
                    missing.join(", "),
                    options.ids()
                ),
            ));
            return None;
        }
        if too_few || order.is_empty() {
            return None;
        }
        let choices = order
            .iter()
            .filter_map(|id| options.index.get(id))
            .map(|i| options.list[*i].choice.clone())
            .collect();
        Some(ItemBody::Ordering { choices })
    }

    /// A pair value `A B`, as two identifiers.
    fn pair(
        &self,
        value: &Value<'a, 'input>,
        decl: &Declaration<'a, 'input>,
        errors: &mut Vec<FormatError>,
    ) -> Option<(String, String)> {
        let parts: Vec<&str> = value.text.split_whitespace().collect();
        if let [a, b] = parts[..] {
            return Some((local_id(a), local_id(b)));
        }
        errors.push(self.at(
            value.node,
            format!(
                "{} of {} is not a pair; expected two option identifiers separated by a space, \
                 such as \"A B\"",
                self.value_tag(value),
                decl.identifier
            ),
        ));
        None
    }

    fn match_body(
        &self,
        interaction: Node<'a, 'input>,
        decl: &Declaration<'a, 'input>,
        errors: &mut Vec<FormatError>,
    ) -> Option<ItemBody> {
        let sets: Vec<_> = self.children_named(interaction, "simpleMatchSet").collect();
        let [first, second] = sets[..] else {
            errors.push(self.at(
                interaction,
                format!(
                    "{} has {} {}; expected two: the prompts, then their targets",
                    self.tag(interaction),
                    sets.len(),
                    self.el("simpleMatchSet")
                ),
            ));
            return None;
        };
        let prompts = self.options(first, "simpleAssociableChoice", false, errors);
        let targets = self.options(second, "simpleAssociableChoice", false, errors);
        for (set, options) in [(first, &prompts), (second, &targets)] {
            if options.len() == 0 && options.refused.is_empty() {
                errors.push(self.at(
                    set,
                    format!(
                        "{} has no {}; expected at least one",
                        self.el("simpleMatchSet"),
                        self.el("simpleAssociableChoice")
                    ),
                ));
            }
        }
        let values = self.identifier_key(decl, "a pair such as \"A B\"", errors);
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut target_of: HashMap<String, String> = HashMap::new();
        for value in &values {
            let Some((source, target)) = self.pair(value, decl, errors) else {
                continue;
            };
            if targets.contains(&source) && prompts.contains(&target) {
                errors.push(self.at(
                    value.node,
                    format!(
                        "{} is reversed; expected the option of the first {} first: \"{target} \
                         {source}\"",
                        self.value_tag(value),
                        self.el("simpleMatchSet")
                    ),
                ));
                continue;
            }
            let mut known = true;
            for (id, set, which) in [(&source, &prompts, "first"), (&target, &targets, "second")] {
                if set.contains(id) {
                    continue;
                }
                known = false;
                if !set.refused.contains(id) {
                    errors.push(self.at(
                        value.node,
                        format!(
                            "{} names {id}, which is no option of the {which} {}; expected one \
                             of: {}",
                            self.value_tag(value),
                            self.el("simpleMatchSet"),
                            set.ids()
                        ),
                    ));
                }
            }
            if !known {
                continue;
            }
            match target_of.get(&source) {
                Some(other) if *other == target => {}
                Some(other) => errors.push(self.at(
                    value.node,
                    format!(
                        "{} matches {source} a second time (also with {other}); an Accredit \
                         matching item gives each prompt one target",
                        self.value_tag(value)
                    ),
                )),
                None => {
                    target_of.insert(source.clone(), target.clone());
                    pairs.push((source, target));
                }
            }
        }
        if values.is_empty() || prompts.len() == 0 || targets.len() == 0 || pairs.is_empty() {
            return None;
        }
        let unmatched: Vec<&str> = prompts
            .list
            .iter()
            .map(|o| o.choice.id.as_str())
            .filter(|id| !target_of.contains_key(*id))
            .collect();
        if !unmatched.is_empty() {
            errors.push(self.at(
                decl.correct.unwrap_or(decl.node),
                format!(
                    "the key of {} matches no target to {}; an Accredit matching item pairs \
                     every prompt of the first {}",
                    decl.identifier,
                    unmatched.join(", "),
                    self.el("simpleMatchSet")
                ),
            ));
            return None;
        }
        Some(ItemBody::Matching {
            prompts: prompts.choices(),
            targets: targets.choices(),
            pairs,
        })
    }

    fn associate_body(
        &self,
        interaction: Node<'a, 'input>,
        decl: &Declaration<'a, 'input>,
        errors: &mut Vec<FormatError>,
    ) -> Option<ItemBody> {
        let options = self.options(interaction, "simpleAssociableChoice", false, errors);
        let refused = !options.refused.is_empty();
        let too_few = self.too_few(
            interaction,
            options.len(),
            refused,
            "simpleAssociableChoice",
            errors,
        );
        let values = self.identifier_key(decl, "a pair such as \"A B\"", errors);
        // (prompt position, target position), the prompt being the option listed first.
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        let mut paired: HashSet<usize> = HashSet::new();
        for value in &values {
            let Some((a, b)) = self.pair(value, decl, errors) else {
                continue;
            };
            let (Some(&pa), Some(&pb)) = (options.index.get(&a), options.index.get(&b)) else {
                let unknown = if options.contains(&a) { &b } else { &a };
                if !options.refused.contains(unknown) {
                    errors.push(self.at(
                        value.node,
                        format!(
                            "{} names {unknown}, which is no option of {} at line {}; expected \
                             one of: {}",
                            self.value_tag(value),
                            self.tag(interaction),
                            self.line(interaction),
                            options.ids()
                        ),
                    ));
                }
                continue;
            };
            if pa == pb {
                errors.push(self.at(
                    value.node,
                    format!(
                        "{} pairs {a} with itself; expected two different options",
                        self.value_tag(value)
                    ),
                ));
                continue;
            }
            let pair = (pa.min(pb), pa.max(pb));
            if pairs.contains(&pair) {
                continue;
            }
            if let Some(taken) = [pa, pb].into_iter().find(|p| paired.contains(p)) {
                errors.push(self.at(
                    value.node,
                    format!(
                        "{} pairs {} a second time; Accredit turns the pairs into a matching \
                         item, where each option is in one pair at most",
                        self.value_tag(value),
                        options.list[taken].choice.id
                    ),
                ));
                continue;
            }
            paired.extend([pa, pb]);
            pairs.push(pair);
        }
        if too_few || pairs.is_empty() {
            return None;
        }
        pairs.sort_unstable();
        let prompt_positions: HashSet<usize> = pairs.iter().map(|(p, _)| *p).collect();
        let (prompts, targets): (Vec<_>, Vec<_>) = options
            .list
            .iter()
            .enumerate()
            .partition(|(i, _)| prompt_positions.contains(i));
        let pairs = pairs
            .iter()
            .map(|(p, t)| {
                (
                    options.list[*p].choice.id.clone(),
                    options.list[*t].choice.id.clone(),
                )
            })
            .collect();
        Some(ItemBody::Matching {
            prompts: prompts.into_iter().map(|(_, o)| o.choice.clone()).collect(),
            targets: targets.into_iter().map(|(_, o)| o.choice.clone()).collect(),
            pairs,
        })
    }

    fn text_entry_body(
        &self,
        interaction: Node<'a, 'input>,
        decl: &Declaration<'a, 'input>,
        errors: &mut Vec<FormatError>,
    ) -> Option<ItemBody> {
        if let Err(e) = self.cardinality(decl, interaction, &["single"]) {
            errors.push(e);
            return None;
        }
        match decl.base_type {
            Some("string") => self.short_text_body(decl, errors),
            Some(numeric @ ("float" | "integer")) => self.numeric_body(decl, numeric, errors),
            found => {
                let found = match found {
                    Some(t) => format!("has {}=\"{t}\"", self.attr_name("baseType")),
                    None => format!("has no {}", self.attr_name("baseType")),
                };
                errors.push(self.at(
                    decl.node,
                    format!(
                        "{} {found}; {} expects string (a short text answer), float or integer \
                         (a numeric answer)",
                        self.tag(decl.node),
                        self.tag(interaction)
                    ),
                ));
                None
            }
        }
    }

    /// `patternMatch` (and `qti-pattern-match`) of the response in the response processing.
    fn patterns(&self, identifier: &str) -> Vec<Node<'a, 'input>> {
        let Some(processing) = self.child_named(self.root, "responseProcessing") else {
            return Vec::new();
        };
        processing
            .descendants()
            .filter(|n| self.is(*n, "patternMatch") && self.compares(*n, identifier))
            .collect()
    }

    /// Whether an operator has the response variable itself as an operand.
    fn compares(&self, operator: Node<'a, 'input>, identifier: &str) -> bool {
        self.children_named(operator, "variable")
            .any(|v| self.attr(v, "identifier") == Some(identifier))
    }

    fn short_text_body(
        &self,
        decl: &Declaration<'a, 'input>,
        errors: &mut Vec<FormatError>,
    ) -> Option<ItemBody> {
        let mut accepted: Vec<TextAnswer> = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        let mut add = |answer: TextAnswer, text: &str| {
            let key = format!(
                "{}{}",
                matches!(answer, TextAnswer::Pattern(_)),
                normalise(text)
            );
            if !seen.contains(&key) {
                seen.push(key);
                accepted.push(answer);
            }
        };
        let correct = self.correct_values(decl, "an accepted answer", errors);
        for value in correct.iter().flatten() {
            add(TextAnswer::Exact(value.text.clone()), &value.text);
        }
        for entry in decl.mapping.iter().filter(|e| e.value > 0.0) {
            if entry.key.is_empty() {
                errors.push(self.at(
                    entry.node,
                    format!(
                        "{} gives credit to an empty answer; expected the words of an accepted \
                         answer",
                        self.tag(entry.node)
                    ),
                ));
                continue;
            }
            add(TextAnswer::Exact(entry.key.clone()), &entry.key);
        }
        for node in self.patterns(decl.identifier) {
            let regex = self.attr(node, "pattern").unwrap_or("");
            match wildcard_from_regex(regex) {
                Some(pattern) if !pattern.is_empty() => {
                    add(TextAnswer::Pattern(pattern.clone()), &pattern);
                }
                _ => errors.push(self.at(
                    node,
                    format!(
                        "<{} pattern=\"{regex}\"> accepts answers by a regular expression; \
                         Accredit patterns are literal text with * for any text (written .* in \
                         the expression)",
                        node.tag_name().name()
                    ),
                )),
            }
        }
        if accepted.is_empty() {
            if correct.is_none() {
                errors.push(self.no_key(decl));
            }
            return None;
        }
        Some(ItemBody::ShortText { accepted })
    }

    fn numeric_body(
        &self,
        decl: &Declaration<'a, 'input>,
        base_type: &str,
        errors: &mut Vec<FormatError>,
    ) -> Option<ItemBody> {
        let expected = if base_type == "integer" {
            "a whole number"
        } else {
            "a number"
        };
        let Some(values) = self.correct_values(decl, expected, errors) else {
            errors.push(self.no_key(decl));
            return None;
        };
        let [value] = &values[..] else {
            if values.len() > 1 {
                errors.push(self.at(
                    decl.correct.unwrap_or(decl.node),
                    format!(
                        "{} of {} has {} values; a numeric answer has one {}",
                        self.el("correctResponse"),
                        decl.identifier,
                        values.len(),
                        self.el("value")
                    ),
                ));
            }
            return None;
        };
        let answer = if base_type == "integer" {
            value.text.parse::<i64>().ok().map(|n| n as f64)
        } else {
            number(&value.text)
        };
        let Some(answer) = answer else {
            errors.push(self.at(
                value.node,
                format!(
                    "{} of {} is not {expected}; expected {expected} such as {}",
                    self.value_tag(value),
                    decl.identifier,
                    if base_type == "integer" { "42" } else { "3.5" }
                ),
            ));
            return None;
        };
        for entry in decl.mapping.iter().filter(|e| e.value > 0.0) {
            if number(&entry.key) != Some(answer) {
                errors.push(self.at(
                    entry.node,
                    format!(
                        "{} also gives credit for {}; an Accredit numeric item accepts one answer \
                         (within a tolerance)",
                        self.tag(entry.node),
                        entry.key
                    ),
                ));
            }
        }
        let tolerance = self.tolerance(decl.identifier, answer, errors)?;
        Some(ItemBody::Numeric { answer, tolerance })
    }

    /// The tolerance of the first `equal`/`equalRounded` comparing the response; 0 without one.
    fn tolerance(
        &self,
        identifier: &str,
        answer: f64,
        errors: &mut Vec<FormatError>,
    ) -> Option<f64> {
        let Some(processing) = self.child_named(self.root, "responseProcessing") else {
            return Some(0.0);
        };
        let Some(operator) = processing.descendants().find(|n| {
            (self.is(*n, "equal") || self.is(*n, "equalRounded")) && self.compares(*n, identifier)
        }) else {
            return Some(0.0);
        };
        let tag = self.tag(operator);
        let mut fail = |message: String| {
            errors.push(self.at(operator, format!("{tag} {message}")));
            None
        };
        if self.is(operator, "equalRounded") {
            let mode = self
                .attr(operator, "roundingMode")
                .unwrap_or("significantFigures");
            let figures = self.attr(operator, "figures").unwrap_or("");
            let Ok(n) = figures.trim().parse::<i32>() else {
                return fail(format!(
                    "has {}=\"{figures}\"; expected a whole number of figures",
                    self.attr_name("figures")
                ));
            };
            // Rounding to n figures accepts half a unit of the last kept figure either side.
            let exponent = match mode {
                "decimalPlaces" if n >= 0 => -n,
                "significantFigures" if n >= 1 => {
                    if answer == 0.0 {
                        return Some(0.0);
                    }
                    answer.abs().log10().floor() as i32 - n + 1
                }
                _ => {
                    return fail(format!(
                        "rounds by {}=\"{mode}\" to {n} figures; expected decimalPlaces (0 or \
                         more) or significantFigures (1 or more)",
                        self.attr_name("roundingMode")
                    ));
                }
            };
            return Some(if exponent >= 0 {
                0.5 * 10f64.powi(exponent)
            } else {
                0.5 / 10f64.powi(-exponent)
            });
        }
        let mode = self.attr(operator, "toleranceMode").unwrap_or("exact");
        if mode == "exact" {
            return Some(0.0);
        }
        let raw = self.attr(operator, "tolerance").unwrap_or("");
        let bounds: Option<Vec<f64>> = raw
            .split_whitespace()
            .map(|t| number(t).filter(|t| *t >= 0.0))
            .collect();
        let t = match bounds.as_deref() {
            Some([t]) => *t,
            Some([low, high]) if low == high => *low,
            Some([_, _]) => {
                return fail(format!(
                    "has the uneven {}=\"{raw}\"; Accredit accepts the same distance on either \
                     side of the answer",
                    self.attr_name("tolerance")
                ));
            }
            _ => {
                return fail(format!(
                    "has {}=\"{raw}\"; expected one or two numbers of 0 or more",
                    self.attr_name("tolerance")
                ));
            }
        };
        match mode {
            "absolute" => Some(t),
            "relative" => Some(answer.abs() * t / 100.0),
            _ => fail(format!(
                "has {}=\"{mode}\"; expected exact, absolute or relative",
                self.attr_name("toleranceMode")
            )),
        }
    }

    /// When the hottexts are the lines of one `<pre>`: that `<pre>` and each hottext's line.
    fn faulty_lines(
        &self,
        interaction: Node<'a, 'input>,
        options: &Options<'a, 'input>,
    ) -> Option<(Node<'a, 'input>, HashMap<String, u32>)> {
        let first = options.list.first()?;
        let pre = first.node.ancestors().find(|a| self.is(*a, "pre"))?;
        if !pre.ancestors().any(|a| a == interaction) || !options.refused.is_empty() {
            return None;
        }
        let (text, spans) = self.pre_text(pre);
        // Every hottext of the interaction is in this <pre>, none nested in another.
        if spans.len() != options.len() {
            return None;
        }
        let starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let line_of = |offset: usize| starts.partition_point(|s| *s <= offset) - 1;
        let mut on_line: Vec<Option<usize>> = vec![None; starts.len()];
        for (k, (_, range)) in spans.iter().enumerate() {
            if text[range.clone()].contains('\n') {
                return None;
            }
            let line = line_of(range.start);
            if on_line[line].replace(k).is_some() {
                return None;
            }
        }
        for (line, start) in starts.iter().enumerate() {
            let end = starts.get(line + 1).map_or(text.len(), |s| s - 1);
            let (before, after) = match on_line[line] {
                Some(k) => (&text[*start..spans[k].1.start], &text[spans[k].1.end..end]),
                None => (&text[*start..end], ""),
            };
            if !before.trim().is_empty() || !after.trim().is_empty() {
                return None;
            }
        }
        // Spans and options are both in document order.
        let lines = spans
            .iter()
            .zip(&options.list)
            .map(|((_, range), option)| (option.choice.id.clone(), line_of(range.start) as u32 + 1))
            .collect();
        Some((pre, lines))
    }

    fn faulty_body(
        &self,
        interaction: Node<'a, 'input>,
        decl: &Declaration<'a, 'input>,
        options: &Options<'a, 'input>,
        lines: &HashMap<String, u32>,
        errors: &mut Vec<FormatError>,
    ) -> Option<ItemBody> {
        if let Err(e) = self.cardinality(decl, interaction, &["single", "multiple"]) {
            errors.push(e);
            return None;
        }
        let values = self.identifier_key(decl, "the identifier of a hottext", errors);
        let mut chosen: Vec<u32> = values
            .iter()
            .filter_map(|value| self.resolve(value, options, interaction, errors))
            .filter_map(|id| lines.get(&id).copied())
            .collect();
        if chosen.is_empty() {
            return None;
        }
        chosen.sort_unstable();
        chosen.dedup();
        Some(ItemBody::FaultyLines { lines: chosen })
    }

    /// The text of a `<pre>` exactly, and where each hottext in it is.
    fn pre_text(&self, pre: Node<'a, 'input>) -> (String, Vec<(Node<'a, 'input>, Range<usize>)>) {
        let mut text = String::new();
        let mut spans = Vec::new();
        self.collect_pre(pre, &mut text, &mut spans);
        // HTML drops a newline right after <pre>; the exporter writes one more when the content
        // itself starts with one.
        if text.starts_with('\n') {
            text.remove(0);
            for (_, range) in &mut spans {
                *range = range.start.saturating_sub(1)..range.end.saturating_sub(1);
            }
        }
        (text, spans)
    }

    fn collect_pre(
        &self,
        node: Node<'a, 'input>,
        text: &mut String,
        spans: &mut Vec<(Node<'a, 'input>, Range<usize>)>,
    ) {
        for child in node.children() {
            if child.is_text() {
                text.push_str(child.text().unwrap_or(""));
            } else if !child.is_element() || self.is_hidden(child) {
                continue;
            } else if self.is(child, "br") {
                text.push('\n');
            } else {
                let start = text.len();
                self.collect_pre(child, text, spans);
                if self.is(child, "hottext") {
                    spans.push((child, start..text.len()));
                }
            }
        }
    }

    /// Elements whose content the candidate does not see as part of the text.
    fn is_hidden(&self, node: Node<'a, 'input>) -> bool {
        matches!(
            self.name(node).as_deref(),
            Some(
                "feedbackBlock"
                    | "feedbackInline"
                    | "modalFeedback"
                    | "templateBlock"
                    | "templateInline"
                    | "printedVariable"
                    | "stylesheet"
                    | "catalogInfo"
                    | "companionMaterialsInfo"
            )
        )
    }

    fn artifact(&self, pre: Node<'a, 'input>) -> Artifact {
        let classes: Vec<&str> = self
            .attr(pre, "class")
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let language = classes
            .iter()
            .find_map(|c| {
                c.strip_prefix("language-")
                    .or_else(|| c.strip_prefix("lang-"))
            })
            .filter(|l| !l.is_empty())
            .unwrap_or("text");
        let kind = classes
            .iter()
            .find_map(|c| c.strip_prefix("artifact-"))
            .filter(|k| ARTIFACT_KINDS.contains(k))
            .unwrap_or("code");
        Artifact {
            kind: kind.to_owned(),
            language: language.to_owned(),
            content: self.pre_text(pre).0,
        }
    }

    /// The stem (item body outside the interaction, with its prompt) and the artifact.
    fn stem(
        &self,
        body: Node<'a, 'input>,
        interaction: Node<'a, 'input>,
        kind: Kind,
        artifact_pre: Option<Node<'a, 'input>>,
    ) -> (String, Option<Artifact>) {
        let mut walker = Walker {
            reader: self,
            interaction: Some((interaction, kind)),
            artifact: artifact_pre,
            take_pre: artifact_pre.is_none(),
        };
        let mut text = Text::default();
        walker.children(body, &mut text);
        let artifact = walker.artifact.map(|pre| self.artifact(pre));
        (text.finish(), artifact)
    }

    /// Every `feedbackBlock` and `modalFeedback`, in document order.
    fn rationale(&self) -> String {
        let mut text = Text::default();
        let walker = Walker::plain(self);
        for node in self.root.descendants() {
            if self.is(node, "feedbackBlock") || self.is(node, "modalFeedback") {
                text.block();
                walker.clone().children(node, &mut text);
                text.block();
            }
        }
        text.finish()
    }
}

fn text_content(node: Node) -> String {
    node.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect()
}

/// A finite number as XML Schema writes it (`1.5`, `-2`, `1e3`).
fn number(text: &str) -> Option<f64> {
    let text = text.trim();
    // Rust also reads `inf` and `nan`; a key must be a real number.
    if !text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
    {
        return None;
    }
    text.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Case and runs of whitespace ignored, as Accredit compares text answers.
fn normalise(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Drops the `_` that makes an identifier starting with a digit, `.` or `-` a valid QTI one.
fn local_id(raw: &str) -> String {
    match raw.strip_prefix('_') {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == '-') => {
            rest.to_owned()
        }
        _ => raw.to_owned(),
    }
}

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// What Accredit keeps as an item id as it is.
fn is_accredit_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_CHARS && id.chars().all(is_id_char)
}

/// Each run of characters other than `[A-Za-z0-9._-]` becomes `-`; trimmed of `-`, at most 64.
fn slugify(raw: &str) -> String {
    let mut slug = String::new();
    for c in raw.chars() {
        if is_id_char(c) {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-');
    let cut: String = slug.chars().take(MAX_ID_CHARS).collect();
    cut.trim_end_matches('-').to_owned()
}

/// An XML Schema regular expression that is literal text with `.*` wildcards, as a `*` pattern.
fn wildcard_from_regex(regex: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = regex.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                // `\*` is a literal star, which a `*` pattern cannot say.
                e @ ('\\' | '|' | '.' | '-' | '^' | '?' | '+' | '{' | '}' | '(' | ')' | '['
                | ']') => out.push(e),
                _ => return None,
            },
            '.' if chars.peek() == Some(&'*') => {
                chars.next();
                out.push('*');
            }
            '.' | '?' | '*' | '+' | '{' | '}' | '(' | ')' | '[' | ']' | '|' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

fn regex_from_wildcard(pattern: &str) -> String {
    let mut out = String::new();
    for c in pattern.chars() {
        match c {
            '*' => out.push_str(".*"),
            '\\' | '|' | '.' | '-' | '^' | '?' | '+' | '{' | '}' | '(' | ')' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Plain text

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Text as a reader sees rendered markup: whitespace collapsed within a line, one line per block
/// or `<br/>`, no empty lines, `<pre>` lines kept exactly.
#[derive(Default)]
struct Text {
    lines: Vec<(String, bool)>,
    current: String,
    space: bool,
}

impl Text {
    fn push_str(&mut self, s: &str) {
        for c in s.chars() {
            if is_xml_space(c) {
                self.space = true;
            } else {
                if self.space && !self.current.is_empty() {
                    self.current.push(' ');
                }
                self.space = false;
                self.current.push(c);
            }
        }
    }

    fn line_break(&mut self) {
        self.lines.push((std::mem::take(&mut self.current), false));
        self.space = false;
    }

    fn block(&mut self) {
        if !self.current.is_empty() {
            self.line_break();
        }
        self.space = false;
    }

    fn verbatim(&mut self, content: &str) {
        self.block();
        let content = content.strip_suffix('\n').unwrap_or(content);
        for line in content.split('\n') {
            self.lines.push((line.to_owned(), true));
        }
    }

    fn finish(mut self) -> String {
        self.block();
        let mut out: Vec<String> = Vec::new();
        for (line, verbatim) in self.lines {
            if verbatim {
                out.push(line);
                continue;
            }
            let line = line.trim_matches(is_xml_space);
            // An inline interaction alone in its paragraph leaves no blank.
            if line.is_empty() || line.chars().all(|c| c == GAP || c == ' ') {
                continue;
            }
            out.push(line.replace(GAP, BLANK));
        }
        out.join("\n")
    }
}

/// Elements that start and end a line.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "blockquote",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "caption",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "address",
    "prompt",
    "contentBody",
    "section",
    "article",
    "aside",
    "header",
    "footer",
    "nav",
    "figure",
    "figcaption",
    "details",
    "summary",
    "simpleMatchSet",
];

/// Walks content into [`Text`]: for the stem (with the interaction and artifact rules) or plain
/// (options, feedback).
#[derive(Clone)]
struct Walker<'r, 'a, 'input> {
    reader: &'r Reader<'a, 'input>,
    interaction: Option<(Node<'a, 'input>, Kind)>,
    /// The `<pre>` that is the artifact, left out of the text.
    artifact: Option<Node<'a, 'input>>,
    /// Whether the first `<pre>` met becomes the artifact.
    take_pre: bool,
}

impl<'r, 'a, 'input> Walker<'r, 'a, 'input> {
    fn plain(reader: &'r Reader<'a, 'input>) -> Self {
        Self {
            reader,
            interaction: None,
            artifact: None,
            take_pre: false,
        }
    }

    fn children(&mut self, node: Node<'a, 'input>, out: &mut Text) {
        for child in node.children() {
            if child.is_text() {
                out.push_str(child.text().unwrap_or(""));
            } else if child.is_element() {
                self.element(child, out);
            }
        }
    }

    fn block(&mut self, node: Node<'a, 'input>, out: &mut Text) {
        out.block();
        self.children(node, out);
        out.block();
    }

    fn element(&mut self, el: Node<'a, 'input>, out: &mut Text) {
        let r = self.reader;
        if let Some((interaction, kind)) = self.interaction
            && el == interaction
        {
            match kind {
                Kind::TextEntry | Kind::InlineChoice => {
                    // QTI 3 lets them have a prompt.
                    for prompt in r.children_named(el, "prompt") {
                        self.block(prompt, out);
                    }
                    out.push_str(&GAP.to_string());
                }
                // The passage is the question: its hottexts read as the words they are.
                Kind::Hottext => self.block(el, out),
                _ => {
                    for prompt in r.children_named(el, "prompt") {
                        self.block(prompt, out);
                    }
                }
            }
            return;
        }
        let namespace = el.tag_name().namespace();
        if namespace == Some(MATHML) {
            if el.tag_name().name() == "math" {
                let block = el.attribute("display") == Some("block");
                if block {
                    out.block();
                }
                out.push_str(&math_text(el));
                if block {
                    out.block();
                }
            }
            return;
        }
        if namespace != Some(r.ns) {
            // SSML, custom markup: the words, not the tags.
            self.children(el, out);
            return;
        }
        if r.is_hidden(el) {
            return;
        }
        let name = r.name(el).unwrap_or_default();
        match name.as_ref() {
            n if n.ends_with("Interaction") => {}
            "rubricBlock" => {
                let view = r.attr(el, "view").unwrap_or("candidate");
                if view.split_whitespace().any(|v| v == "candidate") {
                    self.block(el, out);
                }
            }
            "br" => out.line_break(),
            "hr" => out.block(),
            "img" => {
                let alt = el.attribute("alt").map(str::trim).unwrap_or("");
                if alt.is_empty() {
                    out.push_str(" [image] ");
                } else {
                    out.push_str(&format!(" [image: {alt}] "));
                }
            }
            "pre" => {
                if Some(el) == self.artifact {
                    return;
                }
                if self.take_pre && self.artifact.is_none() {
                    self.artifact = Some(el);
                    return;
                }
                out.verbatim(&r.pre_text(el).0);
            }
            "li" => {
                out.block();
                let parent = el.parent_element();
                if parent.is_some_and(|p| r.is(p, "ol")) {
                    let n = el.prev_siblings().filter(|s| r.is(*s, "li")).count();
                    out.push_str(&format!("{n}. "));
                } else {
                    out.push_str("- ");
                }
                self.children(el, out);
                out.block();
            }
            "td" | "th" => {
                if !out.current.is_empty() {
                    out.push_str(" | ");
                }
                self.children(el, out);
            }
            n if BLOCKS.contains(&n) => self.block(el, out),
            _ => self.children(el, out),
        }
    }
}

/// MathML as one line: its `alttext`, else the tokens with `^`, `_` and `/` for scripts and
/// fractions (`E=mc^2`).
fn math_text(math: Node) -> String {
    if let Some(alt) = math.attribute("alttext").filter(|a| !a.trim().is_empty()) {
        return alt.trim().to_owned();
    }
    fn linear(node: Node) -> String {
        let parts = || -> Vec<String> {
            node.children()
                .filter(|c| c.is_element())
                .map(linear)
                .collect()
        };
        match node.tag_name().name() {
            "mi" | "mn" | "mo" | "mtext" | "ms" => normalise_space(&text_content(node)),
            "msup" => parts().join("^"),
            "msub" => parts().join("_"),
            "mfrac" => parts().join("/"),
            "msubsup" => match &parts()[..] {
                [base, sub, sup] => format!("{base}_{sub}^{sup}"),
                other => other.concat(),
            },
            "msqrt" => format!("√({})", parts().concat()),
            "semantics" => parts().into_iter().next().unwrap_or_default(),
            "annotation" | "annotation-xml" => String::new(),
            _ => parts().concat(),
        }
    }
    linear(math)
}

fn normalise_space(text: &str) -> String {
    text.split(is_xml_space)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------------------------
// Export

/// The QTI 2.1 `assessmentItem` for an item, which [`parse_item`] reads back to the same item
/// (given the same domain; it is always a draft of version 1).
///
/// The layout: the stem as one `<p>` per line, the artifact as a `<pre>` with `language-X` and
/// `artifact-KIND` classes, then the interaction; the `match_correct` response processing
/// template (`map_response` for text answers, a custom `equal` for numbers, `patternMatch` for
/// `*` patterns, which QTI players apply with case, where Accredit ignores it); the rationale as a `modalFeedback` on an outcome that is never set, so that
/// delivery engines keep it from candidates as Accredit does. Faulty lines are a hottext
/// interaction over the artifact's `<pre>`, one hottext per non-blank line; true/false is a
/// choice between `true` and `false` marked with the class `true-false`. Order options are
/// listed rotated by one, so that a player that does not shuffle does not show the answer.
pub fn export_item(item: &Item) -> String {
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let title: String = item
        .stem
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(item.id.as_str())
        .chars()
        .take(80)
        .collect();
    x.push_str(&format!(
        "<assessmentItem xmlns=\"{QTI21_NAMESPACE}\"\n    \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"\n    \
         xsi:schemaLocation=\"{QTI21_NAMESPACE} \
         http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd\"\n    \
         identifier=\"{}\" title=\"{}\" adaptive=\"false\" timeDependent=\"false\">\n",
        attr(&qti_identifier(&item.id)),
        attr(title.trim())
    ));
    declaration(&mut x, &item.body);
    x.push_str(
        "  <outcomeDeclaration identifier=\"SCORE\" cardinality=\"single\" baseType=\"float\">\n    \
         <defaultValue>\n      <value>0</value>\n    </defaultValue>\n  </outcomeDeclaration>\n",
    );
    let rationale: Vec<&str> = lines(&item.rationale);
    if !rationale.is_empty() {
        x.push_str(
            "  <outcomeDeclaration identifier=\"FEEDBACK\" cardinality=\"single\" \
             baseType=\"identifier\"/>\n",
        );
    }
    x.push_str("  <itemBody>\n");
    for line in lines(&item.stem) {
        x.push_str(&format!("    <p>{}</p>\n", text(line)));
    }
    let faulty = matches!(item.body, ItemBody::FaultyLines { .. });
    if let Some(artifact) = &item.artifact
        && !faulty
    {
        x.push_str(&format!(
            "    {}{}</pre>\n",
            pre_open(artifact),
            text(&pre_content(&artifact.content))
        ));
    }
    interaction(&mut x, item);
    x.push_str("  </itemBody>\n");
    processing(&mut x, &item.body);
    if !rationale.is_empty() {
        x.push_str(
            "  <modalFeedback outcomeIdentifier=\"FEEDBACK\" identifier=\"RATIONALE\" \
             showHide=\"show\">\n",
        );
        for line in rationale {
            x.push_str(&format!("    <p>{}</p>\n", text(line)));
        }
        x.push_str("  </modalFeedback>\n");
    }
    x.push_str("</assessmentItem>\n");
    x
}

/// The non-blank lines of a plain text.
fn lines(text: &str) -> Vec<&str> {
    text.split('\n').filter(|l| !l.trim().is_empty()).collect()
}

fn declaration(x: &mut String, body: &ItemBody) {
    let (cardinality, base_type, values): (&str, &str, Vec<String>) = match body {
        ItemBody::SingleChoice { correct, .. } => {
            ("single", "identifier", vec![qti_identifier(correct)])
        }
        ItemBody::TrueFalse { correct } => ("single", "identifier", vec![correct.to_string()]),
        ItemBody::MultipleResponse { correct, .. } => (
            "multiple",
            "identifier",
            correct.iter().map(|c| qti_identifier(c)).collect(),
        ),
        ItemBody::Ordering { choices } => (
            "ordered",
            "identifier",
            choices.iter().map(|c| qti_identifier(&c.id)).collect(),
        ),
        ItemBody::Matching { pairs, .. } => (
            "multiple",
            "directedPair",
            pairs
                .iter()
                .map(|(p, t)| format!("{} {}", qti_identifier(p), qti_identifier(t)))
                .collect(),
        ),
        ItemBody::FaultyLines { lines } => (
            "multiple",
            "identifier",
            lines.iter().map(|l| format!("L{l}")).collect(),
        ),
        ItemBody::Numeric { answer, .. } => ("single", "float", vec![answer.to_string()]),
        ItemBody::ShortText { accepted } => (
            "single",
            "string",
            accepted
                .iter()
                .find_map(|a| match a {
                    TextAnswer::Exact(text) => Some(text.clone()),
                    TextAnswer::Pattern(_) => None,
                })
                .into_iter()
                .collect(),
        ),
    };
    let exact: Vec<&String> = match body {
        ItemBody::ShortText { accepted } => accepted
            .iter()
            .filter_map(|a| match a {
                TextAnswer::Exact(text) => Some(text),
                TextAnswer::Pattern(_) => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let open = format!(
        "  <responseDeclaration identifier=\"RESPONSE\" cardinality=\"{cardinality}\" \
         baseType=\"{base_type}\""
    );
    if values.is_empty() && exact.is_empty() {
        // Only patterns: the key is all in the response processing.
        x.push_str(&format!("{open}/>\n"));
        return;
    }
    x.push_str(&format!("{open}>\n"));
    if !values.is_empty() {
        x.push_str("    <correctResponse>\n");
        for value in values {
            x.push_str(&format!("      <value>{}</value>\n", text(&value)));
        }
        x.push_str("    </correctResponse>\n");
    }
    if !exact.is_empty() {
        // Every accepted answer scores 1, case ignored as Accredit ignores it.
        x.push_str("    <mapping defaultValue=\"0\" upperBound=\"1\">\n");
        for answer in exact {
            x.push_str(&format!(
                "      <mapEntry mapKey=\"{}\" mappedValue=\"1\" caseSensitive=\"false\"/>\n",
                attr(answer)
            ));
        }
        x.push_str("    </mapping>\n");
    }
    x.push_str("  </responseDeclaration>\n");
}

fn choices_xml(x: &mut String, element: &str, choices: &[Choice], extra: &str) {
    for choice in choices {
        x.push_str(&format!(
            "      <{element} identifier=\"{}\"{extra}>{}</{element}>\n",
            attr(&qti_identifier(&choice.id)),
            multiline(&choice.text)
        ));
    }
}

fn interaction(x: &mut String, item: &Item) {
    match &item.body {
        ItemBody::SingleChoice { choices, .. } => {
            x.push_str(
                "    <choiceInteraction responseIdentifier=\"RESPONSE\" shuffle=\"true\" \
                 maxChoices=\"1\">\n",
            );
            choices_xml(x, "simpleChoice", choices, "");
            x.push_str("    </choiceInteraction>\n");
        }
        ItemBody::MultipleResponse { choices, .. } => {
            x.push_str(
                "    <choiceInteraction responseIdentifier=\"RESPONSE\" shuffle=\"true\" \
                 maxChoices=\"0\">\n",
            );
            choices_xml(x, "simpleChoice", choices, "");
            x.push_str("    </choiceInteraction>\n");
        }
        ItemBody::TrueFalse { .. } => {
            x.push_str(
                "    <choiceInteraction responseIdentifier=\"RESPONSE\" shuffle=\"false\" \
                 maxChoices=\"1\" class=\"true-false\">\n      \
                 <simpleChoice identifier=\"true\">True</simpleChoice>\n      \
                 <simpleChoice identifier=\"false\">False</simpleChoice>\n    \
                 </choiceInteraction>\n",
            );
        }
        ItemBody::Ordering { choices } => {
            x.push_str("    <orderInteraction responseIdentifier=\"RESPONSE\" shuffle=\"true\">\n");
            let mut listed = choices.clone();
            if !listed.is_empty() {
                listed.rotate_left(1);
            }
            choices_xml(x, "simpleChoice", &listed, "");
            x.push_str("    </orderInteraction>\n");
        }
        ItemBody::Matching {
            prompts, targets, ..
        } => {
            x.push_str(&format!(
                "    <matchInteraction responseIdentifier=\"RESPONSE\" shuffle=\"true\" \
                 maxAssociations=\"{}\">\n",
                prompts.len()
            ));
            x.push_str("      <simpleMatchSet>\n");
            for prompt in prompts {
                x.push_str(&format!(
                    "        <simpleAssociableChoice identifier=\"{}\" matchMax=\"1\">{}</simpleAssociableChoice>\n",
                    attr(&qti_identifier(&prompt.id)),
                    multiline(&prompt.text)
                ));
            }
            x.push_str("      </simpleMatchSet>\n      <simpleMatchSet>\n");
            for target in targets {
                x.push_str(&format!(
                    "        <simpleAssociableChoice identifier=\"{}\" matchMax=\"{}\">{}</simpleAssociableChoice>\n",
                    attr(&qti_identifier(&target.id)),
                    prompts.len(),
                    multiline(&target.text)
                ));
            }
            x.push_str("      </simpleMatchSet>\n    </matchInteraction>\n");
        }
        ItemBody::Numeric { .. } => x.push_str(
            "    <p><textEntryInteraction responseIdentifier=\"RESPONSE\" expectedLength=\"12\"/></p>\n",
        ),
        ItemBody::ShortText { .. } => x.push_str(
            "    <p><textEntryInteraction responseIdentifier=\"RESPONSE\" expectedLength=\"40\"/></p>\n",
        ),
        ItemBody::FaultyLines { lines: key } => {
            let empty = Artifact {
                kind: "code".into(),
                language: "text".into(),
                content: String::new(),
            };
            let artifact = item.artifact.as_ref().unwrap_or(&empty);
            let mut content = String::new();
            for (i, line) in artifact.content.split('\n').enumerate() {
                let number = i as u32 + 1;
                if i > 0 {
                    content.push('\n');
                }
                if line.trim().is_empty() && !key.contains(&number) {
                    content.push_str(&text(line));
                } else {
                    content.push_str(&format!(
                        "<hottext identifier=\"L{number}\">{}</hottext>",
                        text(line)
                    ));
                }
            }
            let lead = if artifact.content.starts_with('\n') { "\n" } else { "" };
            x.push_str(&format!(
                "    <hottextInteraction responseIdentifier=\"RESPONSE\" maxChoices=\"0\">\n      \
                 {}{lead}{content}</pre>\n    </hottextInteraction>\n",
                pre_open(artifact)
            ));
        }
    }
}

fn processing(x: &mut String, body: &ItemBody) {
    let template = |name: &str| {
        format!(
            "  <responseProcessing \
             template=\"http://www.imsglobal.org/question/qti_v2p1/rptemplates/{name}\"/>\n"
        )
    };
    let condition = |test: &str| {
        format!(
            "  <responseProcessing>\n    <responseCondition>\n      <responseIf>\n{test}        \
             <setOutcomeValue identifier=\"SCORE\">\n          \
             <baseValue baseType=\"float\">1</baseValue>\n        </setOutcomeValue>\n      \
             </responseIf>\n      <responseElse>\n        \
             <setOutcomeValue identifier=\"SCORE\">\n          \
             <baseValue baseType=\"float\">0</baseValue>\n        </setOutcomeValue>\n      \
             </responseElse>\n    </responseCondition>\n  </responseProcessing>\n"
        )
    };
    match body {
        ItemBody::Numeric { tolerance, .. } => x.push_str(&condition(&format!(
            "        <equal toleranceMode=\"absolute\" tolerance=\"{tolerance} {tolerance}\">\n          \
             <variable identifier=\"RESPONSE\"/>\n          <correct identifier=\"RESPONSE\"/>\n        \
             </equal>\n"
        ))),
        ItemBody::ShortText { accepted } => {
            let patterns: Vec<&String> = accepted
                .iter()
                .filter_map(|a| match a {
                    TextAnswer::Pattern(p) => Some(p),
                    TextAnswer::Exact(_) => None,
                })
                .collect();
            if patterns.is_empty() {
                x.push_str(&template("map_response"));
                return;
            }
            let mut test = String::from("        <or>\n");
            if patterns.len() < accepted.len() {
                test.push_str(
                    "          <gt>\n            <mapResponse identifier=\"RESPONSE\"/>\n            \
                     <baseValue baseType=\"float\">0</baseValue>\n          </gt>\n",
                );
            }
            for pattern in patterns {
                test.push_str(&format!(
                    "          <patternMatch pattern=\"{}\">\n            \
                     <variable identifier=\"RESPONSE\"/>\n          </patternMatch>\n",
                    attr(&regex_from_wildcard(pattern))
                ));
            }
            test.push_str("        </or>\n");
            x.push_str(&condition(&test));
        }
        _ => x.push_str(&template("match_correct")),
    }
}

fn pre_open(artifact: &Artifact) -> String {
    let token = |s: &str| s.split_whitespace().collect::<Vec<_>>().join("-");
    format!(
        "<pre class=\"language-{} artifact-{}\">",
        attr(&token(&artifact.language)),
        attr(&token(&artifact.kind))
    )
}

/// `<pre>` content: one more leading newline when it starts with one, as HTML drops the first.
fn pre_content(content: &str) -> String {
    if content.starts_with('\n') {
        format!("\n{content}")
    } else {
        content.to_owned()
    }
}

/// Option text: its lines joined by `<br/>`.
fn multiline(value: &str) -> String {
    value
        .split('\n')
        .map(text)
        .collect::<Vec<_>>()
        .join("<br/>")
}

/// A QTI identifier for an Accredit id: one that starts with a digit, `.` or `-` gets a `_`, which
/// [`parse_item`] drops again; characters no XML name may hold become `-`.
fn qti_identifier(id: &str) -> String {
    let cleaned: String = id
        .chars()
        .map(|c| {
            if is_id_char(c) || c.is_alphanumeric() {
                c
            } else {
                '-'
            }
        })
        .collect();
    if cleaned.starts_with(|c: char| c.is_alphabetic() || c == '_') {
        cleaned
    } else {
        format!("_{cleaned}")
    }
}

/// Whether XML 1.0 can hold the character at all, even as a reference.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// Escaped element content; characters XML cannot hold become U+FFFD.
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // A literal CR would be read back as a line feed.
            '\r' => out.push_str("&#13;"),
            c if !is_xml_char(c) => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Escaped attribute value; whitespace other than spaces as references, as parsers would
/// otherwise turn it into spaces.
fn attr(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if !is_xml_char(c) => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
