//! The JSON-LD processor's own rules: literal forms, refusals, and the context cache.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::jsonld::{Local, double, es_number, initial, jcs, process};
use crate::{CREDENTIALS_V2, Error, OPEN_BADGES_V3_0_3, canonicalize};

/// Expected strings printed by Node.js: `v.toExponential(15)` rewritten as jsonld.js does,
/// and `String(v)`.
#[test]
fn numbers_are_written_as_javascript_writes_them() {
    for (value, as_double, as_string) in [
        // Exact ties at the 16th digit: JavaScript rounds them away from zero.
        (
            1.0000152587890625,
            "1.000015258789063E0",
            "1.0000152587890625",
        ),
        (
            -1.0000152587890625,
            "-1.000015258789063E0",
            "-1.0000152587890625",
        ),
        (
            1.0000457763671875,
            "1.000045776367188E0",
            "1.0000457763671875",
        ),
        (
            0.5000076293945312,
            "5.000076293945313E-1",
            "0.5000076293945312",
        ),
        (0.30000000000000004, "3.0E-1", "0.30000000000000004"),
        (1.5, "1.5E0", "1.5"),
        (1e21, "1.0E21", "1e+21"),
        (
            1.2345678901234569e23,
            "1.234567890123457E23",
            "1.2345678901234569e+23",
        ),
        (123456.789, "1.23456789E5", "123456.789"),
        (-2.5, "-2.5E0", "-2.5"),
        (1e300, "1.0E300", "1e+300"),
        (5e-324, "4.940656458412465E-324", "5e-324"),
        (1.5e-7, "1.5E-7", "1.5e-7"),
        (
            2.2250738585072014e-308,
            "2.225073858507201E-308",
            "2.2250738585072014e-308",
        ),
        (
            9007199254740993.0,
            "9.007199254740992E15",
            "9007199254740992",
        ),
        (0.1, "1.0E-1", "0.1"),
        (100.0, "1.0E2", "100"),
        (1e-6, "1.0E-6", "0.000001"),
        (123e-20, "1.23E-18", "1.23e-18"),
        (0.000001234, "1.234E-6", "0.000001234"),
        (
            1.7976931348623157e308,
            "1.797693134862316E308",
            "1.7976931348623157e+308",
        ),
        (
            33.333333333333336,
            "3.333333333333334E1",
            "33.333333333333336",
        ),
        (-0.0, "0.0E0", "0"),
    ] {
        assert_eq!(double(value), as_double, "{value:e} as a double");
        assert_eq!(es_number(value), as_string, "{value:e} as a string");
    }
}

#[test]
fn json_literals_are_in_canonical_form() {
    let value = json!({
        "b": [1.5, 1e21, 1.5e-7, "é\u{1}\n", 10.0],
        "a": null,
        "\u{20ac}": 1,
        "\u{1f600}": 2,
        "\u{fb01}": 3,
        "z": true,
    });
    let mut out = String::new();
    jcs(&value, &mut out);
    // U+FB01 sorts after U+1F600 in UTF-16 (0xD83D…), before it in UTF-8.
    assert_eq!(
        out,
        "{\"a\":null,\"b\":[1.5,1e+21,1.5e-7,\"é\\u0001\\n\",10],\"z\":true,\"€\":1,\"😀\":2,\"ﬁ\":3}"
    );
}

fn credential(extra_context: Value, subject: Value) -> Value {
    json!({
        "@context": [CREDENTIALS_V2, OPEN_BADGES_V3_0_3, extra_context],
        "id": "urn:uuid:0190e0a4-7a0b-7cc2-9b3e-000000000001",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": "did:web:accredit.example",
        "credentialSubject": subject,
    })
}

fn refused(extra_context: Value, subject: Value) -> Error {
    canonicalize(&credential(extra_context, subject)).unwrap_err()
}

#[test]
fn features_whose_data_would_not_be_signed_are_refused_by_name() {
    let ex = |term: Value| json!({ "ex": "https://example.org/ns#", "term": term });
    assert_eq!(
        refused(ex(json!({ "@id": "ex:t", "@nest": "@nest" })), json!({})),
        Error::Unsupported("@nest (in the term `term`)".into())
    );
    assert_eq!(
        refused(
            json!({ "nested": "@nest" }),
            json!({ "nested": { "name": "A" } })
        ),
        Error::Unsupported("@nest".into())
    );
    assert_eq!(
        refused(ex(json!({ "@reverse": "ex:knows" })), json!({})),
        Error::Unsupported("@reverse (in the term `term`)".into())
    );
    assert_eq!(
        refused(
            json!({}),
            json!({ "@reverse": { "https://example.org/ns#knows": "did:ex:1" } })
        ),
        Error::Unsupported("@reverse".into())
    );
    assert_eq!(
        refused(ex(json!({ "@id": "ex:t", "@direction": "rtl" })), json!({})),
        Error::Unsupported("@direction (in the term `term`)".into())
    );
    assert_eq!(
        refused(
            ex(json!({ "@id": "ex:t", "@container": "@index" })),
            json!({ "term": { "first": "A" } })
        ),
        Error::Unsupported("the index map `term`: its keys would not be signed".into())
    );
    assert_eq!(
        refused(
            json!({}),
            json!({ "@index": "first", "id": "did:ex:1", "name": "A" })
        ),
        Error::Unsupported("`@index`: an index is not signed".into())
    );
    assert_eq!(
        refused(json!({ "@vocab": null }), json!({})),
        Error::Unsupported(
            "\"@vocab\": null, which would let undefined terms drop out unsigned".into()
        )
    );
    assert_eq!(
        refused(json!({ "@base": "https://example.org/" }), json!({})),
        Error::Unsupported("@base: identifiers must be absolute IRIs".into())
    );
    assert_eq!(
        refused(json!({ "b": "_:property" }), json!({ "b": "value" })),
        Error::Unsupported("the property `b`, a blank node, which RDF cannot carry".into())
    );
    assert_eq!(
        refused(
            ex(json!({ "@id": "ex:t", "@type": "http://www.w3.org/2001/XMLSchema#double" })),
            json!({ "term": "2.50" })
        ),
        Error::Unsupported(
            "the string \"2.50\" typed as xsd:double (write it as a JSON number)".into()
        )
    );
    assert_eq!(
        refused(ex(json!("ex:t")), json!({ "term": 1e-7 })),
        Error::Unsupported("the number 1e-7: JSON-LD processors disagree on its RDF form".into())
    );
}

#[test]
fn undefined_terms_and_relative_or_invalid_iris_are_named() {
    assert_eq!(
        refused(json!({}), json!({ "@unknown": "x" })),
        Error::UndefinedTerm("@unknown".into())
    );
    assert_eq!(
        refused(json!({ "term": null }), json!({ "term": "x" })),
        Error::UndefinedTerm("term".into())
    );
    assert_eq!(
        refused(json!({}), json!({ "id": "https://exa mple.org/x" })),
        Error::RelativeIri("https://exa mple.org/x".into())
    );
    assert_eq!(
        refused(
            json!({ "ex": "https://example.org/ns#", "ex:a b": { "@type": "@id" } }),
            json!({})
        ),
        Error::UndefinedTerm("ex:a b".into())
    );
    assert_eq!(
        refused(json!({}), json!({ "id": "#fragment" })),
        Error::RelativeIri("#fragment".into())
    );
    assert_eq!(
        refused(
            json!({ "t": { "@id": "https://example.org/t", "@type": "Undefined" } }),
            json!({})
        ),
        Error::UndefinedTerm("Undefined".into())
    );
    assert_eq!(
        refused(
            json!({}),
            json!({ "name": { "@value": "A", "@type": "Undefined" }, "id": "did:ex:1" })
        ),
        Error::UndefinedTerm("Undefined".into())
    );
    // proofPurpose is typed @vocab: its value must be a term of the proof's context.
    let mut proof_config = json!({
        "@context": [CREDENTIALS_V2],
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2024-05-01T09:30:00Z",
        "verificationMethod": "did:web:accredit.example#key-1",
        "proofPurpose": "assertionMethod",
    });
    assert!(canonicalize(&proof_config).is_ok());
    proof_config["proofPurpose"] = "approval".into();
    assert_eq!(
        canonicalize(&proof_config),
        Err(Error::UndefinedTerm("approval".into()))
    );
}

#[test]
fn what_json_ld_would_drop_or_reject_is_an_error_naming_it() {
    let only_id = json!({ "@context": [CREDENTIALS_V2], "id": "urn:x" });
    assert_eq!(
        canonicalize(&only_id),
        Err(Error::JsonLd(
            "the node `urn:x`, which has only an id, outside any property would be dropped by JSON-LD, so it would not be signed".into()
        ))
    );
    let loose = json!({ "@context": [CREDENTIALS_V2], "@graph": ["loose"] });
    assert_eq!(
        canonicalize(&loose),
        Err(Error::JsonLd(
            "the value \"loose\" outside any property would be dropped by JSON-LD, so it would not be signed".into()
        ))
    );
    assert_eq!(
        refused(json!({ "name": "https://example.org/name" }), json!({})),
        Error::JsonLd("the protected term `name` cannot be redefined".into())
    );
    assert_eq!(
        refused(
            json!({}),
            json!({ "name": { "@value": "A", "@language": "en_GB" } })
        ),
        Error::JsonLd("`en_GB` is not a well-formed language tag".into())
    );
    assert_eq!(
        refused(json!({}), json!({ "id": "did:ex:1", "@id": "did:ex:2" })),
        Error::JsonLd("@id appears twice (`id` is an alias of it)".into())
    );
}

/// The bundled contexts are processed once per process: the same chain gives the same
/// shared context, and so do the scoped contexts applied on top of it.
#[test]
fn processed_bundled_contexts_are_shared() {
    let chain = json!([CREDENTIALS_V2, OPEN_BADGES_V3_0_3]);
    let first = process(&initial(), Local::Document(&chain), true, false).unwrap();
    let second = process(&initial(), Local::Document(&chain), true, false).unwrap();
    assert!(Arc::ptr_eq(&first, &second));
    let scoped = first
        .term("VerifiableCredential")
        .unwrap()
        .context
        .clone()
        .unwrap();
    let typed = process(&first, scoped.local(), false, false).unwrap();
    let again = process(&second, scoped.local(), false, false).unwrap();
    assert!(Arc::ptr_eq(&typed, &again));
    assert!(Arc::ptr_eq(typed.previous.as_ref().unwrap(), &first));
    assert!(typed.term("credentialSubject").is_some());

    // A document's own context is not shared: it could say anything.
    let own = json!([CREDENTIALS_V2, { "@language": "en" }]);
    let mine = process(&initial(), Local::Document(&own), true, false).unwrap();
    let yours = process(&initial(), Local::Document(&own), true, false).unwrap();
    assert!(!Arc::ptr_eq(&mine, &yours));
    assert_eq!(mine.language.as_deref(), Some("en"));
}
