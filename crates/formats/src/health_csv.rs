//! Figures per partner and quarter, as CSV: customer health scores (`partner,quarter,score`,
//! from -100 to 100: NPS or a 0–100 health index) and outcome metrics
//! (`partner,quarter,metric,value`: revenue, escalations, ... any number). The partner is given
//! by id or name, the quarter like `2026-Q3`. Every problem is reported with its line; whether
//! the partners exist is for the caller to check.

use crate::people_csv::{LineCounter, RowError};
use std::collections::HashMap;

/// The lowest and highest score accepted.
pub const SCORE_RANGE: (f64, f64) = (-100.0, 100.0);

#[derive(Debug, Clone, PartialEq)]
pub struct HealthRow {
    pub line: usize,
    /// A partner id or name, as written.
    pub partner: String,
    pub quarter: String,
    pub score: f64,
    /// For outcome files: what the value measures.
    pub metric: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct HealthFile {
    pub rows: Vec<HealthRow>,
    pub errors: Vec<RowError>,
}

/// The columns of a health file and of an outcome file.
const HEALTH: &[&str] = &["partner", "quarter", "score"];
const OUTCOMES: &[&str] = &["partner", "quarter", "metric", "value"];

/// Whether `text` is a quarter such as `2026-Q3`.
pub fn is_quarter(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 7
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && &bytes[4..6] == b"-Q"
        && (b'1'..=b'4').contains(&bytes[6])
}

/// Reads a health score file. Never fails as a whole: every problem is in the errors.
pub fn parse(bytes: &[u8]) -> HealthFile {
    parse_with(bytes, HEALTH)
}

/// Reads an outcome metrics file (`partner,quarter,metric,value`).
pub fn parse_outcomes(bytes: &[u8]) -> HealthFile {
    parse_with(bytes, OUTCOMES)
}

/// Whether `name` is a usable metric name: lowercase letters, digits, `-` and `_`.
pub fn is_metric(name: &str) -> bool {
    (1..=40).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn parse_with(bytes: &[u8], columns: &[&str]) -> HealthFile {
    let outcomes = columns == OUTCOMES;
    let header_text = columns.join(",");
    let mut file = HealthFile::default();
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        file.errors.push(RowError::new(
            1,
            "the file is UTF-16 text; save it as UTF-8 (CSV UTF-8 in spreadsheet programs)",
        ));
        return file;
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut lines = LineCounter::new(bytes);
    let mut record = csv::ByteRecord::new();
    let mut order: Option<Vec<usize>> = None;
    let mut first_line_of: HashMap<(String, String, String), usize> = HashMap::new();
    loop {
        let line = match reader.read_byte_record(&mut record) {
            Ok(true) => lines.line_at(record.position()),
            Ok(false) => break,
            Err(error) => {
                let line = lines.line_at(error.position());
                file.errors
                    .push(RowError::new(line, format!("malformed CSV: {error}")));
                continue;
            }
        };
        let Ok(fields) = record
            .iter()
            .map(|f| std::str::from_utf8(f).map(str::trim))
            .collect::<Result<Vec<&str>, _>>()
        else {
            file.errors.push(RowError::new(
                line,
                "not UTF-8 text; save the file as UTF-8 (CSV UTF-8 in spreadsheet programs)",
            ));
            continue;
        };
        if fields.iter().all(|f| f.is_empty()) {
            continue;
        }
        let Some(order) = &order else {
            match header(&fields, columns) {
                Ok(found) => order = Some(found),
                Err(message) => {
                    file.errors.push(RowError::new(line, message));
                    return file;
                }
            }
            continue;
        };
        if fields.len() != columns.len() {
            file.errors.push(RowError::new(
                line,
                format!(
                    "expected {} fields ({}), found {}",
                    columns.len(),
                    columns.join(", "),
                    fields.len()
                ),
            ));
            continue;
        }
        let value = |name: &str| {
            let column = columns.iter().position(|c| *c == name).unwrap_or(0);
            fields[order[column]]
        };
        let (partner, quarter) = (value("partner"), value("quarter"));
        let score = value(if outcomes { "value" } else { "score" });
        let metric = outcomes.then(|| value("metric"));
        let mut problems = Vec::new();
        if let Some(metric) = metric
            && !is_metric(metric)
        {
            problems.push(format!(
                "metric: `{metric}` is not a metric name (lowercase letters, digits, - and _)"
            ));
        }
        if partner.is_empty() {
            problems.push("partner: empty; give the partner's id or name".to_owned());
        }
        if !is_quarter(quarter) {
            problems.push(format!(
                "quarter: `{quarter}` is not a quarter like 2026-Q3"
            ));
        }
        let column = if outcomes { "value" } else { "score" };
        let parsed = score.parse::<f64>().ok().filter(|s| s.is_finite());
        match parsed {
            None => problems.push(format!("{column}: `{score}` is not a number")),
            Some(s) if !outcomes && !(SCORE_RANGE.0..=SCORE_RANGE.1).contains(&s) => {
                problems.push(format!(
                    "score: {score} is outside {} to {}",
                    SCORE_RANGE.0, SCORE_RANGE.1
                ))
            }
            Some(_) => {}
        }
        if problems.is_empty() {
            let key = (
                partner.to_owned(),
                quarter.to_owned(),
                metric.unwrap_or_default().to_owned(),
            );
            if let Some(first) = first_line_of.get(&key) {
                let what = metric.map_or("a score".to_owned(), |m| format!("a `{m}` value"));
                problems.push(format!(
                    "quarter: `{partner}` already has {what} for {quarter} on line {first}"
                ));
            } else {
                first_line_of.insert(key, line);
            }
        }
        if problems.is_empty() {
            file.rows.push(HealthRow {
                line,
                partner: partner.to_owned(),
                quarter: quarter.to_owned(),
                score: parsed.unwrap_or_default(),
                metric: metric.map(str::to_owned),
            });
        } else {
            file.errors
                .extend(problems.into_iter().map(|p| RowError::new(line, p)));
        }
    }
    if order.is_none() && file.errors.is_empty() {
        file.errors.push(RowError::new(
            1,
            format!("the file is empty; it needs the header {header_text}"),
        ));
    }
    file
}

/// The position of each column, or what is wrong with the header.
fn header(fields: &[&str], columns: &[&str]) -> Result<Vec<usize>, String> {
    let names: Vec<String> = fields.iter().map(|f| f.to_ascii_lowercase()).collect();
    let unknown: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !columns.contains(n))
        .collect();
    let missing: Vec<&str> = columns
        .iter()
        .copied()
        .filter(|c| !names.iter().any(|n| n == c))
        .collect();
    if !unknown.is_empty() || !missing.is_empty() {
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!("missing column(s) {}", missing.join(", ")));
        }
        if !unknown.is_empty() {
            parts.push(format!("unknown column(s) {}", unknown.join(", ")));
        }
        return Err(format!(
            "header: {}; the header is {}",
            parts.join("; "),
            columns.join(",")
        ));
    }
    Ok(columns
        .iter()
        .map(|c| names.iter().position(|n| n == c).unwrap_or_default())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &[u8]) -> Vec<String> {
        parse(text).errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn reads_rows_in_any_column_order_with_a_bom_and_blank_lines() {
        let file =
            parse(b"\xEF\xBB\xBFScore,partner,quarter\n42,Acme,2026-Q3\n\n-12.5,Globex,2026-Q4\n");
        assert!(file.errors.is_empty(), "{:?}", file.errors);
        assert_eq!(
            file.rows,
            vec![
                HealthRow {
                    line: 2,
                    partner: "Acme".into(),
                    quarter: "2026-Q3".into(),
                    score: 42.0,
                    metric: None
                },
                HealthRow {
                    line: 4,
                    partner: "Globex".into(),
                    quarter: "2026-Q4".into(),
                    score: -12.5,
                    metric: None
                },
            ]
        );
    }

    #[test]
    fn each_bad_row_is_reported_with_its_line() {
        let text = b"partner,quarter,score\nAcme,2026-Q3,140\nAcme,Q3 2026,50\nAcme,2026-Q4,lots\nAcme,2026-Q3,10\nAcme,2026-Q3,20\n,2026-Q1,5\nAcme,2026-Q2\n";
        assert_eq!(
            errors(text),
            vec![
                "line 2: score: 140 is outside -100 to 100",
                "line 3: quarter: `Q3 2026` is not a quarter like 2026-Q3",
                "line 4: score: `lots` is not a number",
                "line 6: quarter: `Acme` already has a score for 2026-Q3 on line 5",
                "line 7: partner: empty; give the partner's id or name",
                "line 8: expected 3 fields (partner, quarter, score), found 2",
            ]
        );
    }

    #[test]
    fn outcome_files_name_a_metric_and_take_any_number() {
        let file = parse_outcomes(b"partner,quarter,metric,value\nAcme,2026-Q3,revenue,125000.5\nAcme,2026-Q3,escalations,4\nAcme,2026-Q3,revenue,1\nAcme,2026-Q3,Net Revenue,1\n");
        assert_eq!(file.rows.len(), 2);
        assert_eq!(file.rows[0].metric.as_deref(), Some("revenue"));
        assert_eq!(file.rows[0].score, 125000.5);
        let errors: Vec<String> = file.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            errors,
            vec![
                "line 4: quarter: `Acme` already has a `revenue` value for 2026-Q3 on line 2",
                "line 5: metric: `Net Revenue` is not a metric name (lowercase letters, digits, - and _)",
            ]
        );
    }

    #[test]
    fn wrong_encodings_and_headers_are_named() {
        assert_eq!(
            errors(b"partner,quarter,score\nCaf\xE9,2026-Q3,10\n"),
            vec![
                "line 2: not UTF-8 text; save the file as UTF-8 (CSV UTF-8 in spreadsheet programs)"
            ]
        );
        assert_eq!(
            errors(b"\xFF\xFEp\0a\0"),
            vec![
                "line 1: the file is UTF-16 text; save it as UTF-8 (CSV UTF-8 in spreadsheet programs)"
            ]
        );
        assert_eq!(
            errors(b"partner,score,nps\n"),
            vec![
                "line 1: header: missing column(s) quarter; unknown column(s) nps; the header is partner,quarter,score"
            ]
        );
        assert_eq!(
            errors(b""),
            vec!["line 1: the file is empty; it needs the header partner,quarter,score"]
        );
    }
}
