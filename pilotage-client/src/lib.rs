//! # pilotage-client
//!
//! Typed async Rust client for the pilotage open-data API.
