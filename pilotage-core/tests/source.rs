//! Consistency of the source-table specifications and of `docs/sources.md`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use pilotage_core::source::{
    Allowed, CodeList, DataType, META_ALLOWED, META_DESCRIPTION, META_PRIMARY_KEY,
    META_SOURCE_COLUMN, META_TABLE, META_UNIT, SourceTable, TextFormat, render_markdown,
};

#[test]
fn table_names_are_unique_snake_case_and_parse_back() {
    let names: BTreeSet<&str> = SourceTable::ALL.iter().map(|t| t.name()).collect();
    assert_eq!(names.len(), SourceTable::ALL.len());
    assert_eq!(SourceTable::ALL.len(), 13);
    for &table in SourceTable::ALL {
        let name = table.name();
        assert!(
            name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{name} is not snake_case"
        );
        assert_eq!(name.parse::<SourceTable>(), Ok(table));
        assert_eq!(table.to_string(), name);
    }
    let err = "candidature"
        .parse::<SourceTable>()
        .expect_err("a near miss is not a table");
    assert!(err.to_string().contains("\"candidature\""));
}

#[test]
fn every_table_has_a_documented_non_empty_schema() {
    for &table in SourceTable::ALL {
        let schema = table.schema();
        assert!(!schema.fields().is_empty(), "{table} has no column");
        assert_eq!(schema.fields().len(), table.columns().len());
        assert_eq!(
            schema.metadata().get(META_TABLE).map(String::as_str),
            Some(table.name())
        );
        assert_eq!(
            schema.metadata().get(META_PRIMARY_KEY),
            Some(&table.primary_key().join(","))
        );
        assert!(!table.description().is_empty() && !table.grain().is_empty());
        for (field, column) in schema.fields().iter().zip(table.columns()) {
            assert_eq!(field.name(), column.name);
            assert_eq!(field.data_type(), &column.data_type.to_arrow());
            assert_eq!(field.is_nullable(), column.nullable);
            assert!(
                !column.description.is_empty(),
                "{table}.{} has no description",
                column.name
            );
            assert_eq!(
                field.metadata().get(META_DESCRIPTION).map(String::as_str),
                Some(column.description)
            );
            assert_eq!(
                field.metadata().get(META_UNIT).map(String::as_str),
                column.unit.map(|u| u.symbol())
            );
        }
        // Cached: the same Arc every time.
        assert!(std::sync::Arc::ptr_eq(&schema, &table.schema()));
    }
}

#[test]
fn column_names_are_unique_within_each_table() {
    for &table in SourceTable::ALL {
        let mut seen = BTreeSet::new();
        for column in table.columns() {
            assert!(
                seen.insert(column.name),
                "{table}.{} appears twice",
                column.name
            );
            assert!(
                column
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{table}.{} is not snake_case",
                column.name
            );
            assert_eq!(table.column(column.name), Some(column));
        }
    }
}

#[test]
fn primary_key_columns_exist_and_are_not_nullable() {
    for &table in SourceTable::ALL {
        assert!(
            !table.primary_key().is_empty(),
            "{table} has no primary key"
        );
        for key in table.primary_key() {
            let column = table
                .column(key)
                .unwrap_or_else(|| panic!("{table}: primary key column {key} does not exist"));
            assert!(!column.nullable, "{table}.{key} is a key but nullable");
        }
    }
}

#[test]
fn foreign_keys_point_to_existing_columns_of_the_same_type() {
    for &table in SourceTable::ALL {
        for fk in table.foreign_keys() {
            let from = table
                .column(fk.column)
                .unwrap_or_else(|| panic!("{table}.{} (foreign key) does not exist", fk.column));
            let to = fk.table.column(fk.target_column).unwrap_or_else(|| {
                panic!(
                    "{table}.{} references missing {}.{}",
                    fk.column, fk.table, fk.target_column
                )
            });
            assert_eq!(
                from.data_type, to.data_type,
                "{table}.{} and {}.{} differ in type",
                fk.column, fk.table, fk.target_column
            );
            assert_eq!(
                from.allowed, to.allowed,
                "{table}.{} and {}.{} differ in allowed values",
                fk.column, fk.table, fk.target_column
            );
        }
    }
}

#[test]
fn referenced_tables_come_first_in_dependency_order() {
    let position = |t: SourceTable| SourceTable::ALL.iter().position(|&x| x == t);
    for &table in SourceTable::ALL {
        for fk in table.foreign_keys() {
            assert!(
                position(fk.table) <= position(table),
                "{table} references {} which comes later in SourceTable::ALL",
                fk.table
            );
        }
    }
}

#[test]
fn codes_are_text_and_conventions_hold() {
    for &table in SourceTable::ALL {
        for column in table.columns() {
            let name = format!("{table}.{}", column.name);
            match column.allowed {
                Allowed::Codes(_) | Allowed::Territory(_) | Allowed::Format(_) => {
                    assert_eq!(column.data_type, DataType::Utf8, "{name} holds codes");
                }
                Allowed::IntRange { min, max } => {
                    assert!(matches!(
                        column.data_type,
                        DataType::Int32 | DataType::Int64
                    ));
                    assert!(min <= max, "{name}: empty range");
                }
                Allowed::FloatRange { min, max } => {
                    assert_eq!(column.data_type, DataType::Float64, "{name}");
                    assert!(min <= max, "{name}: empty range");
                }
                Allowed::Free => {}
            }
            if column.unit.is_some() {
                assert_eq!(column.data_type, DataType::Float64, "{name} has a unit");
            }
            if column.name.ends_with("_at") || column.name.ends_with("_date") {
                assert_eq!(column.data_type, DataType::Date32, "{name} is a date");
            }
            if column.name == "hash_nir" {
                assert_eq!(column.allowed, Allowed::Format(TextFormat::Sha256Hex));
            }
        }
    }
}

#[test]
fn code_lists_resolve_to_real_codes() {
    assert_eq!(
        CodeList::StructureKind.codes(),
        [
            "ACI", "AI", "EI", "ETTI", "EITI", "GEIQ", "EA", "EATT", "OPCS"
        ]
    );
    assert!(CodeList::StructureSource.contains("USER_CREATED"));
    assert!(!CodeList::StructureKind.contains("aci"));
    let names: BTreeSet<&str> = CodeList::ALL.iter().map(|l| l.name()).collect();
    assert_eq!(names.len(), CodeList::ALL.len());
    for &list in CodeList::ALL {
        let codes = list.codes();
        assert!(!codes.is_empty(), "{} has no code", list.name());
        let unique: BTreeSet<&str> = codes.iter().copied().collect();
        assert_eq!(unique.len(), codes.len(), "{} repeats a code", list.name());
        assert!(list.entries().iter().all(|(_, label)| !label.is_empty()));
    }
}

#[test]
fn field_metadata_lists_the_real_codes() {
    let schema = SourceTable::Contrats.schema();
    let rsa = schema.field_with_name("rsa").expect("contrats.rsa");
    assert_eq!(
        rsa.metadata().get(META_ALLOWED).map(String::as_str),
        Some("RsaStatus: NON, OUI-M, OUI-NM")
    );
    let hours = SourceTable::EtatsMensuels.schema();
    let field = hours.field_with_name("hours_worked").expect("hours_worked");
    assert_eq!(
        field.metadata().get(META_UNIT).map(String::as_str),
        Some("heures")
    );
    assert_eq!(
        field.metadata().get(META_SOURCE_COLUMN).map(String::as_str),
        Some("emi_nb_heures_travail")
    );
}

#[test]
fn text_formats_accept_and_reject() {
    let hash = "a".repeat(64);
    assert!(TextFormat::Sha256Hex.matches(&hash));
    assert!(!TextFormat::Sha256Hex.matches(&"A".repeat(64)));
    assert!(!TextFormat::Sha256Hex.matches(&"a".repeat(63)));
    assert!(TextFormat::Siret.matches("12345678901234"));
    assert!(!TextFormat::Siret.matches("1234567890123"));
    assert!(TextFormat::Rome.matches("N1101"));
    assert!(!TextFormat::Rome.matches("n1101"));
    assert!(!TextFormat::Rome.matches("N110"));
}

#[test]
fn docs_sources_md_is_up_to_date() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/sources.md");
    let rendered = render_markdown();
    if std::env::var_os("PILOTAGE_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("docs folder")).expect("create docs/");
        std::fs::write(&path, &rendered).expect("write docs/sources.md");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == rendered,
        "docs/sources.md is out of date with the source specifications; regenerate it with:\n  \
         PILOTAGE_BLESS=1 cargo test -p pilotage-core --test source"
    );
}

#[test]
fn markdown_has_one_section_per_table_with_every_column() {
    let md = render_markdown();
    for &table in SourceTable::ALL {
        assert!(md.contains(&format!("\n## {}\n", table.name())), "{table}");
        for column in table.columns() {
            assert!(md.contains(&format!("| `{}` |", column.name)));
        }
    }
    assert!(md.contains("\n## StructureKind\n"));
    assert!(md.contains("| `ACI` | Atelier chantier d'insertion |"));
    assert!(md.contains("| `OUI-NM` |"));
}
