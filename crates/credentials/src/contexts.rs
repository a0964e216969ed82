//! The JSON-LD contexts compiled into the crate. See `contexts/README.md` for where each came from.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

use crate::Error;

pub const CREDENTIALS_V2: &str = "https://www.w3.org/ns/credentials/v2";
pub const OPEN_BADGES_V3_0_3: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";
pub const OPEN_BADGES_V3_0_2: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json";

const BUNDLED: &[(&str, &str)] = &[
    (
        CREDENTIALS_V2,
        include_str!("../contexts/credentials-v2.jsonld"),
    ),
    (
        OPEN_BADGES_V3_0_3,
        include_str!("../contexts/ob-context-3.0.3.json"),
    ),
    (
        OPEN_BADGES_V3_0_2,
        include_str!("../contexts/ob-context-3.0.2.json"),
    ),
    // The W3C test vectors need these two; production credentials must not use them.
    #[cfg(test)]
    (
        "https://www.w3.org/ns/credentials/examples/v2",
        include_str!("../contexts/credentials-examples-v2.jsonld"),
    ),
    #[cfg(test)]
    (
        "https://w3id.org/citizenship/v4rc1",
        include_str!("../contexts/citizenship-v4rc1.jsonld"),
    ),
];

/// The context document's text, or the error every unknown URL gets (for the oxjsonld oracle).
#[cfg(test)]
pub fn text(url: &str) -> Result<&'static str, Error> {
    BUNDLED
        .iter()
        .find(|(u, _)| *u == url)
        .map(|(_, text)| *text)
        .ok_or_else(|| Error::UnknownContext(url.to_owned()))
}

/// The `@context` value of a bundled document, parsed once.
pub fn context_value(url: &str) -> Result<&'static Value, Error> {
    static PARSED: OnceLock<HashMap<&'static str, Value>> = OnceLock::new();
    let parsed = PARSED.get_or_init(|| {
        BUNDLED
            .iter()
            .map(|(url, text)| {
                let doc: Value = serde_json::from_str(text).expect("bundled contexts are JSON");
                (*url, doc["@context"].clone())
            })
            .collect()
    });
    parsed
        .get(url)
        .ok_or_else(|| Error::UnknownContext(url.to_owned()))
}
