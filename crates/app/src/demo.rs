//! Demo data: a vendor, two partner organisations and someone in every role, so a new user sees
//! a working program the moment the server starts.

use crate::accounts::{NewPartner, NewPerson};
use crate::error::AppResult;
use crate::{App, Ctx};
use accredit_domain::Role;
use sqlx::Row as _;

pub const DEMO_VENDOR: &str = "Meridian Cloud";

/// One demo account, for printing the sign-in table.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub organisation: String,
}

impl App {
    /// True when the database holds no people and no partners yet.
    pub async fn is_empty(&self) -> AppResult<bool> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM people) + (SELECT COUNT(*) FROM partners) AS n",
        )
        .fetch_one(self.db.reader())
        .await?;
        Ok(row.try_get::<i64, _>("n").map_err(anyhow::Error::from)? == 0)
    }

    pub async fn vendor_name(&self) -> AppResult<Option<String>> {
        let row = sqlx::query("SELECT value FROM settings WHERE key = 'vendor_name'")
            .fetch_optional(self.db.reader())
            .await?;
        Ok(row
            .map(|r| r.try_get::<String, _>("value"))
            .transpose()
            .map_err(anyhow::Error::from)?)
    }

    /// Loads the demo program; every account gets `password`.
    pub async fn load_demo(&self, password: &str) -> AppResult<Vec<DemoAccount>> {
        let ctx = Ctx::system();
        let mut tx = self.db.begin().await?;
        sqlx::query("INSERT INTO settings (key, value) VALUES ('vendor_name', $1)")
            .bind(DEMO_VENDOR)
            .execute(&mut *tx)
            .await?;
        crate::audit::record(
            &mut tx,
            &ctx,
            self.now(),
            "settings.changed",
            "settings:vendor_name",
            serde_json::json!({ "vendor_name": DEMO_VENDOR }),
        )
        .await?;
        tx.commit().await?;

        let vendor_staff = [
            ("admin@meridian.example", "Maya Okafor", Role::ProgramAdmin),
            (
                "pam@meridian.example",
                "Jonas Weber",
                Role::PartnerAccountManager,
            ),
            ("reviewer@meridian.example", "Priya Raman", Role::Reviewer),
            ("proctor@meridian.example", "Tomás Ruiz", Role::Proctor),
        ];
        let mut accounts = Vec::new();
        let mut pam_id = None;
        for (email, name, role) in vendor_staff {
            let person = self
                .create_person(
                    &ctx,
                    NewPerson {
                        email: email.into(),
                        display_name: name.into(),
                        roles: vec![role],
                        partner_id: None,
                        password: Some(password.into()),
                    },
                )
                .await?;
            if role == Role::PartnerAccountManager {
                pam_id = Some(person.id.clone());
            }
            accounts.push(DemoAccount {
                email: email.into(),
                name: name.into(),
                role,
                organisation: DEMO_VENDOR.into(),
            });
        }

        let partners = [
            (
                "Acme Integrations",
                "isv",
                "EMEA",
                [
                    ("admin@acme.example", "Lena Fischer", Role::PartnerAdmin),
                    ("dev@acme.example", "Sam Carter", Role::Learner),
                ],
            ),
            (
                "Bluebird Health Distribution",
                "distributor",
                "North America",
                [
                    ("admin@bluebird.example", "Grace Liu", Role::PartnerAdmin),
                    ("sales@bluebird.example", "Omar Haddad", Role::Learner),
                ],
            ),
        ];
        for (name, partner_type, region, staff) in partners {
            let partner = self
                .create_partner(
                    &ctx,
                    NewPartner {
                        name: name.into(),
                        partner_type: partner_type.into(),
                        region: region.into(),
                        account_manager_id: pam_id.clone(),
                    },
                )
                .await?;
            for (email, person_name, role) in staff {
                self.create_person(
                    &ctx,
                    NewPerson {
                        email: email.into(),
                        display_name: person_name.into(),
                        roles: vec![role],
                        partner_id: Some(partner.id.clone()),
                        password: Some(password.into()),
                    },
                )
                .await?;
                accounts.push(DemoAccount {
                    email: email.into(),
                    name: person_name.into(),
                    role,
                    organisation: name.into(),
                });
            }
        }
        Ok(accounts)
    }
}
