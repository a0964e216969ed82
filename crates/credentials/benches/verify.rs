//! Verifications and signatures per second on one core, for a typical Open Badges 3.0
//! credential as Accredit issues it (two status entries, hashed identity, criteria).
//!
//! cargo bench -p accredit-credentials --bench verify -- [--seconds N]

use accredit_credentials::{
    CREDENTIALS_V2, Keypair, OPEN_BADGES_V3_0_3, did_web, did_web_document, key_from_did_document,
    sign, verify,
};
use serde_json::json;
use std::time::{Duration, Instant};

fn credential(n: usize) -> serde_json::Value {
    let base = "https://accredit.example";
    let status: Vec<serde_json::Value> = ["revocation", "suspension"]
        .iter()
        .map(|p| {
            json!({
                "id": format!("{base}/status/{p}#{n}"), "type": "BitstringStatusListEntry",
                "statusPurpose": p, "statusListIndex": n.to_string(),
                "statusListCredential": format!("{base}/status/{p}"),
            })
        })
        .collect();
    json!({
        "@context": [CREDENTIALS_V2, OPEN_BADGES_V3_0_3],
        "id": format!("{base}/credentials/0190e0a4-7a0b-7cc2-9b3e-{n:012}"),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": { "id": did_web("accredit.example"), "type": ["Profile"], "name": "Meridian Cloud", "url": base },
        "name": "Certified Technical Specialist",
        "validFrom": "2026-11-26T00:00:00Z",
        "validUntil": "2027-11-25T23:59:59Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{
                "type": "IdentityObject", "identityType": "emailAddress", "hashed": true,
                "identityHash": "sha256$c7ef86405ba71b85acd8e2e95166c4b111448089f2e1599f42fe1bba46e865c5",
                "salt": "5f1b2c3d4e5f6a7b",
            }],
            "achievement": {
                "id": format!("{base}/programs/medical-software-distributor/tracks/technical"),
                "type": ["Achievement"],
                "name": "Certified Technical Specialist",
                "description": "Medical Software Distributor Program: Certified Technical Specialist",
                "criteria": { "narrative": "Every requirement of the track: complete the module IQ/OQ/PQ validation; and pass the exam Technical written assessment." },
                "image": { "id": format!("{base}/credentials/{n}/badge.svg"), "type": "Image" },
            },
        },
        "credentialStatus": status,
    })
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1e6
}

fn report(name: &str, mut samples: Vec<Duration>, total: Duration) {
    samples.sort();
    println!(
        "| {name} | {} | {:.0} | {:.0} | {:.0} | {:.0} |",
        samples.len(),
        samples.len() as f64 / total.as_secs_f64(),
        percentile(&samples, 0.5),
        percentile(&samples, 0.95),
        percentile(&samples, 0.99),
    );
}

fn main() {
    let mut seconds = 5.0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--seconds" {
            seconds = args
                .next()
                .and_then(|v| v.parse().ok())
                .expect("--seconds N");
        }
    }
    let key = Keypair::from_seed([7; 32]);
    let did = did_web("accredit.example");
    let did_doc = did_web_document(
        "accredit.example",
        &[("key-1".into(), key.public_key_multibase())],
    );
    let method = format!("{did}#key-1");
    let budget = Duration::from_secs_f64(seconds);
    println!("one thread; {seconds} s per row");
    println!("| operation | count | per second | p50 µs | p95 µs | p99 µs |");
    println!("|---|---|---|---|---|---|");

    let mut signed = Vec::new();
    let mut samples = Vec::new();
    let started = Instant::now();
    while started.elapsed() < budget {
        let doc = credential(samples.len());
        let t = Instant::now();
        let s = sign(&doc, &key, &method, "2026-11-26T09:00:00Z").expect("sign");
        samples.push(t.elapsed());
        signed.push(s);
    }
    report("sign (issue)", samples, started.elapsed());

    let resolve = |m: &str| key_from_did_document(&did_doc, m);
    let mut samples = Vec::new();
    let started = Instant::now();
    let mut i = 0;
    while started.elapsed() < budget {
        let doc = &signed[i % signed.len()];
        let t = Instant::now();
        verify(doc, &resolve).expect("verify");
        samples.push(t.elapsed());
        i += 1;
    }
    report("verify", samples, started.elapsed());
}
