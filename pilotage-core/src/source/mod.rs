//! The canonical source tables, as Arrow schemas.
//!
//! pilotage reads thirteen tables that mirror what the administration already extracts: six from
//! the job-application platform "Les emplois de l'inclusion" (structures, prescriber
//! organisations, candidats, candidatures, PASS IAE with their suspensions and prolongations,
//! fiches de poste) and the rest from the ASP's "fluxIAE" extraction (annexes financières,
//! salariés, contrats, monthly declarations and the exit-motive referential).
//!
//! Every column is described once, in a [`ColumnSpec`]: its type, unit, nullability, allowed
//! values and meaning, plus the name of the column it comes from upstream. Everything else is
//! derived from these specs: the Arrow schemas ([`SourceTable::schema`]), the documentation
//! (`docs/sources.md`, from [`render_markdown`]), the synthetic generator's output and the
//! ingestion checks.
//!
//! Conventions: codes are always `Utf8` (never numbers: `"01"` is a département, not `1`), dates
//! are `Date32`, money is `Float64` euros, hours and ETP are `Float64`, flags are `Boolean`.
//! Persons appear only as `hash_nir` (see DOMAIN.md §3).
//!
//! ```
//! use pilotage_core::source::SourceTable;
//! let table = SourceTable::Candidatures;
//! assert_eq!(table.name(), "candidatures");
//! let schema = table.schema();
//! assert!(schema.field_with_name("state").is_ok());
//! assert_eq!(table.primary_key(), &["id"]);
//! ```

mod codes;
mod markdown;
mod spec;
mod tables;

pub use codes::{CodeList, StructureSource};
pub use markdown::render_markdown;
pub use spec::{
    Allowed, ColumnSpec, DataType, ForeignKey, SourceSystem, TerritoryLevel, TextFormat, Unit,
};

use std::sync::{Arc, OnceLock};

use arrow_schema::{Field, Metadata, Schema, SchemaRef};

/// Field-metadata key holding a column's English description.
pub const META_DESCRIPTION: &str = "description";
/// Field-metadata key holding a column's French description.
pub const META_DESCRIPTION_FR: &str = "description_fr";
/// Field-metadata key holding a column's unit (`"heures"`, `"ETP"`, `"jours"`, `"euros"`).
pub const META_UNIT: &str = "unit";
/// Field-metadata key holding a column's allowed values, as rendered in the documentation.
pub const META_ALLOWED: &str = "allowed";
/// Field-metadata key holding the upstream column a column comes from.
pub const META_SOURCE_COLUMN: &str = "source_column";
/// Schema-metadata key holding the table name.
pub const META_TABLE: &str = "table";
/// Schema-metadata key holding the primary key columns, comma separated.
pub const META_PRIMARY_KEY: &str = "primary_key";

/// One of the canonical source tables.
///
/// The table name ([`SourceTable::name`]) is also the file stem of its extract:
/// `candidatures.parquet` or `candidatures.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceTable {
    /// Employer structures (SIAE, GEIQ, EA, …), from the job-application platform.
    Structures,
    /// Prescriber organisations, from the job-application platform.
    Organisations,
    /// Job seekers known to the platform, one per `hash_nir`.
    Candidats,
    /// Job applications sent to structures.
    Candidatures,
    /// PASS IAE (approvals) issued at hiring in an SIAE.
    PassIae,
    /// Suspensions of PASS IAE.
    PassIaeSuspensions,
    /// Prolongations of PASS IAE.
    PassIaeProlongations,
    /// Job descriptions published by structures.
    FichesDePoste,
    /// Annexes financières (yearly funding of a structure's insertion posts), from the ASP.
    AnnexesFinancieres,
    /// Salariés en insertion known to the ASP.
    Salaries,
    /// Employment contracts declared to the ASP.
    Contrats,
    /// Monthly declarations (états mensuels individuels, EMI): hours worked.
    EtatsMensuels,
    /// The exit-motive referential and its categories.
    MotifsSortie,
}

impl SourceTable {
    /// Every table, in dependency order (a table only references tables listed before it, except
    /// for self-references).
    pub const ALL: &'static [SourceTable] = &[
        SourceTable::Structures,
        SourceTable::Organisations,
        SourceTable::Candidats,
        SourceTable::FichesDePoste,
        SourceTable::Candidatures,
        SourceTable::PassIae,
        SourceTable::PassIaeSuspensions,
        SourceTable::PassIaeProlongations,
        SourceTable::MotifsSortie,
        SourceTable::AnnexesFinancieres,
        SourceTable::Salaries,
        SourceTable::Contrats,
        SourceTable::EtatsMensuels,
    ];

    /// The snake_case table name, also the file stem of its extract (`candidatures.csv`).
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// Parses a table name as returned by [`SourceTable::name`] (exact match).
    pub fn from_name(name: &str) -> Option<SourceTable> {
        Self::ALL.iter().copied().find(|t| t.name() == name)
    }

    /// One-line description of what the table holds.
    pub fn description(self) -> &'static str {
        self.spec().description
    }

    /// The grain: what one row stands for (e.g. "one job application").
    pub fn grain(self) -> &'static str {
        self.spec().grain
    }

    /// The system the table is extracted from.
    pub fn system(self) -> SourceSystem {
        self.spec().system
    }

    /// The upstream table(s) this table mirrors (e.g. `fluxIAE_AnnexeFinanciere`).
    pub fn upstream(self) -> &'static str {
        self.spec().upstream
    }

    /// The primary key column(s): unique and non-null in every valid extract.
    pub fn primary_key(self) -> &'static [&'static str] {
        self.spec().primary_key
    }

    /// The references from this table's columns to other tables' columns, which ingestion
    /// checks (a null in a nullable referencing column is no reference).
    pub fn foreign_keys(self) -> &'static [ForeignKey] {
        self.spec().foreign_keys
    }

    /// The columns, in file order.
    pub fn columns(self) -> &'static [ColumnSpec] {
        self.spec().columns
    }

    /// The column named `name`, if the table has one.
    pub fn column(self, name: &str) -> Option<&'static ColumnSpec> {
        self.columns().iter().find(|c| c.name == name)
    }

    /// The Arrow schema of the table, built once from [`SourceTable::columns`] and cached.
    ///
    /// Each field carries its documentation in its metadata (keys [`META_DESCRIPTION`],
    /// [`META_DESCRIPTION_FR`], [`META_UNIT`], [`META_ALLOWED`], [`META_SOURCE_COLUMN`]), and
    /// the schema carries [`META_TABLE`] and [`META_PRIMARY_KEY`].
    pub fn schema(self) -> SchemaRef {
        static SCHEMAS: [OnceLock<SchemaRef>; SourceTable::ALL.len()] =
            [const { OnceLock::new() }; SourceTable::ALL.len()];
        SCHEMAS[self as usize]
            .get_or_init(|| Arc::new(self.build_schema()))
            .clone()
    }

    fn build_schema(self) -> Schema {
        let fields: Vec<Field> = self.columns().iter().map(ColumnSpec::to_field).collect();
        let metadata = Metadata::new()
            .with(META_TABLE, self.name())
            .with(META_DESCRIPTION, self.description())
            .with(META_PRIMARY_KEY, self.primary_key().join(","));
        Schema::new_with_metadata(fields, metadata)
    }

    fn spec(self) -> &'static tables::TableSpec {
        tables::spec(self)
    }
}

impl std::fmt::Display for SourceTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for SourceTable {
    type Err = UnknownTable;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SourceTable::from_name(s).ok_or_else(|| UnknownTable(s.to_owned()))
    }
}

/// A table name that is not one of the canonical source tables.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown source table {0:?} (expected one of: structures, organisations, candidats, candidatures, pass_iae, pass_iae_suspensions, pass_iae_prolongations, fiches_de_poste, annexes_financieres, salaries, contrats, etats_mensuels, motifs_sortie)"
)]
pub struct UnknownTable(pub String);
