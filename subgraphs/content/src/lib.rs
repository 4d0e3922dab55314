//! The content subgraph: stories, their lists, views, search, feed and CSV import.
//!
//! Being built (issue 4). So far: `domain/`, the validated inputs that the API and the CSV
//! importer will share. The schema, store and service wiring follow the users subgraph's
//! shape (`schema/`, `domain/`, `store/`, `lib.rs` with `init` and `app`).

pub mod domain;
