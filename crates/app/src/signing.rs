//! Open Badges 3.0 credentials signed by the deployment: its did:web identity and keys, the
//! credential document (signed with `eddsa-rdfc-2022` when issued), the revocation and
//! suspension status lists, and verification that explains each check.

use crate::clock::format_instant;
use crate::error::{AppError, AppResult};
use crate::records::load_programs;
use crate::{App, Ctx};
use accredit_credentials::{Keypair, StatusList, VerifyingKey};
use anyhow::Context as _;
use serde::Serialize;
use sha2::Digest as _;
use sqlx::{AnyConnection, Row as _};

/// Bits in each status list: the specification's minimum, so a list says nothing about how
/// many credentials exist.
const STATUS_LIST_BITS: usize = accredit_credentials::MIN_STATUS_LIST_BITS;

/// One check of a verification, in words.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Check {
    /// `proof`, `issuer`, `dates` or `status`.
    pub check: String,
    pub passed: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Verification {
    pub valid: bool,
    /// `valid`, `revoked`, `suspended`, `expired`, `not yet valid` or `invalid`.
    pub status: String,
    pub checks: Vec<Check>,
    pub credential_id: Option<String>,
    pub holder: Option<String>,
    pub achievement: Option<String>,
    pub issuer: Option<String>,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
}

fn host_of(public_url: &str) -> &str {
    let rest = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest)
}

impl App {
    fn base_url(&self) -> &str {
        self.config.public_url.trim_end_matches('/')
    }

    /// The deployment's DID: did:web of the public URL's host.
    pub fn issuer_did(&self) -> String {
        accredit_credentials::did_web(host_of(&self.config.public_url))
    }

    /// The signing key, created on first use.
    async fn signing_key(&self, conn: &mut AnyConnection) -> AppResult<(String, Keypair)> {
        let row = sqlx::query(
            "SELECT id, private_key_multibase FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1",
        )
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = row {
            let id: String = row.try_get("id").context("key id")?;
            let secret: String = row.try_get("private_key_multibase").context("key")?;
            let key = Keypair::from_private_key_multibase(&secret)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("stored signing key: {e}")))?;
            return Ok((id, key));
        }
        self.new_signing_key(conn).await
    }

    async fn new_signing_key(&self, conn: &mut AnyConnection) -> AppResult<(String, Keypair)> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM signing_keys")
            .fetch_one(&mut *conn)
            .await?;
        let id = format!("key-{}", count + 1);
        let key = Keypair::from_seed(rand::random());
        sqlx::query(
            "INSERT INTO signing_keys (id, public_key_multibase, private_key_multibase, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&id)
        .bind(key.public_key_multibase())
        .bind(key.private_key_multibase())
        .bind(format_instant(self.now()))
        .execute(&mut *conn)
        .await?;
        Ok((id, key))
    }

    /// Starts signing with a new key; the old ones stay published for verification.
    pub async fn rotate_signing_key(&self, ctx: &Ctx) -> AppResult<String> {
        ctx.authorize(&accredit_domain::Action::ManageApiTokens, "signing keys")?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
            .bind(format_instant(now))
            .execute(&mut *tx)
            .await?;
        let (id, _) = self.new_signing_key(&mut tx).await?;
        crate::audit::record(
            &mut tx,
            ctx,
            now,
            "signing_key.rotated",
            &format!("key:{id}"),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn published_keys(&self) -> AppResult<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT id, public_key_multibase FROM signing_keys ORDER BY retired_at IS NOT NULL, created_at DESC",
        )
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("id").context("id")?,
                    r.try_get("public_key_multibase").context("key")?,
                ))
            })
            .collect()
    }

    /// The DID document served at `/.well-known/did.json`: every key, newest first.
    pub async fn did_document(&self) -> AppResult<serde_json::Value> {
        let mut keys = self.published_keys().await?;
        if keys.is_empty() {
            let mut tx = self.db.begin().await?;
            self.signing_key(&mut tx).await?;
            tx.commit().await?;
            keys = self.published_keys().await?;
        }
        Ok(accredit_credentials::did_web_document(
            host_of(&self.config.public_url),
            &keys,
        ))
    }

    fn resolve_own_key(&self, keys: &[(String, String)], method: &str) -> Option<VerifyingKey> {
        let did = self.issuer_did();
        let fragment = method.strip_prefix(&did)?.strip_prefix('#')?;
        keys.iter()
            .find(|(id, _)| id == fragment)
            .and_then(|(_, key)| accredit_credentials::public_key_from_multibase(key).ok())
    }

    /// Builds and signs the Open Badges 3.0 document of a credential, and stores it.
    pub(crate) async fn sign_credential(
        &self,
        conn: &mut AnyConnection,
        credential_id: &str,
    ) -> AppResult<serde_json::Value> {
        let row = sqlx::query(
            "SELECT c.person_id, c.program_id, c.track_id, c.issued_on, c.valid_until, c.status_index, p.email, p.display_name
             FROM credentials c JOIN people p ON p.id = c.person_id WHERE c.id = $1",
        )
        .bind(credential_id)
        .fetch_one(&mut *conn)
        .await?;
        let program_id: String = row.try_get("program_id").context("program_id")?;
        let track_id: String = row.try_get("track_id").context("track_id")?;
        let email: String = row.try_get("email").context("email")?;
        let index: Option<i64> = row.try_get("status_index").context("status_index")?;
        let programs = load_programs(conn).await?;
        let program = programs
            .iter()
            .find(|p| p.id == program_id)
            .context("the credential's program")?;
        let track = program.track(&track_id).context("the credential's track")?;
        let vendor: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = 'vendor_name'")
                .fetch_optional(&mut *conn)
                .await?;
        let base = self.base_url().to_owned();
        let did = self.issuer_did();
        // The holder is named by a salted hash of their email, so the document does not publish it.
        let salt = hex::encode(sha2::Sha256::digest(credential_id.as_bytes()))[..16].to_owned();
        let identity_hash = format!(
            "sha256${}",
            hex::encode(sha2::Sha256::digest(format!("{email}{salt}").as_bytes()))
        );
        let mut document = serde_json::json!({
            "@context": [accredit_credentials::CREDENTIALS_V2, accredit_credentials::OPEN_BADGES_V3_0_3],
            "id": format!("{base}/credentials/{credential_id}"),
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "issuer": {
                "id": did,
                "type": ["Profile"],
                "name": vendor.unwrap_or_else(|| "Accredit".to_owned()),
                "url": base,
            },
            "name": track.name,
            "validFrom": format!("{}T00:00:00Z", row.try_get::<String, _>("issued_on").context("issued_on")?),
            "validUntil": format!("{}T23:59:59Z", row.try_get::<String, _>("valid_until").context("valid_until")?),
            "credentialSubject": {
                "type": ["AchievementSubject"],
                "identifier": [{
                    "type": "IdentityObject",
                    "identityHash": identity_hash,
                    "identityType": "emailAddress",
                    "hashed": true,
                    "salt": salt,
                }],
                "achievement": {
                    "id": format!("{base}/programs/{program_id}/tracks/{track_id}"),
                    "type": ["Achievement"],
                    "name": track.name,
                    "description": format!("{}: {}", program.name, track.name),
                    "criteria": { "narrative": format!("Every requirement of the track: {}.", track.requires.describe(program)) },
                    "image": { "id": format!("{base}/credentials/{credential_id}/badge.svg"), "type": "Image" },
                },
            },
        });
        if let Some(index) = index {
            document["credentialStatus"] = serde_json::json!(
                ["revocation", "suspension"]
                    .iter()
                    .map(|purpose| serde_json::json!({
                        "id": format!("{base}/status/{purpose}#{index}"),
                        "type": "BitstringStatusListEntry",
                        "statusPurpose": purpose,
                        "statusListIndex": index.to_string(),
                        "statusListCredential": format!("{base}/status/{purpose}"),
                    }))
                    .collect::<Vec<_>>()
            );
        }
        let (key_id, key) = self.signing_key(conn).await?;
        let signed = accredit_credentials::sign(
            &document,
            &key,
            &format!("{did}#{key_id}"),
            &self.now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        )
        .map_err(|e| {
            AppError::Internal(anyhow::anyhow!("signing credential {credential_id}: {e}"))
        })?;
        sqlx::query("UPDATE credentials SET document = $1 WHERE id = $2")
            .bind(serde_json::to_string(&signed).context("document")?)
            .bind(credential_id)
            .execute(&mut *conn)
            .await?;
        Ok(signed)
    }

    /// The signed document of a credential Accredit issued, for anyone holding its id.
    pub async fn credential_document(&self, id: &str) -> AppResult<serde_json::Value> {
        let stored: Option<Option<String>> =
            sqlx::query_scalar("SELECT document FROM credentials WHERE id = $1")
                .bind(id)
                .fetch_optional(self.db.reader())
                .await?;
        match stored {
            None => Err(AppError::NotFound(format!("credential `{id}`"))),
            Some(Some(json)) => Ok(serde_json::from_str(&json).context("stored document")?),
            // Recorded before signing existed (imported history): sign it now.
            Some(None) => {
                let mut tx = self.db.begin().await?;
                let signed = self.sign_credential(&mut tx, id).await?;
                tx.commit().await?;
                Ok(signed)
            }
        }
    }

    /// The credential as a VC-JWT, signed with the current key.
    pub async fn credential_jwt(&self, id: &str) -> AppResult<String> {
        let mut document = self.credential_document(id).await?;
        // The JWT's own signature replaces the Data Integrity proof.
        if let Some(map) = document.as_object_mut() {
            map.remove("proof");
        }
        let mut tx = self.db.begin().await?;
        let (key_id, key) = self.signing_key(&mut tx).await?;
        tx.commit().await?;
        accredit_credentials::sign_jwt(&document, &key, &format!("{}#{key_id}", self.issuer_did()))
            .map_err(|e| AppError::Internal(anyhow::anyhow!("signing the JWT: {e}")))
    }

    /// A signed BitstringStatusListCredential for `revocation` or `suspension`.
    pub async fn status_list_credential(&self, purpose: &str) -> AppResult<serde_json::Value> {
        let status = match purpose {
            "revocation" => "revoked",
            "suspension" => "suspended",
            _ => return Err(AppError::NotFound(format!("status list `{purpose}`"))),
        };
        let indexes: Vec<i64> = sqlx::query_scalar(
            "SELECT status_index FROM credentials WHERE status = $1 AND status_index IS NOT NULL",
        )
        .bind(status)
        .fetch_all(self.db.reader())
        .await?;
        let mut list = StatusList::new(STATUS_LIST_BITS)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("status list: {e}")))?;
        for index in indexes {
            list.set(index as usize, true)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("status list: {e}")))?;
        }
        let base = self.base_url().to_owned();
        let did = self.issuer_did();
        let now = self.now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let document = serde_json::json!({
            "@context": [accredit_credentials::CREDENTIALS_V2],
            "id": format!("{base}/status/{purpose}"),
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": did,
            "validFrom": now,
            "credentialSubject": {
                "id": format!("{base}/status/{purpose}#list"),
                "type": "BitstringStatusList",
                "statusPurpose": purpose,
                "encodedList": list.encode(),
            },
        });
        let mut tx = self.db.begin().await?;
        let (key_id, key) = self.signing_key(&mut tx).await?;
        tx.commit().await?;
        accredit_credentials::sign(&document, &key, &format!("{did}#{key_id}"), &now)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("signing the status list: {e}")))
    }

    /// Verifies a credential Accredit issued: proof, issuer, dates and status, each explained.
    pub async fn verify_issued(&self, id: &str) -> AppResult<Verification> {
        let document = self.credential_document(id).await?;
        let record = self.credential_unchecked(id).await?;
        let keys = self.published_keys().await?;
        let mut checks = Vec::new();
        let proof =
            accredit_credentials::verify(&document, &|method| self.resolve_own_key(&keys, method));
        checks.push(Check {
            check: "proof".into(),
            passed: proof.is_ok(),
            detail: match &proof {
                Ok(p) => format!(
                    "eddsa-rdfc-2022 signature valid, made with {}",
                    p.verification_method
                ),
                Err(e) => e.to_string(),
            },
        });
        let issuer = document["issuer"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        checks.push(Check {
            check: "issuer".into(),
            passed: issuer == self.issuer_did(),
            detail: format!(
                "issued by {issuer}, this deployment's DID is {}",
                self.issuer_did()
            ),
        });
        let today = self.today().to_string();
        let (from, until) = (record.issued_on.clone(), record.valid_until.clone());
        let dated = from <= today && today <= until;
        checks.push(Check {
            check: "dates".into(),
            passed: dated,
            detail: if today < from {
                format!("valid from {from}, not yet")
            } else if today > until {
                format!("expired: valid until {until}")
            } else {
                format!("valid from {from} until {until}")
            },
        });
        let standing = record.status.as_str();
        checks.push(Check {
            check: "status".into(),
            passed: matches!(standing, "active" | "superseded"),
            detail: match standing {
                "revoked" => format!(
                    "revoked: {}",
                    record.status_reason.as_deref().unwrap_or("no reason recorded")
                ),
                "suspended" => format!(
                    "suspended: {}",
                    record.status_reason.as_deref().unwrap_or("no reason recorded")
                ),
                "superseded" => "renewed: a newer credential of the same track replaces it, and it stays valid until its end".into(),
                _ => "not revoked or suspended (status lists checked)".into(),
            },
        });
        let status = if proof.is_err() || issuer != self.issuer_did() {
            "invalid"
        } else if standing == "revoked" {
            "revoked"
        } else if standing == "suspended" {
            "suspended"
        } else if today > until {
            "expired"
        } else if today < from {
            "not yet valid"
        } else {
            "valid"
        };
        Ok(Verification {
            valid: checks.iter().all(|c| c.passed),
            status: status.into(),
            checks,
            credential_id: Some(id.to_owned()),
            holder: Some(record.person_name),
            achievement: document["name"].as_str().map(str::to_owned),
            issuer: document["issuer"]["name"].as_str().map(str::to_owned),
            valid_from: Some(from),
            valid_until: Some(until),
        })
    }
}
