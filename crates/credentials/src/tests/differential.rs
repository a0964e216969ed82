//! The crate's canonical forms against jsonld.js (safe mode), the reference implementation:
//! see `testdata/jsonld-js/README.md`. These run without `shared/`: the data is in the crate.

use std::path::Path;

use serde_json::Value;

use crate::{Error, canonicalize};

fn testdata() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/jsonld-js"))
}

fn document(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn canonical_forms_match_jsonld_js() {
    let mut compared = 0;
    for entry in std::fs::read_dir(testdata()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let expected = std::fs::read_to_string(path.with_extension("nq")).unwrap();
            let actual = canonicalize(&document(&path))
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(actual, expected, "{}", path.display());
            compared += 1;
        }
    }
    assert_eq!(compared, 10);
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
