#![doc = include_str!("../README.md")]

mod client;
mod download;
mod error;
mod resources;

#[cfg(feature = "arrow")]
pub mod arrow;

pub use client::{API_KEY_HEADER, Answer, Client, ClientBuilder, DEFAULT_TIMEOUT, RetryPolicy};
pub use download::{Progress, partial_name, sha256_file};
pub use error::{Error, Result, cause_chain};
pub use resources::{DataQuery, Datasets, Format, Releases, Row};

/// The JSON bodies of the API, the release manifest, the encodings and the header names,
/// shared with the server (the `pilotage-wire` crate).
pub use pilotage_wire as wire;

/// The manifest of a release.
pub use pilotage_wire::Manifest;

/// Response header naming the release an answer was read from.
pub use pilotage_wire::RELEASE_HEADER;
