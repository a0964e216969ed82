//! Accredit's own item file: TOML with one `[[items]]` table per item, the shape of the item
//! model. It is the one format that carries everything a scenario item needs — the artifact (a
//! code sample, log, configuration or payload), faulty lines, ordering, matching — which GIFT
//! cannot and QTI only verbosely. The format is described in `docs/ITEM-FILE.md`.

use crate::document::FormatError;
use accredit_domain::exam::Item;
use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    items: Vec<Spanned<Item>>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Reads an item file; every problem is reported with the line of its item.
pub fn parse(bytes: &[u8]) -> Result<Vec<Item>, Vec<FormatError>> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        vec![FormatError::whole_file(format!(
            "the file is not UTF-8 text (invalid byte at offset {})",
            e.valid_up_to()
        ))]
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(vec![FormatError::whole_file(
            "the file is empty; expected [[items]] tables",
        )]);
    }
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(0, |span| line_of(text, span.start));
        vec![FormatError::at(line, e.message().trim().to_owned())]
    })?;
    let mut errors = Vec::new();
    let mut items = Vec::new();
    for spanned in raw.items {
        let line = line_of(text, spanned.span().start);
        let item = spanned.into_inner();
        if items.iter().any(|i: &Item| i.id == item.id) {
            errors.push(FormatError::at(
                line,
                format!("item `{}` appears twice", item.id),
            ));
        }
        for problem in item.problems() {
            errors.push(FormatError::at(
                line,
                format!("item `{}`: {problem}", item.id),
            ));
        }
        items.push(item);
    }
    if errors.is_empty() {
        Ok(items)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use accredit_domain::exam::ItemBody;

    const FILE: &str = r#"
[[items]]
id = "sql-concat"
domain = "injection"
stem = "Which line lets a caller inject SQL?"
rationale = "User input is concatenated into the query."
artifact = { kind = "code", language = "python", content = """
def find(name):
    q = "SELECT * FROM users WHERE name = '" + name + "'"
    return db.execute(q)
""" }
body = { type = "faulty_lines", lines = [2] }

[[items]]
id = "fix"
domain = "injection"
stem = "What fixes it?"
body = { type = "single_choice", correct = "a", choices = [
  { id = "a", text = "A parameterised query" },
  { id = "b", text = "Escaping quotes by hand" },
] }
"#;

    #[test]
    fn items_parse_with_artifacts_and_keys() {
        let items = parse(FILE.as_bytes()).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].body, ItemBody::FaultyLines { lines: vec![2] });
        assert!(
            items[0]
                .artifact
                .as_ref()
                .unwrap()
                .content
                .contains("db.execute(q)")
        );
        assert_eq!(items[1].body.kind(), "single_choice");
        assert_eq!(items[1].rationale, "");
    }

    #[test]
    fn problems_name_the_line_of_their_item() {
        let broken = FILE
            .replace("lines = [2]", "lines = [9]")
            .replace("correct = \"a\"", "correct = \"c\"");
        let errors: Vec<String> = parse(broken.as_bytes())
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            errors,
            [
                "line 2: item `sql-concat`: faulty line 9 is outside the artifact's 3 lines",
                "line 14: item `fix`: the key `c` is not one of the choices",
            ]
        );
        let syntax = parse(b"[[items]]\nid = \"x\"\nbody = { type = \"essay\" }\n").unwrap_err();
        assert_eq!(syntax[0].line, 3);
        assert!(syntax[0].message.contains("essay"), "{}", syntax[0].message);
        assert_eq!(
            parse(b"  \n").unwrap_err()[0].message,
            "the file is empty; expected [[items]] tables"
        );
        assert!(
            parse(&[0xff, 0xfe, 0x00]).unwrap_err()[0]
                .message
                .contains("not UTF-8")
        );
    }
}
