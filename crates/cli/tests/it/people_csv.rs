//! People in bulk: CSV import with every refused row named by its line, one transaction for the
//! rest, the same authorization as adding one person, and an export that imports again.

use crate::cli::{accredit, stderr, stdout};
use crate::on_both_backends;
use crate::support::{Auth, TestApp, World};
use accredit_app::people_import::ImportReport;
use accredit_app::{AppError, Ctx};
use accredit_domain::Role;
use std::sync::Mutex;

on_both_backends!(
    valid_rows_import_and_appear_in_the_people_list,
    invalid_rows_are_reported_with_their_lines_while_valid_rows_import,
    strict_mode_writes_nothing_when_a_row_is_invalid,
    partner_admins_import_only_into_their_own_firm_and_only_partner_roles,
    reimporting_an_export_changes_nothing,
    the_command_line_reports_rows_as_file_and_line_and_exports_what_it_imports,
);

async fn import(t: &TestApp, ctx: &Ctx, partner: Option<&str>, csv: &str) -> ImportReport {
    t.app
        .import_people(ctx, partner, csv.as_bytes(), false, &|_, _| {})
        .await
        .expect("import runs")
}

/// The context of a signed-in person, as the web layer builds it.
async fn signed_in(t: &TestApp, email: &str) -> Ctx {
    let Auth::Session(session) = t.login(email).await else {
        panic!("login gives a session");
    };
    let info = t.app.session(&session.cookie).await.expect("session");
    Ctx::new(info.principal, None)
}

async fn audit_count(t: &TestApp) -> usize {
    t.app
        .list_audit_events(&Ctx::system(), 0, 100_000)
        .await
        .expect("audit events")
        .len()
}

fn lines_and_messages(report: &ImportReport) -> Vec<(usize, String)> {
    report
        .errors
        .iter()
        .map(|e| (e.line, e.message.clone()))
        .collect()
}

/// A file that mixes good rows (lines 2 and 8) with one bad row of each kind.
fn mixed_file(w: &World) -> String {
    let acme = &w.acme.id;
    format!(
        "email,display_name,roles,partner_id\n\
         new.one@acme.example,New One,learner,{acme}\n\
         bob@,Bob,learner,{acme}\n\
         cy@acme.example,Cy,wizard,{acme}\n\
         dee@acme.example,Dee,learner,\n\
         {globex_learner},Poacher,learner,{acme}\n\
         eve@acme.example,Eve,learner,no-such-partner\n\
         new.two@acme.example,New Two,partner_admin;learner,{acme}\n",
        globex_learner = w.globex_learner.email,
    )
}

async fn valid_rows_import_and_appear_in_the_people_list(t: TestApp) {
    let w = t.world().await;
    let before = audit_count(&t).await;
    let csv = format!(
        "\u{feff}Email,Display_Name,Roles,Job_Role,Partner_ID\r\n\
         Ada@Acme.example,\"Lovelace, Ada\",learner,sales,{acme}\r\n\
         ben@acme.example,Ben,learner partner_admin,,{acme}\r\n\
         gus@globex.example,Gus,learner,technical,{globex}\r\n",
        acme = w.acme.id,
        globex = w.globex.id,
    );
    let seen = Mutex::new(Vec::new());
    let report = t
        .app
        .import_people(
            &Ctx::system(),
            None,
            csv.as_bytes(),
            false,
            &|done, total| {
                seen.lock().unwrap().push((done, total));
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (report.created, report.updated, report.unchanged),
        (3, 0, 0),
        "{report:?}"
    );
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(seen.lock().unwrap().last(), Some(&(3, 3)));

    let people = t.app.list_people(&Ctx::system()).await.unwrap();
    let ada = people
        .iter()
        .find(|p| p.email == "ada@acme.example")
        .expect("Ada imported");
    assert_eq!(ada.display_name, "Lovelace, Ada");
    assert_eq!(ada.partner_id.as_deref(), Some(w.acme.id.as_str()));
    assert_eq!(ada.roles, [Role::Learner]);
    assert_eq!(ada.job_role.as_deref(), Some("sales"));
    assert!(ada.active);
    let ben = people
        .iter()
        .find(|p| p.email == "ben@acme.example")
        .unwrap();
    assert_eq!(ben.roles, [Role::PartnerAdmin, Role::Learner]);
    assert_eq!(ben.job_role, None);
    let gus = people
        .iter()
        .find(|p| p.email == "gus@globex.example")
        .unwrap();
    assert_eq!(gus.partner_id.as_deref(), Some(w.globex.id.as_str()));

    // Acme's admin sees Acme's new people and not Globex's.
    let acme_admin = signed_in(&t, &w.acme_admin.email).await;
    let visible: Vec<_> = t
        .app
        .list_people(&acme_admin)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.email)
        .collect();
    assert!(visible.contains(&"ben@acme.example".to_owned()));
    assert!(!visible.contains(&"gus@globex.example".to_owned()));

    // Imported people have no password: they cannot sign in until one is set.
    assert!(
        t.app
            .login(None, "ada@acme.example", crate::support::PASSWORD)
            .await
            .is_err()
    );

    // One event per person and one for the import.
    let events = t
        .app
        .list_audit_events(&Ctx::system(), 0, 100_000)
        .await
        .unwrap();
    let actions: Vec<_> = events[before..]
        .iter()
        .map(|e| e.action.as_str())
        .filter(|a| a.starts_with("person.") || a.starts_with("people."))
        .collect();
    assert_eq!(
        actions,
        [
            "person.created",
            "person.created",
            "person.created",
            "people.imported"
        ]
    );
    let summary = &events
        .iter()
        .find(|e| e.action == "people.imported")
        .unwrap()
        .summary;
    assert_eq!(summary["created"], 3);
    assert!(matches!(
        t.app.verify_audit_chain().await.unwrap(),
        accredit_app::audit::ChainStatus::Intact { .. }
    ));
}

async fn invalid_rows_are_reported_with_their_lines_while_valid_rows_import(t: TestApp) {
    let w = t.world().await;
    let report = import(&t, &Ctx::system(), None, &mixed_file(&w)).await;
    assert_eq!(
        lines_and_messages(&report),
        [
            (
                3,
                "email: `bob@` has no valid domain after the `@`".to_owned()
            ),
            (
                4,
                "roles: unknown role `wizard`; expected one of program_admin, partner_account_manager, reviewer, proctor, partner_admin, learner".to_owned()
            ),
            (
                5,
                "partner_id: required, since the import is not for one partner organisation"
                    .to_owned()
            ),
            (
                6,
                format!(
                    "email: `{}` already belongs to someone outside partner organisation `{}`",
                    w.globex_learner.email, w.acme.id
                )
            ),
            (
                7,
                "partner_id: no active partner organisation `no-such-partner`".to_owned()
            ),
        ]
    );
    assert_eq!((report.created, report.updated), (2, 0));
    let people = t.app.list_people(&Ctx::system()).await.unwrap();
    let emails: Vec<_> = people.iter().map(|p| p.email.as_str()).collect();
    assert!(emails.contains(&"new.one@acme.example"));
    assert!(emails.contains(&"new.two@acme.example"));
    for refused in ["cy@acme.example", "dee@acme.example", "eve@acme.example"] {
        assert!(!emails.contains(&refused), "{refused}");
    }
    // The other partner's person is untouched.
    let globex_learner = t
        .app
        .get_person(&Ctx::system(), &w.globex_learner.id)
        .await
        .unwrap();
    assert_eq!(globex_learner.display_name, w.globex_learner.display_name);
    assert_eq!(
        globex_learner.partner_id.as_deref(),
        Some(w.globex.id.as_str())
    );

    // A file whose header is wrong imports nothing and says which column.
    let report = import(
        &t,
        &Ctx::system(),
        Some(&w.acme.id),
        "email,name,roles\nx@acme.example,X,learner\n",
    )
    .await;
    assert_eq!(report.created, 0);
    let messages = lines_and_messages(&report);
    assert_eq!(messages[0].0, 1);
    assert!(
        messages[0].1.contains("unknown column `name`"),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|(_, m)| m == "missing required column `display_name`"),
        "{messages:?}"
    );
}

async fn strict_mode_writes_nothing_when_a_row_is_invalid(t: TestApp) {
    let w = t.world().await;
    let people_before = t.app.list_people(&Ctx::system()).await.unwrap();
    let events_before = audit_count(&t).await;
    let report = t
        .app
        .import_people(
            &Ctx::system(),
            None,
            mixed_file(&w).as_bytes(),
            true,
            &|_, _| {},
        )
        .await
        .unwrap();
    assert_eq!((report.created, report.updated), (0, 0));
    let lines: Vec<_> = report.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [3, 4, 5, 6, 7], "every problem is still reported");
    assert_eq!(
        t.app.list_people(&Ctx::system()).await.unwrap(),
        people_before
    );
    assert_eq!(audit_count(&t).await, events_before);

    // The same rows without the bad ones go in.
    let good: String = mixed_file(&w)
        .lines()
        .enumerate()
        .filter(|(i, _)| [0, 1, 7].contains(i))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let report = t
        .app
        .import_people(&Ctx::system(), None, good.as_bytes(), true, &|_, _| {})
        .await
        .unwrap();
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(report.created, 2);
}

async fn partner_admins_import_only_into_their_own_firm_and_only_partner_roles(t: TestApp) {
    let w = t.world().await;
    let acme_admin = signed_in(&t, &w.acme_admin.email).await;
    let events_before = audit_count(&t).await;

    // Into another firm: refused as a whole, before the file is read.
    let into_globex = t
        .app
        .import_people(
            &acme_admin,
            Some(&w.globex.id),
            b"email,display_name,roles\nspy@globex.example,Spy,learner\n",
            false,
            &|_, _| {},
        )
        .await;
    assert!(
        matches!(into_globex, Err(AppError::Forbidden(ref why)) if why.contains("own organisation")),
        "{into_globex:?}"
    );

    // Rows naming another firm, or vendor roles, are refused one by one; the rest go in.
    let csv = format!(
        "email,display_name,roles,partner_id\n\
         spy@globex.example,Spy,learner,{globex}\n\
         boss@acme.example,Boss,program_admin,{acme}\n\
         mixed@acme.example,Mixed,learner;reviewer,{acme}\n\
         fine@acme.example,Fine,learner,{acme}\n",
        acme = w.acme.id,
        globex = w.globex.id,
    );
    let report = import(&t, &acme_admin, None, &csv).await;
    assert_eq!(
        lines_and_messages(&report),
        [
            (
                2,
                "partner_id: partner admins add people to their own organisation only".to_owned()
            ),
            (
                3,
                "roles: partner admins cannot grant vendor roles".to_owned()
            ),
            (
                4,
                "roles: partner admins cannot grant vendor roles".to_owned()
            ),
        ]
    );
    assert_eq!(report.created, 1);

    // With their own firm given, a colleague can be updated; vendor roles still cannot be granted.
    let csv = format!(
        "email,display_name,roles\n\
         {learner},Renamed Learner,learner\n\
         {learner_again},Reviewer,reviewer\n",
        learner = w.acme_learner.email,
        learner_again = "fine@acme.example",
    );
    let report = import(&t, &acme_admin, Some(&w.acme.id), &csv).await;
    assert_eq!(report.updated, 1, "{report:?}");
    assert_eq!(report.errors.len(), 1, "{report:?}");
    let learner = t
        .app
        .get_person(&Ctx::system(), &w.acme_learner.id)
        .await
        .unwrap();
    assert_eq!(learner.display_name, "Renamed Learner");

    // Nothing reached Globex, and no vendor role was granted.
    let people = t.app.list_people(&Ctx::system()).await.unwrap();
    assert!(!people.iter().any(|p| p.email == "spy@globex.example"));
    assert!(!people.iter().any(|p| p.email == "boss@acme.example"));
    let fine = people
        .iter()
        .find(|p| p.email == "fine@acme.example")
        .unwrap();
    assert_eq!(fine.roles, [Role::Learner]);
    assert!(audit_count(&t).await > events_before);

    // A learner may import nothing at all.
    let learner = signed_in(&t, &w.globex_learner.email).await;
    let refused = t
        .app
        .import_people(
            &learner,
            Some(&w.globex.id),
            b"email,display_name,roles\nx@globex.example,X,learner\n",
            false,
            &|_, _| {},
        )
        .await;
    assert!(
        matches!(refused, Err(AppError::Forbidden(_))),
        "{refused:?}"
    );
}

async fn reimporting_an_export_changes_nothing(t: TestApp) {
    let w = t.world().await;
    let csv = format!(
        "email,display_name,roles,job_role,partner_id\n\
         ada@acme.example,\"Lovelace, Ada \"\"Countess\"\"\",learner,sales,{acme}\n\
         ben@acme.example,Ben,partner_admin;learner,,{acme}\n\
         gus@globex.example,Gus,learner,technical,{globex}\n",
        acme = w.acme.id,
        globex = w.globex.id,
    );
    assert_eq!(import(&t, &Ctx::system(), None, &csv).await.created, 3);
    // A deactivated person is exported as such and matches on the way back.
    t.app
        .update_person(
            &Ctx::system(),
            &w.acme_learner.id,
            accredit_app::accounts::PersonUpdate {
                active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    let exported = t.app.export_people(&Ctx::system(), None).await.unwrap();
    assert!(
        exported.starts_with("id,email,display_name,roles,job_role,partner_id,active\n"),
        "{exported}"
    );
    assert!(
        !exported.contains("vendor.example"),
        "vendor staff are not partner staff: {exported}"
    );
    let events_before = audit_count(&t).await;
    let report = import(&t, &Ctx::system(), None, &exported).await;
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(
        (report.created, report.updated, report.unchanged),
        (0, 0, 7)
    );
    assert_eq!(audit_count(&t).await, events_before, "nothing was written");
    assert_eq!(
        t.app.export_people(&Ctx::system(), None).await.unwrap(),
        exported
    );

    // A partner admin's export of their own firm re-imports into it the same way.
    let acme_admin = signed_in(&t, &w.acme_admin.email).await;
    let acme_file = t
        .app
        .export_people(&acme_admin, Some(&w.acme.id))
        .await
        .unwrap();
    assert!(!acme_file.contains("globex.example"), "{acme_file}");
    let report = import(&t, &acme_admin, Some(&w.acme.id), &acme_file).await;
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(
        (report.created, report.updated, report.unchanged),
        (0, 0, 4)
    );
    assert!(matches!(
        t.app.export_people(&acme_admin, Some(&w.globex.id)).await,
        Err(AppError::NotFound(_))
    ));

    // An edited export updates only what changed.
    let edited = exported.replace(
        ",Ben,partner_admin;learner,,",
        ",Benjamin,learner,technical,",
    );
    let report = import(&t, &Ctx::system(), None, &edited).await;
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(
        (report.created, report.updated, report.unchanged),
        (0, 1, 6)
    );
    let people = t.app.list_people(&Ctx::system()).await.unwrap();
    let ben = people
        .iter()
        .find(|p| p.email == "ben@acme.example")
        .unwrap();
    assert_eq!(ben.display_name, "Benjamin");
    assert_eq!(ben.roles, [Role::Learner]);
    assert_eq!(ben.job_role.as_deref(), Some("technical"));
    let events = t
        .app
        .list_audit_events(&Ctx::system(), 0, 100_000)
        .await
        .unwrap();
    let update = events
        .iter()
        .rfind(|e| e.action == "person.updated")
        .unwrap();
    assert_eq!(update.subject, format!("person:{}", ben.id));
    assert_eq!(
        update.summary["roles"],
        serde_json::json!({"from": ["partner_admin", "learner"], "to": ["learner"]})
    );

    // Without a job_role column, job roles stay as they are.
    let report = import(
        &t,
        &Ctx::system(),
        Some(&w.acme.id),
        "email,display_name,roles\nben@acme.example,Ben,learner\n",
    )
    .await;
    assert_eq!(report.updated, 1, "{report:?}");
    let ben = t.app.get_person(&Ctx::system(), &ben.id).await.unwrap();
    assert_eq!(ben.job_role.as_deref(), Some("technical"));

    // The id and active columns are checked against the person, never applied.
    let header = exported.lines().next().unwrap();
    let ada_row = exported
        .lines()
        .find(|l| l.contains("ada@acme.example"))
        .unwrap();
    let tampered = format!(
        "{header}\n{}\n{}\n",
        ada_row.replace(",true", ",false"),
        ada_row
            .replace("ada@acme.example", "ada.new@acme.example")
            .replace(",true", ","),
    );
    let report = import(&t, &Ctx::system(), None, &tampered).await;
    assert_eq!(report.created, 0);
    let messages = lines_and_messages(&report);
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[0].0, 2);
    assert!(
        messages[0].1.starts_with("active: the person is active"),
        "{messages:?}"
    );
    assert_eq!(messages[1].0, 3);
    assert!(
        messages[1]
            .1
            .starts_with("id: no person has the email `ada.new@acme.example`"),
        "{messages:?}"
    );
}

async fn the_command_line_reports_rows_as_file_and_line_and_exports_what_it_imports(t: TestApp) {
    let w = t.world().await;
    let dir = tempfile::tempdir().unwrap();
    let url = t.db.url.as_str();
    std::fs::write(dir.path().join("bad.csv"), mixed_file(&w)).unwrap();
    let output = accredit(
        dir.path(),
        &["people", "import", "bad.csv", "--database-url", url],
        &[],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("imported 2 new, 0 updated"),
        "{}",
        stdout(&output)
    );
    let err = stderr(&output);
    assert!(
        err.contains("bad.csv:3: email: `bob@` has no valid domain after the `@`"),
        "{err}"
    );
    for line in [4, 5, 6, 7] {
        assert!(err.contains(&format!("bad.csv:{line}: ")), "{err}");
    }
    assert!(err.contains("5 rows were not imported"), "{err}");

    // Strict: the same file writes nothing.
    std::fs::write(
        dir.path().join("strict.csv"),
        mixed_file(&w).replace("new.", "strict."),
    )
    .unwrap();
    let output = accredit(
        dir.path(),
        &[
            "people",
            "import",
            "strict.csv",
            "--strict",
            "--partner",
            &w.acme.id,
            "--database-url",
            url,
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("nothing was imported"),
        "{}",
        stderr(&output)
    );
    let people = t.app.list_people(&Ctx::system()).await.unwrap();
    assert!(!people.iter().any(|p| p.email.starts_with("strict.")));

    // The export goes to stdout or a file and imports again without changes.
    let export = accredit(
        dir.path(),
        &["people", "export", "--database-url", url],
        &[],
    );
    assert!(export.status.success(), "{}", stderr(&export));
    assert!(stdout(&export).contains("new.two@acme.example"));
    let to_file = accredit(
        dir.path(),
        &[
            "people",
            "export",
            "--partner",
            &w.acme.id,
            "--output",
            "acme.csv",
            "--database-url",
            url,
        ],
        &[],
    );
    assert!(to_file.status.success(), "{}", stderr(&to_file));
    let acme_csv = std::fs::read_to_string(dir.path().join("acme.csv")).unwrap();
    assert!(acme_csv.contains("new.one@acme.example"), "{acme_csv}");
    assert!(!acme_csv.contains("globex.example"), "{acme_csv}");

    std::fs::write(dir.path().join("all.csv"), stdout(&export)).unwrap();
    let again = accredit(
        dir.path(),
        &["people", "import", "all.csv", "--database-url", url],
        &[],
    );
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).starts_with("imported 0 new, 0 updated"),
        "{}",
        stdout(&again)
    );
}
