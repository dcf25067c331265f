//! Dataset definitions: the committed ones load, their methodology pages are up to date, and
//! bad definitions are refused with the file and the field named.

use pilotage_testkit as support;

use std::path::Path;

use pilotage_core::dataset::{Definition, DefinitionError, declared_size, render_methodology};

#[test]
fn every_committed_definition_loads() {
    let ids: Vec<String> = support::definitions().into_iter().map(|d| d.id).collect();
    assert_eq!(
        ids,
        [
            "beneficiaires",
            "candidatures",
            "candidatures_delais",
            "candidatures_refus",
            "etp",
            "offre",
            "pass_iae",
            "prescriptions",
            "sorties"
        ]
    );
    for def in support::definitions() {
        assert_eq!(def.license, "Licence Ouverte 2.0");
        assert_eq!((def.first_year, def.last_year), (2021, 2025), "{}", def.id);
        // Levels come back ordered coarsest first.
        for d in &def.dimensions {
            for (i, l) in d.levels.iter().enumerate() {
                assert_eq!(l.parent.is_none(), i == 0, "{}.{}", def.id, d.id);
            }
        }
    }
}

#[test]
fn methodology_pages_match_the_definitions() {
    let dir = support::root().join("docs/methodology");
    let bless = std::env::var_os("PILOTAGE_BLESS").is_some();
    if bless {
        std::fs::create_dir_all(&dir).expect("create docs/methodology");
    }
    for def in support::definitions() {
        let page = render_methodology(&def);
        let path = dir.join(format!("{}.md", def.id));
        if bless {
            std::fs::write(&path, &page).expect("write page");
        } else {
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                committed == page,
                "{} is stale: run PILOTAGE_BLESS=1 cargo test -p pilotage-core --test dataset",
                path.display()
            );
        }
        assert!(page.contains(&def.methodology.counted.fr));
        assert!(page.contains("Licence Ouverte 2.0"));
    }
}

#[test]
fn methodology_pages_state_the_declared_relations() {
    for def in support::definitions() {
        let page = render_methodology(&def);
        assert!(
            page.contains("## Relations entre mesures — relations between measures"),
            "{}",
            def.id
        );
        if def.relations.is_empty() {
            assert!(
                page.contains("Aucune relation entre les mesures"),
                "{}",
                def.id
            );
        }
        for rel in &def.relations {
            let text = rel.labelled(&def);
            let line = format!("- `{}` — {}. *{}.*", rel.describe(), text.fr, text.en);
            assert!(page.contains(&line), "{}: {line:?} missing", def.id);
        }
    }
    let sorties = support::definitions()
        .into_iter()
        .find(|d| d.id == "sorties")
        .expect("sorties");
    let page = render_methodology(&sorties);
    assert!(page.contains(
        "- `sorties ≥ sorties_examinees` — Sorties ≥ Sorties examinées. *Exits ≥ Examined exits.*"
    ));
    assert!(page.contains(
        "- `sorties_dynamiques = sorties_emploi_durable + sorties_emploi_transition + \
         sorties_positives` — Sorties dynamiques = Sorties vers l'emploi durable + Sorties vers \
         l'emploi de transition + Sorties positives. *Dynamic exits = Exits to lasting \
         employment + Exits to transition employment + Positive exits.*"
    ));
    // Before the crossings, after the measures.
    let at = |s: &str| page.find(s).expect(s);
    assert!(at("## Mesures — measures") < at("## Relations entre mesures"));
    assert!(at("## Relations entre mesures") < at("## Croisements publiés"));
}

/// The committed `candidatures.toml` with one substitution applied.
fn candidatures_with(from: &str, to: &str) -> Result<Definition, DefinitionError> {
    let text = std::fs::read_to_string(
        support::root().join("pilotage-core/data/datasets/candidatures.toml"),
    )
    .expect("read");
    assert!(text.contains(from), "fixture text {from:?} not found");
    Definition::from_toml_str(&text.replacen(from, to, 1), Path::new("candidatures.toml"))
}

fn refused(result: Result<Definition, DefinitionError>, field: &str, reason: &str) {
    match result {
        Err(DefinitionError::Invalid {
            file,
            field: f,
            reason: r,
        }) => {
            assert_eq!(file, Path::new("candidatures.toml"));
            assert_eq!(f, field, "reason: {r}");
            assert!(r.contains(reason), "{r:?} lacks {reason:?}");
            let message = DefinitionError::Invalid {
                file,
                field: f,
                reason: r,
            }
            .to_string();
            assert!(
                message.starts_with("candidatures.toml: field `"),
                "{message}"
            );
        }
        other => panic!("expected a refusal of {field}, got {other:?}"),
    }
}

#[test]
fn unknown_dimension_is_refused() {
    refused(
        candidatures_with("id = \"origine\"", "id = \"origin\""),
        "dimensions[origin]",
        "unknown dimension",
    );
}

#[test]
fn unknown_measure_is_refused() {
    refused(
        candidatures_with("id = \"recues\"", "id = \"received\""),
        "measures[received]",
        "unknown measure",
    );
    refused(
        candidatures_with(
            "of = [\"acceptees\", \"traitees\"]",
            "of = [\"acceptees\", \"nope\"]",
        ),
        "measures[taux_acceptation].of",
        "unknown measure \"nope\"",
    );
}

#[test]
fn unknown_level_in_a_crossing_is_refused() {
    refused(
        candidatures_with("origine = \"origine\"", "origine = \"detail\""),
        "crossings[0].origine",
        "unknown level",
    );
}

#[test]
fn hierarchy_that_does_not_nest_is_refused() {
    // A kind hanging under a group that does not exist.
    refused(
        candidatures_with(
            "{ code = \"ACI\", label = \"Atelier chantier d'insertion\", parent = \"IAE\" }",
            "{ code = \"ACI\", label = \"Atelier chantier d'insertion\", parent = \"SIAE\" }",
        ),
        "dimensions[type_structure].levels[type].members[ACI].parent",
        "does not nest",
    );
    // Two levels right under the total.
    refused(
        candidatures_with("parent = \"groupe\"\n", ""),
        "dimensions[type_structure].levels",
        "does not nest",
    );
}

#[test]
fn cycle_of_levels_is_refused() {
    let text = std::fs::read_to_string(
        support::root().join("pilotage-core/data/datasets/candidatures.toml"),
    )
    .expect("read");
    // Make `groupe` the child of `type`, which is the child of `groupe`.
    let text = text.replacen(
        "id = \"groupe\"\nlabel = { fr = \"Groupe de structures\", en = \"Group of structures\" }\n",
        "id = \"groupe\"\nlabel = { fr = \"Groupe de structures\", en = \"Group of structures\" }\nparent = \"type\"\n",
        1,
    );
    refused(
        Definition::from_toml_str(&text, Path::new("candidatures.toml")),
        "dimensions[type_structure].levels[groupe].parent",
        "cycle",
    );
}

#[test]
fn missing_total_is_refused() {
    refused(
        candidatures_with("total = \"_T\"\n", ""),
        "dimensions[type_structure].total",
        "missing total",
    );
    refused(
        candidatures_with("total = \"FR\"\n", ""),
        "dimensions[territoire].total",
        "missing total",
    );
}

#[test]
fn measure_kind_that_does_not_fit_is_refused() {
    refused(
        candidatures_with("kind = \"persons\"", "kind = \"events\""),
        "measures[candidats].kind",
        "does not fit",
    );
    refused(
        candidatures_with("time = \"stock\"", "time = \"flow\""),
        "measures[en_attente].time",
        "does not fit",
    );
    // A difference of two counts.
    refused(
        candidatures_with("kind = \"rate\"", "kind = \"difference\""),
        "measures[taux_acceptation].of",
        "cannot be computed",
    );
}

#[test]
fn missing_pieces_are_refused() {
    refused(
        candidatures_with(
            "[\"pe_approval\", \"ai_stock\"]",
            "[\"admin\", \"ai_stock\"]",
        ),
        "methodology.excluded_creation_paths",
        "pe_approval",
    );
    refused(
        candidatures_with("license = \"Licence Ouverte 2.0\"", "license = \"CC-BY\""),
        "license",
        "Licence Ouverte 2.0",
    );
    refused(
        candidatures_with("  { code = \"EMPLOYEUR\", label = \"Employeur\" },\n", ""),
        "dimensions[origine].levels",
        "lacks member \"EMPLOYEUR\"",
    );
}

#[test]
fn syntax_errors_name_the_file() {
    let err = Definition::from_toml_str("id = ", Path::new("broken.toml")).expect_err("refused");
    assert!(matches!(err, DefinitionError::Parse { .. }));
    assert!(err.to_string().starts_with("broken.toml: "), "{err}");
    let err = candidatures_with("frequency =", "frequence =").expect_err("refused");
    assert!(err.to_string().contains("frequence"), "{err}");
}

#[test]
fn declared_size_counts_every_projection_once() {
    let defs = support::definitions();
    let sorties = defs.iter().find(|d| d.id == "sorties").expect("sorties");
    let size = declared_size(sorties, 18, 101);
    // Crossing 1 (département × année × type): 3 territory levels × 1 × 2 type levels = 6
    // projections, rows (1 + 18 + 101) × 5 years × (1 + 5 kinds) = 3,600. Crossing 2 (région ×
    // mois × type): 2 × 3 × 2 = 12 projections of which the 4 by year are crossing 1's; the 8
    // new ones by quarter or month: (1 + 18) × (20 + 60) × 6 = 9,120 rows.
    assert_eq!(size.projections, 14);
    assert_eq!(size.rows, 3_600 + 9_120);
    assert_eq!(size.measures, sorties.measures.len());
    assert_eq!(size.values(), 12_720 * sorties.measures.len() as u64);

    // Sensitive prescriber kinds are published at national level only: 8 kinds fewer in every
    // row below France by kind, (18 + 101) territories × 5 years × (1 + 2) habilitation members.
    let prescriptions = defs
        .iter()
        .find(|d| d.id == "prescriptions")
        .expect("prescriptions");
    let mut everywhere = prescriptions.clone();
    for d in &mut everywhere.dimensions {
        d.national_only.clear();
    }
    assert_eq!(
        declared_size(&everywhere, 18, 101).rows - declared_size(prescriptions, 18, 101).rows,
        8 * 119 * 5 * 3
    );
}
