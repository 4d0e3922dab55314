//! End-to-end tests: the whole platform on port 0 (the test kit's `TestApp`), driven over
//! HTTP through the router; and the router's executor against the kit's test subgraphs.
//! One test binary (modules under `e2e/`) keeps link time down.

mod e2e {
    mod apart;
    mod auth;
    mod content;
    mod demo;
    mod deploy;
    mod events;
    mod executor;
    mod gateway;
    mod graphiql;
    mod interactions;
    mod media;
    mod migrations;
    mod observability;
    mod profile;
    mod router;
    mod schema;
    mod search;
    mod security;
    mod shop;
    mod smoke;
    mod social;
    mod testkit;
    mod tls;
    mod traces;
    mod transport;
}
