//! Charts drawn on the server as SVG, readable without JavaScript: horizontal bars with their
//! values written out, a title and a text alternative.

use std::fmt::Write as _;

/// Escapes text for SVG (XML) content and attributes.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One bar: its label, value and the text written beside it.
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub text: String,
    /// A CSS class for the bar (e.g. `certified`, `other`).
    pub class: &'static str,
}

/// A horizontal bar chart scaled to `max` (at least the largest value).
pub fn bars(title: &str, bars: &[Bar], max: f64) -> String {
    const ROW: f64 = 22.0;
    // About 7.5 units per character at the chart's font size; the label column grows with
    // the longest label so none is cut off, and the plot keeps its width.
    const CHAR: f64 = 7.5;
    let plot = 330.0;
    let longest = bars
        .iter()
        .map(|b| b.label.chars().count())
        .max()
        .unwrap_or(0);
    let label_width = (longest as f64 * CHAR + 16.0).clamp(120.0, 420.0);
    let width = label_width + plot + 90.0;
    let top = bars
        .iter()
        .map(|b| b.value)
        .fold(max, f64::max)
        .max(f64::MIN_POSITIVE);
    let height = ROW * bars.len() as f64 + 30.0;
    let summary: Vec<String> = bars
        .iter()
        .map(|b| format!("{}: {}", b.label, b.text))
        .collect();
    let mut svg = format!(
        r#"<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" aria-label="{}"><title>{}</title>"#,
        escape(&format!("{title}. {}", summary.join("; "))),
        escape(title)
    );
    for (i, bar) in bars.iter().enumerate() {
        let y = 24.0 + ROW * i as f64;
        let w = (bar.value.max(0.0) / top * plot).max(1.0);
        let _ = write!(
            svg,
            r#"<text x="{x}" y="{ty}" text-anchor="end" class="label">{label}</text><rect x="{label_width}" y="{y}" width="{w:.1}" height="{h}" class="bar {class}"/><text x="{vx:.1}" y="{ty}" class="value">{text}</text>"#,
            x = label_width - 8.0,
            ty = y + 13.0,
            label = escape(&bar.label),
            h = ROW - 6.0,
            class = bar.class,
            vx = label_width + w + 6.0,
            text = escape(&bar.text),
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_has_a_text_alternative_and_escapes_labels() {
        let svg = bars(
            "Pass rate",
            &[
                Bar {
                    label: "Exam <A>".into(),
                    value: 50.0,
                    text: "50%".into(),
                    class: "",
                },
                Bar {
                    label: "B & C".into(),
                    value: 100.0,
                    text: "100%".into(),
                    class: "",
                },
            ],
            100.0,
        );
        assert!(svg.starts_with("<svg class=\"chart\" role=\"img\""));
        assert!(svg.contains("aria-label=\"Pass rate. Exam &lt;A&gt;: 50%; B &amp; C: 100%\""));
        assert!(svg.contains("width=\"330.0\""), "{svg}");
        assert!(!svg.contains("<A>"));
    }

    #[test]
    fn the_label_column_is_as_wide_as_the_longest_label() {
        let bar = |label: &str| Bar {
            label: label.into(),
            value: 1.0,
            text: "1".into(),
            class: "",
        };
        let long = "msp-operational-assessment 2025-Q3 and more";
        let svg = bars("t", &[bar("short"), bar(long)], 1.0);
        let expected = long.chars().count() as f64 * 7.5 + 16.0;
        assert!(svg.contains(&format!("<rect x=\"{expected}\"")), "{svg}");
    }
}
