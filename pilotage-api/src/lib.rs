//! # pilotage-api
//!
//! The `pilotage` command line and service.
//!
//! - [`storage`]: the private store of pseudonymized sources (diesel: SQLite or PostgreSQL).
//! - [`ingest`]: validating source extracts and loading them into the store in one transaction.
//! - [`publish`]: from the store to a protected, independently checked, atomically written
//!   release whose disclosure certificate stays in the store.
//! - [`keys`]: professional API keys (roles, perimeters, hashed tokens).
//! - [`private`]: the professional tables (per structure and month, unprotected), kept apart.
//! - [`reports`]: the structure, Département-RSA and territorial reports.
//! - [`server`]: the open-data HTTP API (`pilotage serve`).
//! - [`pages`]: the open dashboards served beside the API (French HTML, DSFR).

pub mod cli;
pub mod ingest;
pub mod keys;
pub mod pages;
pub mod private;
pub mod publish;
pub mod reports;
pub mod server;
pub mod storage;
