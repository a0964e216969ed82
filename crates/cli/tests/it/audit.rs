//! The audit trail: every change is an event, events chain by hash, and tampering is caught.

use crate::cli::{accredit, stderr, stdout};
use crate::on_both_backends;
use crate::support::{Auth, TestApp};
use accredit_app::audit::ChainStatus;
use accredit_app::{Ctx, accounts::NewPartner};

on_both_backends!(
    every_change_appends_an_event_and_the_api_pages_through_them,
    changing_one_audit_row_makes_audit_verify_fail_and_name_it,
    concurrent_changes_keep_one_unbroken_chain,
);

async fn every_change_appends_an_event_and_the_api_pages_through_them(t: TestApp) {
    let w = t.world().await;
    let admin = t.login(&w.admin.email).await;
    let first = t.get("/api/v1/audit/events?limit=5", &admin).await;
    assert_eq!(first.status, 200);
    let page = first.json();
    let events = page["events"].as_array().unwrap();
    assert_eq!(events.len(), 5);
    assert_eq!(page["next_after"], 5);
    assert_eq!(events[0]["seq"], 1);
    assert_eq!(events[0]["action"], "person.created");
    assert_eq!(events[0]["actor"], "system");
    assert_eq!(events[1]["action"], "partner.created");
    assert_eq!(events[1]["summary"]["name"], "Acme");

    let rest = t
        .get("/api/v1/audit/events?after=5&limit=1000", &admin)
        .await
        .json();
    let rest = rest["events"].as_array().unwrap().clone();
    assert!(
        rest.iter().zip(6..).all(|(e, seq)| e["seq"] == seq),
        "contiguous"
    );
    // 10 creations in the world, then the admin's sign-in.
    assert_eq!(rest.len(), 6);
    let last = rest.last().unwrap();
    assert_eq!(last["action"], "login.succeeded");
    assert_eq!(last["actor"], format!("person:{}", w.admin.id));

    let bad = t.get("/api/v1/audit/events?limit=0", &admin).await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.json()["errors"][0]["field"], "limit");
    let garbage = t.get("/api/v1/audit/events?after=yesterday", &admin).await;
    assert_eq!(garbage.status, 400);
    assert!(garbage.body.contains("after"), "{}", garbage.body);
    assert_eq!(
        t.get("/api/v1/audit/events", &Auth::Anonymous).await.status,
        401
    );
}

async fn changing_one_audit_row_makes_audit_verify_fail_and_name_it(t: TestApp) {
    t.world().await;
    let dir = tempfile::tempdir().unwrap();
    let url = t.db.url.clone();
    let verify = || {
        accredit(
            dir.path(),
            &["audit", "verify", "--database-url", &url],
            &[],
        )
    };

    let intact = verify();
    assert!(intact.status.success(), "{}", stderr(&intact));
    assert!(
        stdout(&intact).contains("audit trail OK: 10 events"),
        "{}",
        stdout(&intact)
    );

    let mut tx = t.app.db.begin().await.unwrap();
    sqlx::query("UPDATE audit_events SET summary = '{\"name\":\"Someone Else\"}' WHERE seq = 4")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let broken = verify();
    assert_eq!(broken.status.code(), Some(1));
    let message = stderr(&broken);
    assert!(
        message.contains("audit trail BROKEN at event 4"),
        "{message}"
    );
    assert!(message.contains("altered"), "{message}");
    assert!(
        matches!(t.app.verify_audit_chain().await.unwrap(), ChainStatus::Broken(b) if b.seq == 4)
    );
}

async fn concurrent_changes_keep_one_unbroken_chain(t: TestApp) {
    let mut tasks = Vec::new();
    for i in 0..16 {
        let app = t.app.clone();
        tasks.push(tokio::spawn(async move {
            app.create_partner(
                &Ctx::system(),
                NewPartner {
                    name: format!("Partner {i}"),
                    partner_type: "msp".into(),
                    region: "APAC".into(),
                    account_manager_id: None,
                },
            )
            .await
        }));
    }
    for task in tasks {
        task.await.unwrap().expect("create partner");
    }
    assert_eq!(
        t.app.verify_audit_chain().await.unwrap(),
        ChainStatus::Intact { events: 16 }
    );
}
