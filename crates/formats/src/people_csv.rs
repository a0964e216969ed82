//! The people file: partner staff as CSV, for bulk import and export.
//!
//! The first non-blank row names the columns, in any order and any letter case:
//!
//! | column         | required | content                                                        |
//! |----------------|----------|----------------------------------------------------------------|
//! | `email`        | yes      | the sign-in address; people are matched by it                  |
//! | `display_name` | yes      | the name shown on pages and certificates                       |
//! | `roles`        | yes      | `learner`, `partner_admin`, or both, separated by `;` or spaces |
//! | `job_role`     | no       | sales, technical, ...; an empty cell means none                 |
//! | `partner_id`   | no       | the person's partner organisation                              |
//! | `id`           | no       | written by the export; checked, never changed, on import        |
//! | `active`       | no       | `true` or `false`; written by the export, checked on import     |
//!
//! [`parse`] checks every row and returns the valid ones together with every problem, each with
//! the 1-based line of the file it is on (the header is line 1) and the column it concerns.
//! [`write`] produces the same format, so an export can be imported again.

use accredit_domain::identity::required_text;
use accredit_domain::{Email, InvalidInput, Role};
use std::collections::HashMap;
use std::fmt;

/// A column of the people file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Id,
    Email,
    DisplayName,
    Roles,
    JobRole,
    PartnerId,
    Active,
}

impl Column {
    /// In the order [`write`] puts them.
    pub const ALL: [Column; 7] = [
        Column::Id,
        Column::Email,
        Column::DisplayName,
        Column::Roles,
        Column::JobRole,
        Column::PartnerId,
        Column::Active,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Column::Id => "id",
            Column::Email => "email",
            Column::DisplayName => "display_name",
            Column::Roles => "roles",
            Column::JobRole => "job_role",
            Column::PartnerId => "partner_id",
            Column::Active => "active",
        }
    }

    fn required(self) -> bool {
        matches!(self, Column::Email | Column::DisplayName | Column::Roles)
    }
}

/// One person as the file describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRecord {
    pub id: Option<String>,
    /// Normalised (trimmed, lower-cased) by [`Email::parse`].
    pub email: String,
    pub display_name: String,
    /// Sorted and without repeats.
    pub roles: Vec<Role>,
    pub job_role: Option<String>,
    pub partner_id: Option<String>,
    pub active: Option<bool>,
}

/// A valid row and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeopleRow {
    pub line: usize,
    pub person: PersonRecord,
}

/// One problem in the file. `message` starts with the column it concerns, when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line of the file; the header is line 1.
    pub line: usize,
    pub message: String,
}

impl RowError {
    pub(crate) fn new(line: usize, message: impl Into<String>) -> Self {
        Self {
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// What [`parse`] found: the valid rows, and every problem ordered by line. A problem with the
/// header leaves no rows, since no row can be read without it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PeopleFile {
    /// The columns the header names, in the file's order.
    pub columns: Vec<Column>,
    pub rows: Vec<PeopleRow>,
    pub errors: Vec<RowError>,
}

impl PeopleFile {
    pub fn has_column(&self, column: Column) -> bool {
        self.columns.contains(&column)
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads a people file. Never fails as a whole: every problem is in [`PeopleFile::errors`].
pub fn parse(bytes: &[u8]) -> PeopleFile {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    // Flexible: a row with the wrong number of fields is reported here, with its line, instead
    // of stopping the reader.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut file = PeopleFile::default();
    let mut header: Option<Vec<Column>> = None;
    let mut first_line_of: HashMap<String, usize> = HashMap::new();
    let mut lines = LineCounter::new(bytes);
    let mut record = csv::ByteRecord::new();
    loop {
        let line = match reader.read_byte_record(&mut record) {
            Ok(true) => lines.line_at(record.position()),
            Ok(false) => break,
            Err(error) => {
                // Reading from memory leaves only malformed input; the reader resumes after it.
                let line = lines.line_at(error.position());
                file.errors
                    .push(RowError::new(line, format!("malformed CSV: {error}")));
                continue;
            }
        };
        // Spreadsheets often end a sheet with rows of empty cells.
        if record.iter().all(|field| field.trim_ascii().is_empty()) {
            continue;
        }
        let Some(columns) = &header else {
            match read_header(&record, line) {
                Ok(columns) => {
                    file.columns = columns.clone();
                    header = Some(columns);
                }
                Err(errors) => {
                    file.errors = errors;
                    return file;
                }
            }
            continue;
        };
        match read_row(columns, &record, line) {
            Ok(person) => {
                if let Some(first) = first_line_of.get(&person.email) {
                    file.errors.push(RowError::new(
                        line,
                        format!("email: `{}` already appears on line {first}", person.email),
                    ));
                } else {
                    first_line_of.insert(person.email.clone(), line);
                    file.rows.push(PeopleRow { line, person });
                }
            }
            Err(errors) => file.errors.extend(errors),
        }
    }
    if header.is_none() {
        file.errors.push(RowError::new(
            1,
            format!(
                "the file is empty; it needs a header row naming the columns {}",
                required_names().join(", ")
            ),
        ));
    }
    file
}

/// The file's line numbers. The reader's own count (and its byte offset) leave out, or start
/// at, the blank lines it skips before a record, so lines are counted here from its first byte.
pub(crate) struct LineCounter<'a> {
    bytes: &'a [u8],
    counted_to: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            counted_to: 0,
            line: 1,
        }
    }

    /// The line of the first byte of the record at `position`; positions only move forward.
    pub(crate) fn line_at(&mut self, position: Option<&csv::Position>) -> usize {
        let Some(position) = position else {
            return self.line;
        };
        let mut start = usize::try_from(position.byte())
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        while self
            .bytes
            .get(start)
            .is_some_and(|b| *b == b'\n' || *b == b'\r')
        {
            start += 1;
        }
        if start > self.counted_to {
            self.line += self.bytes[self.counted_to..start]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            self.counted_to = start;
        }
        self.line
    }
}

fn required_names() -> Vec<&'static str> {
    Column::ALL
        .iter()
        .filter(|c| c.required())
        .map(|c| c.name())
        .collect()
}

fn read_header(record: &csv::ByteRecord, line: usize) -> Result<Vec<Column>, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut columns = Vec::new();
    for (index, raw) in record.iter().enumerate() {
        let name = String::from_utf8_lossy(raw).trim().to_lowercase();
        if name.is_empty() {
            errors.push(RowError::new(
                line,
                format!("column {} of the header has no name", index + 1),
            ));
            continue;
        }
        match Column::ALL.iter().find(|c| c.name() == name) {
            Some(column) if columns.contains(column) => errors.push(RowError::new(
                line,
                format!("column `{name}` appears more than once"),
            )),
            Some(column) => columns.push(*column),
            None => {
                let known: Vec<_> = Column::ALL.iter().map(|c| c.name()).collect();
                errors.push(RowError::new(
                    line,
                    format!("unknown column `{name}`; expected {}", known.join(", ")),
                ));
            }
        }
    }
    for column in Column::ALL.iter().filter(|c| c.required()) {
        if !columns.contains(column) {
            errors.push(RowError::new(
                line,
                format!("missing required column `{}`", column.name()),
            ));
        }
    }
    if errors.is_empty() {
        Ok(columns)
    } else {
        Err(errors)
    }
}

fn read_row(
    columns: &[Column],
    record: &csv::ByteRecord,
    line: usize,
) -> Result<PersonRecord, Vec<RowError>> {
    if record.len() != columns.len() {
        let mut message = format!(
            "expected {} fields as in the header, found {}",
            columns.len(),
            record.len()
        );
        if record.iter().any(|field| field.contains(&b'\n')) {
            message.push_str(
                " (a quoted field on this line runs over several lines; is a closing `\"` missing?)",
            );
        }
        return Err(vec![RowError::new(line, message)]);
    }
    let mut problems: Vec<InvalidInput> = Vec::new();
    let mut cells: HashMap<Column, &str> = HashMap::new();
    for (column, raw) in columns.iter().zip(record.iter()) {
        match std::str::from_utf8(raw) {
            Ok(text) => {
                cells.insert(*column, text);
            }
            Err(_) => problems.push(InvalidInput::new(
                column.name(),
                "is not valid UTF-8 text; save the file as UTF-8",
            )),
        }
    }
    let cell = |column: Column| cells.get(&column).copied();
    let optional = |column: Column| {
        cell(column)
            .map(str::trim)
            .filter(|value| !value.is_empty())
    };
    let email = cell(Column::Email)
        .and_then(|raw| keep(&mut problems, Email::parse(raw).map(String::from)));
    let display_name = cell(Column::DisplayName)
        .and_then(|raw| keep(&mut problems, required_text("display_name", raw, 200)));
    let roles = cell(Column::Roles).and_then(|raw| keep(&mut problems, parse_roles(raw)));
    let job_role = optional(Column::JobRole)
        .and_then(|raw| keep(&mut problems, required_text("job_role", raw, 50)));
    let active = optional(Column::Active).and_then(|raw| keep(&mut problems, parse_active(raw)));
    match (email, display_name, roles) {
        (Some(email), Some(display_name), Some(roles)) if problems.is_empty() => Ok(PersonRecord {
            id: optional(Column::Id).map(str::to_owned),
            email,
            display_name,
            roles,
            job_role,
            partner_id: optional(Column::PartnerId).map(str::to_owned),
            active,
        }),
        _ => Err(problems
            .into_iter()
            .map(|p| RowError::new(line, p.to_string()))
            .collect()),
    }
}

/// The value, or `None` with the problem noted.
fn keep<T>(problems: &mut Vec<InvalidInput>, result: Result<T, InvalidInput>) -> Option<T> {
    result.map_err(|e| problems.push(e)).ok()
}

/// Role names separated by `;`, `,` or white space, checked by the same rule as the API's.
fn parse_roles(raw: &str) -> Result<Vec<Role>, InvalidInput> {
    let mut roles = raw
        .split(|c: char| c == ';' || c == ',' || c.is_whitespace())
        .filter(|name| !name.is_empty())
        .map(|name| {
            name.parse::<Role>()
                .map_err(|e| InvalidInput::new("roles", e.message))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if roles.is_empty() {
        return Err(InvalidInput::new(
            "roles",
            "a person needs at least one role",
        ));
    }
    roles.sort();
    roles.dedup();
    Ok(roles)
}

fn parse_active(raw: &str) -> Result<bool, InvalidInput> {
    match raw.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(InvalidInput::new(
            "active",
            format!("`{raw}` is neither `true` nor `false`"),
        )),
    }
}

/// Writes people with every column, header first, one person per line.
pub fn write(people: &[PersonRecord]) -> String {
    let mut out = String::new();
    let header: Vec<_> = Column::ALL.iter().map(|c| c.name()).collect();
    out.push_str(&header.join(","));
    out.push('\n');
    for person in people {
        let roles: Vec<_> = person.roles.iter().map(|r| r.as_str()).collect();
        let active = person.active.map(|a| a.to_string());
        let fields = [
            person.id.as_deref().unwrap_or(""),
            &person.email,
            &person.display_name,
            &roles.join(";"),
            person.job_role.as_deref().unwrap_or(""),
            person.partner_id.as_deref().unwrap_or(""),
            active.as_deref().unwrap_or(""),
        ];
        let quoted: Vec<_> = fields.iter().map(|f| quote(f)).collect();
        out.push_str(&quoted.join(","));
        out.push('\n');
    }
    out
}

/// Quotes a field when a reader would otherwise split, join or trim it (RFC 4180).
fn quote(field: &str) -> String {
    let needs_quotes = field.contains([',', '"', '\n', '\r'])
        || field.starts_with(char::is_whitespace)
        || field.ends_with(char::is_whitespace);
    if needs_quotes {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(file: &PeopleFile) -> Vec<String> {
        file.errors.iter().map(ToString::to_string).collect()
    }

    fn person(email: &str, name: &str, roles: &[Role]) -> PersonRecord {
        PersonRecord {
            id: None,
            email: email.into(),
            display_name: name.into(),
            roles: roles.to_vec(),
            job_role: None,
            partner_id: None,
            active: None,
        }
    }

    #[test]
    fn a_good_file_gives_every_row_with_its_line() {
        let file = parse(
            b"email,display_name,roles,job_role,partner_id\n\
              Ada@Acme.example,Ada Lovelace,learner,sales,p1\n\
              bob@acme.example,Bob,learner;partner_admin,,p1\n\
              \n\
              ,,,,\r\n\
              cy@acme.example , Cy ,partner_admin learner learner,technical,\n",
        );
        assert_eq!(messages(&file), Vec::<String>::new());
        assert_eq!(
            file.columns,
            [
                Column::Email,
                Column::DisplayName,
                Column::Roles,
                Column::JobRole,
                Column::PartnerId
            ]
        );
        let lines: Vec<_> = file.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 3, 6]);
        assert_eq!(
            file.rows[0].person,
            PersonRecord {
                job_role: Some("sales".into()),
                partner_id: Some("p1".into()),
                ..person("ada@acme.example", "Ada Lovelace", &[Role::Learner])
            }
        );
        assert_eq!(
            file.rows[1].person.roles,
            [Role::PartnerAdmin, Role::Learner]
        );
        assert_eq!(file.rows[1].person.job_role, None);
        assert_eq!(
            file.rows[2].person,
            PersonRecord {
                job_role: Some("technical".into()),
                ..person(
                    "cy@acme.example",
                    "Cy",
                    &[Role::PartnerAdmin, Role::Learner]
                )
            }
        );
    }

    #[test]
    fn a_byte_order_mark_is_accepted() {
        let file = parse(b"\xEF\xBB\xBFemail,display_name,roles\r\nada@x.example,Ada,learner\r\n");
        assert_eq!(messages(&file), Vec::<String>::new());
        assert_eq!(file.rows.len(), 1);
        assert_eq!(file.rows[0].person.email, "ada@x.example");
    }

    #[test]
    fn columns_may_come_in_any_order_and_letter_case() {
        let file = parse(b"Roles,PARTNER_ID,Display_Name,Email\nlearner,p2,Ada,ada@x.example\n");
        assert_eq!(messages(&file), Vec::<String>::new());
        assert_eq!(
            file.rows[0].person,
            PersonRecord {
                partner_id: Some("p2".into()),
                ..person("ada@x.example", "Ada", &[Role::Learner])
            }
        );
        assert!(!file.has_column(Column::JobRole));
    }

    #[test]
    fn an_unknown_column_is_named() {
        let file = parse(b"email,display_name,roles,phone\nada@x.example,Ada,learner,123\n");
        assert!(file.rows.is_empty());
        assert_eq!(messages(&file).len(), 1);
        assert!(
            messages(&file)[0].starts_with("line 1: unknown column `phone`; expected id, email"),
            "{:?}",
            messages(&file)
        );
    }

    #[test]
    fn missing_required_columns_are_each_named() {
        let file = parse(b"\n\nemail,job_role\nada@x.example,sales\n");
        assert!(file.rows.is_empty());
        assert_eq!(
            messages(&file),
            [
                "line 3: missing required column `display_name`",
                "line 3: missing required column `roles`"
            ]
        );
        let empty = parse(b"");
        assert_eq!(empty.errors.len(), 1);
        assert!(empty.errors[0].message.contains("header row"));
        let twice = parse(b"email,display_name,roles,EMAIL\n");
        assert_eq!(
            messages(&twice),
            ["line 1: column `email` appears more than once"]
        );
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line_and_the_good_rows_are_kept() {
        let file = parse(
            b"email,display_name,roles,active\n\
              ada@x.example,Ada,learner,true\n\
              bob@,Bob,learner,\n\
              cy@x.example,  ,wizard,\n\
              dee@x.example,Dee,learner\n\
              ADA@x.example,Ada again,learner,\n\
              ed@x.example,Ed,,maybe\n\
              fay@x.example,Fay,partner_admin,false\n",
        );
        assert_eq!(
            messages(&file),
            [
                "line 3: email: `bob@` has no valid domain after the `@`",
                "line 4: display_name: must not be empty",
                "line 4: roles: unknown role `wizard`; expected one of program_admin, partner_account_manager, reviewer, proctor, partner_admin, learner",
                "line 5: expected 4 fields as in the header, found 3",
                "line 6: email: `ada@x.example` already appears on line 2",
                "line 7: roles: a person needs at least one role",
                "line 7: active: `maybe` is neither `true` nor `false`",
            ]
        );
        let good: Vec<_> = file
            .rows
            .iter()
            .map(|r| (r.line, r.person.email.as_str(), r.person.active))
            .collect();
        assert_eq!(
            good,
            [
                (2, "ada@x.example", Some(true)),
                (8, "fay@x.example", Some(false))
            ]
        );
    }

    #[test]
    fn quoted_fields_may_hold_commas_quotes_and_line_breaks() {
        let file = parse(
            b"email,display_name,roles\n\
              ada@x.example,\"Lovelace, Ada\",\"learner, partner_admin\"\n\
              bob@x.example,\"Bob \"\"The Builder\"\"\nJr.\",learner\n\
              cy@x.example,Cy,learner\n",
        );
        assert_eq!(messages(&file), Vec::<String>::new());
        assert_eq!(file.rows[0].person.display_name, "Lovelace, Ada");
        assert_eq!(
            file.rows[0].person.roles,
            [Role::PartnerAdmin, Role::Learner]
        );
        assert_eq!(file.rows[1].person.display_name, "Bob \"The Builder\"\nJr.");
        // The line numbers are the file's, so the row after a two-line field is on line 5.
        assert_eq!(file.rows[2].line, 5);
    }

    #[test]
    fn an_unclosed_quote_is_reported_where_it_starts() {
        let file = parse(
            b"email,display_name,roles\n\
              ada@x.example,\"Ada,learner\n\
              bob@x.example,Bob,learner\n",
        );
        assert!(file.rows.is_empty());
        assert_eq!(
            messages(&file),
            [
                "line 2: expected 3 fields as in the header, found 2 (a quoted field on this line runs over several lines; is a closing `\"` missing?)"
            ]
        );
    }

    #[test]
    fn text_that_is_not_utf8_is_named_by_column() {
        let file = parse(b"email,display_name,roles\nada@x.example,Ad\xE9,learner\n");
        assert_eq!(
            messages(&file),
            ["line 2: display_name: is not valid UTF-8 text; save the file as UTF-8"]
        );
    }

    #[test]
    fn what_is_written_reads_back_the_same() {
        let people = vec![
            PersonRecord {
                id: Some("0190-a".into()),
                job_role: Some("sales".into()),
                partner_id: Some("p1".into()),
                active: Some(true),
                ..person(
                    "ada@x.example",
                    "Lovelace, Ada \"Countess\"",
                    &[Role::PartnerAdmin, Role::Learner],
                )
            },
            PersonRecord {
                id: Some("0190-b".into()),
                partner_id: Some("p2".into()),
                active: Some(false),
                ..person("bob@x.example", "Bob\nBuilder", &[Role::Learner])
            },
        ];
        let text = write(&people);
        assert!(
            text.starts_with("id,email,display_name,roles,job_role,partner_id,active\n"),
            "{text}"
        );
        let file = parse(text.as_bytes());
        assert_eq!(messages(&file), Vec::<String>::new());
        assert_eq!(file.columns, Column::ALL);
        let back: Vec<_> = file.rows.into_iter().map(|r| r.person).collect();
        assert_eq!(back, people);
    }
}
