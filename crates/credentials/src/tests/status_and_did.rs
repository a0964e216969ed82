//! Bitstring Status List encoding, keys and did:web documents.

use std::io::Read;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use super::test_key;
use crate::{
    Error, Keypair, MIN_STATUS_LIST_BITS, StatusList, did_web, did_web_document,
    key_from_did_document, public_key_from_multibase,
};

#[test]
fn a_status_list_keeps_its_bits_through_encoding() {
    let mut list = StatusList::new(MIN_STATUS_LIST_BITS).unwrap();
    let revoked = [0, 7, 8, 94_567, MIN_STATUS_LIST_BITS - 1];
    for index in revoked {
        list.set(index, true).unwrap();
    }
    list.set(8, false).unwrap();
    let encoded = list.encode();
    assert!(encoded.starts_with('u'), "{encoded}");

    let decoded = StatusList::decode(&encoded).unwrap();
    assert_eq!(decoded, list);
    assert_eq!(decoded.len_bits(), MIN_STATUS_LIST_BITS);
    for index in 0..MIN_STATUS_LIST_BITS {
        let expected = [0, 7, 94_567, MIN_STATUS_LIST_BITS - 1].contains(&index);
        assert_eq!(decoded.get(index).unwrap(), expected, "bit {index}");
    }

    // The spec's layout: GZIP of the raw bits, index 0 the most significant bit of byte 0.
    let gzip = URL_SAFE_NO_PAD.decode(&encoded[1..]).unwrap();
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(gzip.as_slice())
        .read_to_end(&mut raw)
        .unwrap();
    assert_eq!(raw.len(), MIN_STATUS_LIST_BITS / 8);
    assert_eq!(raw[0], 0b1000_0001);
    assert_eq!(raw[94_567 / 8], 0x80 >> (94_567 % 8));
}

#[test]
fn status_lists_below_the_minimum_or_malformed_are_refused() {
    assert_eq!(MIN_STATUS_LIST_BITS, 131_072);
    assert!(matches!(
        StatusList::new(MIN_STATUS_LIST_BITS - 8),
        Err(Error::InvalidStatusList(_))
    ));
    assert!(matches!(
        StatusList::new(MIN_STATUS_LIST_BITS + 1),
        Err(Error::InvalidStatusList(_))
    ));
    assert!(StatusList::new(2 * MIN_STATUS_LIST_BITS).is_ok());

    let mut list = StatusList::new(MIN_STATUS_LIST_BITS).unwrap();
    assert_eq!(
        list.set(MIN_STATUS_LIST_BITS, true),
        Err(Error::StatusIndexOutOfRange {
            index: MIN_STATUS_LIST_BITS,
            len: MIN_STATUS_LIST_BITS
        })
    );
    let encoded = list.encode();
    assert!(matches!(
        StatusList::decode(&encoded[1..]),
        Err(Error::InvalidStatusList(_))
    ));
    assert!(matches!(
        StatusList::decode("u!!!"),
        Err(Error::InvalidStatusList(_))
    ));
    assert!(matches!(
        StatusList::decode("uAAAA"),
        Err(Error::InvalidStatusList(_))
    ));

    let mut small = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut small, &[0; 1024]).unwrap();
    let small = format!("u{}", URL_SAFE_NO_PAD.encode(small.finish().unwrap()));
    assert!(
        matches!(StatusList::decode(&small), Err(Error::InvalidStatusList(m)) if m.contains("minimum"))
    );
}

#[test]
fn keys_round_trip_through_multibase() {
    let key = test_key(9);
    let public = key.public_key_multibase();
    assert!(public.starts_with("z6Mk"), "{public}");
    assert_eq!(
        public_key_from_multibase(&public).unwrap(),
        key.verifying_key()
    );
    let again = Keypair::from_private_key_multibase(&key.private_key_multibase()).unwrap();
    assert_eq!(again.public_key_multibase(), public);
    // A public key is not a private one, and garbage is named.
    assert!(matches!(
        Keypair::from_private_key_multibase(&public),
        Err(Error::InvalidKey(..))
    ));
    assert!(matches!(
        public_key_from_multibase("u6Mk"),
        Err(Error::InvalidKey(..))
    ));
    assert!(!format!("{key:?}").contains(&key.private_key_multibase()[1..]));
}

#[test]
fn did_web_documents_list_current_and_old_keys() {
    assert_eq!(did_web("example.com"), "did:web:example.com");
    assert_eq!(did_web("localhost:8443"), "did:web:localhost%3A8443");
    assert_eq!(
        did_web("example.com/issuers/7"),
        "did:web:example.com:issuers:7"
    );

    let (current, old) = (test_key(1), test_key(2));
    let document = did_web_document(
        "example.com",
        &[
            ("key-2".into(), current.public_key_multibase()),
            ("key-1".into(), old.public_key_multibase()),
        ],
    );
    assert_eq!(
        document,
        json!({
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": "did:web:example.com",
            "verificationMethod": [
                { "id": "did:web:example.com#key-2", "type": "Multikey", "controller": "did:web:example.com", "publicKeyMultibase": current.public_key_multibase() },
                { "id": "did:web:example.com#key-1", "type": "Multikey", "controller": "did:web:example.com", "publicKeyMultibase": old.public_key_multibase() },
            ],
            "assertionMethod": ["did:web:example.com#key-2", "did:web:example.com#key-1"],
        })
    );
    assert_eq!(
        key_from_did_document(&document, "did:web:example.com#key-2"),
        Some(current.verifying_key())
    );
    assert_eq!(
        key_from_did_document(&document, "did:web:example.com#key-1"),
        Some(old.verifying_key())
    );
    assert_eq!(
        key_from_did_document(&document, "did:web:example.com#key-3"),
        None
    );

    // A key that is present but not an assertionMethod cannot sign credentials.
    let mut not_asserted = document.clone();
    not_asserted["assertionMethod"] = json!(["#key-2"]);
    assert_eq!(
        key_from_did_document(&not_asserted, "did:web:example.com#key-2"),
        Some(current.verifying_key())
    );
    assert_eq!(
        key_from_did_document(&not_asserted, "did:web:example.com#key-1"),
        None
    );
}
