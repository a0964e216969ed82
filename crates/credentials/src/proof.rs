//! Data Integrity proofs with the `eddsa-rdfc-2022` cryptosuite (W3C vc-di-eddsa §3.3).

use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::{Error, Keypair, canonicalize};

const PROOF_TYPE: &str = "DataIntegrityProof";
const CRYPTOSUITE: &str = "eddsa-rdfc-2022";
const PURPOSE: &str = "assertionMethod";

/// What a successful [`verify`] checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedProof {
    /// The key that signed, e.g. `did:web:example.com#key-1`.
    pub verification_method: String,
    /// The proof's `created` time as written, if any. Judging it is the caller's business.
    pub created: Option<String>,
}

/// Adds a `DataIntegrityProof` (cryptosuite `eddsa-rdfc-2022`, proofPurpose `assertionMethod`)
/// to `document`. `created` is an XML Schema dateTime with a time zone, e.g.
/// `2024-05-01T12:00:00Z`; the crate has no clock, so the caller supplies it.
pub fn sign(
    document: &Value,
    key: &Keypair,
    verification_method: &str,
    created: &str,
) -> Result<Value, Error> {
    let map = document.as_object().ok_or(Error::NotADocument)?;
    if map.contains_key("proof") {
        return Err(Error::AlreadySigned);
    }
    let context = map.get("@context").ok_or(Error::NotADocument)?;
    if !is_date_time_stamp(created) {
        return Err(Error::InvalidProof(format!(
            "created `{created}` is not a date and time with a time zone, such as 2024-05-01T12:00:00Z"
        )));
    }
    let mut proof = json!({
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": PURPOSE,
    });
    let signature = key.sign(&hash_data(document, &proof, context)?);
    proof["proofValue"] = format!("z{}", bs58::encode(signature).into_string()).into();
    let mut signed = map.clone();
    signed.insert("proof".into(), proof);
    Ok(Value::Object(signed))
}

/// Checks the document's single `eddsa-rdfc-2022` proof: canonicalizes the document without
/// the proof and the proof configuration, hashes both, and verifies the signature with the key
/// `resolve(verificationMethod)` returns. Whether that key may speak for the issuer is the
/// resolver's decision (e.g. it is listed in the issuer's DID document).
pub fn verify(
    document: &Value,
    resolve: &dyn Fn(&str) -> Option<VerifyingKey>,
) -> Result<VerifiedProof, Error> {
    let map = document.as_object().ok_or(Error::NotADocument)?;
    let proof = match map.get("proof").ok_or(Error::MissingProof)? {
        Value::Array(proofs) if proofs.len() == 1 => &proofs[0],
        Value::Array(_) => return Err(Error::Unsupported("several proofs".into())),
        proof => proof,
    };
    let proof = proof
        .as_object()
        .ok_or_else(|| Error::InvalidProof("it is not an object".into()))?;
    expect(proof, "type", PROOF_TYPE)?;
    expect(proof, "cryptosuite", CRYPTOSUITE)?;
    expect(proof, "proofPurpose", PURPOSE)?;
    let verification_method = string(proof, "verificationMethod")?;
    let created = match proof.get("created") {
        None => None,
        Some(Value::String(created)) if is_date_time_stamp(created) => Some(created.clone()),
        Some(other) => {
            return Err(Error::InvalidProof(format!(
                "created {other} is not a date and time with a time zone"
            )));
        }
    };
    let signature = decode_proof_value(string(proof, "proofValue")?)?;

    let mut unsecured = map.clone();
    unsecured.remove("proof");
    let mut config = proof.clone();
    config.remove("proofValue");
    // vc-di-eddsa §3.3.2: a proof that names contexts must name a prefix of the document's.
    let context = match config.remove("@context") {
        Some(proof_context) => {
            let listed = |c: &Value| c.as_array().cloned().unwrap_or_else(|| vec![c.clone()]);
            let document_context = listed(map.get("@context").ok_or(Error::NotADocument)?);
            if !document_context.starts_with(&listed(&proof_context)) {
                return Err(Error::InvalidProof(
                    "its @context is not the start of the document's @context".into(),
                ));
            }
            unsecured.insert("@context".into(), proof_context.clone());
            proof_context
        }
        None => map.get("@context").ok_or(Error::NotADocument)?.clone(),
    };

    let key = resolve(verification_method)
        .ok_or_else(|| Error::UnknownKey(verification_method.to_owned()))?;
    let hash = hash_data(&Value::Object(unsecured), &Value::Object(config), &context)?;
    key.verify_strict(&hash, &signature)
        .map_err(|_| Error::BadSignature(verification_method.to_owned()))?;
    Ok(VerifiedProof {
        verification_method: verification_method.to_owned(),
        created,
    })
}

/// SHA-256(canonical proof configuration) ‖ SHA-256(canonical document): what is signed.
pub(crate) fn hash_data(
    unsecured: &Value,
    proof_config: &Value,
    context: &Value,
) -> Result<Vec<u8>, Error> {
    let mut config = proof_config.clone();
    config["@context"] = context.clone();
    let mut hash = Sha256::digest(canonicalize(&config)?).to_vec();
    hash.extend_from_slice(&Sha256::digest(canonicalize(unsecured)?));
    Ok(hash)
}

fn decode_proof_value(value: &str) -> Result<Signature, Error> {
    let invalid = || Error::InvalidProof("proofValue is not a base58btc Ed25519 signature".into());
    let bytes = bs58::decode(value.strip_prefix('z').ok_or_else(invalid)?)
        .into_vec()
        .map_err(|_| invalid())?;
    Ok(Signature::from_bytes(
        &bytes.try_into().map_err(|_| invalid())?,
    ))
}

fn string<'a>(proof: &'a Map<String, Value>, field: &str) -> Result<&'a str, Error> {
    proof
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| Error::InvalidProof(format!("{field} is missing or not a string")))
}

fn expect(proof: &Map<String, Value>, field: &str, wanted: &str) -> Result<(), Error> {
    let found = string(proof, field)?;
    if found == wanted {
        Ok(())
    } else {
        Err(Error::InvalidProof(format!(
            "{field} is `{found}`, Accredit accepts `{wanted}`"
        )))
    }
}

/// XML Schema `dateTimeStamp`: `YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm)`, fields in range.
pub(crate) fn is_date_time_stamp(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range.clone())
            .filter(|d| d.iter().all(u8::is_ascii_digit))
            .map(|d| d.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let fixed = b.len() >= 19
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':';
    let in_range = digits(0..4).is_some()
        && digits(5..7).is_some_and(|m| (1..=12).contains(&m))
        && digits(8..10).is_some_and(|d| (1..=31).contains(&d))
        && digits(11..13).is_some_and(|h| h < 24)
        && digits(14..16).is_some_and(|m| m < 60)
        && digits(17..19).is_some_and(|s| s < 60);
    if !fixed || !in_range {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return false;
        }
        rest = &fraction[len..];
    }
    let zone = rest.as_bytes();
    let two_digits = |i: usize| {
        (zone[i].is_ascii_digit() && zone[i + 1].is_ascii_digit())
            .then(|| (zone[i] - b'0') * 10 + (zone[i + 1] - b'0'))
    };
    rest == "Z"
        || (zone.len() == 6
            && matches!(zone[0], b'+' | b'-')
            && zone[3] == b':'
            && two_digits(1).is_some_and(|h| h <= 14)
            && two_digits(4).is_some_and(|m| m < 60))
}
