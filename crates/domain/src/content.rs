//! Comparing two versions of a module's content section by section, with the changed words
//! marked, so people renewing a credential read only what changed.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

/// A section as compared: where it is, what it is called, and its words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionText {
    pub anchor: String,
    pub heading: String,
    pub body: String,
}

/// A run of words that are the same, added or removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WordRun {
    /// `same`, `added` or `removed`.
    pub op: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SectionChange {
    pub anchor: String,
    pub heading: String,
    /// `added`, `removed`, `changed` or `unchanged`.
    pub change: String,
    /// For changed sections: the new text with additions and removals marked.
    pub words: Vec<WordRun>,
}

/// Sections are matched by anchor, then by heading; order follows the new version, with
/// removed sections after the one they followed.
pub fn compare(old: &[SectionText], new: &[SectionText]) -> Vec<SectionChange> {
    let find_old = |section: &SectionText| {
        old.iter()
            .position(|o| o.anchor == section.anchor)
            .or_else(|| old.iter().position(|o| o.heading == section.heading))
    };
    let mut matched = vec![false; old.len()];
    let mut changes = Vec::new();
    for section in new {
        match find_old(section) {
            Some(i) if !matched[i] => {
                matched[i] = true;
                let before = &old[i];
                let same = before.body == section.body && before.heading == section.heading;
                changes.push(SectionChange {
                    anchor: section.anchor.clone(),
                    heading: section.heading.clone(),
                    change: if same { "unchanged" } else { "changed" }.into(),
                    words: if same {
                        vec![]
                    } else {
                        word_diff(&before.body, &section.body)
                    },
                });
            }
            _ => changes.push(SectionChange {
                anchor: section.anchor.clone(),
                heading: section.heading.clone(),
                change: "added".into(),
                words: vec![WordRun {
                    op: "added".into(),
                    text: section.body.clone(),
                }],
            }),
        }
    }
    for (i, section) in old.iter().enumerate().filter(|(i, _)| !matched[*i]) {
        // After the last new section that came from an old section before this one.
        let after = old[..i].iter().rev().find_map(|prev| {
            changes
                .iter()
                .position(|c| c.anchor == prev.anchor && c.change != "removed")
        });
        let removed = SectionChange {
            anchor: section.anchor.clone(),
            heading: section.heading.clone(),
            change: "removed".into(),
            words: vec![WordRun {
                op: "removed".into(),
                text: section.body.clone(),
            }],
        };
        match after {
            Some(position) => changes.insert(position + 1, removed),
            None => changes.insert(0, removed),
        }
    }
    changes
}

/// Word-level differences, adjacent runs of the same kind merged.
pub fn word_diff(old: &str, new: &str) -> Vec<WordRun> {
    let diff = TextDiff::from_words(old, new);
    let mut runs: Vec<WordRun> = Vec::new();
    for change in diff.iter_all_changes() {
        let op = match change.tag() {
            ChangeTag::Equal => "same",
            ChangeTag::Insert => "added",
            ChangeTag::Delete => "removed",
        };
        match runs.last_mut() {
            Some(last) if last.op == op => last.text.push_str(change.value()),
            _ => runs.push(WordRun {
                op: op.into(),
                text: change.value().to_owned(),
            }),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(anchor: &str, body: &str) -> SectionText {
        SectionText {
            anchor: anchor.into(),
            heading: anchor.replace('-', " "),
            body: body.into(),
        }
    }

    #[test]
    fn changed_words_are_marked_and_unchanged_sections_say_so() {
        let old = [
            section("webhooks", "Retry failed webhooks three times."),
            section("scopes", "Use the narrowest scope."),
        ];
        let new = [
            section("webhooks", "Retry failed webhooks five times with backoff."),
            section("scopes", "Use the narrowest scope."),
        ];
        let changes = compare(&old, &new);
        assert_eq!(changes[0].change, "changed");
        let words = &changes[0].words;
        let rebuild = |skip: &str| {
            words
                .iter()
                .filter(|w| w.op != skip)
                .map(|w| w.text.as_str())
                .collect::<String>()
        };
        assert_eq!(
            rebuild("removed"),
            new[0].body,
            "same + added words give the new text"
        );
        assert_eq!(
            rebuild("added"),
            old[0].body,
            "same + removed words give the old text"
        );
        assert!(
            words
                .iter()
                .any(|w| w.op == "removed" && w.text.contains("three")),
            "{words:?}"
        );
        assert!(
            words
                .iter()
                .any(|w| w.op == "added" && w.text.contains("five")),
            "{words:?}"
        );
        assert!(
            words
                .iter()
                .any(|w| w.op == "same" && w.text.contains("Retry failed webhooks")),
            "{words:?}"
        );
        assert_eq!(changes[1].change, "unchanged");
        assert!(changes[1].words.is_empty());
    }

    #[test]
    fn added_and_removed_sections_keep_their_place() {
        let old = [
            section("a", "one"),
            section("b", "two"),
            section("c", "three"),
        ];
        let new = [
            section("a", "one"),
            section("c", "three"),
            section("d", "four"),
        ];
        let order: Vec<_> = compare(&old, &new)
            .iter()
            .map(|c| format!("{} {}", c.anchor, c.change))
            .collect();
        assert_eq!(
            order,
            ["a unchanged", "b removed", "c unchanged", "d added"]
        );
    }

    #[test]
    fn a_renamed_anchor_is_matched_by_heading() {
        let old = [SectionText {
            anchor: "x".into(),
            heading: "Data residency".into(),
            body: "EU only".into(),
        }];
        let new = [SectionText {
            anchor: "y".into(),
            heading: "Data residency".into(),
            body: "EU and UK".into(),
        }];
        let changes = compare(&old, &new);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].change, "changed");
    }
}
