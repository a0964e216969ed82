//! A training document as the importers produce it: ordered sections of blocks. Transcripts
//! give paragraphs that keep their start time and speaker; Markdown gives every kind of block.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// From the first heading or the file's own title, when it has one.
    pub title: Option<String>,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub heading: String,
    /// A URL fragment unique within the document, derived from the heading.
    pub anchor: String,
    /// Milliseconds from the start of the recording, for transcript sections.
    pub start_ms: Option<u64>,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Block {
    Paragraph {
        /// Plain text: markup, tags and entities resolved.
        text: String,
        start_ms: Option<u64>,
        speaker: Option<String>,
    },
    Code {
        language: Option<String>,
        text: String,
    },
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    List {
        ordered: bool,
        items: Vec<String>,
    },
    Quote {
        text: String,
    },
}

impl Block {
    /// The words of the block, for search and comparison.
    pub fn text(&self) -> String {
        match self {
            Block::Paragraph { text, .. } | Block::Code { text, .. } | Block::Quote { text } => {
                text.clone()
            }
            Block::Table { header, rows } => std::iter::once(header)
                .chain(rows)
                .map(|row| row.join(" "))
                .collect::<Vec<_>>()
                .join("\n"),
            Block::List { items, .. } => items.join("\n"),
        }
    }
}

/// One problem with an imported file, at a line (and column when known).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormatError {
    /// 1-based; 0 when the problem is with the file as a whole (encoding, emptiness).
    pub line: usize,
    pub column: Option<usize>,
    pub message: String,
}

impl FormatError {
    pub fn at(line: usize, message: impl Into<String>) -> Self {
        Self {
            line,
            column: None,
            message: message.into(),
        }
    }

    pub fn whole_file(message: impl Into<String>) -> Self {
        Self::at(0, message)
    }
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (0, _) => f.write_str(&self.message),
            (line, Some(column)) => write!(f, "line {line}, column {column}: {}", self.message),
            (line, None) => write!(f, "line {line}: {}", self.message),
        }
    }
}

/// Magic numbers of files people upload by mistake instead of a text file.
const BINARY_KINDS: &[(&[u8], &str)] = &[
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"ID3", "an MP3 audio file"),
    (b"OggS", "an Ogg audio or video file"),
    (b"\x1a\x45\xdf\xa3", "a WebM or Matroska video"),
    (b"RIFF", "a RIFF file (WAV audio or AVI video)"),
];

/// What kind of binary file `bytes` is, when it starts like one.
pub fn binary_kind(bytes: &[u8]) -> Option<&'static str> {
    if bytes.get(4..8) == Some(b"ftyp") {
        return Some("an MP4 or QuickTime video");
    }
    BINARY_KINDS
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
        .map(|(_, kind)| *kind)
}

/// The first `max` problems, and a last one saying how many more there were: a broken file
/// should not bury its first problems under thousands of repeats.
pub fn capped(mut errors: Vec<FormatError>, max: usize) -> Vec<FormatError> {
    if errors.len() > max {
        let more = errors.len() - max;
        errors.truncate(max);
        errors.push(FormatError::whole_file(format!(
            "{more} more problems are not listed"
        )));
    }
    errors
}

/// A URL fragment from a heading: lower-case letters and digits joined by hyphens, made unique
/// against those already used.
pub fn anchor(heading: &str, used: &mut Vec<String>) -> String {
    let mut slug = String::new();
    for c in heading.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let base = slug.trim_end_matches('-').to_owned();
    let base = if base.is_empty() {
        "section".to_owned()
    } else {
        base
    };
    let mut candidate = base.clone();
    let mut n = 2;
    while used.contains(&candidate) {
        candidate = format!("{base}-{n}");
        n += 1;
    }
    used.push(candidate.clone());
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_slugs_unique_within_a_document() {
        let mut used = Vec::new();
        assert_eq!(
            anchor("API Authentication — Requirements!", &mut used),
            "api-authentication-requirements"
        );
        assert_eq!(
            anchor("API authentication requirements", &mut used),
            "api-authentication-requirements-2"
        );
        assert_eq!(anchor("***", &mut used), "section");
        assert_eq!(
            anchor("Données résidentes", &mut used),
            "données-résidentes"
        );
    }
}
