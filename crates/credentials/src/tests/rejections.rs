//! Everything that must not sign or verify, each with its precise error.

use serde_json::{Value, json};

use super::{only, open_badge::open_badge, test_key};
use crate::{CREDENTIALS_V2, Error, OPEN_BADGES_V3_0_3, canonicalize, sign, verify};

const VM: &str = "did:web:accredit.example#key-1";
const CREATED: &str = "2024-05-01T09:30:00Z";

fn signed() -> Value {
    sign(&open_badge(OPEN_BADGES_V3_0_3), &test_key(1), VM, CREATED).unwrap()
}

fn minimal(extra: Value) -> Value {
    let mut credential = json!({
        "@context": [CREDENTIALS_V2],
        "id": "urn:uuid:0190e0a4-7a0b-7cc2-9b3e-000000000001",
        "type": ["VerifiableCredential"],
        "issuer": "did:web:accredit.example",
        "credentialSubject": { "id": "did:example:partner-42" },
    });
    for (key, value) in extra.as_object().unwrap() {
        credential[key] = value.clone();
    }
    credential
}

#[test]
fn a_changed_field_breaks_the_proof() {
    let resolve = only(VM, test_key(1).verifying_key());
    let mut tampered = signed();
    tampered["validUntil"] = "2099-01-01T00:00:00Z".into();
    let error = verify(&tampered, &resolve).unwrap_err();
    assert_eq!(error, Error::BadSignature(VM.into()));
    assert_eq!(
        error.to_string(),
        "the proof does not verify with the key of did:web:accredit.example#key-1: the document or its proof was changed after signing, or another key signed it"
    );

    let mut tampered_proof = signed();
    tampered_proof["proof"]["created"] = "2024-05-02T09:30:00Z".into();
    assert_eq!(
        verify(&tampered_proof, &resolve),
        Err(Error::BadSignature(VM.into()))
    );
}

#[test]
fn another_key_does_not_verify_and_an_unknown_key_is_named() {
    let wrong = only(VM, test_key(2).verifying_key());
    assert_eq!(
        verify(&signed(), &wrong),
        Err(Error::BadSignature(VM.into()))
    );
    let nobody = |_: &str| None;
    let error = verify(&signed(), &nobody).unwrap_err();
    assert_eq!(error, Error::UnknownKey(VM.into()));
    assert_eq!(
        error.to_string(),
        "the key did:web:accredit.example#key-1 could not be resolved, so the proof cannot be checked"
    );
}

#[test]
fn an_undefined_term_is_refused_when_signing_and_when_verifying() {
    let key = test_key(1);
    let error = sign(&minimal(json!({ "shoeSize": 44 })), &key, VM, CREATED).unwrap_err();
    assert_eq!(error, Error::UndefinedTerm("shoeSize".into()));
    assert_eq!(
        error.to_string(),
        "the term `shoeSize` is not defined by the document's contexts, so it would not be signed"
    );

    // Nested, in a type-scoped node, as a type, with characters no IRI allows.
    let nested =
        minimal(json!({ "credentialSubject": { "id": "did:example:1", "nickname": "Al" } }));
    assert_eq!(
        canonicalize(&nested),
        Err(Error::UndefinedTerm("nickname".into()))
    );
    let mut in_achievement = open_badge(OPEN_BADGES_V3_0_3);
    in_achievement["credentialSubject"]["achievement"]["level"] = "gold".into();
    assert_eq!(
        canonicalize(&in_achievement),
        Err(Error::UndefinedTerm("level".into()))
    );
    let made_up_type = minimal(json!({ "type": ["VerifiableCredential", "PartnerCredential"] }));
    assert_eq!(
        canonicalize(&made_up_type),
        Err(Error::UndefinedTerm("PartnerCredential".into()))
    );
    let spaced = minimal(json!({ "shoe size": 44 }));
    assert_eq!(
        canonicalize(&spaced),
        Err(Error::UndefinedTerm("shoe size".into()))
    );

    // Added after signing: refused as undefined, not merely as a bad signature.
    let mut extended = signed();
    extended["credentialSubject"]["shoeSize"] = 44.into();
    let resolve = only(VM, key.verifying_key());
    assert_eq!(
        verify(&extended, &resolve),
        Err(Error::UndefinedTerm("shoeSize".into()))
    );
}

/// v2's `verifiableCredential` clears the context (`"@context": null`) so that an embedded
/// credential starts afresh; undefined terms inside it must still be caught.
#[test]
fn an_undefined_term_in_a_credential_inside_a_presentation_is_refused() {
    let mut presentation = json!({
        "@context": [CREDENTIALS_V2],
        "type": "VerifiablePresentation",
        "holder": "did:example:partner-42",
        "verifiableCredential": [open_badge(OPEN_BADGES_V3_0_3)],
    });
    let canonical = canonicalize(&presentation).unwrap();
    assert!(canonical.contains("\"Installs and commissions the product line safely.\" _:c14n"));
    presentation["verifiableCredential"][0]["credentialSubject"]["shoeSize"] = 44.into();
    assert_eq!(
        canonicalize(&presentation),
        Err(Error::UndefinedTerm("shoeSize".into()))
    );
}

#[test]
fn an_unknown_context_is_refused_and_never_fetched() {
    let mut credential = minimal(json!({}));
    credential["@context"] = json!([CREDENTIALS_V2, "https://schema.org/"]);
    let error = sign(&credential, &test_key(1), VM, CREATED).unwrap_err();
    assert_eq!(error, Error::UnknownContext("https://schema.org/".into()));
    assert_eq!(
        error.to_string(),
        "the context https://schema.org/ is not bundled; Accredit never fetches contexts"
    );
    // Also inside a nested node, and with a signed document.
    let nested = minimal(
        json!({ "credentialSubject": { "@context": "https://w3id.org/security/v2", "id": "did:example:1" } }),
    );
    assert_eq!(
        canonicalize(&nested),
        Err(Error::UnknownContext("https://w3id.org/security/v2".into()))
    );
    let mut signed = signed();
    signed["@context"][1] = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json".into();
    let resolve = only(VM, test_key(1).verifying_key());
    assert!(matches!(
        verify(&signed, &resolve),
        Err(Error::UnknownContext(_))
    ));
}

#[test]
fn relative_identifiers_and_cleared_contexts_are_refused() {
    let relative = minimal(json!({ "id": "credential-1" }));
    assert_eq!(
        canonicalize(&relative),
        Err(Error::RelativeIri("credential-1".into()))
    );
    let relative_issuer = minimal(json!({ "issuer": "accredit" }));
    assert_eq!(
        canonicalize(&relative_issuer),
        Err(Error::RelativeIri("accredit".into()))
    );
    // Clearing protected definitions is a JSON-LD error.
    let cleared =
        minimal(json!({ "credentialSubject": { "@context": null, "id": "did:example:1" } }));
    assert!(matches!(canonicalize(&cleared), Err(Error::JsonLd(m)) if m.contains("protected")));
    assert_eq!(
        canonicalize(&json!({ "id": "urn:x" })),
        Err(Error::NotADocument)
    );
}

#[test]
fn malformed_proofs_are_named() {
    let key = test_key(1);
    let resolve = only(VM, key.verifying_key());
    assert_eq!(
        sign(&signed(), &key, VM, CREATED),
        Err(Error::AlreadySigned)
    );
    assert!(matches!(
        sign(&minimal(json!({})), &key, VM, "1 May 2024"),
        Err(Error::InvalidProof(m)) if m.contains("created `1 May 2024`")
    ));
    assert_eq!(
        verify(&minimal(json!({})), &resolve),
        Err(Error::MissingProof)
    );

    let mut other_suite = signed();
    other_suite["proof"]["cryptosuite"] = "ecdsa-rdfc-2019".into();
    assert_eq!(
        verify(&other_suite, &resolve).unwrap_err().to_string(),
        "the proof is not a valid eddsa-rdfc-2022 Data Integrity proof: cryptosuite is `ecdsa-rdfc-2019`, Accredit accepts `eddsa-rdfc-2022`"
    );
    let mut other_purpose = signed();
    other_purpose["proof"]["proofPurpose"] = "authentication".into();
    assert!(matches!(
        verify(&other_purpose, &resolve),
        Err(Error::InvalidProof(_))
    ));
    let mut garbled = signed();
    garbled["proof"]["proofValue"] = "z0OIl".into();
    assert!(matches!(
        verify(&garbled, &resolve),
        Err(Error::InvalidProof(_))
    ));

    // A proof may repeat the contexts (vc-di-eddsa §3.3.2), but only a prefix of the document's.
    let mut with_context = signed();
    with_context["proof"]["@context"] = with_context["@context"].clone();
    assert!(verify(&with_context, &resolve).is_ok());
    with_context["proof"]["@context"] = json!([OPEN_BADGES_V3_0_3]);
    assert!(matches!(
        verify(&with_context, &resolve),
        Err(Error::InvalidProof(m)) if m.contains("@context")
    ));
}

#[test]
fn date_time_stamps() {
    use crate::proof::is_date_time_stamp;
    for good in [
        "2024-05-01T09:30:00Z",
        "2024-05-01T09:30:00.123Z",
        "2024-05-01T09:30:00+02:00",
    ] {
        assert!(is_date_time_stamp(good), "{good}");
    }
    for bad in [
        "2024-05-01",
        "2024-05-01T09:30:00",
        "2024-13-01T09:30:00Z",
        "2024-05-01T09:30:00.Z",
        "2024-05-01T09:30:00+2:00",
        "2024-05-01T09:30:00-+5:00",
        "2024-05-01T09:30:00é",
    ] {
        assert!(!is_date_time_stamp(bad), "{bad}");
    }
}
