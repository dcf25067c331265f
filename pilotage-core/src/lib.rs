//! # pilotage-core
//!
//! The reusable heart of pilotage: everything needed to turn pseudonymized administrative
//! extracts of France's inclusion-in-employment programmes into anonymized indicators,
//! with no HTTP and no database. A researcher with access to real data can run the same
//! computations with this crate alone.
//!
//! Module map:
//! - [`domain`]: closed enumerations of the programme (structure kinds, application states,
//!   prescriber kinds, …) with their real codes and French labels, parsed strictly.
//! - [`territory`]: the official territory referential (régions, départements, communes,
//!   EPCI) and lookups between levels.
//! - [`source`]: the canonical source tables as Arrow schemas, documented column by column.
//! - [`fluxiae`]: the ASP's fluxIAE delivery format (`|`-separated views with `DEB`/`FIN`
//!   lines), read into and written from the canonical source tables.
//! - [`synth`]: the seeded generator of national-scale synthetic sources.
//! - [`dataset`]: the published datasets' definitions (`data/datasets/*.toml`, compiled in): dimensions with their
//!   hierarchies, measures, crossings and methodology, loaded and validated.
//! - [`calendar`]: day arithmetic on Arrow `Date32` values (days since 1970-01-01), the one
//!   calendar of the crate.
//! - [`cube`]: the generic cube engine: every margin of every hierarchy, distinct counts that are
//!   not sums, magnitudes with their disclosure companions, conversion to Arrow.
//! - [`indicator`]: the computation of each dataset's cube from the source tables' Arrow batches.
//! - [`disclosure`]: statistical disclosure control of a release: the primary rules give the
//!   confidential values and their claims, and witness points (record moves, directions, small
//!   programs, closures) prove each claim; the certificate they make is checked by the
//!   separate `pilotage-checker` crate.
//! - [`release`]: the layout and manifest of published releases.
//! - [`wire`]: the JSON bodies of the open-data API, shared by the server and the client (the
//!   `pilotage-wire` crate, re-exported).

pub mod calendar;
pub mod certificate;
pub mod cube;
pub mod dataset;
pub mod disclosure;
pub mod domain;
pub mod fluxiae;
pub mod indicator;
pub mod release;
pub mod source;
pub mod synth;
pub mod territory;

/// The JSON bodies, manifest, encodings and header names of the API: the `pilotage-wire` crate,
/// re-exported so that code written against `pilotage_core::wire` keeps building.
pub use pilotage_wire as wire;
