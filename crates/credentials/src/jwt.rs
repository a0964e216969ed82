//! VC-JWT as in W3C VC-JOSE-COSE: a compact JWS whose payload is the credential itself.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::{Value, json};

use crate::{Error, Keypair};

const TYP: &str = "vc+jwt";

/// Signs `credential` as a compact JWS: header `{"alg":"EdDSA","kid":kid,"typ":"vc+jwt"}`,
/// payload the credential's JSON.
pub fn sign_jwt(credential: &Value, key: &Keypair, kid: &str) -> Result<String, Error> {
    if !credential.is_object() {
        return Err(Error::NotADocument);
    }
    let header = json!({ "alg": "EdDSA", "kid": kid, "typ": TYP });
    let signing_input = format!("{}.{}", encode_json(&header), encode_json(credential));
    let signature = URL_SAFE_NO_PAD.encode(key.sign(signing_input.as_bytes()));
    Ok(format!("{signing_input}.{signature}"))
}

/// Verifies a VC-JWT made by [`sign_jwt`] (or any EdDSA `vc+jwt` with a `kid`) with the key
/// `resolve(kid)` returns, and returns the credential. Validity dates are the caller's to judge.
pub fn verify_jwt(
    jwt: &str,
    resolve: &dyn Fn(&str) -> Option<VerifyingKey>,
) -> Result<Value, Error> {
    let invalid = |why: &str| Error::InvalidJwt(why.to_owned());
    let mut parts = jwt.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid(
            "a compact JWS has exactly three parts separated by dots",
        ));
    };
    let header_json = decode_json(header, "header")?;
    // Only EdDSA: a JWT that picks its own algorithm ("none", HS256 …) must not pass.
    if header_json.get("alg").and_then(Value::as_str) != Some("EdDSA") {
        return Err(invalid("alg must be EdDSA"));
    }
    if header_json.get("typ").and_then(Value::as_str) != Some(TYP) {
        return Err(invalid("typ must be vc+jwt"));
    }
    if header_json.get("crit").is_some() {
        return Err(invalid(
            "it has critical header extensions Accredit does not know",
        ));
    }
    let kid = header_json
        .get("kid")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("the header has no kid naming the signing key"))?;
    let signature: [u8; 64] = URL_SAFE_NO_PAD
        .decode(signature)
        .ok()
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| invalid("the signature is not a base64url Ed25519 signature"))?;
    let key = resolve(kid).ok_or_else(|| Error::UnknownKey(kid.to_owned()))?;
    let signing_input = &jwt[..header.len() + 1 + payload.len()];
    key.verify_strict(signing_input.as_bytes(), &Signature::from_bytes(&signature))
        .map_err(|_| Error::BadJwtSignature(kid.to_owned()))?;
    let credential = decode_json(payload, "payload")?;
    if !credential.is_object() {
        return Err(invalid("the payload is not a credential object"));
    }
    Ok(credential)
}

fn encode_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("a Value always serializes"))
}

fn decode_json(part: &str, name: &str) -> Result<Value, Error> {
    URL_SAFE_NO_PAD
        .decode(part)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| Error::InvalidJwt(format!("the {name} is not base64url-encoded JSON")))
}
