//! # pilotage-api
//!
//! The `pilotage` command line and service.

pub mod cli;
