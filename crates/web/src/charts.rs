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
    const LABEL: f64 = 220.0;
    const WIDTH: f64 = 640.0;
    let plot = WIDTH - LABEL - 90.0;
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
        r#"<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" aria-label="{}"><title>{}</title>"#,
        escape(&format!("{title}. {}", summary.join("; "))),
        escape(title)
    );
    for (i, bar) in bars.iter().enumerate() {
        let y = 24.0 + ROW * i as f64;
        let w = (bar.value.max(0.0) / top * plot).max(1.0);
        let _ = write!(
            svg,
            r#"<text x="{x}" y="{ty}" text-anchor="end" class="label">{label}</text><rect x="{LABEL}" y="{y}" width="{w:.1}" height="{h}" class="bar {class}"/><text x="{vx:.1}" y="{ty}" class="value">{text}</text>"#,
            x = LABEL - 8.0,
            ty = y + 13.0,
            label = escape(&bar.label),
            h = ROW - 6.0,
            class = bar.class,
            vx = LABEL + w + 6.0,
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
}
