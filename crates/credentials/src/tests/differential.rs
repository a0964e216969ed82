//! The crate's canonical forms against two other JSON-LD processors:
//!
//! - jsonld.js (safe mode), the reference implementation: its expected outputs are in
//!   `testdata/jsonld-js/` (see its README) and must match byte for byte;
//! - oxjsonld, run here as an oracle on every document where its known gaps (no safe mode,
//!   only the last of several type-scoped contexts) do not apply, including a few hundred
//!   generated variants of the credential Accredit issues.

use std::path::Path;

use oxjsonld::{JsonLdParser, JsonLdRemoteDocument};
use oxrdf::Dataset;
use oxrdf::dataset::{CanonicalizationAlgorithm, CanonicalizationHashAlgorithm};
use serde_json::{Value, json};

use super::{fixture_json, fixture_text, open_badge::open_badge};
use crate::{
    CREDENTIALS_V2, Error, OPEN_BADGES_V3_0_2, OPEN_BADGES_V3_0_3, canonicalize, contexts,
};

fn testdata() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/jsonld-js"))
}

fn document(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// oxjsonld's canonical N-Quads for `document`, with the same bundled contexts.
fn oxjsonld(document: &Value) -> String {
    try_oxjsonld(document).unwrap_or_else(|e| panic!("oxjsonld: {e}"))
}

fn try_oxjsonld(document: &Value) -> Result<String, String> {
    let bytes = serde_json::to_vec(document).unwrap();
    let parser = JsonLdParser::new()
        .for_slice(&bytes)
        .with_load_document_callback(|url, _| match contexts::text(url) {
            Ok(text) => Ok(JsonLdRemoteDocument {
                document: text.as_bytes().to_vec(),
                document_url: url.to_owned(),
            }),
            Err(error) => Err(Box::new(error)),
        });
    let mut dataset = Dataset::new();
    for quad in parser {
        dataset.insert(&quad.map_err(|e| e.to_string())?);
    }
    dataset.canonicalize(CanonicalizationAlgorithm::Rdfc10 {
        hash_algorithm: CanonicalizationHashAlgorithm::Sha256,
    });
    let mut lines: Vec<String> = dataset.iter().map(|quad| format!("{quad} .\n")).collect();
    lines.sort_unstable();
    Ok(lines.concat())
}

/// The jsonld.js cases where oxjsonld gives another result, and why; the crate agrees with
/// jsonld.js on all of them.
const OXJSONLD_DIFFERS: &[(&str, &str)] = &[
    ("cit-embedded-context", SCOPED_TYPES),
    ("four-types", SCOPED_TYPES),
    ("top-three-types", SCOPED_TYPES),
    ("two-subjects", SCOPED_TYPES),
    ("types-with-iri", SCOPED_TYPES),
    (
        "extension-terms",
        "doubles keep all their digits (3.0000000000000004E-1 for 3.0E-1), and JSON literal \
         keys sort by UTF-8 where RFC 8785 sorts by UTF-16",
    ),
    (
        "edge-compact-prefix-rules",
        "a term with an expanded definition serves as a prefix, which JSON-LD 1.1 allows only \
         with \"@prefix\": true",
    ),
];

const SCOPED_TYPES: &str =
    "a node with several types with scoped contexts gets only the last one's terms";

#[test]
fn canonical_forms_match_jsonld_js_and_oxjsonld() {
    let mut compared = Vec::new();
    for entry in std::fs::read_dir(testdata()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let expected = std::fs::read_to_string(path.with_extension("nq")).unwrap();
        let document = document(&path);
        let actual = canonicalize(&document).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(actual, expected, "{name}: differs from jsonld.js");
        let oxjsonld = oxjsonld(&document);
        match OXJSONLD_DIFFERS
            .iter()
            .find(|(differs, _)| *differs == name)
        {
            Some((_, why)) => assert_ne!(oxjsonld, expected, "{name}: oxjsonld no longer {why}"),
            None => assert_eq!(oxjsonld, expected, "{name}: differs from oxjsonld"),
        }
        compared.push(name);
    }
    compared.sort();
    assert_eq!(compared.len(), 27, "{compared:?}");
}

#[test]
fn documents_jsonld_js_refuses_are_refused_naming_the_same_term() {
    for (name, term) in [
        // Person's terms do not reach a node nested in a Person + EmployablePerson node…
        ("cit-no-propagation", "givenName"),
        // …nor do EmployablePerson's (the type whose scoped context oxjsonld alone would keep).
        ("nested-last-type-term", "residentSince"),
        ("scoped-plus-undefined-type", "UnknownType"),
        // statusMessage belongs to BitstringStatusListEntry, not to BitstringStatusList.
        ("status-list-credential", "statusMessage"),
        // The credentialSchema type of 1EdTech's examples is in no OB 3.0 context.
        ("ob303-schema", "1EdTechJsonSchemaValidator2019"),
    ] {
        let path = testdata().join("rejected").join(format!("{name}.json"));
        assert_eq!(
            canonicalize(&document(&path)),
            Err(Error::UndefinedTerm(term.into())),
            "{name}"
        );
    }
}

/// The W3C vectors: the published canonical form (made with jsonld.js), and oxjsonld's for
/// the vector without two scoped types.
#[test]
fn the_w3c_vectors_match_their_canonical_form_and_oxjsonld() {
    let Some(alumni) = fixture_json("unsigned.json") else {
        return;
    };
    let expected = fixture_text("eddsa-rdfc-2022/canonDocDataInt.txt").unwrap();
    assert_eq!(canonicalize(&alumni).unwrap(), expected);
    assert_eq!(oxjsonld(&alumni), expected);
    let config = fixture_json("eddsa-rdfc-2022/proofConfigDataInt.json").unwrap();
    let expected = fixture_text("eddsa-rdfc-2022/proofCanonDataInt.txt").unwrap();
    assert_eq!(canonicalize(&config).unwrap(), expected);
    assert_eq!(oxjsonld(&config), expected);

    let employment = fixture_json("employmentAuth.json").unwrap();
    let expected = fixture_text("eddsa-rdfc-2022/employ/canonDocDataInt.txt").unwrap();
    assert_eq!(canonicalize(&employment).unwrap(), expected);
    assert_ne!(oxjsonld(&employment), expected, "oxjsonld is now right");
}

#[test]
fn the_crates_own_test_documents_match_oxjsonld() {
    for ob in [OPEN_BADGES_V3_0_3, OPEN_BADGES_V3_0_2] {
        let credential = open_badge(ob);
        assert_eq!(canonicalize(&credential).unwrap(), oxjsonld(&credential));
        let presentation = json!({
            "@context": [CREDENTIALS_V2],
            "type": "VerifiablePresentation",
            "holder": "did:example:partner-42",
            "verifiableCredential": [credential],
        });
        assert_eq!(
            canonicalize(&presentation).unwrap(),
            oxjsonld(&presentation)
        );
    }
}

/// A small deterministic generator (xorshift), so that failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// One value, or the same in a one-element array: JSON-LD must not tell them apart.
    fn one_or_array(&mut self, value: Value) -> Value {
        if self.chance(50) {
            json!([value])
        } else {
            value
        }
    }
}

const TEXTS: &[&str] = &[
    "Certified Technical Specialist",
    "Zertifizierte Fachkraft für Medizinprodukte",
    "Line one\nLine two\ttabbed",
    "\"Quoted\" and back\\slashed",
    "Emoji 🎓 and accents é ü ñ",
    "Control \u{1}\u{8}\u{c}\r and \u{7f} characters",
    "",
    "日本語の資格",
];

const NUMBERS: &[&str] = &[
    "0", "7", "-3", "2.5", "12.75", "1e21", "100000", "0.125", "3.0",
];

/// Terms an embedded context adds to the issued credential's contexts.
fn extension_context() -> Value {
    json!({
        "ex": "https://example.org/ns#",
        "shoeSize": { "@id": "ex:shoeSize", "@type": "http://www.w3.org/2001/XMLSchema#integer" },
        "titles": { "@id": "ex:titles", "@container": "@language" },
        "steps": { "@id": "ex:steps", "@container": "@list" },
        "meta": { "@id": "ex:meta", "@type": "@json" },
        "byId": { "@id": "ex:byId", "@container": "@id" },
        "byType": { "@id": "ex:byType", "@container": "@type" },
        "attachment": { "@id": "ex:attachment", "@container": "@graph" },
        "related": { "@id": "ex:related", "@type": "@id" },
        "level": { "@id": "ex:level", "@type": "@vocab" },
        "Gold": "ex:Gold",
        "Badge": "ex:Badge",
    })
}

/// The credential of the verification benchmark, varied field by field.
fn variant(rng: &mut Rng, n: usize) -> Value {
    let base = "https://accredit.example";
    let extended = rng.chance(40);
    let mut context = vec![json!(CREDENTIALS_V2), json!(OPEN_BADGES_V3_0_3)];
    if extended {
        context.push(extension_context());
    }
    let status: Vec<Value> = ["revocation", "suspension"]
        .iter()
        .take(1 + rng.below(2))
        .map(|purpose| {
            json!({
                "id": format!("{base}/status/{purpose}#{n}"),
                "type": "BitstringStatusListEntry",
                "statusPurpose": purpose,
                "statusListIndex": n.to_string(),
                "statusListCredential": format!("{base}/status/{purpose}"),
            })
        })
        .collect();
    let mut achievement = json!({
        "id": format!("{base}/programs/p{}/tracks/t{}", rng.below(5), rng.below(3)),
        "type": rng.one_or_array(json!("Achievement")),
        "name": rng.pick(TEXTS),
        "criteria": { "narrative": rng.pick(TEXTS) },
    });
    if rng.chance(60) {
        achievement["description"] = rng.pick(TEXTS).into();
    }
    if rng.chance(40) {
        achievement["image"] = json!({
            "id": format!("{base}/credentials/{n}/badge.svg"),
            "type": "Image",
            "caption": rng.pick(TEXTS),
        });
    }
    if rng.chance(30) {
        achievement["tag"] = json!(["exam", rng.pick(TEXTS)]);
    }
    if rng.chance(30) {
        achievement["creditsAvailable"] =
            serde_json::from_str(rng.pick(NUMBERS)).expect("a JSON number");
    }
    if rng.chance(25) {
        achievement["resultDescription"] = json!([{
            "id": format!("urn:uuid:rd-{n}"),
            "type": "ResultDescription",
            "name": "Grade",
            "resultType": "LetterGrade",
            "allowedValue": ["A", "B", rng.pick(TEXTS)],
        }]);
    }
    if rng.chance(25) {
        let alignment = json!({
            "type": "Alignment",
            "targetName": rng.pick(TEXTS),
            "targetUrl": "https://example.org/skill",
        });
        achievement["alignment"] = rng.one_or_array(alignment);
    }
    let identity = json!({
        "type": "IdentityObject",
        "identityType": "emailAddress",
        "hashed": rng.chance(50),
        "identityHash": format!("sha256${n:064x}"),
        "salt": "5f1b2c3d4e5f6a7b",
    });
    let mut subject = json!({
        "type": rng.one_or_array(json!("AchievementSubject")),
        "identifier": rng.one_or_array(identity),
        "achievement": achievement,
    });
    if rng.chance(50) {
        subject["id"] = format!("did:example:partner-{n}").into();
    } else if rng.chance(30) {
        subject["id"] = format!("_:subject{n}").into();
    }
    if rng.chance(20) {
        subject["creditsEarned"] = serde_json::from_str(rng.pick(NUMBERS)).unwrap();
    }
    if rng.chance(20) {
        subject["@context"] = json!({ "@language": rng.pick(&["en", "de-DE", "fr"]) });
    }
    let issuer_id = "did:web:accredit.example";
    let issuer = if rng.chance(20) {
        json!(issuer_id)
    } else {
        json!({
            "id": issuer_id,
            "type": rng.one_or_array(json!("Profile")),
            "name": rng.pick(TEXTS),
            "url": base,
        })
    };
    let mut credential = json!({
        "@context": context,
        "id": format!("{base}/credentials/0190e0a4-7a0b-7cc2-9b3e-{n:012}"),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer,
        "name": rng.pick(TEXTS),
        "validFrom": "2026-11-26T00:00:00Z",
        "credentialSubject": subject,
        "credentialStatus": if status.len() == 1 && rng.chance(50) { status[0].clone() } else { json!(status) },
    });
    if rng.chance(50) {
        credential["validUntil"] = "2027-11-25T23:59:59Z".into();
    }
    if rng.chance(20) {
        credential["name"] = json!([
            { "@value": rng.pick(TEXTS), "@language": rng.pick(&["en", "EN-gb", "de"]) },
            { "@value": "2026-11-26", "@type": "http://www.w3.org/2001/XMLSchema#date" },
        ]);
    }
    if extended {
        extend(rng, &mut credential, n);
    }
    if rng.chance(15) {
        credential = json!({
            "@context": [CREDENTIALS_V2],
            "type": "VerifiablePresentation",
            "holder": format!("did:example:holder-{n}"),
            "verifiableCredential": rng.one_or_array(credential),
        });
    }
    credential
}

/// Uses the terms of `extension_context` on the credential and its subject.
fn extend(rng: &mut Rng, credential: &mut Value, n: usize) {
    let subject = &mut credential["credentialSubject"];
    if rng.chance(50) {
        subject["shoeSize"] = json!(40 + rng.below(8));
    }
    if rng.chance(50) {
        subject["titles"] = json!({ "en": rng.pick(TEXTS), "de-DE": "Titel", "@none": "untagged" });
    }
    if rng.chance(50) {
        subject["steps"] = json!(["enrol", { "@value": 2 }, { "name": rng.pick(TEXTS) }]);
    }
    if rng.chance(50) {
        subject["meta"] =
            json!({ "z": [1, 2.5, "x", null], "a": { "nested": true }, "é": rng.pick(TEXTS) });
    }
    if rng.chance(40) {
        credential["byId"] = json!({
            format!("https://example.org/items/{n}"): { "name": rng.pick(TEXTS) },
            "https://example.org/items/other": [{ "name": "Other" }],
        });
    }
    if rng.chance(40) {
        credential["byType"] = json!({ "Badge": { "name": rng.pick(TEXTS) }, "ex:Other": {} });
    }
    if rng.chance(40) {
        credential["attachment"] = json!({ "id": format!("urn:uuid:att-{n}"), "name": "Attached" });
    }
    if rng.chance(40) {
        credential["related"] = rng.one_or_array(json!(format!("ex:item{n}")));
    }
    if rng.chance(40) {
        credential["level"] = rng
            .pick(&["Gold", "ex:Silver", "https://example.org/Bronze"])
            .into();
    }
    if rng.chance(30) {
        credential["ex:note"] = rng.pick(TEXTS).into();
    }
}

#[test]
fn generated_credential_variants_match_oxjsonld() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for n in 0..300 {
        let credential = variant(&mut rng, n);
        let ours = canonicalize(&credential)
            .unwrap_or_else(|e| panic!("variant {n} refused: {e}\n{credential:#}"));
        assert_eq!(ours, oxjsonld(&credential), "variant {n}:\n{credential:#}");
    }
}
