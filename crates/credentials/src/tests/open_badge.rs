//! An Open Badges 3.0 credential as Accredit issues it: signed, resolved through did:web, verified.

use serde_json::{Value, json};

use super::test_key;
use crate::{
    CREDENTIALS_V2, Error, OPEN_BADGES_V3_0_2, OPEN_BADGES_V3_0_3, canonicalize, did_web,
    did_web_document, key_from_did_document, sign, verify,
};

const ISSUER_HOST: &str = "accredit.example";

pub(super) fn open_badge(ob_context: &str) -> Value {
    json!({
        "@context": [CREDENTIALS_V2, ob_context],
        "id": "urn:uuid:0190e0a4-7a0b-7cc2-9b3e-1f0b4e5d6a7c",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Certified Installer",
        "issuer": {
            "id": did_web(ISSUER_HOST),
            "type": ["Profile"],
            "name": "Accredit Partner Program",
            "url": "https://accredit.example/",
        },
        "validFrom": "2024-05-01T00:00:00Z",
        "validUntil": "2026-05-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:partner-42",
            "type": ["AchievementSubject"],
            "identifier": [{
                "type": "IdentityObject",
                "identityType": "emailAddress",
                "hashed": true,
                "identityHash": "sha256$c7ef86405ba71b85acd8e2e95166c4b111448089f2e1599f42fe1bba46e865c5",
                "salt": "not-a-secret-salt",
            }],
            "achievement": {
                "id": "https://accredit.example/achievements/installer",
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": "Certified Installer",
                "description": "Installs and commissions the product line safely.",
                "criteria": { "narrative": "Pass the installer exam with at least 80%." },
            },
        },
        "credentialStatus": {
            "id": "https://accredit.example/status/1#94567",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "94567",
            "statusListCredential": "https://accredit.example/status/1",
        },
    })
}

/// Every string in the JSON (other than contexts and type names, which become IRIs) must be in
/// the signed canonical form: nothing may be displayed that is not signed.
fn assert_every_string_is_signed(value: &Value, canonical: &str) {
    match value {
        Value::String(s) => assert!(canonical.contains(s.as_str()), "`{s}` is not signed"),
        Value::Array(items) => items
            .iter()
            .for_each(|v| assert_every_string_is_signed(v, canonical)),
        Value::Object(map) => {
            for (key, v) in map {
                if key != "@context" && key != "type" {
                    assert_every_string_is_signed(v, canonical);
                }
            }
        }
        _ => {}
    }
}

#[test]
fn an_open_badge_signs_and_verifies_through_its_did_web_document() {
    let key = test_key(7);
    let old_key = test_key(6);
    let did_document = did_web_document(
        ISSUER_HOST,
        &[
            ("key-2".into(), key.public_key_multibase()),
            ("key-1".into(), old_key.public_key_multibase()),
        ],
    );
    let vm = "did:web:accredit.example#key-2";
    let resolve = |asked: &str| key_from_did_document(&did_document, asked);

    for ob_context in [OPEN_BADGES_V3_0_3, OPEN_BADGES_V3_0_2] {
        let credential = open_badge(ob_context);
        let canonical = canonicalize(&credential).unwrap();
        assert_every_string_is_signed(&credential, &canonical);
        for expected in [
            "<https://purl.imsglobal.org/spec/vc/ob/vocab.html#narrative> \"Pass the installer exam with at least 80%.\" .",
            "<https://www.w3.org/2018/credentials#validUntil> \"2026-05-01T00:00:00Z\"^^<http://www.w3.org/2001/XMLSchema#dateTime> .",
            // The OB context itself says https:// for this XML Schema datatype.
            "<https://purl.imsglobal.org/spec/vc/ob/vocab.html#hashed> \"true\"^^<https://www.w3.org/2001/XMLSchema#boolean> .",
            "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential> .",
            "<https://www.w3.org/ns/credentials/status#statusListIndex> \"94567\" .",
            "<https://www.w3.org/2018/credentials#credentialStatus> <https://accredit.example/status/1#94567> .",
        ] {
            assert!(
                canonical.contains(expected),
                "{ob_context}: missing {expected} in\n{canonical}"
            );
        }

        let signed = sign(&credential, &key, vm, "2024-05-01T09:30:00Z").unwrap();
        assert_eq!(signed["proof"]["type"], "DataIntegrityProof");
        assert_eq!(signed["proof"]["cryptosuite"], "eddsa-rdfc-2022");
        assert_eq!(signed["proof"]["proofPurpose"], "assertionMethod");
        let verified = verify(&signed, &resolve).unwrap();
        assert_eq!(verified.verification_method, vm);
        assert_eq!(verified.created.as_deref(), Some("2024-05-01T09:30:00Z"));

        // A credential signed with the previous key still verifies: it stays in the document.
        let older = sign(
            &credential,
            &old_key,
            "did:web:accredit.example#key-1",
            "2023-01-01T00:00:00Z",
        )
        .unwrap();
        assert!(verify(&older, &resolve).is_ok());

        // Changing what the badge says breaks the proof.
        let mut tampered = signed.clone();
        tampered["credentialSubject"]["achievement"]["criteria"]["narrative"] = "Attend.".into();
        assert_eq!(
            verify(&tampered, &resolve),
            Err(Error::BadSignature(vm.into()))
        );
    }
}
