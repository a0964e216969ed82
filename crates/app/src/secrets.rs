//! Random secrets and how they are kept: passwords with argon2id, bearer secrets (session
//! cookies, API tokens, email confirmations) as SHA-256, since they are long and random.

use anyhow::Context as _;
use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};
use base64::Engine as _;
use sha2::Digest as _;

/// 256 random bits, URL-safe.
pub fn random_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn sha256_hex(secret: &str) -> String {
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

/// Hashing is slow on purpose, so it runs off the async workers.
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await
    .context("password hashing task")?
}

/// Checks a password against a stored hash. With no stored hash it still does the work, so the
/// time taken does not reveal whether an account exists.
pub async fn verify_password(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let argon = Argon2::default();
        match stored {
            Some(hash) => Ok(argon
                .verify_password(password.as_bytes(), hash.as_str())
                .is_ok()),
            None => {
                let _ = argon.hash_password(password.as_bytes());
                Ok(false)
            }
        }
    })
    .await
    .context("password verification task")?
}

/// The row of a one-time link (email confirmation, invitation) if it may still be used: found,
/// `used_column` empty, and `expires_at` in the future. `messages`: not valid, used, expired.
pub(crate) fn usable_link(
    row: Option<sqlx::any::AnyRow>,
    used_column: &str,
    now: jiff::Timestamp,
    messages: [&str; 3],
) -> crate::error::AppResult<sqlx::any::AnyRow> {
    use crate::error::AppError;
    use anyhow::Context as _;
    use sqlx::Row as _;
    let [invalid, used, expired] = messages;
    let row = row.ok_or_else(|| AppError::invalid("token", invalid))?;
    if row
        .try_get::<Option<String>, _>(used_column)
        .context("the link's use")?
        .is_some()
    {
        return Err(AppError::invalid("token", used));
    }
    let expires_at = crate::clock::parse_instant(
        &row.try_get::<String, _>("expires_at")
            .context("expires_at")?,
    )?;
    if expires_at <= now {
        return Err(AppError::invalid("token", expired));
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn password_hashes_are_argon2id_and_verify() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(
            verify_password("correct horse battery".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(!verify_password("wrong".into(), Some(hash)).await.unwrap());
        assert!(!verify_password("x".into(), None).await.unwrap());
    }

    #[test]
    fn secrets_are_long_and_distinct() {
        let a = random_secret();
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_secret());
    }
}
