//! Recorded-session transcripts (WebVTT and SRT) turned into readable documents: cues merged into
//! paragraphs that keep their start time and speaker, grouped into sections at chapters, at long
//! pauses or roughly every five minutes.
//!
//! [`parse`] reads the whole file in one go and returns either the [`Document`] or every problem
//! found, each at its line (line 0 for the file as a whole: encoding, emptiness).
//!
//! Decisions beyond the two formats' own rules, each pinned by a test:
//! - Timestamps may have 1 to 3 fractional digits or none (`00:01:39`, `00:01:41.04`): real
//!   exporters write them and they are unambiguous. Minutes and seconds must have two digits.
//! - A line containing `-->` that is not a timing line is an error rather than silently dropped,
//!   and so is text after the first cue that belongs to no cue: both lose words otherwise.
//! - Cues may overlap by at most a second, except when two named speakers talk over each other.
//!   Positioned captions shown side by side (WebVTT regions, SRT `{\an8}`) overlap for longer and
//!   are refused too: a transcript is read in one order, and such files are subtitles for a
//!   player, not a record of what was said.
//! - Lines holding only spaces or tabs separate cues like empty lines.
//! - A cue without a voice span takes its speaker from a leading `NAME:` label in both formats;
//!   a cue without any label continues the current speaker, as transcripts label turns, not cues.

use crate::document::{Block, Document, FormatError, Section, anchor};

/// The transcript formats [`parse`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TranscriptFormat {
    WebVtt,
    Srt,
}

/// How cues become paragraphs and sections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptOptions {
    /// Chapter starts (milliseconds from the start of the recording) and titles. When given,
    /// they replace the file's own `NOTE Chapter: ...` markers.
    pub chapters: Vec<(u64, String)>,
    /// A silence longer than this between cues ends a paragraph; three times as long starts a
    /// new section when there are no chapters.
    pub pause_ms: u64,
    /// A paragraph longer than this ends at the next cue that ends a sentence.
    pub max_paragraph_chars: usize,
    /// The document's title; when absent, the text after a WebVTT signature (`WEBVTT - Title`).
    pub title: Option<String>,
}

impl Default for TranscriptOptions {
    fn default() -> Self {
        Self {
            chapters: Vec::new(),
            pause_ms: 4_000,
            max_paragraph_chars: 600,
            title: None,
        }
    }
}

const MAX_LINE_CHARS: usize = 10_000;
/// Captioners routinely let a cue linger a little into the next one.
const OVERLAP_TOLERANCE_MS: u64 = 1_000;
const SECTION_SPAN_MS: u64 = 5 * 60 * 1_000;
const HEADING_WORDS: usize = 8;
/// Past this, further messages are noise: the file is probably not a transcript at all.
const MAX_ERRORS: usize = 100;

/// Recognises a transcript by its content (the WebVTT signature, an SRT first cue), else by the
/// file name's extension.
pub fn detect(bytes: &[u8], file_name: Option<&str>) -> Option<TranscriptFormat> {
    if let Ok(text) = decode(bytes) {
        let (lines, _) = split_lines(&text);
        if lines.first().is_some_and(|l| signature(l).is_some()) {
            return Some(TranscriptFormat::WebVtt);
        }
        if looks_like_srt(&lines) {
            return Some(TranscriptFormat::Srt);
        }
    }
    let (_, extension) = file_name?.rsplit_once('.')?;
    match extension.to_ascii_lowercase().as_str() {
        "vtt" | "webvtt" => Some(TranscriptFormat::WebVtt),
        "srt" => Some(TranscriptFormat::Srt),
        _ => None,
    }
}

/// Reads a transcript and builds its document.
pub fn parse(
    bytes: &[u8],
    format: TranscriptFormat,
    options: &TranscriptOptions,
) -> Result<Document, Vec<FormatError>> {
    let text = decode(bytes).map_err(|e| vec![e])?;
    let (lines, ends_with_newline) = split_lines(&text);
    // A line this long is data, not speech; anything else said about the file would be noise.
    let long: Vec<FormatError> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.len() > MAX_LINE_CHARS && l.chars().count() > MAX_LINE_CHARS)
        .map(|(i, l)| {
            FormatError::at(
                i + 1,
                format!(
                    "the line is {} characters long; lines may be at most {MAX_LINE_CHARS}",
                    l.chars().count()
                ),
            )
        })
        .collect();
    if !long.is_empty() {
        return Err(capped(long));
    }

    let mut reader = Reader {
        format,
        lines,
        ends_with_newline,
        errors: Vec::new(),
        cues: Vec::new(),
        marks: Vec::new(),
        last_timing: None,
    };
    let own_title = match format {
        TranscriptFormat::WebVtt => match reader.read_webvtt() {
            Ok(title) => title,
            Err(signature) => return Err(vec![signature]),
        },
        TranscriptFormat::Srt => {
            reader.read_srt();
            None
        }
    };
    reader.check_truncated_end();
    reader.check_order();
    if !reader.errors.is_empty() {
        let mut errors = reader.errors;
        errors.sort_by_key(|e| e.line);
        return Err(capped(errors));
    }
    let title = options
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .or(own_title);
    Ok(build(&reader.cues, &reader.marks, options, title))
}

fn capped(errors: Vec<FormatError>) -> Vec<FormatError> {
    crate::document::capped(errors, MAX_ERRORS)
}

// ---------------------------------------------------------------------------------------------
// Decoding

/// Bytes to text: UTF-8 with or without a byte-order mark, UTF-16 and UTF-32 with one. NULs
/// become U+FFFD as WebVTT prescribes, unless there are so many that the file is not text.
fn decode(bytes: &[u8]) -> Result<String, FormatError> {
    if bytes.is_empty() {
        return Err(FormatError::whole_file("the file is empty"));
    }
    if let Some(kind) = crate::document::binary_kind(bytes) {
        // Word and other Office documents are ZIP archives.
        let hint = if kind == "a ZIP archive" {
            " (Word and other Office documents are ZIP archives)"
        } else {
            ""
        };
        return Err(FormatError::whole_file(format!(
            "the file is {kind}{hint}, not a transcript"
        )));
    }
    let text = if let Some(rest) = bytes.strip_prefix(b"\xef\xbb\xbf") {
        utf8(rest, 3)?
    } else if let Some(rest) = bytes.strip_prefix(b"\xff\xfe\x00\x00") {
        utf32(rest, u32::from_le_bytes)?
    } else if let Some(rest) = bytes.strip_prefix(b"\x00\x00\xfe\xff") {
        utf32(rest, u32::from_be_bytes)?
    } else if let Some(rest) = bytes.strip_prefix(b"\xff\xfe") {
        utf16(rest, u16::from_le_bytes)?
    } else if let Some(rest) = bytes.strip_prefix(b"\xfe\xff") {
        utf16(rest, u16::from_be_bytes)?
    } else if looks_like_utf16(bytes) {
        return Err(FormatError::whole_file(
            "the file looks like UTF-16 text without a byte-order mark; save it as UTF-8",
        ));
    } else {
        utf8(bytes, 0)?
    };
    if text.is_empty() {
        return Err(FormatError::whole_file(
            "the file holds only a byte-order mark",
        ));
    }

    let chars = text.chars().count();
    let nuls = text.chars().filter(|c| *c == '\0').count();
    if nuls * 8 > chars {
        return Err(FormatError::whole_file(format!(
            "the file is binary, not text ({nuls} of its {chars} characters are NUL)"
        )));
    }
    if text.trim().is_empty() {
        return Err(FormatError::whole_file("the file contains only whitespace"));
    }
    Ok(text.replace('\0', "\u{fffd}"))
}

/// Latin text written as UTF-16 has a NUL in every other byte: at odd offsets for little-endian,
/// even for big-endian.
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

fn utf8(bytes: &[u8], offset: usize) -> Result<String, FormatError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(e) => {
            let at = e.valid_up_to();
            let before = &bytes[..at];
            let line = 1 + before
                .iter()
                .enumerate()
                .filter(|(i, b)| {
                    **b == b'\n' || (**b == b'\r' && before.get(i + 1) != Some(&b'\n'))
                })
                .count();
            let problem = match e.error_len() {
                Some(_) => format!(
                    "invalid byte 0x{:02x} at byte {}, line {line}",
                    bytes[at],
                    offset + at + 1
                ),
                None => format!(
                    "it ends inside a multi-byte character at byte {}",
                    offset + at + 1
                ),
            };
            Err(FormatError::whole_file(format!(
                "the file is not UTF-8 text ({problem}); save it as UTF-8"
            )))
        }
    }
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, FormatError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(FormatError::whole_file(format!(
            "the file is not UTF-16 text (it ends with a stray byte at byte {})",
            bytes.len() + 2
        )));
    }
    let units = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    let mut text = String::with_capacity(bytes.len() / 2);
    let mut position = 0;
    for decoded in char::decode_utf16(units) {
        match decoded {
            Ok(c) => {
                position += c.len_utf16();
                text.push(c);
            }
            Err(e) => {
                return Err(FormatError::whole_file(format!(
                    "the file is not UTF-16 text (unpaired surrogate 0x{:04x} at byte {})",
                    e.unpaired_surrogate(),
                    2 + position * 2 + 1
                )));
            }
        }
    }
    Ok(text)
}

fn utf32(bytes: &[u8], unit: fn([u8; 4]) -> u32) -> Result<String, FormatError> {
    if !bytes.len().is_multiple_of(4) {
        return Err(FormatError::whole_file(format!(
            "the file is not UTF-32 text (it ends with {} stray bytes)",
            bytes.len() % 4
        )));
    }
    let mut text = String::with_capacity(bytes.len() / 4);
    for (i, quad) in bytes.chunks_exact(4).enumerate() {
        let value = unit([quad[0], quad[1], quad[2], quad[3]]);
        let Some(c) = char::from_u32(value) else {
            return Err(FormatError::whole_file(format!(
                "the file is not UTF-32 text (invalid code point 0x{value:x} at byte {})",
                4 + i * 4 + 1
            )));
        };
        text.push(c);
    }
    Ok(text)
}

/// Lines split at CR LF, CR or LF, as both formats allow; and whether the last line was ended.
fn split_lines(text: &str) -> (Vec<&str>, bool) {
    let mut lines = Vec::new();
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\r' => {
                lines.push(&text[start..i]);
                i += if bytes.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                start = i;
            }
            b'\n' => {
                lines.push(&text[start..i]);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    let ends_with_newline = start == bytes.len() && !bytes.is_empty();
    if start < bytes.len() {
        lines.push(&text[start..]);
    }
    (lines, ends_with_newline)
}

// ---------------------------------------------------------------------------------------------
// Timestamps and timing lines

impl TranscriptFormat {
    fn pattern(self) -> &'static str {
        match self {
            TranscriptFormat::WebVtt => "hh:mm:ss.ttt",
            TranscriptFormat::Srt => "hh:mm:ss,mmm",
        }
    }

    fn example(self) -> &'static str {
        match self {
            TranscriptFormat::WebVtt => "00:00:01.000 --> 00:00:04.000",
            TranscriptFormat::Srt => "00:00:01,000 --> 00:00:04,000",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StampError {
    Malformed,
    /// The text ran out before the timestamp was complete.
    Incomplete,
    Sixty(&'static str),
    /// `00:00:01,000` in a WebVTT file.
    Comma,
    TooLarge,
}

/// Whitespace around timings: WebVTT's space, tab and form feed.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\x0c')
}

fn is_blank(line: &str) -> bool {
    line.bytes().all(is_space)
}

fn skip_spaces(s: &str, mut i: usize) -> usize {
    let b = s.as_bytes();
    while i < b.len() && is_space(b[i]) {
        i += 1;
    }
    i
}

/// Collects ASCII digits: their value (None on overflow) and count.
fn digits(b: &[u8], i: &mut usize) -> (Option<u64>, usize) {
    let start = *i;
    let mut value = Some(0u64);
    while *i < b.len() && b[*i].is_ascii_digit() {
        value = value
            .and_then(|v| v.checked_mul(10))
            .and_then(|v| v.checked_add(u64::from(b[*i] - b'0')));
        *i += 1;
    }
    (value, *i - start)
}

/// A timestamp at the start of `s`, as WebVTT's parser reads it (`[h+:]mm:ss.ttt`), but also
/// with 1 or 2 fractional digits or none after hours. Returns milliseconds and bytes read.
fn timestamp(s: &str, format: TranscriptFormat) -> Result<(u64, usize), StampError> {
    let b = s.as_bytes();
    let short = |i: usize| {
        if i >= b.len() {
            StampError::Incomplete
        } else {
            StampError::Malformed
        }
    };
    let colon = |i: &mut usize| {
        if b.get(*i) == Some(&b':') {
            *i += 1;
            Ok(())
        } else {
            Err(short(*i))
        }
    };
    let mut i = 0;
    let (first, n1) = digits(b, &mut i);
    if n1 == 0 {
        return Err(short(i));
    }
    colon(&mut i)?;
    let (second, n2) = digits(b, &mut i);
    if n2 != 2 {
        return Err(if n2 < 2 {
            short(i)
        } else {
            StampError::Malformed
        });
    }
    let first = first.ok_or(StampError::TooLarge)?;
    let second = second.unwrap_or(0);
    let with_hours = n1 != 2 || first > 59 || b.get(i) == Some(&b':');
    let (hours, minutes, seconds) = if with_hours {
        colon(&mut i)?;
        let (third, n3) = digits(b, &mut i);
        if n3 != 2 {
            return Err(if n3 < 2 {
                short(i)
            } else {
                StampError::Malformed
            });
        }
        (first, second, third.unwrap_or(0))
    } else {
        (0, first, second)
    };
    let mut fraction = (0, 0);
    match b.get(i) {
        Some(b'.') => fraction = fractional(b, &mut i)?,
        Some(b',') if format == TranscriptFormat::Srt => fraction = fractional(b, &mut i)?,
        Some(b',') if b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
            return Err(StampError::Comma);
        }
        // `01:39` alone could be hours and minutes; only `hh:mm:ss` may drop the fraction.
        _ if !with_hours => return Err(short(i)),
        _ => {}
    }
    let (millis, fraction_digits) = fraction;
    // Three digits end the timestamp wherever WebVTT says; the lenient forms must stand alone.
    if fraction_digits != 3 {
        let delimited = match b.get(i) {
            None => true,
            Some(&c) => is_space(c) || s[i..].starts_with("-->"),
        };
        if !delimited {
            return Err(StampError::Malformed);
        }
    }
    if minutes > 59 {
        return Err(StampError::Sixty("minutes"));
    }
    if seconds > 59 {
        return Err(StampError::Sixty("seconds"));
    }
    let total = hours
        .checked_mul(3_600_000)
        .and_then(|ms| ms.checked_add(minutes * 60_000 + seconds * 1_000 + millis))
        .ok_or(StampError::TooLarge)?;
    Ok((total, i))
}

/// The digits after the separator at `i`: milliseconds and how many digits there were.
fn fractional(b: &[u8], i: &mut usize) -> Result<(u64, usize), StampError> {
    *i += 1;
    let (value, n) = digits(b, i);
    match n {
        0 if *i >= b.len() => Err(StampError::Incomplete),
        1..=3 => Ok((value.unwrap_or(0) * [100, 10, 1][n - 1], n)),
        _ => Err(StampError::Malformed),
    }
}

#[derive(Debug)]
enum TimingError {
    /// `-->` with no start time before it: an arrow in an identifier or in text.
    NotTiming,
    Stamp {
        token: String,
        error: StampError,
    },
    NoArrow {
        after: String,
        found: String,
    },
    NoEnd,
}

impl TimingError {
    /// Whether the line reads like the beginning of a timing line that was cut off.
    fn cut_off(&self) -> bool {
        matches!(
            self,
            TimingError::NoEnd
                | TimingError::Stamp {
                    error: StampError::Incomplete,
                    ..
                }
        )
    }

    fn message(&self, line: &str, format: TranscriptFormat) -> String {
        match self {
            TimingError::NotTiming => format!(
                "`{}` contains `-->` but is not a timing line; cue identifiers and text must not contain `-->`",
                quote(line.trim())
            ),
            TimingError::Stamp { token, error } => {
                let token = quote(token);
                match error {
                    StampError::Malformed | StampError::Incomplete => format!(
                        "`{token}` is not a timestamp; expected {}",
                        format.pattern()
                    ),
                    StampError::Sixty(unit) => {
                        format!("`{token}` is not a timestamp: the {unit} must be below 60")
                    }
                    StampError::Comma => format!(
                        "`{token}` is not a WebVTT timestamp: WebVTT puts `.` before the milliseconds, not `,`"
                    ),
                    StampError::TooLarge => format!("`{token}` is too large a timestamp"),
                }
            }
            TimingError::NoArrow { after, found } => format!(
                "expected `-->` after the start time `{}`, found `{}`",
                quote(after),
                quote(found)
            ),
            TimingError::NoEnd => format!(
                "the timing line `{}` has no end time after `-->`",
                quote(line.trim())
            ),
        }
    }
}

/// A token for messages: up to whitespace (and, for a start time, up to the arrow).
fn token(s: &str, stop_at_arrow: bool) -> String {
    let mut end = s.len();
    for (i, c) in s.char_indices() {
        if (c.is_ascii() && is_space(c as u8)) || (stop_at_arrow && s[i..].starts_with("-->")) {
            end = i;
            break;
        }
    }
    s[..end].to_owned()
}

/// `start --> end [settings]`; settings (WebVTT) and coordinates (SRT) are ignored.
fn timing(line: &str, format: TranscriptFormat) -> Result<(u64, u64), TimingError> {
    let arrow = line.find("-->").unwrap_or(line.len());
    if !line[..arrow].bytes().any(|b| b.is_ascii_digit()) {
        return Err(TimingError::NotTiming);
    }
    let i = skip_spaces(line, 0);
    let (start, read) = timestamp(&line[i..], format).map_err(|error| TimingError::Stamp {
        token: token(&line[i..], true),
        error,
    })?;
    let i = skip_spaces(line, i + read);
    if !line[i..].starts_with("-->") {
        return Err(TimingError::NoArrow {
            after: line[..i].trim().to_owned(),
            found: line[i..].trim().to_owned(),
        });
    }
    let i = skip_spaces(line, i + 3);
    if i == line.len() {
        return Err(TimingError::NoEnd);
    }
    let (end, _) = timestamp(&line[i..], format).map_err(|error| TimingError::Stamp {
        token: token(&line[i..], false),
        error,
    })?;
    Ok((start, end))
}

/// The beginning of a timing line, as left by a file cut off in the middle of one.
fn cut_timing(line: &str, format: TranscriptFormat) -> bool {
    let i = skip_spaces(line, 0);
    match timestamp(&line[i..], format) {
        Err(StampError::Incomplete) => true,
        Ok((_, read)) => "-->".starts_with(line[i + read..].trim()),
        Err(_) => false,
    }
}

/// A line that starts like a timing line but has no `-->`, such as `00:00:01.000 - 00:00:02.000`.
fn lacks_arrow(line: &str, format: TranscriptFormat) -> bool {
    let i = skip_spaces(line, 0);
    !line.contains("-->") && timestamp(&line[i..], format).is_ok()
}

fn clock(ms: u64, format: TranscriptFormat) -> String {
    let separator = match format {
        TranscriptFormat::WebVtt => '.',
        TranscriptFormat::Srt => ',',
    };
    format!(
        "{:02}:{:02}:{:02}{separator}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1_000 % 60,
        ms % 1_000
    )
}

/// Text from the file for a message: control characters escaped, long text shortened.
fn quote(s: &str) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n == 60 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Reading cues

/// One cue as read: its timing line, times, and text split into speakers' turns.
#[derive(Debug)]
struct Cue {
    line: usize,
    start: u64,
    end: u64,
    turns: Vec<Turn>,
}

#[derive(Debug)]
struct Turn {
    who: Who,
    /// Tidied plain text; empty for a bare label such as `MAN:` on a line of its own.
    text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Who {
    /// No label: the current speaker goes on.
    Continues,
    Named(String),
    /// A dialogue dash without a name: someone else, unnamed.
    Unnamed,
}

impl Cue {
    fn named_speaker(&self) -> Option<&str> {
        match &self.turns.first()?.who {
            Who::Named(name) => Some(name),
            _ => None,
        }
    }
}

/// A chapter marked in the file (`NOTE Chapter: ...`), before the cue with this index.
#[derive(Debug)]
struct ChapterMark {
    cue_index: usize,
    title: String,
}

struct Reader<'a> {
    format: TranscriptFormat,
    lines: Vec<&'a str>,
    ends_with_newline: bool,
    errors: Vec<FormatError>,
    cues: Vec<Cue>,
    marks: Vec<ChapterMark>,
    /// Index of the last timing line read successfully.
    last_timing: Option<usize>,
}

fn signature(first_line: &str) -> Option<&str> {
    first_line
        .strip_prefix("WEBVTT")
        .filter(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

fn looks_like_srt(lines: &[&str]) -> bool {
    let mut meaningful = lines.iter().filter(|l| !l.trim().is_empty());
    let (Some(first), second) = (meaningful.next(), meaningful.next()) else {
        return false;
    };
    let is_timing = |l: &str| l.contains("-->") && timing(l.trim(), TranscriptFormat::Srt).is_ok();
    is_timing(first) || (is_sequence(first.trim()) && second.is_some_and(|l| is_timing(l)))
}

fn is_sequence(line: &str) -> bool {
    (1..=9).contains(&line.len()) && line.bytes().all(|b| b.is_ascii_digit())
}

impl Reader<'_> {
    fn error(&mut self, index: usize, message: impl Into<String>) {
        self.errors.push(FormatError::at(index + 1, message));
    }

    /// Reads the timing line at `index`, reporting what is wrong with it.
    fn read_timing(&mut self, index: usize) -> Option<(u64, u64)> {
        let line = self.lines[index];
        match timing(line, self.format) {
            Ok((start, end)) if end < start => {
                let message = format!(
                    "the cue ends ({}) before it starts ({})",
                    clock(end, self.format),
                    clock(start, self.format)
                );
                self.error(index, message);
                None
            }
            Ok(times) => {
                self.last_timing = Some(index);
                Some(times)
            }
            Err(e) => {
                let last = index + 1 == self.lines.len() && !self.ends_with_newline;
                let message = if last && e.cut_off() {
                    format!(
                        "the file ends inside a timing line (`{}`); it looks truncated",
                        quote(line.trim())
                    )
                } else {
                    e.message(line, self.format)
                };
                self.error(index, message);
                None
            }
        }
    }

    /// Reports the last line of the file if it is a timing line cut off before its arrow.
    fn cut_off_before_arrow(&mut self, index: usize) -> bool {
        let line = self.lines[index];
        let cut = index + 1 == self.lines.len()
            && !self.ends_with_newline
            && !line.contains("-->")
            && cut_timing(line, self.format);
        if cut {
            let message = format!(
                "the file ends inside a timing line (`{}`); it looks truncated",
                quote(line.trim())
            );
            self.error(index, message);
        }
        cut
    }

    /// WebVTT, after the W3C parsing algorithm's block structure. Returns the title written
    /// after the signature, or the signature error that stops everything.
    fn read_webvtt(&mut self) -> Result<Option<String>, FormatError> {
        let first = self.lines.first().copied().unwrap_or("");
        let Some(rest) = signature(first) else {
            let found = if is_blank(first) {
                "a blank line".to_owned()
            } else {
                format!("`{}`", quote(first))
            };
            let hint = if looks_like_srt(&self.lines) {
                " (the file looks like SRT)"
            } else {
                ""
            };
            return Err(FormatError::at(
                1,
                format!("expected the WEBVTT signature, found {found}{hint}"),
            ));
        };
        let title = rest
            .trim()
            .trim_start_matches(['-', '–', '—', ':'])
            .trim()
            .to_owned();
        // Older exporters write `WEBVTT FILE`, which names no title.
        let title = (!title.is_empty() && !title.eq_ignore_ascii_case("file")).then_some(title);

        let n = self.lines.len();
        // The header: lines right after the signature, up to a blank line or a timing line.
        let mut i = 1;
        while i < n && !is_blank(self.lines[i]) && !self.lines[i].contains("-->") {
            i += 1;
        }
        let mut seen_cue = false;
        while i < n {
            if is_blank(self.lines[i]) {
                i += 1;
                continue;
            }
            // A block: up to a blank line, or up to a line with `-->` that cannot be this
            // block's timing (the spec allows the timing on its first or second line only).
            let start = i;
            let mut timing_at = None;
            while i < n && !is_blank(self.lines[i]) {
                if self.lines[i].contains("-->") {
                    if timing_at.is_none() && i - start <= 1 {
                        timing_at = Some(i);
                    } else {
                        break;
                    }
                }
                i += 1;
            }
            match timing_at {
                Some(t) => {
                    seen_cue = true;
                    if let Some((start_ms, end_ms)) = self.read_timing(t) {
                        let text = self.lines[t + 1..i].join("\n");
                        self.cues.push(Cue {
                            line: t + 1,
                            start: start_ms,
                            end: end_ms,
                            turns: turns(vtt_runs(&text)),
                        });
                    }
                }
                None => self.other_block(start, i, seen_cue),
            }
        }
        Ok(title)
    }

    /// A WebVTT block without a timing line: a comment, style, region, header leftovers, or
    /// text that lost its cue.
    fn other_block(&mut self, start: usize, end: usize, seen_cue: bool) {
        let first = self.lines[start];
        if let Some(note) = first.strip_prefix("NOTE")
            && (note.is_empty() || note.starts_with([' ', '\t']))
        {
            let mut text = std::iter::once(note)
                .chain(self.lines[start + 1..end].iter().copied())
                .map(str::trim)
                .filter(|l| !l.is_empty());
            if let (Some(only), None) = (text.next(), text.next())
                && let Some(title) = chapter_title(only)
            {
                self.marks.push(ChapterMark {
                    cue_index: self.cues.len(),
                    title,
                });
            }
            return;
        }
        let keyword = |word: &str| {
            first
                .strip_prefix(word)
                .is_some_and(|rest| rest.bytes().all(|b| b == b' ' || b == b'\t'))
        };
        if keyword("STYLE") || keyword("REGION") {
            return;
        }
        for k in start..end.min(start + 2) {
            if self.cut_off_before_arrow(k) {
                return;
            }
            if lacks_arrow(self.lines[k], self.format) {
                let message = format!(
                    "`{}` is not a timing line: the start and end times must be separated by `-->`",
                    quote(self.lines[k].trim())
                );
                self.error(k, message);
                return;
            }
        }
        // Before the first cue, unknown blocks are header matter (the spec ignores them).
        if seen_cue {
            let message = format!(
                "text outside any cue: `{}`; a cue starts with a timing line such as `{}`",
                quote(first.trim()),
                self.format.example()
            );
            self.error(start, message);
        }
    }

    /// SRT: blocks of an optional sequence number, a timing line and text lines.
    fn read_srt(&mut self) {
        enum State {
            Between,
            Number(usize),
            InCue,
            /// After an error, until the next blank line: one message per broken block.
            Skip,
        }
        struct Pending<'a> {
            line: usize,
            start: u64,
            end: u64,
            text: Vec<&'a str>,
        }
        let finish = |reader: &mut Self, pending: Option<Pending<'_>>| {
            if let Some(p) = pending {
                let runs = p
                    .text
                    .iter()
                    .map(|line| Run {
                        voice: None,
                        text: srt_clean(line),
                        line_start: true,
                    })
                    .collect();
                reader.cues.push(Cue {
                    line: p.line,
                    start: p.start,
                    end: p.end,
                    turns: turns(runs),
                });
            }
        };
        let mut state = State::Between;
        let mut pending: Option<Pending<'_>> = None;
        for index in 0..self.lines.len() {
            let line = self.lines[index].trim();
            if line.contains("-->") {
                // A missing blank line glues the next sequence number to this cue's text.
                if let Some(p) = pending.as_mut()
                    && p.text.last().is_some_and(|l| is_sequence(l))
                {
                    p.text.pop();
                }
                finish(self, pending.take());
                state = match self.read_timing(index) {
                    Some((start, end)) => {
                        pending = Some(Pending {
                            line: index + 1,
                            start,
                            end,
                            text: Vec::new(),
                        });
                        State::InCue
                    }
                    None => State::Skip,
                };
            } else if line.is_empty() {
                if let State::Number(k) = state {
                    let message = format!(
                        "the sequence number `{}` is not followed by a timing line",
                        self.lines[k].trim()
                    );
                    self.error(k, message);
                }
                finish(self, pending.take());
                state = State::Between;
            } else {
                state = match state {
                    State::InCue => {
                        if let Some(p) = pending.as_mut() {
                            p.text.push(line);
                        }
                        State::InCue
                    }
                    State::Between if is_sequence(line) => State::Number(index),
                    State::Between => {
                        self.stray_srt_line(index, None);
                        State::Skip
                    }
                    State::Number(k) => {
                        self.stray_srt_line(index, Some(k));
                        State::Skip
                    }
                    State::Skip => State::Skip,
                };
            }
        }
        if let State::Number(k) = state {
            let message = format!(
                "the file ends after the sequence number `{}`, before its timing line; it looks truncated",
                self.lines[k].trim()
            );
            self.error(k, message);
        }
        finish(self, pending.take());
    }

    fn stray_srt_line(&mut self, index: usize, after_number: Option<usize>) {
        if self.cut_off_before_arrow(index) {
            return;
        }
        let line = self.lines[index].trim();
        let message = if lacks_arrow(line, self.format) {
            format!(
                "`{}` is not a timing line: the start and end times must be separated by `-->`",
                quote(line)
            )
        } else if let Some(k) = after_number {
            format!(
                "expected a timing line after the sequence number `{}`, found `{}`",
                self.lines[k].trim(),
                quote(line)
            )
        } else if index == 0 && signature(line).is_some() {
            "text outside any cue: `WEBVTT` (the file looks like WebVTT)".to_owned()
        } else {
            format!(
                "text outside any cue: `{}`; expected a sequence number or a timing line such as `{}`",
                quote(line),
                self.format.example()
            )
        };
        self.error(index, message);
    }

    /// A file whose last words are a timing line was cut off before the cue's text.
    fn check_truncated_end(&mut self) {
        let last_text = self.lines.iter().rposition(|l| !l.trim().is_empty());
        if let Some(t) = self.last_timing
            && last_text == Some(t)
        {
            self.error(
                t,
                "the file ends right after this timing line, with no cue text; it looks truncated",
            );
        }
    }

    /// Cues must come in time order and not overlap (beyond a little lingering).
    fn check_order(&mut self) {
        let mut problems = Vec::new();
        for pair in self.cues.windows(2) {
            let (previous, cue) = (&pair[0], &pair[1]);
            if cue.start < previous.start {
                problems.push(FormatError::at(
                    cue.line,
                    format!(
                        "the cue starts ({}) before the previous cue at line {} starts ({}); cues must be in time order",
                        clock(cue.start, self.format),
                        previous.line,
                        clock(previous.start, self.format)
                    ),
                ));
                continue;
            }
            // Two named speakers talking over each other is a conversation, not a broken file.
            let crosstalk = matches!(
                (previous.named_speaker(), cue.named_speaker()),
                (Some(a), Some(b)) if a != b
            );
            let overlap = previous.end.saturating_sub(cue.start);
            if overlap > OVERLAP_TOLERANCE_MS && !crosstalk {
                problems.push(FormatError::at(
                    cue.line,
                    format!(
                        "the cue starts ({}) {} s before the cue at line {} ends ({}); cues may overlap by at most 1 s",
                        clock(cue.start, self.format),
                        seconds(overlap),
                        previous.line,
                        clock(previous.end, self.format)
                    ),
                ));
            }
        }
        self.errors.extend(problems);
    }
}

/// `2.5`, `17`: a duration in seconds without trailing zeros.
fn seconds(ms: u64) -> String {
    let text = format!("{}.{:03}", ms / 1_000, ms % 1_000);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The title of a chapter marker: `Chapter: Title`, `Chapter 3 - Title`, `Section 2`,
/// `== Title ==` or `# Title`.
fn chapter_title(note: &str) -> Option<String> {
    let some = |t: &str| {
        let t = t.trim();
        (!t.is_empty()).then(|| t.to_owned())
    };
    if note.starts_with("==") || note.starts_with('#') {
        return some(note.trim_matches(['=', '#']));
    }
    for keyword in ["chapter", "section", "part", "topic"] {
        let Some(head) = note.get(..keyword.len()) else {
            continue;
        };
        if !head.eq_ignore_ascii_case(keyword) {
            continue;
        }
        let rest = &note[keyword.len()..];
        if rest.starts_with(char::is_alphanumeric) {
            continue;
        }
        let rest = rest.trim_start();
        let number_len = rest
            .find(|c: char| !c.is_alphanumeric())
            .unwrap_or(rest.len());
        let number = &rest[..number_len];
        let numbered = !number.is_empty()
            && (number.bytes().all(|b| b.is_ascii_digit())
                || number.bytes().all(|b| b"ivxlcIVXLC".contains(&b)));
        let rest = if numbered {
            rest[number_len..].trim_start()
        } else {
            rest
        };
        if let Some(title) = rest.strip_prefix([':', '-', '–', '—', '.']) {
            return some(title);
        }
        if numbered && rest.is_empty() {
            return some(note);
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Cue text

/// A stretch of cue text with one voice, starting a line or after a voice change.
#[derive(Debug)]
struct Run {
    voice: Option<String>,
    text: String,
    line_start: bool,
}

/// An open WebVTT cue-text element; only voices and ruby text matter to the words.
struct Node {
    name: &'static str,
    voice: Option<String>,
}

/// WebVTT cue text: tags stripped, entities resolved, voice spans noted. Follows the spec's
/// tokenizer and its tree rules, so that ruby text (`<rt>`, a pronunciation guide that repeats
/// the words) can be left out.
fn vtt_runs(text: &str) -> Vec<Run> {
    let mut stack: Vec<Node> = Vec::new();
    let mut runs = vec![Run {
        voice: None,
        text: String::new(),
        line_start: true,
    }];
    let in_rt = |stack: &[Node]| stack.iter().any(|n| n.name == "rt");
    let voice = |stack: &[Node]| stack.iter().rev().find_map(|n| n.voice.clone());
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        match c {
            '&' => {
                let mut resolved = String::new();
                i += 1 + entity(&text[i + 1..], &mut resolved);
                if !in_rt(&stack)
                    && let Some(run) = runs.last_mut()
                {
                    run.text.push_str(&resolved);
                }
            }
            '<' => {
                // An unclosed tag runs to the end of the cue text, as in the spec.
                let close = text[i..].find('>').map(|k| i + k);
                let inner = &text[i + 1..close.unwrap_or(text.len())];
                i = close.map_or(text.len(), |k| k + 1);
                let before = voice(&stack);
                apply_tag(&mut stack, inner);
                let after = voice(&stack);
                if after != before
                    && let Some(run) = runs.last_mut()
                {
                    if run.text.trim().is_empty() {
                        run.voice = after;
                    } else {
                        runs.push(Run {
                            voice: after,
                            text: String::new(),
                            line_start: false,
                        });
                    }
                }
            }
            '\n' => {
                runs.push(Run {
                    voice: voice(&stack),
                    text: String::new(),
                    line_start: true,
                });
                i += 1;
            }
            _ => {
                if !in_rt(&stack)
                    && let Some(run) = runs.last_mut()
                {
                    run.text.push(c);
                }
                i += c.len_utf8();
            }
        }
    }
    runs
}

/// Applies a tag's contents (between `<` and `>`) to the open elements, as the spec's tree
/// building does: unknown tags and mismatched end tags are ignored.
fn apply_tag(stack: &mut Vec<Node>, inner: &str) {
    if let Some(name) = inner.strip_prefix('/') {
        let name = name.trim();
        match stack.last().map(|n| n.name) {
            Some(top) if top == name => {
                stack.pop();
            }
            Some("rt") if name == "ruby" => {
                stack.pop();
                if stack.last().is_some_and(|n| n.name == "ruby") {
                    stack.pop();
                }
            }
            _ => {}
        }
        return;
    }
    if inner.starts_with(|c: char| c.is_ascii_digit()) {
        return; // an inline timestamp (karaoke timing)
    }
    let (head, annotation) = inner
        .split_once(|c: char| c.is_whitespace())
        .unwrap_or((inner, ""));
    let name = head.split('.').next().unwrap_or("");
    let name = match name {
        "c" => "c",
        "i" => "i",
        "b" => "b",
        "u" => "u",
        "ruby" => "ruby",
        "lang" => "lang",
        "v" => "v",
        "rt" if stack.last().is_some_and(|n| n.name == "ruby") => "rt",
        _ => return,
    };
    let voice = (name == "v")
        .then(|| annotation.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|v| !v.is_empty());
    stack.push(Node { name, voice });
}

/// One SRT text line as plain text: HTML-ish tags (`<i>`, `<font color=...>`) and ASS override
/// codes (`{\an8}`) removed, `\N` made a space and `\h` a no-break space, entities resolved.
/// A `<` that does not start a tag (`2<3`) is text.
fn srt_clean(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while let Some(c) = line[i..].chars().next() {
        let rest = &line[i..];
        if rest.starts_with("{\\")
            && let Some(close) = rest.find('}')
        {
            i += close + 1;
            continue;
        }
        if rest.starts_with("\\N") || rest.starts_with("\\n") {
            out.push(' ');
            i += 2;
            continue;
        }
        if rest.starts_with("\\h") {
            out.push('\u{a0}');
            i += 2;
            continue;
        }
        if c == '<' {
            let name = rest[1..].strip_prefix('/').unwrap_or(&rest[1..]);
            if name.starts_with(|c: char| c.is_ascii_alphabetic())
                && let Some(close) = rest.find('>')
                && !rest[1..close].contains('<')
            {
                i += close + 1;
                continue;
            }
        }
        if c == '&' {
            i += 1 + entity(&rest[1..], &mut out);
            continue;
        }
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// Named references a transcript is likely to hold; others stay as written, so nothing is lost.
const ENTITIES: &[(&str, &str)] = &[
    ("amp", "&"),
    ("AMP", "&"),
    ("lt", "<"),
    ("LT", "<"),
    ("gt", ">"),
    ("GT", ">"),
    ("quot", "\""),
    ("QUOT", "\""),
    ("apos", "'"),
    ("nbsp", "\u{a0}"),
    ("lrm", "\u{200e}"),
    ("rlm", "\u{200f}"),
    ("copy", "©"),
    ("reg", "®"),
    ("trade", "™"),
    ("hellip", "…"),
    ("mdash", "—"),
    ("ndash", "–"),
    ("lsquo", "‘"),
    ("rsquo", "’"),
    ("ldquo", "“"),
    ("rdquo", "”"),
    ("laquo", "«"),
    ("raquo", "»"),
    ("deg", "°"),
    ("euro", "€"),
    ("pound", "£"),
    ("times", "×"),
];

/// HTML's legacy references that may omit the semicolon (`&amp` is `&`).
const SEMICOLON_OPTIONAL: &[&str] = &[
    "amp", "AMP", "lt", "LT", "gt", "GT", "quot", "QUOT", "nbsp", "copy", "reg", "deg", "laquo",
    "raquo", "pound", "times",
];

/// Resolves the character reference after an `&` into `out` and returns the bytes it took;
/// when there is none, writes the `&` itself and takes nothing.
fn entity(rest: &str, out: &mut String) -> usize {
    if let Some(number) = rest.strip_prefix('#') {
        let (hex, body) = match number.strip_prefix(['x', 'X']) {
            Some(body) => (true, body),
            None => (false, number),
        };
        let len = body
            .find(|c: char| {
                !(if hex {
                    c.is_ascii_hexdigit()
                } else {
                    c.is_ascii_digit()
                })
            })
            .unwrap_or(body.len());
        if len == 0 {
            out.push('&');
            return 0;
        }
        // NUL, surrogates and values past U+10FFFF become U+FFFD, as in HTML.
        let c = u32::from_str_radix(&body[..len], if hex { 16 } else { 10 })
            .ok()
            .filter(|v| *v != 0)
            .and_then(char::from_u32)
            .unwrap_or('\u{fffd}');
        out.push(c);
        return 1 + usize::from(hex) + len + usize::from(body[len..].starts_with(';'));
    }
    let len = rest
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    let name = &rest[..len];
    let lookup = |name: &str| ENTITIES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t);
    if rest[len..].starts_with(';')
        && let Some(text) = lookup(name)
    {
        out.push_str(text);
        return len + 1;
    }
    let legacy = SEMICOLON_OPTIONAL
        .iter()
        .filter(|n| name.starts_with(**n))
        .max_by_key(|n| n.len());
    match legacy.and_then(|n| Some((n.len(), lookup(n)?))) {
        Some((read, text)) => {
            out.push_str(text);
            read
        }
        None => {
            out.push('&');
            0
        }
    }
}

/// Splits cue text into speakers' turns: voice spans, `NAME:` labels and dialogue dashes.
fn turns(runs: Vec<Run>) -> Vec<Turn> {
    let mut turns: Vec<Turn> = Vec::new();
    for run in runs {
        let text = tidy(&run.text);
        if text.is_empty() {
            continue;
        }
        let (who, text) = match (&run.voice, run.line_start) {
            (Some(voice), _) => (Who::Named(voice.clone()), text),
            (None, true) => match turn_marker(&text) {
                Some((who, rest)) => (who, rest.to_owned()),
                None => (Who::Continues, text),
            },
            (None, false) => (Who::Continues, text),
        };
        let same_turn = match (&who, turns.last()) {
            (_, None) | (Who::Unnamed, _) => false,
            (Who::Continues, Some(_)) => true,
            (Who::Named(_), Some(last)) => last.who == who,
        };
        match turns.last_mut() {
            Some(last) if same_turn => join_into(&mut last.text, &text),
            _ => turns.push(Turn { who, text }),
        }
    }
    turns
}

/// Whitespace runs collapsed and trimmed; no-break spaces inside the text are kept.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() && c != '\u{a0}' {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    out.trim_matches(char::is_whitespace).to_owned()
}

/// A leading `- `, `NAME:`, `Title Case Name:` or `- Name:` that opens a turn.
fn turn_marker(text: &str) -> Option<(Who, &str)> {
    let (dashed, rest) = match text.strip_prefix('-') {
        Some(rest) if rest.starts_with(|c: char| c.is_whitespace() || c.is_alphabetic()) => {
            (true, rest.trim_start())
        }
        _ => (false, text),
    };
    if let Some((name, after)) = name_label(rest) {
        return Some((Who::Named(name), after));
    }
    dashed.then_some((Who::Unnamed, rest))
}

/// Words that end in a colon at the start of a line without naming anyone.
const NOT_NAMES: &[&str] = &[
    "note",
    "notes",
    "example",
    "warning",
    "tip",
    "important",
    "step",
    "caution",
    "hint",
    "update",
    "remember",
    "reminder",
    "ps",
];

/// Name particles that may stand lower-case inside a name (`Ludwig van Beethoven:`).
const PARTICLES: &[&str] = &[
    "de", "da", "di", "du", "del", "der", "den", "la", "le", "van", "von", "bin", "ibn",
];

fn name_label(text: &str) -> Option<(String, &str)> {
    let colon = text.find(':')?;
    let (name, after) = (&text[..colon], &text[colon + 1..]);
    if !(after.is_empty() || after.starts_with(char::is_whitespace)) || name.chars().count() > 40 {
        return None;
    }
    let words: Vec<&str> = name.split(' ').collect();
    if words.len() > 4 || words.iter().any(|w| w.is_empty()) {
        return None;
    }
    let first = words[0];
    if !first.starts_with(char::is_uppercase) || NOT_NAMES.contains(&first.to_lowercase().as_str())
    {
        return None;
    }
    let last = words.len() - 1;
    let valid = words.iter().enumerate().all(|(i, word)| {
        if i > 0 && word.bytes().all(|b| b.is_ascii_digit()) {
            return true; // `Speaker 2`
        }
        let letters = word
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, '.' | '\'' | '’' | '-'));
        let capital = word.starts_with(char::is_uppercase)
            || (i > 0 && word.chars().any(char::is_uppercase))
            || (i > 0 && i < last && PARTICLES.contains(word));
        letters && capital
    });
    valid.then(|| (name.to_owned(), after.trim_start()))
}

/// Appends a line or cue to running text: with a space, or straight on after a word broken at
/// its hyphen (`follow-` + `up` is `follow-up`).
fn join_into(text: &mut String, piece: &str) {
    if piece.is_empty() {
        return;
    }
    let mut tail = text.chars().rev();
    let hyphenated = tail.next() == Some('-') && tail.next().is_some_and(char::is_alphanumeric);
    let glued = hyphenated && piece.starts_with(char::is_alphabetic);
    if !text.is_empty() && !glued {
        text.push(' ');
    }
    text.push_str(piece);
}

fn ends_sentence(text: &str) -> bool {
    let text = text.trim_end_matches(['"', '\'', '”', '’', ')', ']', '»', '*']);
    text.ends_with(['.', '!', '?', '…', '。', '！', '？'])
}

// ---------------------------------------------------------------------------------------------
// Building the document

struct Paragraph {
    start_ms: u64,
    speaker: Option<String>,
    text: String,
    /// The paragraph's first turn within its first cue, for headings.
    lead: String,
}

struct Draft {
    heading: Option<String>,
    start_ms: u64,
    paragraphs: Vec<Paragraph>,
}

/// Where a chapter starts, as an index into the spoken cues.
struct Bound {
    at: usize,
    title: Option<String>,
    start_ms: Option<u64>,
}

fn build(
    cues: &[Cue],
    marks: &[ChapterMark],
    options: &TranscriptOptions,
    title: Option<String>,
) -> Document {
    let spoken: Vec<&Cue> = cues.iter().filter(|c| !c.turns.is_empty()).collect();
    let bounds = chapter_bounds(cues, &spoken, marks, options);
    let chapter_mode = !bounds.is_empty();
    let long_pause = options.pause_ms.saturating_mul(3);
    let hard_cap = options.max_paragraph_chars.saturating_mul(2);

    let mut drafts: Vec<Draft> = Vec::new();
    let mut open: Option<Paragraph> = None;
    let mut speaker: Option<String> = None;
    let mut carry_break = false;
    let mut last_end: Option<u64> = None;
    let mut last_ended_sentence = false;
    let mut next_bound = 0;
    let flush = |open: &mut Option<Paragraph>, drafts: &mut Vec<Draft>| {
        if let (Some(p), Some(d)) = (open.take(), drafts.last_mut()) {
            d.paragraphs.push(p);
        }
    };

    for (k, cue) in spoken.iter().enumerate() {
        let gap = last_end.map(|end| cue.start.saturating_sub(end));
        let length = open.as_ref().map_or(0, |p| p.text.chars().count());
        let first_who = cue.turns.first().map(|t| resolve(&t.who, &speaker));
        let mut paragraph_break = open.is_none()
            || carry_break
            || gap.is_some_and(|g| g > options.pause_ms)
            || (last_ended_sentence && length > options.max_paragraph_chars)
            || length > hard_cap
            || cue.turns.first().is_some_and(|t| t.who == Who::Unnamed)
            || open
                .as_ref()
                .zip(first_who.as_ref())
                .is_some_and(|(p, who)| p.speaker != *who);

        let mut chapter = None;
        while next_bound < bounds.len() && bounds[next_bound].at <= k {
            chapter = Some(&bounds[next_bound]);
            next_bound += 1;
        }
        let section_start = drafts.last().map_or(0, |d| d.start_ms);
        let auto = !chapter_mode
            && (gap.is_some_and(|g| g >= long_pause && g > options.pause_ms)
                || (paragraph_break && cue.start.saturating_sub(section_start) >= SECTION_SPAN_MS));
        let new_section = match chapter {
            Some(bound) => Some(Draft {
                heading: bound.title.clone(),
                start_ms: bound.start_ms.unwrap_or(cue.start),
                paragraphs: Vec::new(),
            }),
            None if drafts.is_empty() || auto => Some(Draft {
                heading: None,
                start_ms: cue.start,
                paragraphs: Vec::new(),
            }),
            None => None,
        };
        if let Some(draft) = new_section {
            flush(&mut open, &mut drafts);
            drafts.push(draft);
            paragraph_break = true;
        }

        let mut pending = paragraph_break;
        for turn in &cue.turns {
            let who = resolve(&turn.who, &speaker);
            let unnamed = turn.who == Who::Unnamed;
            let changed = open.as_ref().is_none_or(|p| p.speaker != who);
            speaker = who.clone();
            if turn.text.is_empty() {
                // A bare label (`MAN:`): the words follow in the next line or cue.
                pending |= unnamed || changed;
                continue;
            }
            match open.as_mut() {
                Some(p) if !(pending || unnamed || changed) => join_into(&mut p.text, &turn.text),
                _ => {
                    flush(&mut open, &mut drafts);
                    open = Some(Paragraph {
                        start_ms: cue.start,
                        speaker: who,
                        text: turn.text.clone(),
                        lead: turn.text.clone(),
                    });
                }
            }
            pending = false;
        }
        carry_break = pending;
        last_end = Some(last_end.map_or(cue.end, |end| end.max(cue.end)));
        if let Some(last) = cue.turns.iter().rev().find(|t| !t.text.is_empty()) {
            last_ended_sentence = ends_sentence(&last.text);
        }
    }
    flush(&mut open, &mut drafts);

    let mut used = Vec::new();
    let sections = drafts
        .into_iter()
        .filter(|d| !d.paragraphs.is_empty())
        .enumerate()
        .map(|(n, draft)| {
            let heading = draft
                .heading
                .or_else(|| draft.paragraphs.iter().find_map(|p| leading_words(&p.lead)))
                .unwrap_or_else(|| format!("Part {} ({})", n + 1, short_clock(draft.start_ms)));
            Section {
                anchor: anchor(&heading, &mut used),
                heading,
                start_ms: Some(draft.start_ms),
                blocks: draft
                    .paragraphs
                    .into_iter()
                    .map(|p| Block::Paragraph {
                        text: p.text,
                        start_ms: Some(p.start_ms),
                        speaker: p.speaker,
                    })
                    .collect(),
            }
        })
        .collect();
    Document { title, sections }
}

fn resolve(who: &Who, current: &Option<String>) -> Option<String> {
    match who {
        Who::Continues => current.clone(),
        Who::Named(name) => Some(name.clone()),
        Who::Unnamed => None,
    }
}

/// Chapters from the options, else from the file's markers, as cue indexes. A chapter with no
/// cue of its own is dropped: a heading over nothing reads as a mistake.
fn chapter_bounds(
    cues: &[Cue],
    spoken: &[&Cue],
    marks: &[ChapterMark],
    options: &TranscriptOptions,
) -> Vec<Bound> {
    let mut bounds: Vec<Bound> = if options.chapters.is_empty() {
        marks
            .iter()
            .map(|mark| Bound {
                at: cues[..mark.cue_index.min(cues.len())]
                    .iter()
                    .filter(|c| !c.turns.is_empty())
                    .count(),
                title: Some(mark.title.clone()),
                start_ms: None,
            })
            .collect()
    } else {
        let mut chapters = options.chapters.clone();
        chapters.sort_by_key(|(start, _)| *start);
        chapters
            .into_iter()
            .map(|(start, title)| Bound {
                at: spoken.partition_point(|c| c.start < start),
                title: Some(title.trim().to_owned()).filter(|t| !t.is_empty()),
                start_ms: Some(start),
            })
            .collect()
    };
    bounds.retain(|b| b.at < spoken.len());
    // Of chapters starting at the same cue, the last one has the words.
    let mut kept: Vec<Bound> = Vec::with_capacity(bounds.len());
    for bound in bounds {
        if kept.last().is_some_and(|last| last.at == bound.at) {
            kept.pop();
        }
        kept.push(bound);
    }
    kept
}

/// A heading from a paragraph's opening: the first sentence's first words, leaving out sound
/// descriptions such as `[music]` or `(laughs)`.
fn leading_words(text: &str) -> Option<String> {
    let mut spoken = String::new();
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth = depth.saturating_sub(1),
            '♪' | '♫' => {}
            _ if depth == 0 => spoken.push(c),
            _ => {}
        }
    }
    let mut sentence = String::new();
    let mut chars = spoken.chars().peekable();
    while let Some(c) = chars.next() {
        sentence.push(c);
        if matches!(c, '.' | '!' | '?' | '…') && chars.peek().is_none_or(|n| n.is_whitespace()) {
            break;
        }
    }
    let words: Vec<&str> = sentence.split_whitespace().collect();
    let mut heading = words
        .iter()
        .take(HEADING_WORDS)
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches(['.', ',', ';', ':', '-', '–', '—'])
        .to_owned();
    if !heading.chars().any(char::is_alphanumeric) {
        return None;
    }
    if words.len() > HEADING_WORDS {
        heading.push('…');
    }
    Some(heading)
}

/// `01:39` or `1:02:03`, for generated headings.
fn short_clock(ms: u64) -> String {
    let (h, m, s) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1_000 % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m:02}:{s:02}")
    }
}

#[cfg(test)]
mod tests;
