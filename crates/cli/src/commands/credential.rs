//! `accredit credential verify`: checks any `eddsa-rdfc-2022` Open Badges 3.0 credential
//! offline — ours or another issuer's — against the issuer's DID document and, when given,
//! its status lists, and explains each check. `accredit keys rotate` starts a new signing key.

use crate::CliError;
use crate::config::{GlobalArgs, ServerArgs};
use accredit_app::Ctx;
use clap::{Args, Subcommand};
use serde_json::Value;

#[derive(Debug, Subcommand)]
pub enum CredentialCommand {
    /// Verify a credential file offline: proof, issuer, dates and status.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The credential: a JSON file, or an http(s) URL to fetch it from.
    #[arg(value_name = "FILE|URL")]
    credential: String,
    /// The issuer's DID document (file or URL). Default: fetched from the issuer's did:web
    /// address (https://HOST/.well-known/did.json).
    #[arg(long, value_name = "FILE|URL")]
    did_document: Option<String>,
    /// A status list credential (file or URL) the credential points to; repeat for several.
    /// Default: fetched from the addresses the credential names.
    #[arg(long = "status-list", value_name = "FILE|URL")]
    status_lists: Vec<String>,
    /// Fetch nothing: the DID document must be given, and status lists not given are reported
    /// as not checked.
    #[arg(long)]
    offline: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Sign new credentials with a new key; earlier keys stay in the DID document.
    Rotate,
}

fn is_url(source: &str) -> bool {
    source.starts_with("https://") || source.starts_with("http://")
}

/// Reads JSON from a file or, unless offline, from an http(s) URL.
async fn load_json(source: &str, offline: bool) -> Result<Value, CliError> {
    if !is_url(source) {
        let text = std::fs::read_to_string(source)
            .map_err(|e| CliError::failed(format!("cannot read {source}: {e}")))?;
        return serde_json::from_str(&text)
            .map_err(|e| CliError::failed(format!("{source} is not JSON: {e}")));
    }
    if offline {
        return Err(CliError::failed(format!(
            "{source} is a URL and --offline fetches nothing; save it to a file"
        )));
    }
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .map_err(|e| CliError::failed(format!("cannot start an HTTP client: {e}")))?;
    let response = client
        .get(source)
        .header("accept", "application/json, application/ld+json")
        .send()
        .await
        .map_err(|e| CliError::failed(format!("cannot fetch {source}: {e}")))?;
    let status = response.status();
    if !status.is_success() {
        return Err(CliError::failed(format!("{source} answered {status}")));
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| CliError::failed(format!("cannot read {source}: {e}")))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| CliError::failed(format!("{source} did not send JSON: {e}")))
}

fn line(check: &str, passed: bool, detail: &str) -> String {
    format!(
        "{check:<7} {}  {detail}",
        if passed { "passed" } else { "FAILED" }
    )
}

pub async fn verify(args: VerifyArgs) -> Result<(), CliError> {
    let credential = load_json(&args.credential, args.offline).await?;
    let issuer = credential["issuer"]["id"]
        .as_str()
        .or(credential["issuer"].as_str())
        .unwrap_or_default()
        .to_owned();
    let did_source = match (&args.did_document, args.offline) {
        (Some(source), _) => source.clone(),
        (None, true) => {
            return Err(CliError::failed(
                "--offline needs the issuer's DID document: give it with --did-document FILE",
            ));
        }
        (None, false) => accredit_credentials::did_web_url(&issuer).ok_or_else(|| {
            CliError::failed(format!(
                "the issuer `{issuer}` is not a did:web; give its DID document with --did-document"
            ))
        })?,
    };
    let did_document = load_json(&did_source, args.offline).await?;
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
    let mut lists = Vec::new();
    for source in &args.status_lists {
        lists.push(load_json(source, args.offline).await?);
    }
    if !args.offline {
        for entry in &entries {
            let url = entry["statusListCredential"].as_str().unwrap_or_default();
            if is_url(url) && !lists.iter().any(|l: &Value| l["id"].as_str() == Some(url)) {
                match load_json(url, false).await {
                    Ok(list) => lists.push(list),
                    Err(e) => check("status", false, e.message),
                }
            }
        }
    }
    for entry in entries {
        let url = entry["statusListCredential"].as_str().unwrap_or_default();
        let purpose = entry["statusPurpose"].as_str().unwrap_or("status");
        let Some(list) = lists.iter().find(|l| l["id"].as_str() == Some(url)) else {
            check(
                "status",
                false,
                format!("{purpose}: not checked; give the list at {url} with --status-list"),
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
