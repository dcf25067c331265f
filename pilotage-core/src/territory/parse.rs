//! Building a [`Referential`] from its four CSV files, checking every row and every link.

use super::code::{
    validate_commune_code, validate_departement_code, validate_epci_code, validate_region_code,
};
use super::referential::{Commune, Departement, Epci, Referential, ReferentialCsv, Region};
use super::{TerritoryError, Zone};
use crate::domain::Code;

const REGION_COLUMNS: &[&str] = &["code", "nom", "chef_lieu", "zone", "collectivite_outre_mer"];
const DEPARTEMENT_COLUMNS: &[&str] = &[
    "code",
    "nom",
    "region",
    "chef_lieu",
    "zone",
    "collectivite_outre_mer",
];
const COMMUNE_COLUMNS: &[&str] = &["code", "nom", "departement", "region", "epci", "population"];
const EPCI_COLUMNS: &[&str] = &[
    "code",
    "nom",
    "type",
    "mode_financement",
    "population_municipale",
    "population_totale",
];

/// One CSV file being read record by record, with the current record kept for error messages.
struct Table<'a> {
    name: &'static str,
    columns: &'static [&'static str],
    reader: csv::Reader<&'a [u8]>,
    record: csv::StringRecord,
}

impl<'a> Table<'a> {
    fn open(
        name: &'static str,
        text: &'a str,
        columns: &'static [&'static str],
    ) -> Result<Self, TerritoryError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(text.as_bytes());
        let header = reader.headers().map_err(|e| csv_error(name, &e))?;
        if header.iter().ne(columns.iter().copied()) {
            return Err(TerritoryError::Csv {
                table: name,
                reason: format!(
                    "expected the header {:?}, found {:?}",
                    columns.join(","),
                    header.iter().collect::<Vec<_>>().join(",")
                ),
            });
        }
        Ok(Self {
            name,
            columns,
            reader,
            record: csv::StringRecord::new(),
        })
    }

    /// Reads the next record; false at the end of the file.
    fn advance(&mut self) -> Result<bool, TerritoryError> {
        self.reader
            .read_record(&mut self.record)
            .map_err(|e| csv_error(self.name, &e))
    }

    /// The value of column `index` of the current record (the reader enforces the width).
    fn get(&self, index: usize) -> &str {
        self.record.get(index).unwrap_or_default()
    }

    fn error(&self, index: usize, reason: impl Into<String>) -> TerritoryError {
        TerritoryError::Data {
            table: self.name,
            line: self.record.position().map_or(0, csv::Position::line),
            column: self.columns.get(index).copied().unwrap_or("?"),
            value: self.get(index).to_owned(),
            reason: reason.into(),
        }
    }

    /// A required, non-empty text.
    fn text(&self, index: usize) -> Result<String, TerritoryError> {
        match self.get(index) {
            "" => Err(self.error(index, "must not be empty")),
            value => Ok(value.to_owned()),
        }
    }

    /// A code checked by one of the `validate_*` functions.
    fn code(
        &self,
        index: usize,
        validate: fn(&str) -> Result<(), TerritoryError>,
    ) -> Result<String, TerritoryError> {
        let value = self.get(index);
        validate(value).map_err(|e| self.error(index, e.to_string()))?;
        Ok(value.to_owned())
    }

    /// A member of a closed enumeration.
    fn member<T: Code>(&self, index: usize) -> Result<T, TerritoryError> {
        T::from_code(self.get(index)).map_err(|e| self.error(index, e.to_string()))
    }

    /// An optional count of persons: empty or a non-negative integer.
    fn count(&self, index: usize) -> Result<Option<u32>, TerritoryError> {
        match self.get(index) {
            "" => Ok(None),
            value => value
                .parse::<u32>()
                .map(Some)
                .map_err(|_| self.error(index, "expected a non-negative integer or nothing")),
        }
    }

    /// The zone and the collectivity flag, which must agree.
    fn zone(&self, zone: usize, flag: usize) -> Result<Zone, TerritoryError> {
        let parsed: Zone = self.member(zone)?;
        let collectivity = match self.get(flag) {
            "true" => true,
            "false" => false,
            _ => return Err(self.error(flag, "expected true or false")),
        };
        if collectivity != (parsed == Zone::Com) {
            return Err(self.error(flag, "disagrees with the zone column"));
        }
        Ok(parsed)
    }
}

fn csv_error(table: &'static str, error: &csv::Error) -> TerritoryError {
    TerritoryError::Csv {
        table,
        reason: error.to_string(),
    }
}

fn read_regions(text: &str) -> Result<Vec<Region>, TerritoryError> {
    let mut t = Table::open("regions.csv", text, REGION_COLUMNS)?;
    let mut out = Vec::with_capacity(32);
    while t.advance()? {
        out.push(Region {
            code: t.code(0, validate_region_code)?,
            name: t.text(1)?,
            chef_lieu: t.code(2, validate_commune_code)?,
            zone: t.zone(3, 4)?,
            population: 0,
        });
    }
    Ok(out)
}

fn read_departements(text: &str, regions: &[Region]) -> Result<Vec<Departement>, TerritoryError> {
    let mut t = Table::open("departements.csv", text, DEPARTEMENT_COLUMNS)?;
    let mut out = Vec::with_capacity(128);
    while t.advance()? {
        let region = t.code(2, validate_region_code)?;
        if position(regions, &region, |r| &r.code).is_none() {
            return Err(t.error(2, "no such région in regions.csv"));
        }
        out.push(Departement {
            code: t.code(0, validate_departement_code)?,
            name: t.text(1)?,
            region,
            chef_lieu: t.code(3, validate_commune_code)?,
            zone: t.zone(4, 5)?,
            population: 0,
        });
    }
    Ok(out)
}

fn read_epcis(text: &str) -> Result<Vec<Epci>, TerritoryError> {
    let mut t = Table::open("epci.csv", text, EPCI_COLUMNS)?;
    let mut out = Vec::with_capacity(1_300);
    while t.advance()? {
        out.push(Epci {
            code: t.code(0, validate_epci_code)?,
            name: t.text(1)?,
            kind: t.member(2)?,
            fiscal_regime: t.member(3)?,
            population_municipale: t.count(4)?,
            population_totale: t.count(5)?,
        });
    }
    Ok(out)
}

/// A commune's position among the départements and EPCI, found once while reading.
struct Parents {
    departement: usize,
    epci: Option<usize>,
}

/// Reads communes, checking their links; returns where each commune's parents are too.
fn read_communes(
    text: &str,
    departements: &[Departement],
    epcis: &[Epci],
) -> Result<(Vec<Commune>, Vec<Parents>), TerritoryError> {
    let mut t = Table::open("communes.csv", text, COMMUNE_COLUMNS)?;
    let mut out = Vec::with_capacity(35_000);
    let mut parents = Vec::with_capacity(35_000);
    while t.advance()? {
        let code = t.code(0, validate_commune_code)?;
        let dep_index = position(departements, t.get(2), |d| &d.code)
            .ok_or_else(|| t.error(2, "no such département in departements.csv"))?;
        let dep = &departements[dep_index];
        if !code.starts_with(dep.code.as_str()) {
            return Err(t.error(
                0,
                format!("does not start with its département {}", dep.code),
            ));
        }
        if t.get(3) != dep.region {
            return Err(t.error(
                3,
                format!("département {} is in région {}", dep.code, dep.region),
            ));
        }
        let epci_index = match t.get(4) {
            "" => None,
            siren => Some(
                position(epcis, siren, |e| &e.code)
                    .ok_or_else(|| t.error(4, "no such EPCI in epci.csv"))?,
            ),
        };
        out.push(Commune {
            code,
            name: t.text(1)?,
            departement: dep.code.clone(),
            region: dep.region.clone(),
            epci: epci_index.map(|e| epcis[e].code.clone()),
            population: t.count(5)?,
            zone: dep.zone,
        });
        parents.push(Parents {
            departement: dep_index,
            epci: epci_index,
        });
    }
    Ok((out, parents))
}

/// Index of `code` in a slice sorted by code.
fn position<T>(items: &[T], code: &str, key: impl Fn(&T) -> &str) -> Option<usize> {
    items.binary_search_by(|item| key(item).cmp(code)).ok()
}

/// Checks that a slice is strictly increasing by code (sorted, no duplicates).
fn check_sorted<T>(
    table: &'static str,
    items: &[T],
    key: impl Fn(&T) -> &str,
) -> Result<(), TerritoryError> {
    match items.windows(2).find(|w| key(&w[0]) >= key(&w[1])) {
        None => Ok(()),
        Some(w) => Err(TerritoryError::Csv {
            table,
            reason: format!(
                "rows must be sorted by code without duplicates: {:?} is followed by {:?}",
                key(&w[0]),
                key(&w[1])
            ),
        }),
    }
}

impl Referential {
    /// Builds a referential from the four CSV texts, checking headers, every code's shape, the
    /// closed values (zone, EPCI kind and regime), and every link: a département's région, a
    /// commune's département, région and EPCI must exist and agree. Rows must be sorted by code
    /// (byte order) without duplicates, as `build.sh` writes them.
    ///
    /// ```
    /// use pilotage_core::territory::{Referential, ReferentialCsv};
    /// let r = Referential::from_csv(&ReferentialCsv::OFFICIAL).unwrap();
    /// assert_eq!(r.regions().len(), 18);
    /// ```
    pub fn from_csv(sources: &ReferentialCsv<'_>) -> Result<Self, TerritoryError> {
        let mut regions = read_regions(sources.regions)?;
        check_sorted("regions.csv", &regions, |r| &r.code)?;
        let mut departements = read_departements(sources.departements, &regions)?;
        check_sorted("departements.csv", &departements, |d| &d.code)?;
        let epcis = read_epcis(sources.epci)?;
        check_sorted("epci.csv", &epcis, |e| &e.code)?;
        let (communes, parents) = read_communes(sources.communes, &departements, &epcis)?;
        check_sorted("communes.csv", &communes, |c| &c.code)?;

        // Populations of départements and régions, summed from their communes.
        for (commune, parent) in communes.iter().zip(&parents) {
            departements[parent.departement].population +=
                u64::from(commune.population.unwrap_or(0));
        }
        for dep in &departements {
            if let Some(i) = position(&regions, &dep.region, |r| &r.code) {
                regions[i].population += dep.population;
            }
        }

        // EPCI membership as offsets into one index vector (communes stay in code order).
        let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(communes.len());
        for (i, parent) in parents.iter().enumerate() {
            if let Some(e) = parent.epci {
                pairs.push((to_u32(e)?, to_u32(i)?));
            }
        }
        pairs.sort_unstable();
        let mut epci_offsets = vec![0u32; epcis.len() + 1];
        for &(e, _) in &pairs {
            epci_offsets[e as usize + 1] += 1;
        }
        for i in 1..epci_offsets.len() {
            epci_offsets[i] += epci_offsets[i - 1];
        }
        let epci_members = pairs.into_iter().map(|(_, c)| c).collect();

        // Real régions and départements first, collectivities after (stable: codes stay sorted).
        regions.sort_by_key(Region::is_collectivity);
        departements.sort_by_key(Departement::is_collectivity);
        let real_regions = regions.iter().filter(|r| !r.is_collectivity()).count();
        let real_departements = departements.iter().filter(|d| !d.is_collectivity()).count();

        Ok(Self {
            regions,
            real_regions,
            departements,
            real_departements,
            communes,
            epcis,
            epci_offsets,
            epci_members,
        })
    }
}

fn to_u32(index: usize) -> Result<u32, TerritoryError> {
    u32::try_from(index).map_err(|_| TerritoryError::Csv {
        table: "communes.csv",
        reason: "more rows than a referential can index".to_owned(),
    })
}
