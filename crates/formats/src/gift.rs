//! Moodle GIFT question files as exam items.
//!
//! GIFT (<https://docs.moodle.org/en/GIFT_format>) is the plain-text format in which Moodle and
//! many other systems exchange questions: blank lines separate questions, `//` starts a comment
//! line, `::title::` names a question and one answer block in braces holds its answers.
//! [`parse`] reads a whole file and returns every item, or every problem found, each at its
//! 1-based line (line 0 for the file as a whole: encoding, emptiness).
//!
//! | GIFT answer block                        | item                                         |
//! |------------------------------------------|----------------------------------------------|
//! | `{T}` `{TRUE}` `{F}` `{FALSE}`           | true/false                                   |
//! | `{=right ~wrong ~wrong}`                 | single choice; choice ids `a`, `b`, ...      |
//! | `{~%50%right ~%50%right ~%-100%wrong}`   | multiple response                            |
//! | `{=answer =other}`, `{answer}`           | short text; a `*` makes a pattern            |
//! | `{#3.14:0.01}` `{#1..5}` `{#=9 =%50%8}`  | numeric                                      |
//! | `{=prompt -> answer = -> distractor}`    | matching; prompts `p1`.., targets `t1`..     |
//! | `{}` (essay)                             | refused: it cannot be scored automatically   |
//! | no answer block (a description)          | skipped                                      |
//!
//! Decisions beyond the GIFT rules, each pinned by a test:
//! - Items are scored right or wrong, so partial credit counts as wrong: a single choice is keyed
//!   to its one fully right answer, short text accepts only fully right answers (so Moodle's
//!   `=%0%*` catch-all is ignored) and a numeric item takes its one fully right answer. Several
//!   positive weights without a 100% one make a multiple-response item, and they must add up to
//!   100% (±1, for thirds written `33.33%`).
//! - Ids come from `// [id:...]`, else the `::title::`, else `gift-<n>` for the n-th question of
//!   the file (descriptions not counted). All are slugs like every other id of a program: ASCII
//!   lower-case letters, digits and hyphens, at most 64, common accents folded. A title used by
//!   two questions is a duplicate id, not silently numbered: the bank matches re-imports by id.
//! - Moodle's default format renders HTML, so it is turned into text like `[html]` but keeps its
//!   line breaks; `[markdown]` is rendered to text; `[plain]` stays as written. Short answers and
//!   matching answers are always plain, as in Moodle. A link keeps its address as `text (url)`;
//!   an image in a question or choice is refused, since a GIFT file does not carry the picture.
//! - Moodle would import these as something the author did not mean, so they are errors: text
//!   before the first `=`/`~` of a choice block, a second answer block, a `{` inside a block, a
//!   true/false keyword followed by more words, a short answer of only `*`.
//! - `$CATEGORY:` takes its own line only. A path ending in `top` or a `$course$`-style token
//!   names no topic, so it returns to the default domain.
//! - The rationale is the general feedback, then each answer's feedback as `"answer": feedback`
//!   (for true/false, `"true"` or `"false"` is the answer the candidate gave).
//! - A line longer than 64 KiB refuses the file: that is data, not questions.

use crate::document::FormatError;
use accredit_domain::exam::{Choice, Item, ItemBody, ItemStatus, TextAnswer};
use std::collections::HashMap;

/// How questions become items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GiftOptions {
    /// The blueprint domain of the questions before the first `$CATEGORY:` line.
    pub default_domain: String,
}

const MAX_LINE_BYTES: usize = 64 * 1024;
const MAX_ID_CHARS: usize = 64;
/// Past this, further messages are noise: the file is probably not GIFT at all.
const MAX_ERRORS: usize = 100;
const ESSAY: &str = "essay questions need a human reviewer and cannot be scored automatically; use a practical assessment instead";
/// Stands for the blank of a missing-word question until the text is plain.
const BLANK: char = '\u{F00FE}';
/// GIFT escapes, and the private-use characters that stand for them while the structure is
/// read, so that `\{` never opens a block nor `\#` starts feedback.
const ESCAPES: [(char, char); 8] = [
    ('\\', '\u{F0000}'),
    ('~', '\u{F0001}'),
    ('=', '\u{F0002}'),
    ('#', '\u{F0003}'),
    ('{', '\u{F0004}'),
    ('}', '\u{F0005}'),
    (':', '\u{F0006}'),
    ('n', '\u{F0007}'),
];

/// Reads a GIFT file: every question becomes a draft item, version 1.
pub fn parse(bytes: &[u8], options: &GiftOptions) -> Result<Vec<Item>, Vec<FormatError>> {
    let text = decode(bytes).map_err(|e| vec![e])?;
    let lines = split_lines(&text);
    // A line this long is data, not questions; anything else said about the file would be noise.
    let long: Vec<FormatError> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.len() > MAX_LINE_BYTES)
        .map(|(i, l)| {
            FormatError::at(
                i + 1,
                format!(
                    "the line is {} bytes long; a line may be at most 64 KiB ({MAX_LINE_BYTES} bytes)",
                    l.len()
                ),
            )
        })
        .collect();
    if !long.is_empty() {
        return Err(capped(long));
    }

    let mut reader = Reader {
        default_domain: &options.default_domain,
        domain: options.default_domain.clone(),
        questions: 0,
        ids: HashMap::new(),
        items: Vec::new(),
        errors: Vec::new(),
    };
    // Moodle trims every line and separates questions by blank lines.
    let trimmed: Vec<(usize, &str)> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .collect();
    for block in trimmed.split(|(_, l)| l.is_empty()) {
        if !block.is_empty() {
            reader.block(block);
        }
    }
    if !reader.errors.is_empty() {
        reader.errors.sort_by_key(|e| e.line);
        return Err(capped(reader.errors));
    }
    if reader.items.is_empty() {
        return Err(vec![FormatError::whole_file(
            "the file holds no questions, only comments, categories or descriptions; expected a question with an answer block, e.g. `What is 2 + 2? {#4}`",
        )]);
    }
    Ok(reader.items)
}

fn capped(errors: Vec<FormatError>) -> Vec<FormatError> {
    crate::document::capped(errors, MAX_ERRORS)
}

// ---------------------------------------------------------------------------------------------
// Decoding

/// UTF-8 text, without its byte-order mark.
fn decode(bytes: &[u8]) -> Result<String, FormatError> {
    if bytes.is_empty() {
        return Err(FormatError::whole_file("the file is empty"));
    }
    if bytes.starts_with(b"\xff\xfe") || bytes.starts_with(b"\xfe\xff") {
        return Err(FormatError::whole_file(
            "the file is UTF-16 text; save it as UTF-8",
        ));
    }
    if let Some(at) = bytes.iter().position(|b| *b == 0) {
        return Err(FormatError::whole_file(format!(
            "the file is binary, not GIFT text: it has a NUL byte at byte offset {at}"
        )));
    }
    let (skipped, body) = match bytes.strip_prefix(b"\xef\xbb\xbf") {
        Some(rest) => (3, rest),
        None => (0, bytes),
    };
    let text = std::str::from_utf8(body).map_err(|e| {
        let at = skipped + e.valid_up_to();
        let problem = match e.error_len() {
            Some(_) => format!("invalid byte 0x{:02x} at byte offset {at}", bytes[at]),
            None => format!("it ends inside a multi-byte character at byte offset {at}"),
        };
        FormatError::whole_file(format!(
            "the file is not UTF-8 text ({problem}); save it as UTF-8"
        ))
    })?;
    if text.trim().is_empty() {
        return Err(FormatError::whole_file("the file contains only whitespace"));
    }
    Ok(text.to_owned())
}

/// Lines split at CR LF, LF or a lone CR.
fn split_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.split('\n').collect();
    if lines.last() == Some(&"") {
        lines.pop();
    }
    lines
        .into_iter()
        .flat_map(|l| {
            let l = l.strip_suffix('\r').unwrap_or(l);
            l.split('\r')
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Questions

struct Reader<'o> {
    default_domain: &'o str,
    /// From the last `$CATEGORY:` line.
    domain: String,
    /// Questions seen so far, descriptions not counted: the `n` of `gift-<n>`.
    questions: usize,
    /// Each id and the line that gave it.
    ids: HashMap<String, usize>,
    items: Vec<Item>,
    errors: Vec<FormatError>,
}

/// A question's lines joined by `\n`, escapes protected, with where each line starts.
struct Text {
    text: String,
    /// (offset in `text`, line of the file), by offset.
    starts: Vec<(usize, usize)>,
}

impl Text {
    fn new(lines: &[(usize, &str)]) -> Self {
        let mut text = String::new();
        let mut starts = Vec::new();
        for (line_number, line) in lines {
            if !text.is_empty() {
                text.push('\n');
            }
            starts.push((text.len(), *line_number));
            text.push_str(&protect(line));
        }
        Text { text, starts }
    }

    fn line(&self, offset: usize) -> usize {
        let after = self.starts.partition_point(|(start, _)| *start <= offset);
        self.starts[after.saturating_sub(1)].1
    }
}

impl Reader<'_> {
    fn error(&mut self, line: usize, message: impl Into<String>) {
        self.errors.push(FormatError::at(line, message));
    }

    /// One blank-line separated block: comments, maybe a category, maybe a question.
    fn block(&mut self, lines: &[(usize, &str)]) {
        let (comments, mut content): (Vec<_>, Vec<_>) = lines
            .iter()
            .copied()
            .partition(|(_, l)| l.starts_with("//"));
        if let Some(&(line, first)) = content.first()
            && let Some(path) = first.strip_prefix("$CATEGORY:")
        {
            self.category(line, path);
            content.remove(0);
        }
        if !content.is_empty() {
            self.question(&Text::new(&content), &comments);
        }
    }

    /// `$CATEGORY: $course$/top/Security review` puts what follows in domain `security-review`.
    fn category(&mut self, line: usize, path: &str) {
        // In Moodle category paths `//` is a slash within a name.
        let path = path.trim().replace("//", "\u{F00FF}");
        let last = path
            .split('/')
            .map(str::trim)
            .rfind(|s| !s.is_empty())
            .unwrap_or("")
            .replace('\u{F00FF}', "/");
        if last.is_empty()
            || last == "top"
            || (last.len() > 1 && last.starts_with('$') && last.ends_with('$'))
        {
            self.domain = self.default_domain.to_owned();
            return;
        }
        let domain = slug(&last);
        if domain.is_empty() {
            self.error(
                line,
                format!("the category `{last}` has no letters or digits to make a domain of; expected e.g. `$CATEGORY: $course$/top/Security review`"),
            );
        } else {
            self.domain = domain;
        }
    }

    fn question(&mut self, text: &Text, comments: &[(usize, &str)]) {
        let s = text.text.as_str();
        let first_line = text.starts[0].1;
        let (title, body) = match s.strip_prefix("::") {
            None => (None, 0),
            Some(rest) => match rest.find("::") {
                Some(end) => (Some(restore(&rest[..end])), end + 4),
                None => {
                    return self.error(
                        first_line,
                        "the title opened with `::` is never closed; expected `::Title::` before the question text",
                    );
                }
            },
        };
        let Some((open, close)) = self.answer_block(text, body) else {
            return;
        };
        self.questions += 1;
        let id = self.id(title.as_deref(), comments, first_line);

        let before = &s[body..open];
        let after = &s[close + 1..];
        // Text after the block makes a missing-word question, the block being the blank.
        let raw_stem = if after.trim().is_empty() {
            before.to_owned()
        } else {
            format!("{before}{BLANK}{after}")
        };
        let format = format_marker(&raw_stem).map_or(Format::Moodle, |(f, _)| f);
        let (stem, image) = plain(&raw_stem, Format::Moodle);
        let mut q = Question {
            text,
            format,
            open_line: text.line(open),
            errors: Vec::new(),
            rationale: Vec::new(),
        };
        if stem.replace(BLANK, "").trim().is_empty() {
            q.error(
                q.open_line,
                "the answer block has no question text; expected the question before it, e.g. `Which port does HTTPS use? {=443 ~80}`",
            );
        }
        if image {
            q.error(
                first_line,
                "the question text shows an image, which a GIFT file does not carry; describe it in words",
            );
        }
        let mut answers = &s[open + 1..close];
        if let Some(at) = answers.rfind("####") {
            let (general, _) = plain(&answers[at + 4..], format);
            if !general.is_empty() {
                q.rationale.push(general);
            }
            answers = &answers[..at];
        }
        let body = q.body(answers, open + 1);
        let failed = !q.errors.is_empty();
        self.errors.append(&mut q.errors);
        if let (Some(body), Some(id), false) = (body, id, failed) {
            self.items.push(Item {
                id,
                domain: self.domain.clone(),
                status: ItemStatus::Draft,
                version: 1,
                stem: stem.replace(BLANK, "_____"),
                artifact: None,
                body,
                rationale: q.rationale.join("\n"),
            });
        }
    }

    /// Where the answer block opens and closes. `None` for a description (no block) and for
    /// braces that make no single block, which is reported.
    fn answer_block(&mut self, text: &Text, from: usize) -> Option<(usize, usize)> {
        let s = text.text.as_str();
        let find = |c: char, from: usize| s[from..].find(c).map(|i| i + from);
        let stray = "a `}` closes no answer block; write `\\}` for a literal brace, or open the block with `{`";
        match (find('{', from), find('}', from)) {
            (None, None) => None,
            (Some(open), None) => {
                let last_line = text.starts[text.starts.len() - 1].1;
                self.error(
                    last_line,
                    format!(
                        "the answer block opened at line {} is never closed; expected `}}`",
                        text.line(open)
                    ),
                );
                None
            }
            (None, Some(close)) => {
                self.error(text.line(close), stray);
                None
            }
            (Some(open), Some(close)) if close < open => {
                self.error(text.line(close), stray);
                None
            }
            (Some(open), Some(close)) => {
                if let Some(inner) = find('{', open + 1).filter(|i| *i < close) {
                    self.error(
                        text.line(inner),
                        format!(
                            "a `{{` inside the answer block opened at line {}; close that block with `}}` first, or write `\\{{` for a literal brace",
                            text.line(open)
                        ),
                    );
                    return None;
                }
                if let Some(next) = s[close + 1..].find(['{', '}']).map(|i| i + close + 1) {
                    let message = if s[next..].starts_with('{') {
                        format!(
                            "a second answer block, after the one closed at line {}; a question has one: separate questions with a blank line",
                            text.line(close)
                        )
                    } else {
                        stray.to_owned()
                    };
                    self.error(text.line(next), message);
                    return None;
                }
                Some((open, close))
            }
        }
    }

    /// The item's id and the line that gave it, unless it is already taken or unusable.
    fn id(
        &mut self,
        title: Option<&str>,
        comments: &[(usize, &str)],
        first_line: usize,
    ) -> Option<String> {
        let explicit = comments
            .iter()
            .find_map(|&(line, c)| c.find("[id:").map(|at| (line, &c[at + 4..])));
        let (id, line) = match explicit {
            Some((line, rest)) => {
                let Some(end) = rest.find(']') else {
                    self.error(line, "the `[id:` is never closed; expected `// [id:my-id]`");
                    return None;
                };
                let id = slug(&rest[..end]);
                if id.is_empty() {
                    self.error(
                        line,
                        format!(
                            "the id `{}` has no letters or digits; expected e.g. `// [id:tls-handshake-1]`",
                            &rest[..end]
                        ),
                    );
                    return None;
                }
                (id, line)
            }
            None => (
                title
                    .map(slug)
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| format!("gift-{}", self.questions)),
                first_line,
            ),
        };
        if let Some(&earlier) = self.ids.get(&id) {
            self.error(
                line,
                format!(
                    "the id `{id}` is already used by the question at line {earlier}; ids must be unique in a file: give one of them another `::title::` or a `// [id:...]` comment"
                ),
            );
            return None;
        }
        self.ids.insert(id.clone(), line);
        Some(id)
    }
}

/// One question's answer block being read.
struct Question<'t> {
    text: &'t Text,
    /// The question's text format, which answers and feedback inherit.
    format: Format,
    open_line: usize,
    errors: Vec<FormatError>,
    rationale: Vec<String>,
}

/// One answer after its `=` or `~`: an optional `%weight%`, the text, an optional `#feedback`.
struct Answer<'a> {
    line: usize,
    weight: Option<f64>,
    text: &'a str,
    feedback: Option<&'a str>,
}

impl Question<'_> {
    fn error(&mut self, line: usize, message: impl Into<String>) {
        self.errors.push(FormatError::at(line, message));
    }

    /// The item body, by Moodle's order of precedence between the kinds.
    fn body(&mut self, answers: &str, base: usize) -> Option<ItemBody> {
        let trimmed = answers.trim();
        if trimmed.is_empty() {
            self.error(self.open_line, ESSAY);
            return None;
        }
        if let Some(at) = answers.find('#')
            && trimmed.starts_with('#')
        {
            return self.numeric(&answers[at + 1..], base + at + 1);
        }
        if trimmed.contains('~') {
            return self.choices(answers, base);
        }
        if trimmed.contains('=') && trimmed.contains("->") {
            return self.matching(answers, base);
        }
        let key = trimmed.split('#').next().unwrap_or("").trim();
        if let Some(correct) = true_false(key) {
            return Some(self.true_false(correct, trimmed));
        }
        if let Some((word, _)) = key.split_once(char::is_whitespace)
            && true_false(word).is_some()
        {
            let shown = restore(key);
            self.error(
                self.open_line,
                format!(
                    "the true/false answer `{shown}` has more after `{word}`; expected `{{{word}}}` or `{{{word}#feedback}}`, or `{{={shown}}}` for a short answer"
                ),
            );
            return None;
        }
        self.short(answers, base)
    }

    fn true_false(&mut self, correct: bool, answers: &str) -> ItemBody {
        // The first feedback is shown for the wrong answer, the second for the right one.
        let mut feedback = answers.splitn(3, '#').skip(1);
        for given in [!correct, correct] {
            if let Some(raw) = feedback.next() {
                self.feedback(format!("\"{given}\""), raw);
            }
        }
        ItemBody::TrueFalse { correct }
    }

    fn choices(&mut self, answers: &str, base: usize) -> Option<ItemBody> {
        let (prefix, parts) = split_at(answers, base, &['~', '=']);
        let mut ok = self.nothing_before(prefix, base, "`=` (right) or `~` (wrong)");
        let mut list: Vec<(Choice, f64)> = Vec::new();
        for (at, part) in parts {
            let Some(answer) = self.answer(&part[1..], at) else {
                ok = false;
                continue;
            };
            let right = part.starts_with('=');
            let weight = answer.weight.unwrap_or(if right { 100.0 } else { 0.0 });
            let (text, image) = plain(answer.text, self.format);
            if text.is_empty() {
                let marker = if right { '=' } else { '~' };
                self.error(
                    answer.line,
                    format!("an empty answer; expected its text after `{marker}`"),
                );
                ok = false;
                continue;
            }
            if image {
                self.error(
                    answer.line,
                    format!("the answer `{text}` shows an image, which a GIFT file does not carry; describe it in words"),
                );
                ok = false;
            }
            if list.iter().any(|(c, _)| c.text == text) {
                self.error(
                    answer.line,
                    format!("the answer `{text}` appears twice; each choice must differ"),
                );
                ok = false;
            }
            if let Some(raw) = answer.feedback {
                self.feedback(format!("\"{text}\""), raw);
            }
            let id = choice_id(list.len());
            list.push((Choice { id, text }, weight));
        }
        if !ok {
            return None;
        }
        if list.len() < 2 {
            self.error(
                self.open_line,
                format!(
                    "a multiple-choice question needs at least two answers, found {}; expected e.g. `{{=right ~wrong}}`",
                    list.len()
                ),
            );
            return None;
        }
        let right: Vec<&(Choice, f64)> = list.iter().filter(|(_, w)| *w > 0.0).collect();
        let full: Vec<&&(Choice, f64)> = right.iter().filter(|(_, w)| *w >= 100.0).collect();
        let choices: Vec<Choice> = list.iter().map(|(c, _)| c.clone()).collect();
        if right.len() == 1 || full.len() == 1 {
            let key = full.first().copied().unwrap_or(&right[0]);
            return Some(ItemBody::SingleChoice {
                choices,
                correct: key.0.id.clone(),
            });
        }
        if right.is_empty() {
            self.error(
                self.open_line,
                "none of the answers is right; mark the right one with `=`, or give each right answer of a multiple-response question its share, e.g. `~%50%`",
            );
            return None;
        }
        if full.len() > 1 {
            let names: Vec<String> = full.iter().map(|(c, _)| format!("`{}`", c.text)).collect();
            self.error(
                self.open_line,
                format!(
                    "{} answers are fully right ({}); a single-choice question has one `=` answer, and a multiple-response question gives each right answer its share, e.g. `~%50%`",
                    full.len(),
                    names.join(", ")
                ),
            );
            return None;
        }
        let sum: f64 = right.iter().map(|(_, w)| w).sum();
        if (sum - 100.0).abs() > 1.0 {
            self.error(
                self.open_line,
                format!("the right answers' weights add up to {sum}%; for a multiple-response question they must add up to 100%"),
            );
            return None;
        }
        Some(ItemBody::MultipleResponse {
            choices,
            correct: right.iter().map(|(c, _)| c.id.clone()).collect(),
        })
    }

    fn numeric(&mut self, answers: &str, base: usize) -> Option<ItemBody> {
        // `~#feedback` after the answers is the feedback for any other answer.
        let (answers, other) = match answers.find('~') {
            Some(at) => (&answers[..at], Some((base + at, &answers[at + 1..]))),
            None => (answers, None),
        };
        let mut ok = true;
        let mut full = Vec::new();
        for (at, part) in lone_and_parts(answers, base) {
            let Some(answer) = self.answer(part, at) else {
                ok = false;
                continue;
            };
            let value = restore(answer.text.trim());
            if let Some(raw) = answer.feedback {
                self.feedback(format!("\"{value}\""), raw);
            }
            let weight = answer.weight.unwrap_or(100.0);
            // Moodle's catch-all for wrong answers.
            if value == "*" && weight < 100.0 {
                continue;
            }
            match number_range(&value) {
                Ok(key) if weight >= 100.0 => full.push(key),
                Ok(_) => {}
                Err(message) => {
                    self.error(answer.line, message);
                    ok = false;
                }
            }
        }
        if let Some((at, other)) = other {
            match other.trim_start().strip_prefix('#') {
                Some(raw) => self.feedback("any other answer".into(), raw),
                None => {
                    self.error(
                        self.text.line(at),
                        "after `~` a numeric question takes only the feedback for any other answer; expected e.g. `{#3:2 ~#Not between 1 and 5}`",
                    );
                    ok = false;
                }
            }
        }
        if !ok {
            return None;
        }
        match full[..] {
            [(answer, tolerance)] => Some(ItemBody::Numeric { answer, tolerance }),
            [] => {
                self.error(
                    self.open_line,
                    "no numeric answer is fully right; expected e.g. `{#3.14:0.01}`, `{#1..5}` or `{#=9 =%50%8}`",
                );
                None
            }
            _ => {
                self.error(
                    self.open_line,
                    format!(
                        "{} numeric answers are fully right; an item has one answer and tolerance, so give the others a partial weight such as `=%50%`",
                        full.len()
                    ),
                );
                None
            }
        }
    }

    fn matching(&mut self, answers: &str, base: usize) -> Option<ItemBody> {
        let (prefix, parts) = split_at(answers, base, &['=']);
        let mut ok = self.nothing_before(prefix, base, "`=prompt -> answer`");
        let (mut prompts, mut targets, mut pairs) =
            (Vec::<Choice>::new(), Vec::<Choice>::new(), Vec::new());
        for (at, part) in parts {
            let line = self.text.line(at);
            let Some((prompt, target)) = part[1..].split_once("->") else {
                self.error(
                    line,
                    format!(
                        "the matching pair `{}` has no `->`; expected `=prompt -> answer`",
                        restore(part[1..].trim())
                    ),
                );
                ok = false;
                continue;
            };
            let (prompt, image) = plain(prompt, self.format);
            let (target, _) = plain(target, Format::Plain);
            if target.is_empty() {
                self.error(
                    line,
                    format!("the matching pair `{prompt}` has no answer after `->`"),
                );
                ok = false;
                continue;
            }
            // Answers with the same text are one target, so either pairing is right.
            let target_id = match targets.iter().find(|t| t.text == target) {
                Some(t) => t.id.clone(),
                None => {
                    let id = format!("t{}", targets.len() + 1);
                    targets.push(Choice {
                        id: id.clone(),
                        text: target,
                    });
                    id
                }
            };
            // `= -> answer` adds an answer that matches no prompt, to make guessing harder.
            if prompt.is_empty() {
                continue;
            }
            if image {
                self.error(
                    line,
                    format!("the prompt `{prompt}` shows an image, which a GIFT file does not carry; describe it in words"),
                );
                ok = false;
            }
            if prompts.iter().any(|p| p.text == prompt) {
                self.error(
                    line,
                    format!("the prompt `{prompt}` appears twice; each prompt must differ"),
                );
                ok = false;
            }
            let id = format!("p{}", prompts.len() + 1);
            pairs.push((id.clone(), target_id));
            prompts.push(Choice { id, text: prompt });
        }
        if !ok {
            return None;
        }
        if prompts.len() < 2 {
            self.error(
                self.open_line,
                format!(
                    "a matching question needs at least two pairs, found {}; expected e.g. `{{=TCP -> reliable =UDP -> connectionless}}`",
                    prompts.len()
                ),
            );
            return None;
        }
        Some(ItemBody::Matching {
            prompts,
            targets,
            pairs,
        })
    }

    fn short(&mut self, answers: &str, base: usize) -> Option<ItemBody> {
        let mut ok = true;
        let mut accepted = Vec::new();
        for (at, part) in lone_and_parts(answers, base) {
            let Some(answer) = self.answer(part, at) else {
                ok = false;
                continue;
            };
            let (text, _) = plain(answer.text, Format::Plain);
            if let Some(raw) = answer.feedback {
                self.feedback(format!("\"{text}\""), raw);
            }
            // Partial credit, and Moodle's `=%0%*` catch-all, are not right answers.
            if answer.weight.is_some_and(|w| w < 100.0) {
                continue;
            }
            if text.is_empty() {
                self.error(
                    answer.line,
                    "an empty short answer; expected the accepted text after `=`",
                );
                ok = false;
            } else if text.chars().all(|c| c == '*' || c.is_whitespace()) {
                self.error(
                    answer.line,
                    format!("the short answer `{text}` would accept any text; expected the words of a right answer, where `*` stands for any text, e.g. `=rotate * keys`"),
                );
                ok = false;
            } else if text.contains('*') {
                accepted.push(TextAnswer::Pattern(text));
            } else {
                accepted.push(TextAnswer::Exact(text));
            }
        }
        if !ok {
            return None;
        }
        if accepted.is_empty() {
            self.error(
                self.open_line,
                "none of the short answers is fully right; give at least one without a weight, e.g. `{=least privilege}`",
            );
            return None;
        }
        Some(ItemBody::ShortText { accepted })
    }

    /// Reads one answer: `part` is what follows its `=` or `~`, which is at `at`.
    fn answer<'a>(&mut self, part: &'a str, at: usize) -> Option<Answer<'a>> {
        let line = self.text.line(at);
        let mut body = part.trim_start();
        let mut weight = None;
        if let Some(rest) = body.strip_prefix('%')
            && let Some(end) = rest.find('%')
        {
            let number = &rest[..end];
            match number.parse::<f64>() {
                Ok(w)
                    if number
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
                        && (-100.0..=100.0).contains(&w) =>
                {
                    weight = Some(w)
                }
                _ => {
                    self.error(
                        line,
                        format!(
                            "the answer weight `%{}%` is not a percentage; expected a number from -100 to 100, e.g. `~%50%` or `~%-25%`",
                            restore(number)
                        ),
                    );
                    return None;
                }
            }
            body = &rest[end + 1..];
        }
        let (text, feedback) = match body.split_once('#') {
            Some((text, feedback)) => (text, Some(feedback)),
            None => (body, None),
        };
        Some(Answer {
            line,
            weight,
            text,
            feedback,
        })
    }

    fn feedback(&mut self, label: String, raw: &str) {
        let (text, _) = plain(raw, self.format);
        if !text.is_empty() {
            self.rationale.push(format!("{label}: {text}"));
        }
    }

    /// Reports text before the first answer marker, which Moodle would make an answer.
    fn nothing_before(&mut self, prefix: &str, base: usize, expected: &str) -> bool {
        if prefix.trim().is_empty() {
            return true;
        }
        let line = self
            .text
            .line(base + prefix.len() - prefix.trim_start().len());
        self.error(
            line,
            format!(
                "`{}` comes before the first answer; start every answer with {expected}",
                restore(prefix.trim())
            ),
        );
        false
    }
}

fn true_false(key: &str) -> Option<bool> {
    match key {
        "T" | "TRUE" => Some(true),
        "F" | "FALSE" => Some(false),
        _ => None,
    }
}

/// The parts of an answer block starting at each of `markers` (`~a =b` gives `~a ` and `=b`),
/// with their offsets; and the text before the first marker.
fn split_at<'a>(text: &'a str, base: usize, markers: &[char]) -> (&'a str, Vec<(usize, &'a str)>) {
    let mut cuts: Vec<usize> = text.match_indices(markers).map(|(i, _)| i).collect();
    let first = cuts.first().copied().unwrap_or(text.len());
    cuts.push(text.len());
    let parts = cuts
        .windows(2)
        .map(|w| (base + w[0], &text[w[0]..w[1]]))
        .collect();
    (&text[..first], parts)
}

/// The answers of a short-answer or numeric block, each after its `=`, and the lone answer that
/// needs no `=` (`{One}`, `{#4}`), with their offsets.
fn lone_and_parts(text: &str, base: usize) -> Vec<(usize, &str)> {
    let (lone, parts) = split_at(text, base, &['=']);
    let lone =
        (!lone.trim().is_empty()).then_some((base + lone.len() - lone.trim_start().len(), lone));
    lone.into_iter()
        .chain(parts.into_iter().map(|(at, part)| (at, &part[1..])))
        .collect()
}

fn choice_id(mut n: usize) -> String {
    let mut id = String::new();
    loop {
        id.insert(0, char::from(b'a' + (n % 26) as u8));
        if n < 26 {
            return id;
        }
        n = n / 26 - 1;
    }
}

/// `answer`, `answer:tolerance` or `min..max`, as answer and tolerance.
fn number_range(value: &str) -> Result<(f64, f64), String> {
    let number = |s: &str| {
        let s = s.trim();
        s.parse::<f64>()
            .ok()
            .filter(|n| n.is_finite() && s.bytes().all(|b| b.is_ascii_digit() || b".+-eE".contains(&b)))
            .ok_or_else(|| {
                format!(
                    "numeric answer `{value}` is not a number; expected `{{#3.14:0.01}}` or `{{#1..5}}`"
                )
            })
    };
    if let Some((min, max)) = value.split_once("..") {
        let (min, max) = (number(min)?, number(max)?);
        if min > max {
            return Err(format!(
                "numeric range `{value}` runs from {min} down to {max}; expected the smaller number first, e.g. `{{#1..5}}`"
            ));
        }
        Ok(((min + max) / 2.0, (max - min) / 2.0))
    } else if let Some((answer, tolerance)) = value.split_once(':') {
        let (answer, tolerance) = (number(answer)?, number(tolerance)?);
        if tolerance < 0.0 {
            return Err(format!(
                "numeric answer `{value}` has a negative tolerance; expected e.g. `{{#3.14:0.01}}`"
            ));
        }
        Ok((answer, tolerance))
    } else {
        Ok((number(value)?, 0.0))
    }
}

/// An id from free text: ASCII lower-case letters and digits joined by single hyphens, common
/// accented letters folded (`é` → `e`), at most 64 characters.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        let folded = match c {
            'à'..='å' => "a",
            'æ' => "ae",
            'ç' => "c",
            'è'..='ë' => "e",
            'ì'..='ï' => "i",
            'ñ' => "n",
            'ò'..='ö' | 'ø' => "o",
            'œ' => "oe",
            'ß' => "ss",
            'ù'..='ü' => "u",
            'ý' | 'ÿ' => "y",
            _ => "",
        };
        if !folded.is_empty() {
            out.push_str(folded);
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(MAX_ID_CHARS);
    out.trim_end_matches('-').to_owned()
}

// ---------------------------------------------------------------------------------------------
// Text

fn protect(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(next) = chars.clone().next()
            && let Some((_, stand_in)) = ESCAPES.iter().find(|(e, _)| *e == next)
        {
            out.push(*stand_in);
            chars.next();
        } else {
            out.push(c);
        }
    }
    out
}

fn restore(text: &str) -> String {
    text.chars()
        .map(
            |c| match ESCAPES.iter().find(|(_, stand_in)| *stand_in == c) {
                Some(('n', _)) => '\n',
                Some((escaped, _)) => *escaped,
                None => c,
            },
        )
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// Moodle's own, the default: HTML where line breaks count.
    Moodle,
    Html,
    Markdown,
    Plain,
}

/// A leading `[html]`, `[moodle]`, `[markdown]` or `[plain]`, and the text after it.
fn format_marker(text: &str) -> Option<(Format, &str)> {
    let text = text.trim_start();
    [
        ("[html]", Format::Html),
        ("[moodle]", Format::Moodle),
        ("[markdown]", Format::Markdown),
        ("[plain]", Format::Plain),
    ]
    .into_iter()
    .find_map(|(marker, format)| text.strip_prefix(marker).map(|rest| (format, rest)))
}

/// Plain text from GIFT text, in its own format or else the inherited one; and whether an image
/// was dropped.
fn plain(raw: &str, inherited: Format) -> (String, bool) {
    let (format, body) = format_marker(raw).unwrap_or((inherited, raw));
    let text = restore(body);
    match format {
        Format::Plain => (tidy(&text), false),
        Format::Moodle => html_to_text(&text, true),
        Format::Html => html_to_text(&text, false),
        Format::Markdown => markdown_to_text(&text),
    }
}

/// Tags that end a line of text.
const BLOCK_TAGS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "tr",
    "ul",
    "ol",
    "table",
    "blockquote",
    "pre",
    "hr",
    "dt",
    "dd",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
];

/// HTML as plain text: tags dropped (block tags and `<br>` end a line), comments, scripts and
/// styles dropped with their content, a link's address kept as `text (url)`, entities decoded,
/// white space collapsed. `keep_newlines` keeps the source's line breaks, as Moodle's own
/// format does. Also says whether an image was dropped.
fn html_to_text(html: &str, keep_newlines: bool) -> (String, bool) {
    let mut out = String::new();
    let mut image = false;
    let mut link: Option<(String, usize)> = None;
    // Once no `>` is left every `<` is text: looking again would make hostile input quadratic.
    let mut more_tags = true;
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        if let Some(comment) = rest.strip_prefix("<!--") {
            rest = comment.find("-->").map_or("", |end| &comment[end + 3..]);
            continue;
        }
        // `a < b` and `a<3` are text, not tags.
        let tag_start = more_tags
            && c == '<'
            && rest[1..]
                .starts_with(|n: char| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?'));
        let tag_end = if tag_start { rest.find('>') } else { None };
        more_tags &= !tag_start || tag_end.is_some();
        if let Some(end) = tag_end {
            let tag = &rest[1..end];
            rest = &rest[end + 1..];
            let closing = tag.starts_with('/');
            let name = tag
                .trim_start_matches('/')
                .split(|c: char| c.is_whitespace() || c == '/')
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            match name.as_str() {
                "script" | "style" if !closing => {
                    let lower = rest.to_ascii_lowercase();
                    rest = lower
                        .find(&format!("</{name}"))
                        .and_then(|at| rest[at..].find('>').map(|end| &rest[at + end + 1..]))
                        .unwrap_or("");
                }
                "img" => image = true,
                "a" if !closing => link = attribute(tag, "href").map(|url| (url, out.len())),
                "a" => {
                    if let Some((url, start)) = link.take()
                        && !url.is_empty()
                        && out[start..].trim() != url
                    {
                        out.push_str(&format!(" ({url})"));
                    }
                }
                "td" | "th" => out.push(' '),
                name if BLOCK_TAGS.contains(&name) => out.push('\n'),
                _ => {}
            }
            continue;
        }
        if c == '&'
            && let Some((decoded, len)) = entity(rest)
        {
            out.push(decoded);
            rest = &rest[len..];
            continue;
        }
        out.push(if c == '\n' && !keep_newlines { ' ' } else { c });
        rest = &rest[c.len_utf8()..];
    }
    (tidy(&out), image)
}

/// The character an entity at the start of `text` stands for, and the entity's length.
fn entity(text: &str) -> Option<(char, usize)> {
    let (end, _) = text.char_indices().take(12).find(|(_, c)| *c == ';')?;
    let c = match &text[1..end] {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        name => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code).filter(|c| *c != '\0')?
        }
    };
    Some((c, end + 1))
}

/// An attribute's value from the inside of a tag (`a href="..."`), entities decoded.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let (at, _) = lower.match_indices(name).find(|(i, _)| {
        tag[..*i].ends_with(char::is_whitespace)
            && tag[i + name.len()..].trim_start().starts_with('=')
    })?;
    let value = tag[at + name.len()..].trim_start()[1..].trim_start();
    let value = match value.chars().next()? {
        quote @ ('"' | '\'') => value[1..].split(quote).next()?,
        _ => value.split(char::is_whitespace).next()?,
    };
    Some(html_to_text(value, false).0)
}

/// Markdown as plain text; and whether an image was dropped.
fn markdown_to_text(markdown: &str) -> (String, bool) {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let (mut out, mut image) = (String::new(), false);
    for event in Parser::new(markdown) {
        match event {
            Event::Text(text) | Event::Code(text) => out.push_str(&text),
            Event::SoftBreak => out.push(' '),
            Event::HardBreak | Event::Rule | Event::End(TagEnd::Item) => out.push('\n'),
            Event::End(
                TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::CodeBlock | TagEnd::BlockQuote(_),
            ) => out.push_str("\n\n"),
            Event::Start(Tag::Image { .. }) => image = true,
            Event::Html(html) => {
                let (text, has_image) = html_to_text(&html, false);
                out.push_str(&text);
                out.push('\n');
                image |= has_image;
            }
            Event::InlineHtml(html) => image |= html_to_text(&html, false).1,
            _ => {}
        }
    }
    (tidy(&out), image)
}

/// White space collapsed within lines, at most one empty line in a row, none at either end.
fn tidy(text: &str) -> String {
    let mut out = String::new();
    let mut gap = false;
    for line in text.split('\n') {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            gap = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push_str(if gap { "\n\n" } else { "\n" });
        }
        out.push_str(&line);
        gap = false;
    }
    out
}

#[cfg(test)]
mod tests;
