mod differential;
mod jsonld;
mod jwt;
mod open_badge;
mod rejections;
mod status_and_did;
mod vectors;

use std::path::Path;

use serde_json::Value;

use crate::{Keypair, VerifyingKey};

fn fixtures() -> Option<&'static Path> {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/vc-di-eddsa"
    ));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: ../shared/fixtures not found");
        None
    }
}

fn fixture_text(name: &str) -> Option<String> {
    let path = fixtures()?.join(name);
    Some(std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn fixture_json(name: &str) -> Option<Value> {
    fixture_text(name).map(|text| serde_json::from_str(&text).expect("a JSON fixture"))
}

/// A key made for tests, not the W3C one (so these tests run without the fixtures).
fn test_key(n: u8) -> Keypair {
    Keypair::from_seed([n; 32])
}

/// A resolver that knows exactly one verification method.
fn only(vm: &str, key: VerifyingKey) -> impl Fn(&str) -> Option<VerifyingKey> {
    let vm = vm.to_owned();
    move |asked: &str| (asked == vm).then_some(key)
}
