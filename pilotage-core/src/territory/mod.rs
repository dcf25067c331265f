//! The official territory referential (INSEE Code officiel géographique).
//!
//! Régions, départements, current communes and EPCI à fiscalité propre, as republished by the
//! `@etalab/decoupage-administratif` package and committed as CSV under `pilotage-core/data/reference/`
//! (see `docs/territory.md` for the vintage and how to rebuild). The CSVs are embedded in the
//! crate and parsed once, lazily, by [`Referential::official`].
//!
//! The 18 régions and 101 départements of France (metropolitan and overseas) are first-class:
//! [`Referential::regions`] and [`Referential::departements`] return exactly them. Overseas
//! collectivities (Saint-Pierre-et-Miquelon, Polynésie française, …), which the COG lists at
//! département and région level with their own codes, are kept and flagged ([`Zone::Com`]) and
//! reachable through [`Referential::all_regions`] and [`Referential::all_departements`].
//!
//! Codes are strings everywhere (`"01"`, `"2A"`, `"974"`, `"01001"`): leading zeros matter and
//! Corsica's départements are not numbers. [`validate_commune_code`] and its siblings check the
//! shape of a code without the referential; the `require_*` lookups of [`Referential`] tell a
//! malformed code from a well-formed but unknown one.
//!
//! ```
//! use pilotage_core::territory::Referential;
//! let fr = Referential::official();
//! let ajaccio = fr.commune("2A004").unwrap();
//! assert_eq!(ajaccio.departement, "2A");
//! assert_eq!(fr.region_of(ajaccio).unwrap().name, "Corse");
//! assert_eq!(fr.departements().len(), 101);
//! ```

mod code;
mod error;
mod parse;
mod referential;

pub use code::{
    validate_commune_code, validate_departement_code, validate_epci_code, validate_region_code,
};
pub use error::TerritoryError;
pub use referential::{Commune, Departement, Epci, Referential, ReferentialCsv, Region};

use crate::code_enum;

code_enum! {
    /// Level of a territory in published tables (the `territory_level` dimension).
    ///
    /// France ⊃ région ⊃ département ⊃ commune nest; EPCI group communes and may cross
    /// département (and even région) borders, so they form a separate, non-nested breakdown.
    pub enum TerritoryLevel: "territory_level" {
        /// The whole country (metropolitan France and the overseas départements).
        France = "FR", "France";
        /// A région (18, of which 5 overseas).
        Region = "REG", "Région";
        /// A département (101, of which 5 overseas).
        Departement = "DEP", "Département";
        /// A current commune.
        Commune = "COM", "Commune";
        /// An établissement public de coopération intercommunale à fiscalité propre.
        Epci = "EPCI", "EPCI";
    }
}

code_enum! {
    /// Where a région, département or commune lies, as the COG classifies it.
    pub enum Zone: "zone" {
        /// Metropolitan France (including Corsica).
        Metro = "metro", "France métropolitaine";
        /// Overseas départements and régions (Guadeloupe, Martinique, Guyane, La Réunion, Mayotte).
        Drom = "drom", "Départements et régions d'outre-mer";
        /// Overseas collectivities: not départements, listed with their own codes (975, 977, …).
        Com = "com", "Collectivités d'outre-mer";
    }
}

code_enum! {
    /// Legal kind of an EPCI à fiscalité propre (DGCL list).
    pub enum EpciKind: "type" {
        /// Communauté de communes.
        Cc = "CC", "Communauté de communes";
        /// Communauté d'agglomération.
        Ca = "CA", "Communauté d'agglomération";
        /// Communauté urbaine.
        Cu = "CU", "Communauté urbaine";
        /// Métropole.
        Metro = "METRO", "Métropole";
        /// Métropole de Lyon (a collectivity with special status).
        Met69 = "MET69", "Métropole de Lyon";
    }
}

code_enum! {
    /// Fiscal regime of an EPCI (DGCL list).
    pub enum FiscalRegime: "mode_financement" {
        /// Fiscalité professionnelle unique: the EPCI levies the business taxes instead of its communes.
        Fpu = "FPU", "Fiscalité professionnelle unique";
        /// Fiscalité additionnelle: the EPCI adds its rates to those of its communes.
        Fa = "FA", "Fiscalité additionnelle";
    }
}
