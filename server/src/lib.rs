//! The `concord` server: HTTP API, authentication, workers and the command line.
//!
//! **Invariant:** this is the only crate that knows actix-web. It wires the libraries
//! together and holds no business rules of its own beyond who may call what.

pub mod app;
pub mod audit_cli;
pub mod auth;
pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod files;
pub mod intake;
pub mod intake_targets;
pub mod live;
pub mod metrics;
pub mod reconcile_cli;
pub mod report_cli;
pub mod reports;
pub mod rotate_key;
pub mod routes;
pub mod secret_box;
pub mod state;
pub mod sync;
pub mod telemetry;
pub mod transfer;
pub mod translate;
pub mod webhook_cli;
pub mod worker;
