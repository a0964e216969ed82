//! Programs as code and the entitlement check: example programs, dry-run diffs, tier
//! evaluation, and decisions that follow the seed's rules on both backends.

use crate::on_both_backends;
use crate::support::{Auth, TEST_PROGRAM, TestApp};
use accredit_app::Ctx;
use accredit_app::accounts::{NewPartner, PartnerUpdate, PersonUpdate};
use accredit_app::demo::EXAMPLE_PROGRAMS;
use accredit_app::entitlements::{Lookup, Subjectee};
use accredit_app::evidence::Evidence;
use accredit_domain::Role;
use axum::http::Method;
use serde_json::json;

on_both_backends!(
    the_example_programs_apply_and_reapply_as_a_no_op,
    a_changed_file_shows_an_exact_dry_run_diff_and_changes_nothing,
    broken_program_files_are_refused_with_line_and_column,
    order_processing_is_blocked_when_a_distributors_technical_credential_expires,
    every_write_that_changes_a_decision_is_visible_to_the_next_check,
    tier_changes_are_audited_with_the_rules_that_decided,
    person_benefits_are_decided_per_person,
    unknown_and_ambiguous_entitlements_are_explained,
    enrolment_respects_the_programs_partner_types,
    a_track_with_credentials_on_record_cannot_be_removed,
    a_batch_answers_each_check_in_order,
    the_partner_page_shows_tier_what_is_missing_and_benefits,
    the_programs_page_previews_and_applies,
    a_second_node_hears_of_changes_through_the_database,
    the_partner_page_imports_and_exports_people,
    the_demo_partners_get_the_decisions_the_seed_rules_give,
);

const MEDICAL: &str = EXAMPLE_PROGRAMS[3].1;

fn ctx() -> Ctx {
    Ctx::system()
}

async fn distributor(t: &TestApp, name: &str) -> String {
    t.app
        .create_partner(
            &ctx(),
            NewPartner {
                name: name.into(),
                partner_type: "distributor".into(),
                region: "EMEA".into(),
                account_manager_id: None,
            },
        )
        .await
        .unwrap()
        .id
}

async fn staff(t: &TestApp, email: &str, partner: &str) -> String {
    t.app
        .create_person(
            &ctx(),
            accredit_app::accounts::NewPerson {
                email: email.into(),
                display_name: email.into(),
                roles: vec![Role::Learner],
                partner_id: Some(partner.into()),
                job_role: None,
                password: None,
            },
        )
        .await
        .unwrap()
        .id
}

async fn credential(t: &TestApp, program: &str, person: &str, track: &str) {
    let issued_on = t.app.today();
    let evidence = Evidence::CredentialIssued {
        person: person.into(),
        track: track.into(),
        issued_on,
    };
    t.app
        .record_evidence(&ctx(), program, evidence)
        .await
        .unwrap();
}

/// The test program applied, the world of partners and people, and Acme enrolled.
async fn enrolled_world(t: &TestApp) -> crate::support::World {
    t.app.apply_program(&ctx(), TEST_PROGRAM).await.unwrap();
    let w = t.world().await;
    t.app
        .enroll_partner(&ctx(), &w.acme.id, "test-program")
        .await
        .unwrap();
    w
}

async fn decision(
    t: &TestApp,
    partner: &str,
    entitlement: &str,
) -> accredit_domain::evaluate::Decision {
    match t
        .app
        .check_entitlement(Subjectee::Partner(partner), entitlement, None)
        .await
        .unwrap()
    {
        Lookup::Answer(answer) => (*answer.decision).clone(),
        other => panic!("no answer: {other:?}"),
    }
}

async fn the_example_programs_apply_and_reapply_as_a_no_op(t: TestApp) {
    for (file, text) in EXAMPLE_PROGRAMS {
        let plan = t.app.plan_program(&ctx(), text).await.unwrap();
        assert!(!plan.unchanged && !plan.applied, "{file}");
        assert!(
            plan.changes.iter().all(|c| c.change == "added"),
            "{file}: {:?}",
            plan.changes
        );
        let applied = t.app.apply_program(&ctx(), text).await.unwrap();
        assert!(applied.applied, "{file}");
        assert_eq!(
            applied.changes, plan.changes,
            "{file}: the dry run showed exactly what applying did"
        );
        let again = t.app.apply_program(&ctx(), text).await.unwrap();
        assert!(
            again.unchanged && !again.applied && again.changes.is_empty(),
            "{file}: re-applying is a no-op"
        );
    }
    let programs = t.app.list_programs(&ctx()).await.unwrap();
    assert_eq!(programs.len(), 4);
    let events = t.app.list_audit_events(&ctx(), 0, 1000).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "program.applied")
            .count(),
        4,
        "one audit event per real change"
    );
}

async fn a_changed_file_shows_an_exact_dry_run_diff_and_changes_nothing(t: TestApp) {
    t.app.apply_program(&ctx(), MEDICAL).await.unwrap();
    let partner = distributor(&t, "Helix").await;
    t.app
        .enroll_partner(&ctx(), &partner, "medical-software-distributor")
        .await
        .unwrap();
    for (email, track) in [
        ("s@helix.example", "sales"),
        ("t@helix.example", "technical"),
    ] {
        let person = staff(&t, email, &partner).await;
        credential(&t, "medical-software-distributor", &person, track).await;
    }
    let changed = MEDICAL
        .replace("version = \"2026.1\"", "version = \"2026.2\"")
        .replacen(
            "{ people_holding = \"technical\", at_least = 1 }",
            "{ people_holding = \"technical\", at_least = 2 }",
            1,
        )
        .replacen(
            "validity = { months = 12 }",
            "validity = { months = 24 }\nexisting_holders = \"keep\"",
            1,
        );
    assert_ne!(changed, MEDICAL);
    let plan = t.app.plan_program(&ctx(), &changed).await.unwrap();
    let summary: Vec<_> = plan
        .changes
        .iter()
        .map(|c| format!("{} {} {}", c.change, c.kind, c.id))
        .collect();
    assert!(
        summary.contains(&"changed program medical-software-distributor".to_owned()),
        "{summary:?}"
    );
    assert!(
        summary.contains(&"changed track sales".to_owned()),
        "{summary:?}"
    );
    let sales = plan.changes.iter().find(|c| c.id == "sales").unwrap();
    assert_eq!(
        sales.details,
        vec![
            r#"existing_holders: null → "keep""#.to_owned(),
            r#"validity: {"months":12} → {"months":24}"#.to_owned()
        ]
    );
    assert_eq!(plan.holder_changes.len(), 1);
    assert_eq!(
        (
            plan.holder_changes[0].track.as_str(),
            plan.holder_changes[0].policy.as_str(),
            plan.holder_changes[0].holders
        ),
        ("sales", "keep", 1)
    );
    assert!(
        plan.changes.iter().all(|c| c.change == "changed"),
        "{summary:?}"
    );
    // Requiring two technical specialists drops Helix out of the tier.
    assert_eq!(plan.tier_moves.len(), 1, "{:?}", plan.tier_moves);
    assert_eq!(
        plan.tier_moves[0].from.as_deref(),
        Some("certified-distributor")
    );
    assert_eq!(plan.tier_moves[0].to, None);
    assert_eq!(plan.tier_moves[0].partners, 1);
    // A dry run changes nothing.
    assert_eq!(
        t.app
            .get_program(&ctx(), "medical-software-distributor")
            .await
            .unwrap()
            .version,
        "2026.1"
    );
    assert!(
        decision(&t, &partner, "distribution-agreement")
            .await
            .allowed
    );

    let applied = t.app.apply_program(&ctx(), &changed).await.unwrap();
    assert!(applied.applied);
    assert_eq!(
        t.app
            .get_program(&ctx(), "medical-software-distributor")
            .await
            .unwrap()
            .version,
        "2026.2"
    );
    let standing = t.app.partner_standings(&ctx(), &partner).await.unwrap();
    assert_eq!(standing[0].tier, None);
    let after = decision(&t, &partner, "distribution-agreement").await;
    assert!(
        !after.allowed,
        "the snapshot follows the new program at once"
    );
}

async fn broken_program_files_are_refused_with_line_and_column(t: TestApp) {
    let admin = t.token("programs:write").await;
    let broken = MEDICAL.replacen(
        "{ people_holding = \"technical\", at_least = 1 }",
        "{ people_holding = \"technicall\", at_least = 1 }",
        1,
    );
    let line = broken
        .lines()
        .position(|l| l.contains("technicall"))
        .unwrap()
        + 1;
    let response = t
        .post(
            "/api/v1/programs/apply?dry_run=true",
            &admin,
            json!({"source": broken}),
        )
        .await;
    assert_eq!(response.status, 422, "{}", response.body);
    let problem = response.json();
    let field = problem["errors"][0]["field"].as_str().unwrap();
    assert!(
        field.starts_with(&format!("line {line}, column ")),
        "{field}"
    );
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("unknown track `technicall`")
    );
    assert!(
        t.app.list_programs(&ctx()).await.unwrap().is_empty(),
        "nothing applied"
    );

    let syntax = t
        .post(
            "/api/v1/programs/validate",
            &admin,
            json!({"source": "[program\nid = 1"}),
        )
        .await;
    assert_eq!(syntax.status, 422);
    assert_eq!(syntax.json()["errors"][0]["field"], "line 1, column 9");
}

async fn order_processing_is_blocked_when_a_distributors_technical_credential_expires(t: TestApp) {
    t.app.apply_program(&ctx(), MEDICAL).await.unwrap();
    let partner = distributor(&t, "Bluebird").await;
    t.app
        .enroll_partner(&ctx(), &partner, "medical-software-distributor")
        .await
        .unwrap();
    let denied = decision(&t, &partner, "order-processing").await;
    assert!(!denied.allowed);
    assert!(
        denied
            .reason
            .contains("Certified Distributor Sales Representative"),
        "{}",
        denied.reason
    );

    let sales = staff(&t, "sales@bluebird.example", &partner).await;
    credential(&t, "medical-software-distributor", &sales, "sales").await;
    // Issue the technical credential six months later, so it ends after the sales one.
    t.clock.advance(jiff::SignedDuration::from_hours(24 * 182));
    let technical = staff(&t, "tech@bluebird.example", &partner).await;
    credential(&t, "medical-software-distributor", &technical, "technical").await;
    let allowed = decision(&t, &partner, "order-processing").await;
    assert!(allowed.allowed, "{}", allowed.reason);
    let sales_end = allowed
        .until
        .expect("holds until the first credential ends");

    // Renew sales; then let the technical credential lapse: the day after it ends, orders stop.
    credential(&t, "medical-software-distributor", &sales, "sales").await;
    let until = decision(&t, &partner, "order-processing")
        .await
        .until
        .unwrap();
    assert!(until > sales_end);
    let days = (until - t.app.today()).get_days() as i64 + 1;
    t.clock.advance(jiff::SignedDuration::from_hours(24 * days));
    let blocked = decision(&t, &partner, "order-processing").await;
    assert!(!blocked.allowed);
    assert!(
        blocked
            .reason
            .contains("Certified Distributor Technical Specialist")
            && blocked.reason.contains("expired"),
        "{}",
        blocked.reason
    );
    assert!(
        blocked
            .next_action
            .unwrap()
            .contains("1 more person needs a current")
    );

    // The same answer over HTTP, with the reason in words.
    let reader = t.token("entitlements:read").await;
    let http = t
        .get(
            &format!("/api/v1/entitlements/check?partner={partner}&entitlement=order-processing"),
            &reader,
        )
        .await;
    assert_eq!(http.status, 200, "{}", http.body);
    let body = http.json();
    assert_eq!(body["allowed"], false);
    assert!(body["reason"].as_str().unwrap().contains("expired"));
    assert_eq!(body["program"], "medical-software-distributor");
}

async fn every_write_that_changes_a_decision_is_visible_to_the_next_check(t: TestApp) {
    let w = enrolled_world(&t).await;
    assert!(!decision(&t, &w.acme.id, "deal-registration").await.allowed);

    credential(&t, "test-program", &w.acme_learner.id, "t1").await;
    assert!(decision(&t, &w.acme.id, "deal-registration").await.allowed);

    // Deactivating the only holder, then the partner, each block at once; reactivating restores.
    let update = PersonUpdate {
        active: Some(false),
        ..PersonUpdate::default()
    };
    t.app
        .update_person(&ctx(), &w.acme_learner.id, update)
        .await
        .unwrap();
    assert!(!decision(&t, &w.acme.id, "deal-registration").await.allowed);
    let update = PersonUpdate {
        active: Some(true),
        ..PersonUpdate::default()
    };
    t.app
        .update_person(&ctx(), &w.acme_learner.id, update)
        .await
        .unwrap();
    assert!(decision(&t, &w.acme.id, "deal-registration").await.allowed);

    let update = PartnerUpdate {
        active: Some(false),
        ..PartnerUpdate::default()
    };
    t.app
        .update_partner(&ctx(), &w.acme.id, update)
        .await
        .unwrap();
    let blocked = decision(&t, &w.acme.id, "deal-registration").await;
    assert!(
        !blocked.allowed && blocked.reason.contains("deactivated"),
        "{}",
        blocked.reason
    );

    // Moving the holder to Globex carries the credential's weight with them.
    t.app
        .update_partner(
            &ctx(),
            &w.acme.id,
            PartnerUpdate {
                active: Some(true),
                ..PartnerUpdate::default()
            },
        )
        .await
        .unwrap();
    t.app
        .enroll_partner(&ctx(), &w.globex.id, "test-program")
        .await
        .unwrap();
    let admin = t.login(&w.admin.email).await;
    let moved = t
        .request(
            Method::PATCH,
            &format!("/api/v1/people/{}", w.acme_learner.id),
            &admin,
            Some(json!({"partner_id": w.globex.id})),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert!(!decision(&t, &w.acme.id, "deal-registration").await.allowed);
    assert!(
        decision(&t, &w.globex.id, "deal-registration")
            .await
            .allowed
    );

    // A partner admin may not move people out of the firm.
    let acme_admin = t.login(&w.acme_admin.email).await;
    let refused = t
        .request(
            Method::PATCH,
            &format!("/api/v1/people/{}", w.acme_admin.id),
            &acme_admin,
            Some(json!({"partner_id": w.globex.id})),
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
}

async fn tier_changes_are_audited_with_the_rules_that_decided(t: TestApp) {
    let w = enrolled_world(&t).await;
    credential(&t, "test-program", &w.acme_learner.id, "t1").await;
    let events = t.app.list_audit_events(&ctx(), 0, 1000).await.unwrap();
    let changes: Vec<_> = events
        .iter()
        .filter(|e| {
            e.action == "partner.tier_changed" && e.subject == format!("partner:{}", w.acme.id)
        })
        .collect();
    assert_eq!(
        changes.len(),
        2,
        "enrolment (no tier) and certification: {changes:?}"
    );
    assert_eq!(changes[0].summary["to"], serde_json::Value::Null);
    assert!(
        changes[0].summary["because"]["missing"][0]
            .as_str()
            .unwrap()
            .contains("1 more person needs a current “Track one” credential")
    );
    assert_eq!(changes[1].summary["from"], serde_json::Value::Null);
    assert_eq!(changes[1].summary["to"], "certified");
    assert!(
        changes[1].summary["because"]["passed"][0]
            .as_str()
            .unwrap()
            .contains("1 person holds a current “Track one” credential")
    );

    let standing = t.app.partner_standings(&ctx(), &w.acme.id).await.unwrap();
    assert_eq!(standing[0].tier_name.as_deref(), Some("Certified"));
    assert!(standing[0].next_tier.is_none(), "Certified is the top tier");
    let acme_admin = t.login(&w.acme_admin.email).await;
    let api = t
        .get(
            &format!("/api/v1/partners/{}/standing", w.acme.id),
            &acme_admin,
        )
        .await;
    assert_eq!(api.json()[0]["tier"], "certified");
}

async fn person_benefits_are_decided_per_person(t: TestApp) {
    let w = enrolled_world(&t).await;
    let evidence = Evidence::ModuleCompleted {
        person: w.acme_learner.id.clone(),
        module: "m1".into(),
    };
    t.app
        .record_evidence(&ctx(), "test-program", evidence)
        .await
        .unwrap();
    let reader = t.token("entitlements:read").await;
    let ask =
        |person: &str| format!("/api/v1/entitlements/check?person={person}&entitlement=sandbox");
    let granted = t.get(&ask(&w.acme_learner.id), &reader).await.json();
    assert_eq!(granted["allowed"], true, "{granted}");
    assert_eq!(granted["partner"], w.acme.id.as_str());
    let denied = t.get(&ask(&w.acme_admin.id), &reader).await.json();
    assert_eq!(denied["allowed"], false);
    assert_eq!(denied["next_action"], "complete module “Module one”");
    let as_partner = t
        .get(
            &format!(
                "/api/v1/entitlements/check?partner={}&entitlement=sandbox",
                w.acme.id
            ),
            &reader,
        )
        .await;
    assert_eq!(as_partner.status, 422);
    assert!(as_partner.body.contains("granted to people"));
    // Partner-level benefits can be asked through one of the partner's people.
    let via_person = t
        .get(
            &format!(
                "/api/v1/entitlements/check?person={}&entitlement=deal-registration",
                w.acme_learner.id
            ),
            &reader,
        )
        .await
        .json();
    assert_eq!(via_person["partner"], w.acme.id.as_str());
    // Globex is not enrolled: denied with the step that would grant it.
    let other = t.get(&ask(&w.globex_learner.id), &reader).await.json();
    assert_eq!(other["allowed"], false);
    assert_eq!(other["next_action"], "enrol in Test Program");
}

async fn unknown_and_ambiguous_entitlements_are_explained(t: TestApp) {
    t.app.apply_program(&ctx(), TEST_PROGRAM).await.unwrap();
    let twin = TEST_PROGRAM.replace("id = \"test-program\"", "id = \"twin-program\"");
    t.app.apply_program(&ctx(), &twin).await.unwrap();
    let w = t.world().await;
    let reader = t.token("entitlements:read").await;
    let base = format!("/api/v1/entitlements/check?partner={}", w.acme.id);
    let unknown = t
        .get(&format!("{base}&entitlement=free-lunch"), &reader)
        .await;
    assert_eq!(unknown.status, 404);
    assert!(
        unknown
            .body
            .contains("no applied program defines the entitlement `free-lunch`")
    );
    let ambiguous = t
        .get(&format!("{base}&entitlement=deal-registration"), &reader)
        .await;
    assert_eq!(ambiguous.status, 422);
    assert!(
        ambiguous.body.contains("test-program, twin-program")
            || ambiguous.body.contains("twin-program, test-program"),
        "{}",
        ambiguous.body
    );
    let named = t
        .get(
            &format!("{base}&entitlement=deal-registration&program=twin-program"),
            &reader,
        )
        .await;
    assert_eq!(named.status, 200);
    assert_eq!(named.json()["program"], "twin-program");
    let nobody = t.get("/api/v1/entitlements/check?partner=nope&entitlement=deal-registration&program=twin-program", &reader).await;
    assert_eq!(nobody.status, 404);
    let both = t
        .get(
            &format!("{base}&person=x&entitlement=deal-registration"),
            &reader,
        )
        .await;
    assert_eq!(both.status, 422);
    let missing = t.get("/api/v1/entitlements/check?partner=x", &reader).await;
    assert_eq!(missing.status, 400);
    assert!(missing.body.contains("entitlement"), "{}", missing.body);
}

async fn enrolment_respects_the_programs_partner_types(t: TestApp) {
    t.app.apply_program(&ctx(), MEDICAL).await.unwrap();
    let w = t.world().await;
    let error = t
        .app
        .enroll_partner(&ctx(), &w.acme.id, "medical-software-distributor")
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("is for distributor partners, and this partner is a reseller"),
        "{error}"
    );
    let error = t
        .app
        .enroll_partner(&ctx(), &w.acme.id, "no-such-program")
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("no program `no-such-program` is applied"),
        "{error}"
    );
}

async fn a_track_with_credentials_on_record_cannot_be_removed(t: TestApp) {
    let w = enrolled_world(&t).await;
    credential(&t, "test-program", &w.acme_learner.id, "t1").await;
    let without = TEST_PROGRAM
        .replace("[[tracks]]\nid = \"t1\"\nname = \"Track one\"\njob_roles = [\"sales\"]\nvalidity = { months = 12 }\nrenewal = { window_days = 30, requires = \"full-track\" }\nrequires = { module = \"m1\" }\n", "")
        .replace("requires = { people_holding = \"t1\", at_least = 1 }", "requires = { health_score_at_least = 1 }");
    let error = t.app.plan_program(&ctx(), &without).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("cannot be removed: 1 credentials of it are on record"),
        "{error}"
    );
}

async fn a_batch_answers_each_check_in_order(t: TestApp) {
    let w = enrolled_world(&t).await;
    credential(&t, "test-program", &w.acme_learner.id, "t1").await;
    let reader = t.token("entitlements:read").await;
    let response = t
        .post(
            "/api/v1/entitlements/check",
            &reader,
            json!({"checks": [
                {"partner": w.acme.id, "entitlement": "deal-registration"},
                {"partner": w.globex.id, "entitlement": "deal-registration"},
                {"partner": w.acme.id, "entitlement": "nope"},
            ]}),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    let results = response.json()["results"].as_array().unwrap().clone();
    assert_eq!(results[0]["answer"]["allowed"], true);
    assert_eq!(results[1]["answer"]["allowed"], false);
    assert_eq!(results[2]["problem"]["status"], 404);
    let too_many: Vec<_> = (0..1001)
        .map(|_| json!({"partner": "x", "entitlement": "y"}))
        .collect();
    assert_eq!(
        t.post(
            "/api/v1/entitlements/check",
            &reader,
            json!({"checks": too_many})
        )
        .await
        .status,
        422
    );
}

async fn the_partner_page_shows_tier_what_is_missing_and_benefits(t: TestApp) {
    let w = enrolled_world(&t).await;
    let admin = t.login(&w.acme_admin.email).await;
    let page = t.get(&format!("/partners/{}", w.acme.id), &admin).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("no tier yet"), "{}", page.body);
    assert!(
        page.body
            .contains("1 more person needs a current “Track one” credential")
    );
    assert!(page.body.contains("Deal registration") && page.body.contains("blocked"));

    credential(&t, "test-program", &w.acme_learner.id, "t1").await;
    let page = t.get(&format!("/partners/{}", w.acme.id), &admin).await;
    assert!(
        page.body.contains("<span class=\"tier\">Certified</span>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("granted"));
    assert!(page.body.contains("Track one"), "credentials are listed");

    assert_eq!(
        t.get(&format!("/partners/{}", w.globex.id), &admin)
            .await
            .status,
        404,
        "another firm's page does not exist for them"
    );
    let pam = t.login(&w.pam.email).await;
    let home = t.get("/", &pam).await;
    assert!(
        home.body.contains("Your partners at a glance")
            && home.body.contains("Test Program: Certified"),
        "{}",
        home.body
    );
    assert!(!home.body.contains("Globex"));
}

async fn the_programs_page_previews_and_applies(t: TestApp) {
    let w = t.world().await;
    let Auth::Session(session) = t.login(&w.admin.email).await else {
        unreachable!()
    };
    let form = |action: &str, source: &str| {
        let body = format!(
            "csrf={}&action={action}&source={}",
            session.csrf,
            source
                .bytes()
                .map(|b| format!("%{b:02X}"))
                .collect::<String>()
        );
        crate::support::session_form("/programs", &session, body)
    };
    let preview = t.send(form("preview", TEST_PROGRAM)).await;
    assert_eq!(preview.status, 200);
    assert!(
        preview.body.contains("Preview of") && preview.body.contains("<code>t1</code>"),
        "{}",
        preview.body
    );
    assert!(t.app.list_programs(&ctx()).await.unwrap().is_empty());
    let applied = t.send(form("apply", TEST_PROGRAM)).await;
    assert!(applied.body.contains("Applied"));
    assert_eq!(t.app.list_programs(&ctx()).await.unwrap().len(), 1);
    let broken = t.send(form("preview", "[program]\nid = \"x\"\n")).await;
    assert_eq!(broken.status, 422);
    assert!(
        broken.body.contains("missing field `name`"),
        "{}",
        broken.body
    );
    let learner = t.login(&w.acme_learner.email).await;
    assert_eq!(t.get("/programs", &learner).await.status, 403);
}

async fn a_second_node_hears_of_changes_through_the_database(t: TestApp) {
    if t.app.db.backend != accredit_app::Backend::Postgres {
        eprintln!("SKIPPED on SQLite: several nodes share a database only on PostgreSQL");
        return;
    }
    let w = enrolled_world(&t).await;
    let other = accredit_app::App::new(
        accredit_app::Db::connect(&t.db.url).await.unwrap(),
        std::sync::Arc::new(t.clock.clone()),
        accredit_app::AppConfig::default(),
    );
    other.rebuild_entitlements().await.unwrap();
    let listener = other.clone();
    let url = t.db.url.clone();
    let task = tokio::spawn(async move { listener.listen_for_changes(&url).await });
    let ask = |app: &accredit_app::App| match app.entitlements.lookup(
        Subjectee::Partner(&w.acme.id),
        "deal-registration",
        None,
        app.today(),
    ) {
        Lookup::Answer(a) => a.decision.allowed,
        other => panic!("{other:?}"),
    };
    assert!(!ask(&other));
    // Let the listener subscribe before the change is committed on the first node.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let started = std::time::Instant::now();
    credential(&t, "test-program", &w.acme_learner.id, "t1").await;
    assert!(
        ask(&t.app),
        "the writing node is current when the write returns"
    );
    while !ask(&other) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "the second node did not catch up within 5 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    eprintln!("second node caught up after {:?}", started.elapsed());
    task.abort();
}

async fn the_partner_page_imports_and_exports_people(t: TestApp) {
    let w = t.world().await;
    let Auth::Session(session) = t.login(&w.acme_admin.email).await else {
        unreachable!()
    };
    let upload = |csrf: &str, csv: &str| {
        let body = format!(
            "--b0undary\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
             --b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"people.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n\
             --b0undary--\r\n"
        );
        axum::http::Request::builder()
            .method(Method::POST)
            .uri(format!("/partners/{}/people/import", w.acme.id))
            .header(
                axum::http::header::COOKIE,
                format!("accredit_session={}", session.cookie),
            )
            .header(
                axum::http::header::CONTENT_TYPE,
                "multipart/form-data; boundary=b0undary",
            )
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    let csv = "email,display_name,roles,job_role\nnew1@acme.example,New One,learner,sales\nbroken@,Broken,learner,\n";
    let page = t.send(upload(&session.csrf, csv)).await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert!(
        page.body
            .contains("Import: 1 added, 0 updated, 0 unchanged, 1 row refused"),
        "{}",
        page.body
    );
    assert!(page.body.contains("line 3: email:"), "{}", page.body);
    assert!(
        page.body.contains("new1@acme.example"),
        "the new person is listed"
    );

    assert_eq!(t.send(upload("forged", csv)).await.status, 403);

    let export = t
        .get(
            &format!("/partners/{}/people.csv", w.acme.id),
            &Auth::Session(session.clone()),
        )
        .await;
    assert_eq!(export.status, 200);
    assert!(
        export
            .header("content-disposition")
            .unwrap()
            .contains("people.csv")
    );
    assert!(
        export.body.contains("new1@acme.example") && !export.body.contains("globex"),
        "{}",
        export.body
    );

    // A learner sees no import form.
    let learner = t.login(&w.acme_learner.email).await;
    let view = t.get(&format!("/partners/{}", w.acme.id), &learner).await;
    assert!(!view.body.contains("people/import"));

    // The partner admin deactivates the learner from the page; their session ends.
    let deactivate = crate::support::session_form(
        &format!("/people/{}/active", w.acme_learner.id),
        &session,
        format!("csrf={}&active=false", session.csrf),
    );
    let done = t.send(deactivate).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(
        !t.app
            .get_person(&ctx(), &w.acme_learner.id)
            .await
            .unwrap()
            .active
    );
    assert_eq!(t.get("/api/v1/me", &learner).await.status, 401);
}

async fn the_demo_partners_get_the_decisions_the_seed_rules_give(t: TestApp) {
    t.app.load_demo("demo-password-123").await.unwrap();
    let partners = t.app.list_partners(&ctx()).await.unwrap();
    let id = |name: &str| partners.iter().find(|p| p.name == name).unwrap().id.clone();
    let people = t.app.list_people(&ctx()).await.unwrap();
    let person = |email: &str| people.iter().find(|p| p.email == email).unwrap().id.clone();
    let ask = async |who: Subjectee<'_>, entitlement: &str| match t
        .app
        .check_entitlement(who, entitlement, None)
        .await
        .unwrap()
    {
        Lookup::Answer(a) => ((*a.decision).clone(), a.tier.map(|t| t.to_string())),
        other => panic!("{entitlement}: {other:?}"),
    };

    // Medical distributor: order processing needs current sales AND technical credentials.
    let (bluebird, _) = ask(
        Subjectee::Partner(&id("Bluebird Health Distribution")),
        "order-processing",
    )
    .await;
    assert!(!bluebird.allowed);
    assert!(
        bluebird.reason.contains("Technical Specialist") && bluebird.reason.contains("expired"),
        "{}",
        bluebird.reason
    );
    let (helix, tier) = ask(
        Subjectee::Partner(&id("Helix Medical Supply")),
        "order-processing",
    )
    .await;
    assert!(helix.allowed, "{}", helix.reason);
    assert_eq!(tier.as_deref(), Some("certified-distributor"));
    let days_left = (helix.until.unwrap() - t.app.today()).get_days();
    assert!(
        (40..=50).contains(&days_left),
        "holds until the expiring technical credential ends: {days_left} days"
    );

    // ISV: the badge opens the submission portal; sandbox credentials follow the security modules.
    assert!(
        ask(
            Subjectee::Partner(&id("Acme Integrations")),
            "submission-portal"
        )
        .await
        .0
        .allowed
    );
    let (nimbus, _) = ask(Subjectee::Partner(&id("Nimbus Apps")), "submission-portal").await;
    assert!(!nimbus.allowed);
    assert!(
        ask(
            Subjectee::Person(&person("dev@nimbus.example")),
            "sandbox-access"
        )
        .await
        .0
        .allowed
    );
    assert!(
        !ask(
            Subjectee::Person(&person("admin@acme.example")),
            "sandbox-access"
        )
        .await
        .0
        .allowed
    );

    // Cloud MSP: a lapsed credential takes the marketplace listing away; an expiring one keeps it.
    assert!(
        !ask(Subjectee::Partner(&id("Cirrus Ops")), "marketplace-listing")
            .await
            .0
            .allowed
    );
    assert!(
        ask(
            Subjectee::Partner(&id("Stratus Managed Services")),
            "marketplace-listing"
        )
        .await
        .0
        .allowed
    );

    // CRM agency: two implementation-certified staff, three approved implementations; the NPS
    // below the threshold keeps Lumen out of the good-standing tier.
    let (bright, bright_tier) = ask(
        Subjectee::Partner(&id("Brightpath Digital")),
        "directory-listing",
    )
    .await;
    assert!(bright.allowed);
    assert_eq!(
        bright_tier.as_deref(),
        Some("solutions-partner-good-standing")
    );
    let (lumen, lumen_tier) = ask(
        Subjectee::Partner(&id("Lumen Marketing Co")),
        "directory-listing",
    )
    .await;
    assert!(lumen.allowed, "{}", lumen.reason);
    assert_eq!(lumen_tier.as_deref(), Some("solutions-partner"));
    let standing = t
        .app
        .partner_standings(&ctx(), &id("Lumen Marketing Co"))
        .await
        .unwrap();
    let next = standing[0].next_tier.as_ref().unwrap();
    assert!(
        next.missing
            .iter()
            .any(|m| m.contains("raise NPS to at least 30 (latest: 18)")),
        "{:?}",
        next.missing
    );

    // The demo's training content is imported and searchable.
    let query = accredit_app::search::SearchQuery {
        text: "adverse event report".into(),
        limit: 5,
        ..Default::default()
    };
    let hits = t.app.search_content(&ctx(), &query).await.unwrap();
    assert_eq!(hits[0].module_id, "post-market-surveillance", "{hits:?}");
    assert!(hits[0].recording_link.is_some() || hits.iter().any(|h| h.recording_link.is_some()));
}
