//! The `folio` command: runs the platform (all services in one process, or one of
//! them), migrates databases, and administers accounts.

pub mod cli;
pub mod demo;
pub mod platform;
pub mod tail;
