use super::*;

const MINIMAL: &str = r#"
[program]
id = "demo"
name = "Demo program"
version = "1"
job_roles = ["sales", "technical"]

[[releases]]
name = "R1"
date = 2026-06-01

[[releases]]
name = "R2"
date = 2027-06-01

[[modules]]
id = "basics"
title = "Basics"
hours = 4
job_roles = ["sales"]

[[exams]]
id = "sales-exam"
title = "Sales exam"
job_roles = ["sales"]

[[practicals]]
id = "portfolio"
title = "Portfolio"

[[tracks]]
id = "sales"
name = "Sales Certified"
job_roles = ["sales"]
validity = { months = 12 }
renewal = { window_days = 90, requires = "delta-module" }
requires = { all = [{ module = "basics" }, { exam = "sales-exam" }] }

[[tracks]]
id = "advanced"
name = "Advanced"
job_roles = ["technical"]
validity = { aligned_to_releases = true, min_months = 12 }
renewal = { window_days = 60, requires = "full-track" }
requires = { credential = "sales" }

[[tiers]]
id = "silver"
name = "Silver"
requires = { people_holding = "sales", at_least = 1 }

[[tiers]]
id = "gold"
name = "Gold"
requires = { all = [{ tier = "silver" }, { approved = "portfolio", at_least = 3 }] }

[[benefits]]
id = "deal-registration"
name = "Deal registration"
subject = "partner"
requires = { tier = "silver" }

[[benefits]]
id = "sandbox"
name = "Sandbox access"
subject = "person"
requires = { modules = ["basics"] }
"#;

fn errors_of(text: &str) -> Vec<ProgramError> {
    parse(text).expect_err("the file should be refused")
}

/// Replaces the first occurrence of `from` in the minimal program.
fn broken(from: &str, to: &str) -> String {
    assert!(MINIMAL.contains(from), "{from}");
    MINIMAL.replacen(from, to, 1)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).expect(needle) + 1
}

#[test]
fn a_complete_program_parses_into_the_model() {
    let program = parse(MINIMAL).unwrap();
    assert_eq!(program.id, "demo");
    assert_eq!(program.tracks.len(), 2);
    assert_eq!(
        program.tracks[0].requires,
        Rule::All(vec![
            Rule::Module("basics".into()),
            Rule::Exam("sales-exam".into())
        ])
    );
    assert_eq!(
        program.tracks[1].validity,
        Validity::ReleaseAligned { min_months: 12 }
    );
    assert_eq!(
        program.tiers[1].rule,
        Rule::All(vec![
            Rule::Tier("silver".into()),
            Rule::ApprovedPracticals {
                practical: "portfolio".into(),
                at_least: 3
            }
        ])
    );
    assert_eq!(
        program.benefits[1].rule,
        Rule::All(vec![Rule::Module("basics".into())])
    );
    assert_eq!(program.benefits[1].subject, Subject::Person);
}

#[test]
fn syntax_errors_name_their_line() {
    let text = broken("hours = 4", "hours = ");
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, line_of(&text, "hours = "));
}

#[test]
fn unknown_and_missing_fields_are_refused() {
    let text = broken("hours = 4", "hours = 4\nduration = 3");
    let errors = errors_of(&text);
    assert!(
        errors[0].message.contains("unknown field `duration`"),
        "{errors:?}"
    );
    assert_eq!(errors[0].line, line_of(&text, "duration"));

    let errors = errors_of(&broken("title = \"Sales exam\"\n", ""));
    assert!(
        errors[0].message.contains("missing field `title`"),
        "{errors:?}"
    );
}

#[test]
fn an_unknown_reference_names_the_id_and_what_exists() {
    let text = broken("{ exam = \"sales-exam\" }", "{ exam = \"sales-exm\" }");
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].line, line_of(&text, "sales-exm"));
    assert_eq!(
        errors[0].message,
        "track `sales`: unknown exam `sales-exm`; declared exams: `sales-exam`"
    );
}

#[test]
fn a_tier_rule_naming_a_missing_credential_is_refused() {
    let errors = errors_of(&broken(
        "people_holding = \"sales\"",
        "people_holding = \"presales\"",
    ));
    assert!(
        errors[0]
            .message
            .starts_with("tier `silver`: unknown track `presales`"),
        "{errors:?}"
    );
}

#[test]
fn prerequisite_cycles_are_refused() {
    let text = broken(
        "requires = { all = [{ module = \"basics\" }, { exam = \"sales-exam\" }] }",
        "requires = { credential = \"advanced\" }",
    );
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0]
            .message
            .contains("prerequisites form a cycle: advanced → sales → advanced"),
        "{errors:?}"
    );
}

#[test]
fn a_tier_may_only_require_a_lower_tier() {
    let errors = errors_of(&broken(
        "requires = { people_holding = \"sales\", at_least = 1 }",
        "requires = { tier = \"gold\" }",
    ));
    assert!(
        errors[0]
            .message
            .contains("tier `silver`: may only require a lower tier"),
        "{errors:?}"
    );
}

#[test]
fn person_and_partner_rules_stay_in_their_place() {
    let errors = errors_of(&broken(
        "requires = { credential = \"sales\" }",
        "requires = { people_holding = \"sales\", at_least = 2 }",
    ));
    assert!(
        errors[0]
            .message
            .contains("track `advanced`: `people_holding` speaks of a partner as a whole"),
        "{errors:?}"
    );
    let errors = errors_of(&broken(
        "requires = { tier = \"silver\" }",
        "requires = { module = \"basics\" }",
    ));
    assert!(
        errors[0]
            .message
            .contains("benefit `deal-registration`: `module` speaks of one person's own records"),
        "{errors:?}"
    );
}

#[test]
fn duplicate_and_malformed_ids_are_refused() {
    let errors = errors_of(&broken(
        "id = \"portfolio\"",
        "id = \"basics\"\ntitle = \"B\"\n[[practicals]]\nid = \"Bad Id\"\ntitle = \"x\"\n[[practicals]]\nid = \"portfolio\"",
    ));
    let messages: Vec<_> = errors.iter().map(|e| e.message.as_str()).collect();
    assert!(
        messages.contains(
            &"practical id `Bad Id` must be 1 to 64 lower-case letters, digits and hyphens"
        ),
        "{messages:?}"
    );
    let errors = errors_of(&broken(
        "id = \"sales-exam\"\ntitle = \"Sales exam\"",
        "id = \"sales-exam\"\ntitle = \"Sales exam\"\n[[exams]]\nid = \"sales-exam\"\ntitle = \"Again\"",
    ));
    assert!(
        errors
            .iter()
            .any(|e| e.message == "exam id `sales-exam` is declared twice"),
        "{errors:?}"
    );
}

#[test]
fn rules_need_exactly_one_condition_and_counts_where_they_belong() {
    let errors = errors_of(&broken(
        "{ module = \"basics\" }, { exam",
        "{ module = \"basics\", exam = \"sales-exam\" }, { exam",
    ));
    assert!(
        errors[0].message.contains("a rule needs exactly one of"),
        "{errors:?}"
    );
    assert!(
        errors[0].message.contains("found module, exam"),
        "{errors:?}"
    );
    let errors = errors_of(&broken("at_least = 1 }", "at_least = 0 }"));
    assert!(
        errors[0]
            .message
            .contains("`people_holding` needs `at_least` of 1 or more"),
        "{errors:?}"
    );
    let errors = errors_of(&broken(
        "requires = { tier = \"silver\" }",
        "requires = { tier = \"silver\", at_least = 2 }",
    ));
    assert!(
        errors[0].message.contains("`at_least` only goes with"),
        "{errors:?}"
    );
    let errors = errors_of(&broken(
        "requires = { tier = \"silver\" }",
        "requires = { any = [] }",
    ));
    assert!(
        errors[0].message.contains("`any` needs at least one rule"),
        "{errors:?}"
    );
}

#[test]
fn validity_renewal_and_calendar_mistakes_are_refused() {
    let errors = errors_of(&broken(
        "validity = { months = 12 }",
        "validity = { months = 0 }",
    ));
    assert!(errors[0].message.contains("validity must be"), "{errors:?}");
    let errors = errors_of(&broken("window_days = 90", "window_days = 400"));
    assert!(
        errors[0]
            .message
            .contains("renewal window_days must be at least 1 and shorter"),
        "{errors:?}"
    );
    let errors = errors_of(&broken(
        "requires = \"full-track\"",
        "requires = \"nothing\"",
    ));
    assert!(
        errors[0].message.contains("renewal requires `nothing`"),
        "{errors:?}"
    );
    let errors = errors_of(&broken("date = 2027-06-01", "date = 2026-01-01"));
    assert!(
        errors[0].message.contains("dates must ascend"),
        "{errors:?}"
    );
    let text = MINIMAL.replace("[[releases]]\nname = \"R1\"\ndate = 2026-06-01\n\n[[releases]]\nname = \"R2\"\ndate = 2027-06-01\n", "");
    let errors = errors_of(&text);
    assert!(
        errors[0]
            .message
            .contains("aligned to releases but the file declares no [[releases]]"),
        "{errors:?}"
    );
}

#[test]
fn unknown_job_roles_and_partner_types_are_refused() {
    let errors = errors_of(&broken(
        "job_roles = [\"sales\"]\n\n[[exams]]",
        "job_roles = [\"marketing\"]\n\n[[exams]]",
    ));
    assert!(
        errors[0]
            .message
            .contains("module `basics`: job role `marketing` is not in program.job_roles"),
        "{errors:?}"
    );
    let errors = errors_of(&broken(
        "version = \"1\"",
        "version = \"1\"\npartner_types = [\"franchise\"]",
    ));
    assert!(
        errors[0]
            .message
            .contains("unknown partner type `franchise`"),
        "{errors:?}"
    );
}

#[test]
fn every_problem_is_reported_at_once_in_file_order() {
    let text = broken("{ exam = \"sales-exam\" }", "{ exam = \"nope\" }")
        .replace("subject = \"person\"", "subject = \"people\"");
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].line < errors[1].line);
    assert!(
        errors[1]
            .message
            .contains("subject `people` must be `partner` or `person`")
    );
}

#[test]
fn the_example_programs_are_valid() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/programs");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            if let Err(errors) = parse(&text) {
                let list: Vec<_> = errors.iter().map(|e| e.to_string()).collect();
                panic!("{} is invalid:\n{}", path.display(), list.join("\n"));
            }
            count += 1;
        }
    }
    assert_eq!(count, 4, "four example programs");
}

#[test]
fn an_exam_blueprint_parses_with_defaults_for_the_retake_policy() {
    let text = MINIMAL.replace(
        "title = \"Sales exam\"\n",
        "title = \"Sales exam\"\npassing_score = 85\ntime_limit_minutes = 45\nprerequisites = [\"basics\"]\ndomains = [\n  { id = \"positioning\", name = \"Positioning\", weight = 70, items = 5 },\n  { id = \"pricing\", name = \"Pricing\", weight = 30, items = 2 },\n]\n",
    );
    let program = parse(&text).unwrap();
    let blueprint = program.exams[0].blueprint.as_ref().unwrap();
    assert_eq!(blueprint.passing_score, 85);
    assert_eq!(blueprint.total_items(), 7);
    assert_eq!(blueprint.prerequisites, ["basics"]);
    assert_eq!(
        (
            blueprint.retake.wait_days,
            blueprint.retake.max_attempts,
            blueprint.retake.period_days
        ),
        (30, 3, 365)
    );
    assert!(!blueprint.proctored);
}

#[test]
fn blueprint_mistakes_are_refused_with_their_line() {
    let text = MINIMAL.replace(
        "title = \"Sales exam\"\n",
        "title = \"Sales exam\"\npassing_score = 120\nprerequisites = [\"advanced\"]\nretake = { wait_days = 30, max_attempts = 0, period_days = 365 }\ndomains = [\n  { id = \"positioning\", name = \"Positioning\", weight = 70, items = 0 },\n  { id = \"Pricing\", name = \"Pricing\", weight = 20, items = 2 },\n]\n",
    );
    let messages: Vec<String> = errors_of(&text).iter().map(|e| e.to_string()).collect();
    let line = |needle: &str| line_of(&text, needle);
    let expect = [
        format!(
            "line {}, column 17: exam `sales-exam`: passing_score is a percentage from 1 to 100",
            line("passing_score = 120")
        ),
        format!(
            "line {}, column 18: exam `sales-exam`: prerequisite `advanced` is not a module of this program",
            line("prerequisites = [\"advanced\"]")
        ),
        format!(
            "line {}, column 43: exam `sales-exam`: retake.max_attempts must be at least 1",
            line("max_attempts = 0")
        ),
    ];
    for expected in &expect {
        assert!(
            messages.contains(expected),
            "missing {expected:?} in {messages:#?}"
        );
    }
    let joined = messages.join("\n");
    assert!(
        joined.contains("domain `positioning`: items must be at least 1"),
        "{joined}"
    );
    assert!(
        joined.contains("domain weights must sum to 100; they sum to 90"),
        "{joined}"
    );
    assert!(joined.contains("`Pricing`"), "{joined}");
    // A blueprint field without domains is a mistake, not silently ignored.
    let orphan = MINIMAL.replace(
        "title = \"Sales exam\"\n",
        "title = \"Sales exam\"\npassing_score = 85\n",
    );
    let messages: Vec<String> = errors_of(&orphan).iter().map(|e| e.to_string()).collect();
    assert!(
        messages[0].ends_with(
            "exam `sales-exam`: `passing_score` is part of a blueprint, which needs `domains`"
        ),
        "{messages:?}"
    );
}

#[test]
fn only_partner_benefits_list_partners_in_the_directory() {
    let text = broken(
        "subject = \"person\"\nrequires = { modules = [\"basics\"] }",
        "subject = \"person\"\nrequires = { modules = [\"basics\"] }\ndirectory = true",
    );
    let errors = errors_of(&text);
    assert_eq!(
        errors[0].message,
        "benefit `sandbox`: only a partner benefit can list partners in the directory"
    );
    assert_eq!(errors[0].line, line_of(&text, "directory = true"));
    let listed = broken(
        "requires = { tier = \"silver\" }",
        "requires = { tier = \"silver\" }\ndirectory = true",
    );
    assert!(parse(&listed).unwrap().benefits[0].directory);
}

#[test]
fn existing_holders_must_be_keep_or_recompute() {
    let first_validity = MINIMAL
        .lines()
        .find(|l| l.starts_with("validity = "))
        .unwrap();
    let text = broken(
        first_validity,
        &format!("{first_validity}\nexisting_holders = \"forget\""),
    );
    let errors = errors_of(&text);
    assert!(
        errors[0]
            .message
            .ends_with("existing_holders is `forget`; expected `keep` or `recompute`"),
        "{errors:?}"
    );
    assert_eq!(errors[0].line, line_of(&text, "forget"));
}
