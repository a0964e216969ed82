//! Syntax highlighting for scenario items' artifacts, line by line so each line can carry its
//! own checkbox on faulty-line items. Output is HTML with `hl-*` classes (styled in app.css);
//! every character of the input is escaped.

use std::sync::LazyLock;
use syntect::html::{ClassStyle, line_tokens_to_classed_spans};
use syntect::parsing::{ParseState, Scope, ScopeStack, SyntaxReference, SyntaxSet};

static SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(SyntaxSet::load_defaults_newlines);

const STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: "hl-" };

/// The grammar for an artifact's language; Apex reads as Java, its close relative.
fn syntax(language: &str) -> Option<&'static SyntaxReference> {
    let name = match language.to_ascii_lowercase().as_str() {
        "apex" | "java" => "Java",
        "javascript" | "js" | "typescript" | "ts" => "JavaScript",
        "python" | "py" => "Python",
        "json" => "JSON",
        "yaml" | "yml" => "YAML",
        "sql" | "soql" => "SQL",
        "xml" => "XML",
        "html" => "HTML",
        "sh" | "bash" | "shell" => "Bourne Again Shell (bash)",
        _ => return None,
    };
    SYNTAXES.find_syntax_by_name(name)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn open_spans(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|scope| {
            let classes: Vec<String> = scope
                .build_string()
                .split('.')
                .map(|part| format!("hl-{part}"))
                .collect();
            format!("<span class=\"{}\">", classes.join(" "))
        })
        .collect()
}

/// Each line of `content` as balanced HTML; plain escaped text for unknown languages or any
/// grammar failure.
pub fn highlight_lines(language: &str, content: &str) -> Vec<String> {
    let plain = || content.lines().map(escape).collect();
    let Some(syntax) = syntax(language) else {
        return plain();
    };
    let mut state = ParseState::new(syntax);
    let mut stack = ScopeStack::new();
    let mut lines = Vec::new();
    for line in content.lines() {
        // Re-open what the previous line left open, so every line stands alone.
        let mut html = open_spans(stack.as_slice());
        let with_newline = format!("{line}\n");
        let Ok(ops) = state.parse_line(&with_newline, &SYNTAXES) else {
            return plain();
        };
        let Ok((spans, _)) =
            line_tokens_to_classed_spans(line, &ops_within(&ops, line.len()), STYLE, &mut stack)
        else {
            return plain();
        };
        html.push_str(&spans);
        html.push_str(&"</span>".repeat(stack.len()));
        lines.push(html);
    }
    lines
}

/// Operations past the end of the line (at the newline) belong to the next line's state only.
fn ops_within(
    ops: &[(usize, syntect::parsing::ScopeStackOp)],
    len: usize,
) -> Vec<(usize, syntect::parsing::ScopeStackOp)> {
    ops.iter()
        .map(|(at, op)| ((*at).min(len), op.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_is_highlighted_and_escaped_line_by_line() {
        let lines = highlight_lines(
            "apex",
            "String q = 'a<b>' + name;\n/* note\n   more */ return q;",
        );
        assert_eq!(lines.len(), 3);
        assert!(lines[0].contains("hl-string"), "{}", lines[0]);
        assert!(lines[0].contains("&lt;b&gt;"), "{}", lines[0]);
        // The comment spans two lines; each line's HTML is balanced.
        assert!(lines[1].contains("hl-comment"), "{}", lines[1]);
        assert!(
            lines[2].contains("<span class=\"hl-comment hl-block hl-java\">   more"),
            "{}",
            lines[2]
        );
        for line in &lines {
            assert_eq!(
                line.matches("<span").count(),
                line.matches("</span>").count(),
                "{line}"
            );
        }
    }

    #[test]
    fn unknown_languages_are_plain_escaped_text() {
        assert_eq!(
            highlight_lines("log", "ERROR <script>\nok"),
            ["ERROR &lt;script&gt;", "ok"]
        );
    }
}
