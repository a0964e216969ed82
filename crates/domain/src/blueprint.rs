//! An exam's blueprint: what is tested (domains, their weights and item counts), how it is
//! scored, how long it takes, who may sit it and how often. Candidates read it before they
//! enrol; publishing checks the item bank can fill every form it describes.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Blueprint {
    pub domains: Vec<BlueprintDomain>,
    /// The blueprint-weighted score needed to pass, in percent.
    pub passing_score: u32,
    pub time_limit_minutes: u32,
    pub retake: RetakePolicy,
    /// Estimated preparation, in hours.
    pub study_hours: u32,
    /// Modules to complete before the first attempt.
    pub prerequisites: Vec<String>,
    /// A proctor must approve the start and watches the attempt.
    pub proctored: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BlueprintDomain {
    pub id: String,
    pub name: String,
    /// Share of the total score, in percent; the weights sum to 100.
    pub weight: u32,
    /// Items drawn from this domain on every form.
    pub items: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RetakePolicy {
    /// Days to wait after a failed attempt.
    pub wait_days: u32,
    /// At most this many attempts ...
    pub max_attempts: u32,
    /// ... within this many days.
    pub period_days: u32,
}

impl Blueprint {
    pub fn total_items(&self) -> u32 {
        self.domains.iter().map(|d| d.items).sum()
    }

    /// What the bank lacks to fill a form: for each short domain, how many active items it
    /// needs and has. Empty when the blueprint can be published.
    pub fn shortfalls(&self, active_by_domain: &BTreeMap<String, u32>) -> Vec<Shortfall> {
        self.domains
            .iter()
            .filter_map(|d| {
                let available = active_by_domain.get(&d.id).copied().unwrap_or(0);
                (available < d.items).then(|| Shortfall {
                    domain: d.id.clone(),
                    needed: d.items,
                    available,
                })
            })
            .collect()
    }
}

/// A domain without enough active items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Shortfall {
    pub domain: String,
    pub needed: u32,
    pub available: u32,
}

impl std::fmt::Display for Shortfall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "domain `{}` needs {} active item{} and the bank has {}",
            self.domain,
            self.needed,
            if self.needed == 1 { "" } else { "s" },
            self.available
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortfalls_name_each_domain_that_cannot_fill_a_form() {
        let blueprint = Blueprint {
            domains: vec![
                BlueprintDomain {
                    id: "auth".into(),
                    name: "Authentication".into(),
                    weight: 60,
                    items: 3,
                },
                BlueprintDomain {
                    id: "data".into(),
                    name: "Data handling".into(),
                    weight: 40,
                    items: 2,
                },
            ],
            passing_score: 85,
            time_limit_minutes: 60,
            retake: RetakePolicy {
                wait_days: 30,
                max_attempts: 3,
                period_days: 365,
            },
            study_hours: 10,
            prerequisites: vec![],
            proctored: false,
        };
        let bank = BTreeMap::from([("auth".to_owned(), 5), ("other".to_owned(), 9)]);
        let short = blueprint.shortfalls(&bank);
        assert_eq!(short.len(), 1);
        assert_eq!(
            short[0].to_string(),
            "domain `data` needs 2 active items and the bank has 0"
        );
        assert_eq!(blueprint.total_items(), 5);
    }
}
