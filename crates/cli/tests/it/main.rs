//! Integration tests: the real router, use cases and database, on SQLite and on PostgreSQL.

mod support;

mod access;
mod accounts;
mod audit;
mod browser;
mod cli;
mod content;
mod credentials;
mod directory;
mod exams;
mod journeys;
mod lifecycle;
mod ops;
mod people_csv;
mod practicals;
mod programs;
mod recertification;
mod reports;
mod scripted_year;
mod sessions;
mod sinks;
