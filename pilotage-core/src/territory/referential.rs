//! The referential itself: régions, départements, communes, EPCI and lookups between them.

use std::sync::OnceLock;

use super::code::{
    validate_commune_code, validate_departement_code, validate_epci_code, validate_region_code,
};
use super::{EpciKind, FiscalRegime, TerritoryError, TerritoryLevel, Zone};

/// A région, or an overseas collectivity that the COG lists at région level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// INSEE code (`"84"` Auvergne-Rhône-Alpes; `"987"` for a collectivity).
    pub code: String,
    /// Official name (`"Auvergne-Rhône-Alpes"`).
    pub name: String,
    /// INSEE code of the commune that is its chef-lieu.
    pub chef_lieu: String,
    /// Metropolitan, overseas département-région, or overseas collectivity.
    pub zone: Zone,
    /// Inhabitants: sum of the population municipale of its current communes.
    pub population: u64,
}

impl Region {
    /// True for overseas collectivities, which are not one of the 18 régions.
    pub fn is_collectivity(&self) -> bool {
        self.zone == Zone::Com
    }
}

/// A département, or an overseas collectivity that the COG lists at département level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Departement {
    /// INSEE code (`"01"`, `"2A"`, `"974"`; `"987"` for a collectivity).
    pub code: String,
    /// Official name (`"Ain"`).
    pub name: String,
    /// Code of its région (for a collectivity, the collectivity's own code).
    pub region: String,
    /// INSEE code of the commune that is its chef-lieu (préfecture).
    pub chef_lieu: String,
    /// Metropolitan, overseas département, or overseas collectivity.
    pub zone: Zone,
    /// Inhabitants: sum of the population municipale of its current communes.
    pub population: u64,
}

impl Departement {
    /// True for overseas collectivities, which are not one of the 101 départements.
    pub fn is_collectivity(&self) -> bool {
        self.zone == Zone::Com
    }
}

/// A current commune ("commune actuelle" of the COG).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commune {
    /// INSEE code, five characters (`"01001"`, `"2A004"`, `"97411"`); not the postal code.
    pub code: String,
    /// Official name (`"L'Abergement-Clémenciat"`).
    pub name: String,
    /// Code of its département (a prefix of [`Commune::code`]).
    pub departement: String,
    /// Code of its région.
    pub region: String,
    /// SIREN of its EPCI à fiscalité propre; `None` for the few communes outside any
    /// (some islands, overseas collectivities).
    pub epci: Option<String>,
    /// Population municipale (INSEE legal population, persons); `None` where the source has
    /// none (uninhabited southern territories, Clipperton).
    pub population: Option<u32>,
    /// Zone of its département.
    pub zone: Zone,
}

impl Commune {
    /// True for communes of overseas collectivities (outside the 101 départements).
    pub fn is_collectivity(&self) -> bool {
        self.zone == Zone::Com
    }
}

/// An établissement public de coopération intercommunale à fiscalité propre.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Epci {
    /// SIREN, nine digits (`"200046977"` Métropole de Lyon).
    pub code: String,
    /// Name as the DGCL list spells it (`"CA de Cergy-Pontoise"`).
    pub name: String,
    /// Legal kind (CC, CA, CU, METRO, MET69).
    pub kind: EpciKind,
    /// Fiscal regime (FPU or FA).
    pub fiscal_regime: FiscalRegime,
    /// Population municipale as the DGCL list states it (persons). It comes from an earlier
    /// census vintage than the communes' and does not equal the sum of the members: sum
    /// [`Commune::population`] over [`Referential::communes_of_epci`] for consistent figures.
    pub population_municipale: Option<u32>,
    /// Population totale (municipale + persons counted elsewhere) as the DGCL list states it.
    pub population_totale: Option<u32>,
}

/// The four CSV texts a [`Referential`] is built from, in the format written by
/// `datasets/reference/build.sh` (UTF-8, comma, header line, codes as strings).
#[derive(Debug, Clone, Copy)]
pub struct ReferentialCsv<'a> {
    /// `regions.csv`: code,nom,chef_lieu,zone,collectivite_outre_mer
    pub regions: &'a str,
    /// `departements.csv`: code,nom,region,chef_lieu,zone,collectivite_outre_mer
    pub departements: &'a str,
    /// `communes.csv`: code,nom,departement,region,epci,population
    pub communes: &'a str,
    /// `epci.csv`: code,nom,type,mode_financement,population_municipale,population_totale
    pub epci: &'a str,
}

impl ReferentialCsv<'static> {
    /// The committed files of `data/reference/` (in this crate), embedded in the crate at build time.
    pub const OFFICIAL: Self = Self {
        regions: include_str!("../../data/reference/regions.csv"),
        departements: include_str!("../../data/reference/departements.csv"),
        communes: include_str!("../../data/reference/communes.csv"),
        epci: include_str!("../../data/reference/epci.csv"),
    };
}

/// Régions, départements, current communes and EPCI, with lookups by code and between levels.
///
/// Every slice is sorted by code in byte order (so `"2A"` comes after `"29"`), which makes
/// outputs deterministic and lookups binary searches. Construction checks that every parent
/// code exists, so lookups from a child to its parent always succeed.
#[derive(Debug, Clone)]
pub struct Referential {
    /// The 18 régions, then the collectivities listed at région level.
    pub(super) regions: Vec<Region>,
    /// How many of `regions` are real régions (the leading part).
    pub(super) real_regions: usize,
    /// The 101 départements, then the collectivities listed at département level.
    pub(super) departements: Vec<Departement>,
    /// How many of `departements` are real départements (the leading part).
    pub(super) real_departements: usize,
    pub(super) communes: Vec<Commune>,
    pub(super) epcis: Vec<Epci>,
    /// Members of `epcis[i]` are `communes[epci_members[epci_offsets[i]..epci_offsets[i + 1]]]`.
    pub(super) epci_offsets: Vec<u32>,
    pub(super) epci_members: Vec<u32>,
}

static OFFICIAL: OnceLock<Result<Referential, TerritoryError>> = OnceLock::new();

/// Binary search in one sorted part of a partitioned slice.
fn find_in<'a, T>(items: &'a [T], code: &str, key: impl Fn(&T) -> &str) -> Option<&'a T> {
    items
        .binary_search_by(|item| key(item).cmp(code))
        .ok()
        .map(|i| &items[i])
}

impl Referential {
    /// The official referential of the committed `data/reference/` files (COG of the
    /// vintage stated in `docs/territory.md`), parsed on first use (a few milliseconds) and
    /// shared for the life of the process.
    ///
    /// # Panics
    /// If the committed files are invalid, which the crate's tests rule out; use
    /// [`Referential::try_official`] to get the error instead.
    pub fn official() -> &'static Referential {
        match Self::try_official() {
            Ok(referential) => referential,
            Err(error) => panic!("the committed territory referential is invalid: {error}"),
        }
    }

    /// Like [`Referential::official`], returning the parsing error instead of panicking.
    pub fn try_official() -> Result<&'static Referential, TerritoryError> {
        OFFICIAL
            .get_or_init(|| Self::from_csv(&ReferentialCsv::OFFICIAL))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The 18 régions (13 metropolitan, 5 overseas), sorted by code.
    pub fn regions(&self) -> &[Region] {
        &self.regions[..self.real_regions]
    }

    /// The régions followed by the overseas collectivities listed at région level.
    pub fn all_regions(&self) -> &[Region] {
        &self.regions
    }

    /// The 101 départements (96 metropolitan, 5 overseas), sorted by code.
    pub fn departements(&self) -> &[Departement] {
        &self.departements[..self.real_departements]
    }

    /// The départements followed by the overseas collectivities listed at département level.
    pub fn all_departements(&self) -> &[Departement] {
        &self.departements
    }

    /// Every current commune, overseas collectivities' included, sorted by code.
    pub fn communes(&self) -> &[Commune] {
        &self.communes
    }

    /// Every EPCI à fiscalité propre, sorted by SIREN.
    pub fn epcis(&self) -> &[Epci] {
        &self.epcis
    }

    /// The région (or collectivity) with this exact code.
    pub fn region(&self, code: &str) -> Option<&Region> {
        let (real, com) = self.regions.split_at(self.real_regions);
        find_in(real, code, |r| &r.code).or_else(|| find_in(com, code, |r| &r.code))
    }

    /// The département (or collectivity) with this exact code.
    pub fn departement(&self, code: &str) -> Option<&Departement> {
        let (real, com) = self.departements.split_at(self.real_departements);
        find_in(real, code, |d| &d.code).or_else(|| find_in(com, code, |d| &d.code))
    }

    /// The current commune with this exact INSEE code.
    pub fn commune(&self, code: &str) -> Option<&Commune> {
        find_in(&self.communes, code, |c| &c.code)
    }

    /// The EPCI with this SIREN.
    pub fn epci(&self, code: &str) -> Option<&Epci> {
        find_in(&self.epcis, code, |e| &e.code)
    }

    /// The région with this code, or why there is none: [`TerritoryError::Malformed`] if the
    /// code cannot be a région code, [`TerritoryError::Unknown`] otherwise.
    pub fn require_region(&self, code: &str) -> Result<&Region, TerritoryError> {
        validate_region_code(code)?;
        self.region(code)
            .ok_or_else(|| unknown(TerritoryLevel::Region, code))
    }

    /// The département with this code, or why there is none (malformed vs unknown).
    pub fn require_departement(&self, code: &str) -> Result<&Departement, TerritoryError> {
        validate_departement_code(code)?;
        self.departement(code)
            .ok_or_else(|| unknown(TerritoryLevel::Departement, code))
    }

    /// The commune with this code, or why there is none (malformed vs unknown).
    pub fn require_commune(&self, code: &str) -> Result<&Commune, TerritoryError> {
        validate_commune_code(code)?;
        self.commune(code)
            .ok_or_else(|| unknown(TerritoryLevel::Commune, code))
    }

    /// The EPCI with this SIREN, or why there is none (malformed vs unknown).
    pub fn require_epci(&self, code: &str) -> Result<&Epci, TerritoryError> {
        validate_epci_code(code)?;
        self.epci(code)
            .ok_or_else(|| unknown(TerritoryLevel::Epci, code))
    }

    /// The département of a commune (always present for communes of this referential).
    pub fn departement_of(&self, commune: &Commune) -> Option<&Departement> {
        self.departement(&commune.departement)
    }

    /// The région of a commune (always present for communes of this referential).
    pub fn region_of(&self, commune: &Commune) -> Option<&Region> {
        self.region(&commune.region)
    }

    /// The EPCI of a commune, if it belongs to one.
    pub fn epci_of(&self, commune: &Commune) -> Option<&Epci> {
        commune.epci.as_deref().and_then(|code| self.epci(code))
    }

    /// The départements (and collectivities) of a région, sorted by code; empty if unknown.
    pub fn departements_of_region<'a>(
        &'a self,
        region: &'a str,
    ) -> impl Iterator<Item = &'a Departement> + 'a {
        self.departements.iter().filter(move |d| d.region == region)
    }

    /// The communes of a département, sorted by code (a sub-slice: no allocation); empty if
    /// the code is unknown.
    pub fn communes_of_departement(&self, departement: &str) -> &[Commune] {
        if self.departement(departement).is_none() {
            return &[];
        }
        // A commune's code starts with its département's code (checked at construction),
        // and no département code is a prefix of another one.
        let start = self
            .communes
            .partition_point(|c| c.code.as_str() < departement);
        let len = self.communes[start..]
            .iter()
            .take_while(|c| c.departement == departement)
            .count();
        &self.communes[start..start + len]
    }

    /// The member communes of an EPCI, sorted by code; empty if the SIREN is unknown.
    pub fn communes_of_epci(&self, epci: &str) -> impl ExactSizeIterator<Item = &Commune> + '_ {
        let members = match self.epcis.binary_search_by(|e| e.code.as_str().cmp(epci)) {
            Ok(i) => {
                let start = self.epci_offsets[i] as usize;
                let end = self.epci_offsets[i + 1] as usize;
                &self.epci_members[start..end]
            }
            Err(_) => &[],
        };
        members.iter().map(|&i| &self.communes[i as usize])
    }
}

fn unknown(level: TerritoryLevel, code: &str) -> TerritoryError {
    TerritoryError::Unknown {
        level,
        value: code.to_owned(),
    }
}
