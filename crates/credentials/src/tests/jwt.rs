//! VC-JWT round trip and rejections.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::{only, open_badge::open_badge, test_key};
use crate::{Error, OPEN_BADGES_V3_0_3, sign_jwt, verify_jwt};

const KID: &str = "did:web:accredit.example#key-1";

fn part(jwt: &str, index: usize) -> Value {
    let bytes = URL_SAFE_NO_PAD
        .decode(jwt.split('.').nth(index).unwrap())
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn a_credential_round_trips_as_a_vc_jwt() {
    let key = test_key(3);
    let credential = open_badge(OPEN_BADGES_V3_0_3);
    let jwt = sign_jwt(&credential, &key, KID).unwrap();
    assert_eq!(
        part(&jwt, 0),
        json!({ "alg": "EdDSA", "kid": KID, "typ": "vc+jwt" })
    );
    assert_eq!(part(&jwt, 1), credential);
    let resolve = only(KID, key.verifying_key());
    assert_eq!(verify_jwt(&jwt, &resolve).unwrap(), credential);
}

#[test]
fn a_tampered_or_foreign_jwt_is_refused() {
    let key = test_key(3);
    let resolve = only(KID, key.verifying_key());
    let jwt = sign_jwt(&open_badge(OPEN_BADGES_V3_0_3), &key, KID).unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();

    let mut changed = open_badge(OPEN_BADGES_V3_0_3);
    changed["name"] = "Master Installer".into();
    let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&changed).unwrap());
    let tampered = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
    assert_eq!(
        verify_jwt(&tampered, &resolve),
        Err(Error::BadJwtSignature(KID.into()))
    );

    let other_key = only(KID, test_key(4).verifying_key());
    assert_eq!(
        verify_jwt(&jwt, &other_key),
        Err(Error::BadJwtSignature(KID.into()))
    );
    assert_eq!(
        verify_jwt(&jwt, &|_| None),
        Err(Error::UnknownKey(KID.into()))
    );

    let none_header = URL_SAFE_NO_PAD
        .encode(br#"{"alg":"none","kid":"did:web:accredit.example#key-1","typ":"vc+jwt"}"#);
    let unsigned = format!("{none_header}.{}.", parts[1]);
    assert_eq!(
        verify_jwt(&unsigned, &resolve),
        Err(Error::InvalidJwt("alg must be EdDSA".into()))
    );
    assert!(matches!(
        verify_jwt("a.b", &resolve),
        Err(Error::InvalidJwt(_))
    ));
    assert!(matches!(
        verify_jwt(&format!("{jwt}.x"), &resolve),
        Err(Error::InvalidJwt(_))
    ));
}
