//! Parsers and writers that are pure functions of bytes: no I/O, no clock. Every rejection names
//! where in the input it happened.

pub mod document;
pub mod markdown;
pub mod people_csv;
pub mod program;
pub mod transcript;
