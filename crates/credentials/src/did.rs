//! did:web documents whose keys are Multikey verification methods.

use ed25519_dalek::VerifyingKey;
use serde_json::{Value, json};

use crate::public_key_from_multibase;

/// The did:web DID for `host`: `example.com` → `did:web:example.com`; a port's colon is
/// percent-encoded (`localhost:8443` → `did:web:localhost%3A8443`) and a path's slashes become
/// colons (`example.com/issuers/1` → `did:web:example.com:issuers:1`).
pub fn did_web(host: &str) -> String {
    let (authority, path) = host.split_once('/').unwrap_or((host, ""));
    let mut did = format!("did:web:{}", authority.replace(':', "%3A"));
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        did.push(':');
        did.push_str(segment);
    }
    did
}

/// Where a did:web DID document is published (did:web method, "Read"): the host (a port
/// written `%3A`), then the path segments and `did.json`, or `/.well-known/did.json` without a
/// path. `None` for other DID methods.
pub fn did_web_url(did: &str) -> Option<String> {
    let rest = did.strip_prefix("did:web:")?;
    let rest = rest.split(['#', '?']).next().unwrap_or(rest);
    let mut segments = rest.split(':');
    let host = segments
        .next()
        .filter(|h| !h.is_empty())?
        .replace("%3A", ":");
    let path: Vec<&str> = segments.collect();
    Some(if path.is_empty() {
        format!("https://{host}/.well-known/did.json")
    } else {
        format!("https://{host}/{}/did.json", path.join("/"))
    })
}

/// The DID document to serve at `https://{host}/.well-known/did.json` (or `/{path}/did.json`).
/// `keys` are (fragment, publicKeyMultibase), the current key first; older keys stay listed so
/// credentials they signed still verify. Every key is an `assertionMethod`.
pub fn did_web_document(host: &str, keys: &[(String, String)]) -> Value {
    let did = did_web(host);
    let methods: Vec<Value> = keys
        .iter()
        .map(|(fragment, public_key)| {
            json!({
                "id": format!("{did}#{fragment}"),
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": public_key,
            })
        })
        .collect();
    let assertion: Vec<String> = keys
        .iter()
        .map(|(fragment, _)| format!("{did}#{fragment}"))
        .collect();
    json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": assertion,
    })
}

/// The key `verification_method` (e.g. `did:web:example.com#key-1`) names in `did_document`,
/// provided the document lists it under `assertionMethod`: the proof purpose Accredit signs
/// with. A resolver for [`crate::verify`] is then
/// `|vm| key_from_did_document(&document, vm)` once the caller has fetched the document.
pub fn key_from_did_document(
    did_document: &Value,
    verification_method: &str,
) -> Option<VerifyingKey> {
    let did = did_document.get("id")?.as_str()?;
    // Entries may be written relative to the document (`#key-1`).
    let absolute = |id: &str| {
        if id.starts_with('#') {
            format!("{did}{id}")
        } else {
            id.to_owned()
        }
    };
    let entry_id = |entry: &Value| match entry {
        Value::String(id) => Some(absolute(id)),
        entry => entry.get("id")?.as_str().map(absolute),
    };
    let asserted = did_document
        .get("assertionMethod")?
        .as_array()?
        .iter()
        .any(|entry| entry_id(entry).as_deref() == Some(verification_method));
    if !asserted {
        return None;
    }
    let methods = did_document.get("verificationMethod")?.as_array()?;
    let embedded = did_document.get("assertionMethod")?.as_array()?;
    let method = methods
        .iter()
        .chain(embedded)
        .find(|m| m.is_object() && entry_id(m).as_deref() == Some(verification_method))?;
    if method.get("type")?.as_str()? != "Multikey" {
        return None;
    }
    public_key_from_multibase(method.get("publicKeyMultibase")?.as_str()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_web_urls_follow_the_method_specification() {
        assert_eq!(
            did_web_url("did:web:w3c-ccg.github.io").as_deref(),
            Some("https://w3c-ccg.github.io/.well-known/did.json")
        );
        assert_eq!(
            did_web_url("did:web:w3c-ccg.github.io:user:alice").as_deref(),
            Some("https://w3c-ccg.github.io/user/alice/did.json")
        );
        assert_eq!(
            did_web_url("did:web:example.com%3A3000#key-1").as_deref(),
            Some("https://example.com:3000/.well-known/did.json")
        );
        assert_eq!(did_web_url("did:key:z6Mk"), None);
        assert_eq!(
            did_web_url(&did_web("localhost:8080")).as_deref(),
            Some("https://localhost:8080/.well-known/did.json")
        );
    }
}
