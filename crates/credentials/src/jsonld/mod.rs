//! JSON-LD 1.1 expansion and conversion to RDF, restricted to the bundled contexts and made
//! strict: see the module docs of `canon` for why, and of each part for how.

mod context;
mod expand;
mod rdf;

use oxrdf::Dataset;
use serde_json::Value;

use crate::Error;

/// The RDF dataset a JSON-LD document stands for, or an error naming whatever in it would
/// not be part of that dataset.
pub(crate) fn to_dataset(document: &Value) -> Result<Dataset, Error> {
    let items = expand::expand_document(document)?;
    rdf::to_dataset(&items)
}

#[cfg(test)]
pub(crate) use context::{Local, initial, process};
#[cfg(test)]
pub(crate) use rdf::{double, es_number, jcs};
