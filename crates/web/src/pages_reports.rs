//! Outcome report pages: charts drawn on the server and each table as CSV.

use crate::AppState;
use crate::charts::{Bar, bars};
use crate::pages::{Layout, PageResult};
use crate::session::PageUser;
use accredit_app::reports::ProgramReport;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/programs/{id}/reports", get(report_page))
        .route("/programs/{id}/reports/{table}", get(report_csv))
}

#[derive(Template, WebTemplate)]
#[template(path = "reports.html")]
struct ReportPage {
    layout: Layout,
    r: ProgramReport,
    pass_chart: String,
    first_chart: String,
    comparison_charts: Vec<String>,
}

fn rate_bar(label: String, rate: f64, n: usize) -> Bar {
    Bar {
        label,
        value: rate,
        text: format!("{rate}% (n={n})"),
        class: "",
    }
}

/// A program's outcome report (program admins; account managers over their partners).
async fn report_page(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    let r = state.app.program_report(&user.ctx(), &id).await?;
    let pass_chart = bars(
        "Pass rate by exam and quarter",
        &r.pass_rates
            .iter()
            .map(|p| rate_bar(format!("{} {}", p.exam, p.quarter), p.rate, p.attempts))
            .collect::<Vec<_>>(),
        100.0,
    );
    let first_chart = bars(
        "First-attempt pass rate by exam",
        &r.first_attempts
            .iter()
            .map(|f| rate_bar(f.exam.clone(), f.rate, f.candidates))
            .collect::<Vec<_>>(),
        100.0,
    );
    let mut by_metric: Vec<(String, Vec<Bar>)> = Vec::new();
    for c in &r.comparisons {
        if by_metric.last().is_none_or(|(m, _)| *m != c.metric) {
            by_metric.push((c.metric.clone(), Vec::new()));
        }
        let rows = &mut by_metric.last_mut().expect("just pushed").1;
        for (who, n, mean, class) in [
            (
                "certified",
                c.certified_partners,
                c.certified_mean,
                "certified",
            ),
            ("not certified", c.other_partners, c.other_mean, "other"),
        ] {
            rows.push(Bar {
                label: format!("{} {who}", c.quarter),
                value: mean.unwrap_or(0.0),
                text: match mean {
                    Some(m) => format!("{m} (n={n})"),
                    None => "no partners".into(),
                },
                class,
            });
        }
    }
    let comparison_charts = by_metric
        .into_iter()
        .map(|(metric, rows)| {
            let max = rows.iter().map(|b| b.value).fold(0.0, f64::max);
            bars(
                &format!("{metric}: certified and other partners"),
                &rows,
                max,
            )
        })
        .collect();
    Ok(ReportPage {
        layout: Layout::for_user(&user),
        r,
        pass_chart,
        first_chart,
        comparison_charts,
    }
    .into_response())
}

fn csv_line(fields: &[String]) -> String {
    let quoted: Vec<String> = fields
        .iter()
        .map(|f| {
            if f.contains([',', '"', '\n']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f.clone()
            }
        })
        .collect();
    format!("{}\n", quoted.join(","))
}

fn opt(value: Option<f64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// One table of the report as CSV.
async fn report_csv(
    State(state): State<AppState>,
    user: PageUser,
    Path((id, table)): Path<(String, String)>,
) -> PageResult {
    let r = state.app.program_report(&user.ctx(), &id).await?;
    let s = |v: &dyn ToString| v.to_string();
    let rows: Vec<Vec<String>> = match table.as_str() {
        "pass-rates.csv" => std::iter::once(vec![
            "exam".into(),
            "quarter".into(),
            "attempts".into(),
            "passed".into(),
            "pass_rate_percent".into(),
        ])
        .chain(r.pass_rates.iter().map(|p| {
            vec![
                p.exam.clone(),
                p.quarter.clone(),
                s(&p.attempts),
                s(&p.passed),
                s(&p.rate),
            ]
        }))
        .collect(),
        "domains.csv" => std::iter::once(vec![
            "exam".into(),
            "domain".into(),
            "quarter".into(),
            "attempts".into(),
            "mean_percent".into(),
        ])
        .chain(r.domain_scores.iter().map(|d| {
            vec![
                d.exam.clone(),
                d.domain.clone(),
                d.quarter.clone(),
                s(&d.attempts),
                s(&d.mean),
            ]
        }))
        .collect(),
        "first-attempts.csv" => std::iter::once(vec![
            "exam".into(),
            "candidates".into(),
            "passed_first_time".into(),
            "rate_percent".into(),
        ])
        .chain(r.first_attempts.iter().map(|f| {
            vec![
                f.exam.clone(),
                s(&f.candidates),
                s(&f.passed_first_time),
                s(&f.rate),
            ]
        }))
        .collect(),
        "comparison.csv" => std::iter::once(vec![
            "metric".into(),
            "quarter".into(),
            "certified_partners".into(),
            "certified_mean".into(),
            "other_partners".into(),
            "other_mean".into(),
        ])
        .chain(r.comparisons.iter().map(|c| {
            vec![
                c.metric.clone(),
                c.quarter.clone(),
                s(&c.certified_partners),
                opt(c.certified_mean),
                s(&c.other_partners),
                opt(c.other_mean),
            ]
        }))
        .collect(),
        "compliance.csv" => {
            let mut header = vec!["partner".to_owned(), "tier".to_owned()];
            for t in &r.track_names {
                header.push(format!("{t} holders"));
                header.push(format!("{t} earliest end"));
            }
            if let Some(first) = r.compliance.first() {
                header.extend(first.benefits.iter().map(|(b, _)| b.clone()));
            }
            std::iter::once(header)
                .chain(r.compliance.iter().map(|c| {
                    let mut row = vec![c.partner_name.clone(), c.tier.clone().unwrap_or_default()];
                    for (_, n, end) in &c.tracks {
                        row.push(n.to_string());
                        row.push(end.clone().unwrap_or_default());
                    }
                    row.extend(c.benefits.iter().map(|(_, allowed)| {
                        if *allowed { "allowed" } else { "denied" }.to_owned()
                    }));
                    row
                }))
                .collect()
        }
        _ => {
            return Err(crate::pages::PageError::not_found(&format!(
                "/programs/{id}/reports/{table}"
            )));
        }
    };
    let body: String = rows.iter().map(|r| csv_line(r)).collect();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}-{table}\""),
            ),
        ],
        body,
    )
        .into_response())
}
