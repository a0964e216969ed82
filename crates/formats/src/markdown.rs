//! Markdown training documents (CommonMark with GitHub tables and strikethrough) as a
//! [`Document`] of sections of plain-text blocks.
//!
//! Sections:
//! - Every heading of level 1 to 3 starts a section named by its text (`Untitled section` when
//!   the heading is empty), with an anchor from [`anchor`] unique within the document. Headings
//!   of level 4 to 6 are too fine-grained to navigate by: they stay in the current section as a
//!   paragraph of their text.
//! - The first level-1 heading with text is also [`Document::title`]. Its section holds the text
//!   that follows it; when nothing does (`# Title` directly followed by `## Part`) the section is
//!   left out, the title being in [`Document::title`] already.
//! - Text before the first heading goes into a section named `Introduction`.
//! - Headings inside quotes and list items are text of those blocks, not sections.
//!
//! Blocks, all plain text (emphasis, links and images reduced to their text; link and image
//! addresses dropped; entities resolved; runs of whitespace made single spaces):
//! - paragraphs; a hard line break is kept as a line break;
//! - code blocks, fenced or indented, verbatim without the final line break, with the first word
//!   of the fence's info string as their language;
//! - tables: the header cells and each row's cells (the parser pads short rows and cuts long ones
//!   to the header's width);
//! - lists: one item per entry. Nested lists are flattened into the outer list's items, after
//!   their parent item, each written with two spaces per level below the first and its own
//!   marker (`  - step`, `  2. step`). The blocks of one item (paragraphs, code, quotes) are
//!   joined by line breaks;
//! - quotes: the text of their blocks, one line each, lists written with markers.
//!
//! Blocks left without text (an empty code block, a paragraph that was only an HTML comment)
//! are left out.
//!
//! Raw HTML is never passed through, in HTML blocks or inline: it is reduced to its text, tags
//! and comments removed, and the contents of `<script>` and `<style>` dropped up to their end tag
//! (or the end of the block when there is none). Code blocks are text, not HTML, and are kept as
//! written: every block is plain text that a page must escape like any other text.
//!
//! A YAML front matter block at the very top (`---` ... `---` or `...`) is skipped.
//!
//! Rejected, with the line when there is one: content that is not UTF-8 text (UTF-16, a NUL
//! byte, invalid UTF-8), an empty or blank file, a line over [`MAX_LINE_CHARS`] characters, a code
//! fence never closed (CommonMark closes it at the end of the file or of its list item or quote;
//! in training material that is nearly always a mistake that would swallow the rest), and a
//! document with no text besides headings.

use crate::document::{Block, Document, FormatError, Section, anchor};
use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use std::ops::Range;

/// The longest line accepted, in characters. Longer lines are generated or minified content,
/// not prose, and they are where parsers do their worst.
pub const MAX_LINE_CHARS: usize = 10_000;

/// Containers (quotes, lists, list items) nested deeper than this are read as one flat text,
/// which keeps the recursion here bounded whatever the input: 8 levels of nested lists, far more
/// than any document needs, keep their structure.
const MAX_NESTING: usize = 16;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads a Markdown document. Either the whole document, or every problem found, by line.
pub fn parse(bytes: &[u8]) -> Result<Document, Vec<FormatError>> {
    let (text, lines) = decode(bytes).map_err(|error| vec![error])?;
    let mut errors = long_lines(text, &lines);
    let body = front_matter_end(text);
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events: Vec<_> = Parser::new_ext(&text[body..], options)
        .into_offset_iter()
        .map(|(event, range)| (event, range.start + body..range.end + body))
        .collect();
    let mut builder = Builder {
        source: text,
        events: events.into_iter(),
        lines: &lines,
        title: None,
        sections: Vec::new(),
        errors: Vec::new(),
    };
    builder.read();
    errors.append(&mut builder.errors);
    let has_headings = !builder.sections.is_empty();
    let (title, sections) = builder.finish();
    if errors.is_empty() && sections.is_empty() {
        errors.push(FormatError::whole_file(if has_headings {
            "the document has headings but no text under any of them"
        } else {
            "the document has no text once its markup, HTML and front matter are removed"
        }));
    }
    if errors.is_empty() {
        Ok(Document { title, sections })
    } else {
        errors.sort_by_key(|error| error.line);
        Err(errors)
    }
}

/// The text of the file, without its byte order mark, or why it is not a text document.
fn decode(bytes: &[u8]) -> Result<(&str, LineIndex), FormatError> {
    // UTF-16 would otherwise be reported as a NUL byte, which is true but unhelpful.
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(FormatError::whole_file(
            "the file is UTF-16 text; save it as UTF-8",
        ));
    }
    let body = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let lines = LineIndex::new(body);
    // Checked before UTF-8: a binary file is better told so than sent looking for a character.
    if let Some(at) = body.iter().position(|&b| b == 0) {
        return Err(FormatError::at(
            lines.line(at),
            "the file contains a NUL byte; it is not a text document",
        ));
    }
    let text = std::str::from_utf8(body).map_err(|error| {
        let at = error.valid_up_to();
        // Counted in the file as given, BOM included, as a hex editor shows it.
        let offset = at + (bytes.len() - body.len());
        let message = match error.error_len() {
            Some(_) => format!(
                "invalid UTF-8 at byte offset {offset} (0x{:02X}); save the file as UTF-8",
                body[at]
            ),
            None => format!(
                "invalid UTF-8 at byte offset {offset}: the file ends inside a character; \
                 save the file as UTF-8"
            ),
        };
        FormatError::at(lines.line(at), message)
    })?;
    if text.is_empty() {
        return Err(FormatError::whole_file("the file is empty"));
    }
    if text.trim().is_empty() {
        return Err(FormatError::whole_file("the file contains only whitespace"));
    }
    Ok((text, lines))
}

/// Byte offsets to 1-based lines. Lines end at `\n`, `\r\n` or a lone `\r`, as in CommonMark.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(bytes: &[u8]) -> Self {
        let mut starts = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                starts.push(i + 1);
            }
        }
        Self { starts }
    }

    fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset)
    }
}

fn long_lines(text: &str, lines: &LineIndex) -> Vec<FormatError> {
    let mut errors = Vec::new();
    for (i, &start) in lines.starts.iter().enumerate() {
        let end = lines.starts.get(i + 1).copied().unwrap_or(text.len());
        let line = text[start..end].trim_end_matches(['\n', '\r']);
        // A line of at most MAX_LINE_CHARS bytes cannot have more characters.
        if line.len() > MAX_LINE_CHARS {
            let chars = line.chars().count();
            if chars > MAX_LINE_CHARS {
                errors.push(FormatError::at(
                    i + 1,
                    format!(
                        "the line is {chars} characters long; lines may have at most \
                         {MAX_LINE_CHARS}"
                    ),
                ));
            }
        }
    }
    errors
}

/// Where the Markdown starts: after a front matter block, or at 0. The block opens with `---`
/// on the first line and closes with `---` or `...`. As in pulldown-cmark, a `---` followed by
/// a blank line is a thematic break, not front matter. pulldown-cmark's own option is not used:
/// it takes such a block anywhere in the document, where `---` lines are Markdown.
fn front_matter_end(text: &str) -> usize {
    let mut lines = text.split_inclusive('\n');
    let mut end = match lines.next() {
        Some(first) if first.trim_end() == "---" => first.len(),
        _ => return 0,
    };
    for (n, line) in lines.enumerate() {
        let content = line.trim_end();
        let closing = content == "---" || content == "...";
        if n == 0 && (closing || content.is_empty()) {
            return 0;
        }
        end += line.len();
        if closing {
            return end;
        }
    }
    0
}

/// A section as it is read; anchors are given once the sections kept are known.
struct Draft {
    heading: String,
    /// The section of the document's title, left out when empty.
    is_title: bool,
    blocks: Vec<Block>,
}

/// Reads the parser's events into sections. Each reading method is called just after the start
/// event of its element and consumes the events up to and including its end.
struct Builder<'a> {
    source: &'a str,
    /// Offsets are into `source`, front matter included.
    events: std::vec::IntoIter<(Event<'a>, Range<usize>)>,
    lines: &'a LineIndex,
    title: Option<String>,
    sections: Vec<Draft>,
    errors: Vec<FormatError>,
}

impl<'a> Builder<'a> {
    fn read(&mut self) {
        while let Some((event, range)) = self.events.next() {
            let block = match event {
                Event::Start(Tag::Heading { level, .. }) => {
                    let text = self.inline().line();
                    if level <= HeadingLevel::H3 {
                        self.start_section(level, text);
                        continue;
                    }
                    paragraph(text)
                }
                Event::Start(Tag::Paragraph | Tag::HtmlBlock) => paragraph(self.inline().finish()),
                Event::Start(Tag::CodeBlock(kind)) => self.code(kind, range),
                Event::Start(Tag::Table(_)) => self.table(),
                Event::Start(Tag::List(start)) => {
                    let mut items = Vec::new();
                    self.list(start, 0, &mut items, 1);
                    items.retain(|item| !item.is_empty());
                    (!items.is_empty()).then_some(Block::List {
                        ordered: start.is_some(),
                        items,
                    })
                }
                Event::Start(Tag::BlockQuote(_)) => {
                    let text = self.container(1, None).join("\n");
                    (!text.is_empty()).then_some(Block::Quote { text })
                }
                // Not produced with the options used, but kept as text rather than lost.
                Event::Start(_) => paragraph(self.flat()),
                // Thematic breaks.
                _ => None,
            };
            if let Some(block) = block {
                self.push(block);
            }
        }
    }

    fn start_section(&mut self, level: HeadingLevel, heading: String) {
        let is_title = level == HeadingLevel::H1 && self.title.is_none() && !heading.is_empty();
        if is_title {
            self.title = Some(heading.clone());
        }
        self.sections.push(Draft {
            heading: if heading.is_empty() {
                "Untitled section".to_owned()
            } else {
                heading
            },
            is_title,
            blocks: Vec::new(),
        });
    }

    fn push(&mut self, block: Block) {
        if self.sections.is_empty() {
            self.sections.push(Draft {
                heading: "Introduction".to_owned(),
                is_title: false,
                blocks: Vec::new(),
            });
        }
        if let Some(section) = self.sections.last_mut() {
            section.blocks.push(block);
        }
    }

    /// The title and the sections kept: none when the document has no block at all.
    fn finish(self) -> (Option<String>, Vec<Section>) {
        if self.sections.iter().all(|s| s.blocks.is_empty()) {
            return (self.title, Vec::new());
        }
        let mut used = Vec::new();
        let sections = self
            .sections
            .into_iter()
            .filter(|s| !(s.is_title && s.blocks.is_empty()))
            .map(|s| Section {
                anchor: anchor(&s.heading, &mut used),
                heading: s.heading,
                start_ms: None,
                blocks: s.blocks,
            })
            .collect();
        (self.title, sections)
    }

    /// The inline content of a paragraph, heading, table cell or HTML block.
    fn inline(&mut self) -> Inline {
        let mut inline = Inline::default();
        for (event, _) in self.events.by_ref() {
            match event {
                Event::End(end) if !is_inline_end(&end) => break,
                event => inline.event(event),
            }
        }
        inline
    }

    /// Everything up to the end of the element just opened, as one text.
    fn flat(&mut self) -> String {
        let mut inline = Inline::default();
        let mut open = 1_usize;
        for (event, _) in self.events.by_ref() {
            match event {
                Event::Start(_) => open += 1,
                Event::End(_) => open -= 1,
                _ => {}
            }
            if open == 0 {
                break;
            }
            inline.event(event);
        }
        inline.finish()
    }

    fn code(&mut self, kind: CodeBlockKind<'a>, block: Range<usize>) -> Option<Block> {
        let mut text = String::new();
        let mut content_end = None;
        for (event, range) in self.events.by_ref() {
            match event {
                Event::Text(t) => {
                    text.push_str(&t);
                    content_end = Some(range.end);
                }
                Event::End(_) => break,
                _ => {}
            }
        }
        let language = match kind {
            CodeBlockKind::Fenced(info) => {
                self.check_closed(&block, content_end);
                // `rust,ignore` and `python {linenos}` name their language first.
                info.split([',', ' ', '\t', '{'])
                    .next()
                    .filter(|word| !word.is_empty())
                    .map(str::to_owned)
            }
            CodeBlockKind::Indented => None,
        };
        if text.ends_with('\n') {
            text.pop();
        }
        (!text.trim().is_empty()).then_some(Block::Code { language, text })
    }

    /// The parser gives no sign of a missing closing fence, but a closed block's range goes on
    /// past its content (or its opening line, when empty) to take in the closing fence.
    fn check_closed(&mut self, block: &Range<usize>, content_end: Option<usize>) {
        let source = &self.source[block.clone()];
        let opening_end = source.find('\n').map_or(block.end, |i| block.start + i + 1);
        let after = content_end.unwrap_or(opening_end).max(opening_end);
        if self.source[after..block.end].trim().is_empty() {
            let fence_char = source.chars().next().unwrap_or('`');
            let fence: String = source.chars().take_while(|&c| c == fence_char).collect();
            self.errors.push(FormatError::at(
                self.lines.line(block.start),
                format!(
                    "the code block opened here is never closed; end it with a line of {fence}"
                ),
            ));
        }
    }

    fn table(&mut self) -> Option<Block> {
        let mut header = Vec::new();
        let mut rows = Vec::new();
        let mut row = Vec::new();
        while let Some((event, _)) = self.events.next() {
            match event {
                Event::Start(Tag::TableCell) => row.push(self.inline().line()),
                Event::End(TagEnd::TableHead) => header = std::mem::take(&mut row),
                Event::End(TagEnd::TableRow) => rows.push(std::mem::take(&mut row)),
                Event::End(TagEnd::Table) => break,
                _ => {}
            }
        }
        let empty = std::iter::once(&header)
            .chain(&rows)
            .flatten()
            .all(String::is_empty);
        (!empty).then_some(Block::Table { header, rows })
    }

    /// Appends the items of a list to `items`: at `depth` 0 as they are, deeper with their
    /// indentation and marker. Items without text are left empty for the caller to drop, so
    /// that slots stay in order.
    fn list(&mut self, start: Option<u64>, depth: usize, items: &mut Vec<String>, nesting: usize) {
        if nesting > MAX_NESTING {
            items.push(self.flat());
            return;
        }
        let mut number = start;
        while let Some((event, _)) = self.events.next() {
            match event {
                Event::Start(Tag::Item) => {
                    // Reserved before reading, since nested items are appended after it.
                    let slot = items.len();
                    items.push(String::new());
                    let text = self
                        .container(nesting + 1, Some((depth, &mut *items)))
                        .join("\n");
                    if !text.is_empty() && depth > 0 {
                        let marker = number.map_or_else(|| "-".to_owned(), |n| format!("{n}."));
                        items[slot] = format!("{}{marker} {text}", "  ".repeat(depth - 1));
                    } else {
                        items[slot] = text;
                    }
                    number = number.map(|n| n.saturating_add(1));
                }
                Event::End(_) => break,
                _ => {}
            }
        }
    }

    /// The text of a quote or list item, one entry per block. Lists inside go to `nested`, the
    /// items of the enclosing list at their depth, when given; else they are lines of the text.
    fn container(
        &mut self,
        nesting: usize,
        mut nested: Option<(usize, &mut Vec<String>)>,
    ) -> Vec<String> {
        if nesting > MAX_NESTING {
            return vec![self.flat()];
        }
        let mut parts = Vec::new();
        // Tight list items hold their text directly, without a paragraph.
        let mut run = Inline::default();
        while let Some((event, range)) = self.events.next() {
            let tag = match event {
                Event::End(TagEnd::Item | TagEnd::BlockQuote(_)) => break,
                Event::Start(tag) if !is_inline(&tag) => tag,
                event => {
                    run.event(event);
                    continue;
                }
            };
            parts.push(std::mem::take(&mut run).finish());
            match tag {
                Tag::Paragraph | Tag::Heading { .. } | Tag::HtmlBlock => {
                    parts.push(self.inline().finish());
                }
                Tag::CodeBlock(kind) => {
                    if let Some(Block::Code { text, .. }) = self.code(kind, range) {
                        parts.push(text);
                    }
                }
                Tag::Table(_) => {
                    if let Some(Block::Table { header, rows }) = self.table() {
                        let lines = std::iter::once(header).chain(rows);
                        parts.extend(lines.map(|row| row.join(" | ")));
                    }
                }
                Tag::BlockQuote(_) => parts.extend(self.container(nesting + 1, None)),
                Tag::List(start) => match &mut nested {
                    Some((depth, items)) => self.list(start, *depth + 1, items, nesting + 1),
                    None => self.list(start, 1, &mut parts, nesting + 1),
                },
                _ => parts.push(self.flat()),
            }
        }
        parts.push(run.finish());
        parts.retain(|part| !part.is_empty());
        parts
    }
}

fn paragraph(text: String) -> Option<Block> {
    (!text.is_empty()).then_some(Block::Paragraph {
        text,
        start_ms: None,
        speaker: None,
    })
}

fn is_inline(tag: &Tag<'_>) -> bool {
    matches!(
        tag,
        Tag::Emphasis
            | Tag::Strong
            | Tag::Strikethrough
            | Tag::Superscript
            | Tag::Subscript
            | Tag::Link { .. }
            | Tag::Image { .. }
    )
}

fn is_inline_end(end: &TagEnd) -> bool {
    matches!(
        end,
        TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript
            | TagEnd::Link
            | TagEnd::Image
    )
}

/// Plain text gathered from inline events, raw HTML reduced to its text on the way.
#[derive(Default)]
struct Inline {
    text: String,
    html: HtmlText,
    /// The lines of an HTML block so far: stripped together, since a tag may span lines.
    raw: String,
}

impl Inline {
    fn event(&mut self, event: Event<'_>) {
        if let Event::Html(html) = event {
            self.raw.push_str(&html);
            return;
        }
        self.flush_raw();
        match event {
            Event::Text(text) | Event::Code(text) => self.html.text(&text, &mut self.text),
            Event::InlineHtml(html) => self.html.markup(&html, &mut self.text),
            Event::SoftBreak => self.text.push(' '),
            Event::HardBreak => self.text.push('\n'),
            // Only met when reading flat: block boundaries separate words.
            Event::Start(tag) if !is_inline(&tag) => self.text.push('\n'),
            Event::End(end) if !is_inline_end(&end) => self.text.push('\n'),
            _ => {}
        }
    }

    fn flush_raw(&mut self) {
        if !self.raw.is_empty() {
            let raw = std::mem::take(&mut self.raw);
            self.html.markup(&raw, &mut self.text);
        }
    }

    /// The text, its line breaks kept.
    fn finish(mut self) -> String {
        self.flush_raw();
        tidy(&self.text)
    }

    /// The text on one line, for headings and table cells.
    fn line(mut self) -> String {
        self.flush_raw();
        self.text.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// Whitespace runs made single spaces within each line, blank lines dropped.
fn tidy(text: &str) -> String {
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reduces raw HTML to its text, across the fragments of one block: a `<script>` opened in one
/// fragment hides the Markdown text after it up to the `</script>` in another.
#[derive(Default)]
struct HtmlText {
    /// Inside `script` or `style`, whose content is never text.
    skipping: Option<&'static str>,
}

/// Elements that end a line of text, and table cells, that separate words.
const LINE_ELEMENTS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "tfoot",
    "thead",
    "tr",
    "ul",
];
const CELL_ELEMENTS: &[&str] = &["td", "th"];
const HIDDEN_ELEMENTS: &[&str] = &["script", "style"];

impl HtmlText {
    /// Markdown text: kept unless inside a hidden element.
    fn text(&self, text: &str, out: &mut String) {
        if self.skipping.is_none() {
            out.push_str(text);
        }
    }

    /// Raw HTML: tags, comments and declarations removed, entities resolved. Markup left
    /// unfinished at the end is dropped.
    fn markup(&mut self, html: &str, out: &mut String) {
        let mut rest = html;
        loop {
            if let Some(element) = self.skipping {
                let Some(at) = find_end_tag(rest, element) else {
                    return;
                };
                rest = &rest[at..];
                self.skipping = None;
            }
            let Some(lt) = rest.find('<') else {
                push_html_text(rest, out);
                return;
            };
            push_html_text(&rest[..lt], out);
            rest = &rest[lt..];
            match Markup::at(rest) {
                Markup::Literal => {
                    out.push('<');
                    rest = &rest[1..];
                }
                Markup::Unfinished => return,
                Markup::Other { len } => rest = &rest[len..],
                Markup::Tag { len, name, closing } => {
                    let is = |names: &[&str]| names.iter().any(|n| n.eq_ignore_ascii_case(name));
                    if is(LINE_ELEMENTS) {
                        out.push('\n');
                    } else if is(CELL_ELEMENTS) {
                        out.push(' ');
                    } else if !closing {
                        self.skipping = HIDDEN_ELEMENTS
                            .iter()
                            .find(|n| n.eq_ignore_ascii_case(name))
                            .copied();
                    }
                    rest = &rest[len..];
                }
            }
        }
    }
}

/// Where `</element` begins in `html`, as a whole tag name, ignoring case.
fn find_end_tag(html: &str, element: &str) -> Option<usize> {
    let bytes = html.as_bytes();
    let needle_len = element.len() + 2;
    (0..bytes.len().saturating_sub(needle_len - 1)).find(|&i| {
        bytes[i] == b'<'
            && bytes[i + 1] == b'/'
            && bytes[i + 2..i + needle_len].eq_ignore_ascii_case(element.as_bytes())
            && bytes
                .get(i + needle_len)
                .is_none_or(|&b| b == b'>' || b == b'/' || b.is_ascii_whitespace())
    })
}

/// What a `<` in raw HTML begins.
enum Markup<'h> {
    Tag {
        len: usize,
        name: &'h str,
        closing: bool,
    },
    /// A comment, CDATA section, declaration or processing instruction.
    Other {
        len: usize,
    },
    Unfinished,
    /// A `<` that begins no markup, as in `a < b`.
    Literal,
}

impl<'h> Markup<'h> {
    fn at(html: &'h str) -> Self {
        let after = |from: usize, end: &str| {
            html.get(from..)
                .and_then(|rest| rest.find(end))
                .map_or(Markup::Unfinished, |i| Markup::Other {
                    len: from + i + end.len(),
                })
        };
        if html.starts_with("<!--") {
            // From 2, so that `<!-->` ends where it starts, as browsers have it.
            return after(2, "-->");
        }
        if html.starts_with("<![CDATA[") {
            return after(9, "]]>");
        }
        if html.starts_with("<!") || html.starts_with("<?") {
            return after(2, ">");
        }
        let bytes = html.as_bytes();
        let closing = bytes.get(1) == Some(&b'/');
        let name_start = if closing { 2 } else { 1 };
        if !bytes.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
            return Markup::Literal;
        }
        let name_end = bytes[name_start..]
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || b == b'-'))
            .map_or(bytes.len(), |i| name_start + i);
        let name = &html[name_start..name_end];
        // Only a quote right after `=` opens a value; a `>` inside one does not end the tag.
        let mut after_equals = false;
        let mut i = name_end;
        while i < bytes.len() {
            match bytes[i] {
                b'>' => {
                    return Markup::Tag {
                        len: i + 1,
                        name,
                        closing,
                    };
                }
                quote @ (b'"' | b'\'') if after_equals => {
                    match bytes[i + 1..].iter().position(|&b| b == quote) {
                        Some(j) => i += j + 1,
                        None => return Markup::Unfinished,
                    }
                    after_equals = false;
                }
                b'=' => after_equals = true,
                b if b.is_ascii_whitespace() => {}
                _ => after_equals = false,
            }
            i += 1;
        }
        Markup::Unfinished
    }
}

/// Text between tags: line breaks in HTML source are spaces, entities are resolved.
fn push_html_text(text: &str, out: &mut String) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        push_spaced(&rest[..amp], out);
        rest = &rest[amp..];
        match entity(rest) {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    push_spaced(rest, out);
}

fn push_spaced(text: &str, out: &mut String) {
    out.extend(
        text.chars()
            .map(|c| if c == '\n' || c == '\r' { ' ' } else { c }),
    );
}

/// The character of the entity `text` starts with, and the entity's length. Numeric
/// references and the named ones common in prose; others stay as written.
fn entity(text: &str) -> Option<(char, usize)> {
    // The longest entity names are about 30 characters.
    let (semicolon, _) = text.char_indices().take(34).find(|&(_, c)| c == ';')?;
    let name = &text[1..semicolon];
    let c = if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        // As in HTML: NUL and values that are no character become the replacement character.
        char::from_u32(code)
            .filter(|&c| c != '\0')
            .unwrap_or('\u{FFFD}')
    } else {
        match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            "nbsp" => '\u{A0}',
            "copy" => '©',
            "reg" => '®',
            "trade" => '™',
            "mdash" => '—',
            "ndash" => '–',
            "hellip" => '…',
            "lsquo" => '‘',
            "rsquo" => '’',
            "ldquo" => '“',
            "rdquo" => '”',
            "laquo" => '«',
            "raquo" => '»',
            "bull" => '•',
            "middot" => '·',
            "times" => '×',
            "deg" => '°',
            "euro" => '€',
            _ => return None,
        }
    };
    Some((c, semicolon + 1))
}

#[cfg(test)]
mod tests;
