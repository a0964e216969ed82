//! The W3C vc-di-eddsa eddsa-rdfc-2022 test vectors, every intermediate value.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{fixture_json, fixture_text};
use crate::{Keypair, canonicalize, proof::hash_data, public_key_from_multibase, sign, verify};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks one vector folder against the unsigned document it was made from.
fn check_vector(dir: &str, unsigned_name: &str) {
    let (Some(key_pair), Some(unsigned), Some(config)) = (
        fixture_json("keyPair.json"),
        fixture_json(unsigned_name),
        fixture_json(&format!("{dir}/proofConfigDataInt.json")),
    ) else {
        return;
    };
    let text = |name: &str| fixture_text(&format!("{dir}/{name}")).unwrap();

    let key =
        Keypair::from_private_key_multibase(key_pair["privateKeyMultibase"].as_str().unwrap())
            .unwrap();
    assert_eq!(key.public_key_multibase(), key_pair["publicKeyMultibase"]);
    assert_eq!(key.private_key_multibase(), key_pair["privateKeyMultibase"]);

    let canonical_document = canonicalize(&unsigned).unwrap();
    assert_eq!(canonical_document, text("canonDocDataInt.txt"));
    assert_eq!(
        hex(&Sha256::digest(&canonical_document)),
        text("docHashDataInt.txt").trim()
    );

    let canonical_config = canonicalize(&config).unwrap();
    assert_eq!(canonical_config, text("proofCanonDataInt.txt"));
    assert_eq!(
        hex(&Sha256::digest(&canonical_config)),
        text("proofHashDataInt.txt").trim()
    );

    let mut config_without_context = config.clone();
    let context = config_without_context
        .as_object_mut()
        .unwrap()
        .remove("@context")
        .unwrap();
    let combined = hash_data(&unsigned, &config_without_context, &context).unwrap();
    assert_eq!(hex(&combined), text("combinedHashDataInt.txt").trim());

    let signature = key.sign(&combined);
    assert_eq!(hex(&signature), text("sigHexDataInt.txt").trim());
    assert_eq!(
        format!("z{}", bs58::encode(signature).into_string()),
        text("sigBTC58DataInt.txt").trim()
    );

    // The public API produces the published signed credential, and accepts it.
    let vm = config["verificationMethod"].as_str().unwrap();
    let signed = sign(&unsigned, &key, vm, config["created"].as_str().unwrap()).unwrap();
    let published: Value = fixture_json(&format!("{dir}/signedDataInt.json")).unwrap();
    assert_eq!(signed["proof"], published["proof"]);
    assert_eq!(signed, published);

    let did_key = vm.split_once('#').unwrap().1;
    let public = public_key_from_multibase(did_key).unwrap();
    let resolve = |asked: &str| (asked == vm).then_some(public);
    let verified = verify(&published, &resolve).unwrap();
    assert_eq!(verified.verification_method, vm);
    assert_eq!(verified.created.as_deref(), Some("2023-02-24T23:36:38Z"));
}

#[test]
fn the_w3c_alumni_vector_is_reproduced_byte_for_byte() {
    check_vector("eddsa-rdfc-2022", "unsigned.json");
}

/// Two types with type-scoped contexts (`Person`, `EmployablePerson`): oxjsonld alone loses
/// Person's terms; the crate's workaround must give the published canonical form.
#[test]
fn the_w3c_employment_vector_with_two_scoped_types_is_reproduced() {
    check_vector("eddsa-rdfc-2022/employ", "employmentAuth.json");
}
