//! `accredit credential verify`: checks any `eddsa-rdfc-2022` Open Badges 3.0 credential
//! offline — ours or another issuer's — against the issuer's DID document and, when given,
//! its status lists, and explains each check. `accredit keys rotate` starts a new signing key.

use crate::CliError;
use crate::config::{GlobalArgs, ServerArgs};
use accredit_app::Ctx;
use clap::{Args, Subcommand};
use serde_json::Value;
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub enum CredentialCommand {
    /// Verify a credential file offline: proof, issuer, dates and status.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The credential (JSON).
    file: PathBuf,
    /// The issuer's DID document (for did:web, what https://HOST/.well-known/did.json serves).
    #[arg(long, value_name = "FILE")]
    did_document: PathBuf,
    /// A status list credential the credential points to; repeat for several.
    #[arg(long = "status-list", value_name = "FILE")]
    status_lists: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Sign new credentials with a new key; earlier keys stay in the DID document.
    Rotate,
}

fn read_json(path: &Path) -> Result<Value, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::failed(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| CliError::failed(format!("{} is not JSON: {e}", path.display())))
}

fn line(check: &str, passed: bool, detail: &str) -> String {
    format!(
        "{check:<7} {}  {detail}",
        if passed { "passed" } else { "FAILED" }
    )
}

pub fn verify(args: VerifyArgs) -> Result<(), CliError> {
    let credential = read_json(&args.file)?;
    let did_document = read_json(&args.did_document)?;
    let resolve = |method: &str| accredit_credentials::key_from_did_document(&did_document, method);
    let mut lines = Vec::new();
    let mut valid = true;
    let mut check = |name: &str, passed: bool, detail: String| {
        valid &= passed;
        lines.push(line(name, passed, &detail));
    };

    match accredit_credentials::verify(&credential, &resolve) {
        Ok(proof) => check(
            "proof",
            true,
            format!(
                "eddsa-rdfc-2022 signature valid, made with {}",
                proof.verification_method
            ),
        ),
        Err(e) => check("proof", false, e.to_string()),
    }
    let issuer = credential["issuer"]["id"]
        .as_str()
        .or(credential["issuer"].as_str())
        .unwrap_or_default();
    let did = did_document["id"].as_str().unwrap_or_default();
    check(
        "issuer",
        !issuer.is_empty() && issuer == did,
        format!("issued by `{issuer}`; the DID document is `{did}`"),
    );
    let now = jiff::Timestamp::now();
    let date = |field: &str| -> Result<Option<jiff::Timestamp>, String> {
        match credential[field].as_str() {
            None => Ok(None),
            Some(text) => text
                .parse()
                .map(Some)
                .map_err(|e| format!("{field} `{text}` is not a date-time: {e}")),
        }
    };
    match (date("validFrom"), date("validUntil")) {
        (Ok(from), Ok(until)) => {
            let started = from.is_none_or(|f| f <= now);
            let current = until.is_none_or(|u| now <= u);
            let show = |t: Option<jiff::Timestamp>| t.map_or("-".to_owned(), |t| t.to_string());
            check(
                "dates",
                started && current,
                if !started {
                    format!("not valid before {}", show(from))
                } else if !current {
                    format!("expired at {}", show(until))
                } else {
                    format!("valid from {} until {}", show(from), show(until))
                },
            );
        }
        (Err(e), _) | (_, Err(e)) => check("dates", false, e),
    }

    let entries: Vec<Value> = match &credential["credentialStatus"] {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        one => vec![one.clone()],
    };
    if entries.is_empty() {
        check("status", true, "the credential names no status list".into());
    }
    let lists: Vec<Value> = args
        .status_lists
        .iter()
        .map(|p| read_json(p))
        .collect::<Result<_, _>>()?;
    for entry in entries {
        let url = entry["statusListCredential"].as_str().unwrap_or_default();
        let purpose = entry["statusPurpose"].as_str().unwrap_or("status");
        let Some(list) = lists.iter().find(|l| l["id"].as_str() == Some(url)) else {
            check(
                "status",
                false,
                format!("{purpose}: not checked; pass the list at {url} with --status-list"),
            );
            continue;
        };
        if let Err(e) = accredit_credentials::verify(list, &resolve) {
            check(
                "status",
                false,
                format!("{purpose}: the status list's proof fails: {e}"),
            );
            continue;
        }
        let index = entry["statusListIndex"]
            .as_str()
            .and_then(|i| i.parse::<usize>().ok());
        let bits = list["credentialSubject"]["encodedList"]
            .as_str()
            .ok_or_else(|| "no encodedList".to_owned())
            .and_then(|e| accredit_credentials::StatusList::decode(e).map_err(|e| e.to_string()));
        match (index, bits) {
            (Some(i), Ok(bits)) => match bits.get(i) {
                Ok(true) => check(
                    "status",
                    false,
                    format!("{purpose}: the credential's bit {i} is set"),
                ),
                Ok(false) => check("status", true, format!("{purpose}: bit {i} is clear")),
                Err(e) => check("status", false, format!("{purpose}: {e}")),
            },
            (None, _) => check(
                "status",
                false,
                format!("{purpose}: statusListIndex is not a number"),
            ),
            (_, Err(e)) => check("status", false, format!("{purpose}: {e}")),
        }
    }
    for l in &lines {
        println!("{l}");
    }
    if valid {
        println!("VALID");
        Ok(())
    } else {
        Err(CliError::failed("NOT VALID: see the failed checks above"))
    }
}

pub async fn rotate(global: &GlobalArgs) -> Result<(), CliError> {
    let (_, app) = super::open(global, &ServerArgs::default(), false).await?;
    let id = app.rotate_signing_key(&Ctx::system()).await?;
    println!("new credentials are signed with {id}; earlier keys stay in the DID document");
    Ok(())
}
