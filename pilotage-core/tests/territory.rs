//! The official territory referential: counts, links between levels, real codes, errors.

// Tests fail loudly on purpose: unwrapping here is the assertion.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use pilotage_core::domain::Code;
use pilotage_core::territory::{
    EpciKind, Referential, ReferentialCsv, TerritoryError, TerritoryLevel, Zone,
    validate_commune_code, validate_departement_code, validate_epci_code, validate_region_code,
};

fn fr() -> &'static Referential {
    Referential::official()
}

#[test]
fn committed_files_parse() {
    assert!(Referential::try_official().is_ok());
    // Parsing again from the same text gives the same referential.
    let again = Referential::from_csv(&ReferentialCsv::OFFICIAL).unwrap();
    assert_eq!(again.communes(), fr().communes());
    assert_eq!(again.all_departements(), fr().all_departements());
}

#[test]
fn eighteen_regions_and_101_departements() {
    let regions: Vec<&str> = fr().regions().iter().map(|r| r.code.as_str()).collect();
    assert_eq!(
        regions,
        [
            "01", "02", "03", "04", "06", "11", "24", "27", "28", "32", "44", "52", "53", "75",
            "76", "84", "93", "94"
        ]
    );
    assert!(fr().regions().iter().all(|r| !r.is_collectivity()));

    let deps = fr().departements();
    assert_eq!(deps.len(), 101);
    assert!(deps.iter().all(|d| !d.is_collectivity()));
    let metro = deps.iter().filter(|d| d.zone == Zone::Metro).count();
    let drom: Vec<&str> = deps
        .iter()
        .filter(|d| d.zone == Zone::Drom)
        .map(|d| d.code.as_str())
        .collect();
    assert_eq!(metro, 96);
    assert_eq!(drom, ["971", "972", "973", "974", "976"]);
    for d in deps {
        assert!(
            !fr().region(&d.region).unwrap().is_collectivity(),
            "{}",
            d.code
        );
    }

    // Collectivities are kept, flagged, after the real ones.
    let com: BTreeSet<&str> = fr().all_departements()[101..]
        .iter()
        .map(|d| d.code.as_str())
        .collect();
    assert_eq!(
        com,
        BTreeSet::from(["975", "977", "978", "984", "986", "987", "988", "989"])
    );
    assert!(
        fr().all_departements()[101..]
            .iter()
            .all(|d| d.is_collectivity())
    );
    assert_eq!(fr().all_regions().len(), 26);
    assert!(fr().departement("987").unwrap().is_collectivity());
    assert!(fr().region("975").unwrap().is_collectivity());
}

#[test]
fn every_commune_resolves_to_a_departement_and_a_region() {
    let communes = fr().communes();
    assert!(communes.len() > 34_000, "{}", communes.len());
    assert!(communes.windows(2).all(|w| w[0].code < w[1].code));
    for c in communes {
        validate_commune_code(&c.code).unwrap();
        let dep = fr().departement_of(c).unwrap();
        let region = fr().region(&dep.region).unwrap();
        assert_eq!(region.code, c.region, "{}", c.code);
        assert_eq!(fr().region_of(c).unwrap().code, region.code);
        assert!(c.code.starts_with(&dep.code));
        assert_eq!(c.is_collectivity(), dep.is_collectivity());
        if let Some(epci) = &c.epci {
            assert!(fr().epci(epci).is_some(), "{} → {epci}", c.code);
        }
    }
    // Every real département has communes, and slicing covers each commune exactly once.
    let total: usize = fr()
        .all_departements()
        .iter()
        .map(|d| {
            let slice = fr().communes_of_departement(&d.code);
            assert!(slice.iter().all(|c| c.departement == d.code));
            if !d.is_collectivity() {
                assert!(!slice.is_empty(), "{}", d.code);
            }
            slice.len()
        })
        .sum();
    assert_eq!(total, communes.len());
}

#[test]
fn corsica() {
    let ajaccio = fr().commune("2A004").unwrap();
    assert_eq!(ajaccio.name, "Ajaccio");
    assert_eq!(ajaccio.departement, "2A");
    assert_eq!(ajaccio.region, "94");
    let dep = fr().departement_of(ajaccio).unwrap();
    assert_eq!(dep.name, "Corse-du-Sud");
    assert_eq!(fr().region(&dep.region).unwrap().name, "Corse");
    assert_eq!(fr().departement("2B").unwrap().name, "Haute-Corse");
    let corse: Vec<&str> = fr()
        .departements_of_region("94")
        .map(|d| d.code.as_str())
        .collect();
    assert_eq!(corse, ["2A", "2B"]);
    assert!(fr().departement("20").is_none());
    assert!(
        fr().communes_of_departement("2A")
            .iter()
            .any(|c| c.code == "2A004")
    );
}

#[test]
fn overseas() {
    let saint_denis = fr().commune("97411").unwrap();
    assert_eq!(saint_denis.name, "Saint-Denis");
    assert_eq!(saint_denis.departement, "974");
    assert_eq!(saint_denis.zone, Zone::Drom);
    assert_eq!(fr().departement("974").unwrap().region, "04");
    assert_eq!(fr().region("04").unwrap().name, "La Réunion");
    assert_eq!(fr().region("06").unwrap().name, "Mayotte");
    // A commune of a collectivity is available but flagged.
    let papeete = fr().commune("98735").unwrap();
    assert!(papeete.is_collectivity());
    assert!(fr().region_of(papeete).unwrap().is_collectivity());
}

#[test]
fn leading_zeros_are_kept() {
    let c = fr().commune("01001").unwrap();
    assert_eq!(c.name, "L'Abergement-Clémenciat");
    assert_eq!(c.departement, "01");
    assert_eq!(c.region, "84");
    assert_eq!(fr().departement("01").unwrap().name, "Ain");
    assert!(fr().commune("1001").is_none());
    assert!(fr().departement("1").is_none());
}

#[test]
fn population_is_plausible() {
    let real: u64 = fr()
        .communes()
        .iter()
        .filter(|c| !c.is_collectivity())
        .map(|c| u64::from(c.population.unwrap()))
        .sum();
    assert!((66_000_000..69_000_000).contains(&real), "{real}");
    let by_region: u64 = fr().regions().iter().map(|r| r.population).sum();
    let by_dep: u64 = fr().departements().iter().map(|d| d.population).sum();
    assert_eq!(by_region, real);
    assert_eq!(by_dep, real);
    let paris = fr().commune("75056").unwrap().population.unwrap();
    assert!((2_000_000..2_300_000).contains(&paris), "{paris}");
    // Only uninhabited territories lack a population.
    let missing: Vec<&str> = fr()
        .communes()
        .iter()
        .filter(|c| c.population.is_none())
        .map(|c| c.departement.as_str())
        .collect();
    assert!(
        missing.iter().all(|d| *d == "984" || *d == "989"),
        "{missing:?}"
    );
}

#[test]
fn epci_membership() {
    assert!(fr().epcis().len() > 1_200);
    let lyon = fr().epci("200046977").unwrap();
    assert_eq!(lyon.kind, EpciKind::Met69);
    assert!(
        fr().communes_of_epci("200046977")
            .any(|c| c.code == "69123")
    );

    // Cergy-Pontoise spans Val-d'Oise and Yvelines.
    let cergy: BTreeSet<&str> = fr()
        .communes_of_epci("249500109")
        .map(|c| c.departement.as_str())
        .collect();
    assert_eq!(cergy, BTreeSet::from(["78", "95"]));
    let crossing = fr()
        .epcis()
        .iter()
        .filter(|e| {
            let deps: BTreeSet<&str> = fr()
                .communes_of_epci(&e.code)
                .map(|c| c.departement.as_str())
                .collect();
            deps.len() > 1
        })
        .count();
    assert!(crossing > 50, "{crossing}");

    // Membership is a partition of the communes that have an EPCI.
    let members: usize = fr()
        .epcis()
        .iter()
        .map(|e| {
            let n = fr().communes_of_epci(&e.code).len();
            assert!(n > 0, "{}", e.code);
            assert!(
                fr().communes_of_epci(&e.code)
                    .all(|c| c.epci.as_deref() == Some(&e.code))
            );
            n
        })
        .sum();
    let with_epci = fr().communes().iter().filter(|c| c.epci.is_some()).count();
    assert_eq!(members, with_epci);
    assert_eq!(fr().communes_of_epci("000000000").len(), 0);
    let c = fr().commune("95127").unwrap(); // Cergy
    assert_eq!(fr().epci_of(c).unwrap().code, "249500109");
}

#[test]
fn malformed_and_unknown_codes_are_told_apart() {
    for bad in [
        "", "1", "1001", "010011", "2C004", "20004", "2a004", "0100A", "96001", "01 01",
    ] {
        match fr().require_commune(bad) {
            Err(TerritoryError::Malformed { level, value, .. }) => {
                assert_eq!(level, TerritoryLevel::Commune);
                assert_eq!(value, bad);
            }
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    for unknown in ["01999", "2A999", "97499"] {
        assert!(validate_commune_code(unknown).is_ok());
        assert_eq!(
            fr().require_commune(unknown),
            Err(TerritoryError::Unknown {
                level: TerritoryLevel::Commune,
                value: unknown.to_owned()
            })
        );
    }
    assert_eq!(fr().require_commune("2B033").unwrap().name, "Bastia");

    for bad in ["", "1", "20", "2C", "00", "9741", "97A", "123"] {
        assert!(
            matches!(
                validate_departement_code(bad),
                Err(TerritoryError::Malformed {
                    level: TerritoryLevel::Departement,
                    ..
                })
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        fr().require_departement("979"),
        Err(TerritoryError::Unknown { .. })
    ));
    assert_eq!(fr().require_departement("976").unwrap().name, "Mayotte");

    for bad in ["", "1", "8A", "00", "123", "1234"] {
        assert!(validate_region_code(bad).is_err(), "{bad:?}");
    }
    assert!(matches!(
        fr().require_region("05"),
        Err(TerritoryError::Unknown {
            level: TerritoryLevel::Region,
            ..
        })
    ));

    assert!(matches!(
        fr().require_epci("20004697"),
        Err(TerritoryError::Malformed {
            level: TerritoryLevel::Epci,
            ..
        })
    ));
    assert!(validate_epci_code("200046978").is_err());
    for e in fr().epcis() {
        validate_epci_code(&e.code).unwrap();
    }

    let message = fr().require_commune("20004").unwrap_err().to_string();
    assert!(
        message.contains("Commune") && message.contains("\"20004\""),
        "{message}"
    );
    let message = fr().require_departement("979").unwrap_err().to_string();
    assert!(
        message.contains("unknown") && message.contains("\"979\""),
        "{message}"
    );
}

#[test]
fn from_csv_reports_bad_rows() {
    let official = ReferentialCsv::OFFICIAL;

    let communes = official
        .communes
        .replacen(",84,200069193,860", ",84,200069193,lots", 1);
    let err = Referential::from_csv(&ReferentialCsv {
        communes: &communes,
        ..official
    })
    .unwrap_err();
    match err {
        TerritoryError::Data {
            table,
            line,
            column,
            value,
            ..
        } => {
            assert_eq!((table, line, column), ("communes.csv", 2, "population"));
            assert_eq!(value, "lots");
        }
        other => panic!("{other:?}"),
    }

    // A commune pointing at a département of another région.
    let communes = official.communes.replacen(
        "01001,L'Abergement-Clémenciat,01,84",
        "01001,L'Abergement-Clémenciat,01,11",
        1,
    );
    assert!(matches!(
        Referential::from_csv(&ReferentialCsv {
            communes: &communes,
            ..official
        }),
        Err(TerritoryError::Data {
            column: "region",
            ..
        })
    ));

    // The zone and the collectivity flag must agree.
    let deps = official
        .departements
        .replacen("metro,false", "metro,true", 1);
    assert!(matches!(
        Referential::from_csv(&ReferentialCsv {
            departements: &deps,
            ..official
        }),
        Err(TerritoryError::Data {
            column: "collectivite_outre_mer",
            ..
        })
    ));

    // Unknown EPCI kind, wrong header, ragged row, unsorted rows.
    let epci = official.epci.replacen(",CC,FPU,", ",XX,FPU,", 1);
    assert!(matches!(
        Referential::from_csv(&ReferentialCsv {
            epci: &epci,
            ..official
        }),
        Err(TerritoryError::Data { column: "type", .. })
    ));
    for regions in [
        official.regions.replacen("code,nom", "code,name", 1),
        format!("{}99,Nowhere\n", official.regions),
        format!("{}01,Guadeloupe bis,97105,drom,false\n", official.regions),
    ] {
        assert!(
            matches!(
                Referential::from_csv(&ReferentialCsv {
                    regions: &regions,
                    ..official
                }),
                Err(TerritoryError::Csv {
                    table: "regions.csv",
                    ..
                })
            ),
            "{regions}"
        );
    }
}

#[test]
fn territory_levels_have_stable_codes() {
    let codes: Vec<&str> = TerritoryLevel::ALL.iter().map(|l| l.code()).collect();
    assert_eq!(codes, ["FR", "REG", "DEP", "COM", "EPCI"]);
    assert_eq!(
        "DEP".parse::<TerritoryLevel>().unwrap(),
        TerritoryLevel::Departement
    );
    assert!("dep".parse::<TerritoryLevel>().is_err());
}
