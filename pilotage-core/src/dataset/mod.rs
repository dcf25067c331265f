//! Dataset definitions: `<id>.toml` files, read and validated.
//!
//! The definitions pilotage publishes are committed in this crate (`data/datasets/<id>.toml`)
//! and compiled in ([`EMBEDDED`], [`embedded`]), so that a binary built from it needs no file
//! at run time; [`load_dir`] reads another folder of definitions instead.
//!
//! A definition fixes everything a published cube means: its dimensions (each with its
//! hierarchy and total member), its measures (kind, unit, time rule, rounding), the crossings
//! (grouping sets) it publishes, and its methodology in French and English. The computation
//! that fills it lives in [`crate::indicator`]; loading checks the two agree, so a definition
//! cannot name a dimension or a measure the computation does not produce, nor give a measure a
//! kind its computation cannot honour.
//!
//! ```
//! use pilotage_core::dataset::Definition;
//! let defs = pilotage_core::dataset::embedded().unwrap();
//! let candidatures = defs.iter().find(|d| d.id == "candidatures").unwrap();
//! assert_eq!(candidatures.license, "Licence Ouverte 2.0");
//! ```

pub(crate) mod computation;
mod methodology;
mod model;
pub(crate) mod size;
mod validate;

pub use methodology::render_methodology;
pub use model::{
    Definition, Dimension, DimensionType, Level, Measure, MeasureKind, MeasureRelation, Member,
    Methodology, PERIOD_LEVELS, PUBLIC_UNITS, RelationOp, SENSITIVE_ATTRIBUTES, TERRITORY_LEVELS,
    TERRITORY_TOTAL, TOTAL, TOTAL_LEVEL, Text, TimeRule,
};
pub use size::{DeclaredSize, declared_size};

use std::path::{Path, PathBuf};

/// A definition file that cannot be used, with the file and the field at fault.
#[derive(Debug, thiserror::Error)]
pub enum DefinitionError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not fit the model (unknown or missing key).
    #[error("{}: {message}", file.display())]
    Parse {
        /// The file.
        file: PathBuf,
        /// The parser's message, naming the key and line.
        message: String,
    },
    /// The file parses but breaks a rule.
    #[error("{}: field `{field}`: {reason}", file.display())]
    Invalid {
        /// The file.
        file: PathBuf,
        /// Path of the field at fault, e.g. `dimensions[type_structure].levels[type]`.
        field: String,
        /// What is wrong.
        reason: String,
    },
}

impl Definition {
    /// Parses and validates a definition from TOML text; `file` names it in errors.
    pub fn from_toml_str(text: &str, file: &Path) -> Result<Definition, DefinitionError> {
        let mut def: Definition = toml::from_str(text).map_err(|e| DefinitionError::Parse {
            file: file.to_owned(),
            message: e.to_string(),
        })?;
        validate::validate(&mut def, file)?;
        Ok(def)
    }

    /// Reads, parses and validates one definition file. Its stem must be the dataset id.
    pub fn load(path: &Path) -> Result<Definition, DefinitionError> {
        let text = std::fs::read_to_string(path).map_err(|source| DefinitionError::Io {
            file: path.to_owned(),
            source,
        })?;
        let def = Definition::from_toml_str(&text, path)?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if stem != def.id {
            return Err(DefinitionError::Invalid {
                file: path.to_owned(),
                field: "id".into(),
                reason: format!("{:?} differs from the file name {stem:?}", def.id),
            });
        }
        Ok(def)
    }
}

/// Loads every `*.toml` of `dir` (not recursing), sorted by dataset id.
pub fn load_dir(dir: &Path) -> Result<Vec<Definition>, DefinitionError> {
    let entries = std::fs::read_dir(dir).map_err(|source| DefinitionError::Io {
        file: dir.to_owned(),
        source,
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| DefinitionError::Io {
            file: dir.to_owned(),
            source,
        })?;
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    let mut defs = paths
        .iter()
        .map(|p| Definition::load(p))
        .collect::<Result<Vec<_>, _>>()?;
    defs.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(defs)
}

/// The committed definitions, compiled in: `(dataset id, TOML text)` in id order, one per file
/// of this crate's `data/datasets/` (a test checks that none is missing).
pub const EMBEDDED: [(&str, &str); 9] = [
    (
        "beneficiaires",
        include_str!("../../data/datasets/beneficiaires.toml"),
    ),
    (
        "candidatures",
        include_str!("../../data/datasets/candidatures.toml"),
    ),
    (
        "candidatures_delais",
        include_str!("../../data/datasets/candidatures_delais.toml"),
    ),
    (
        "candidatures_refus",
        include_str!("../../data/datasets/candidatures_refus.toml"),
    ),
    ("etp", include_str!("../../data/datasets/etp.toml")),
    ("offre", include_str!("../../data/datasets/offre.toml")),
    (
        "pass_iae",
        include_str!("../../data/datasets/pass_iae.toml"),
    ),
    (
        "prescriptions",
        include_str!("../../data/datasets/prescriptions.toml"),
    ),
    ("sorties", include_str!("../../data/datasets/sorties.toml")),
];

/// The TOML text of the embedded definition of dataset `id`, if there is one.
pub fn embedded_toml(id: &str) -> Option<&'static str> {
    EMBEDDED
        .iter()
        .find(|(embedded_id, _)| *embedded_id == id)
        .map(|(_, text)| *text)
}

/// Parses and validates every embedded definition ([`EMBEDDED`]), sorted by dataset id, as
/// [`load_dir`] would read them from `data/datasets/` (errors name `data/datasets/<id>.toml`).
pub fn embedded() -> Result<Vec<Definition>, DefinitionError> {
    let mut defs = Vec::with_capacity(EMBEDDED.len());
    for (id, text) in EMBEDDED {
        let file = PathBuf::from(format!("data/datasets/{id}.toml"));
        let def = Definition::from_toml_str(text, &file)?;
        if def.id != id {
            return Err(DefinitionError::Invalid {
                file,
                field: "id".into(),
                reason: format!("{:?} differs from the file name {id:?}", def.id),
            });
        }
        defs.push(def);
    }
    defs.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(defs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of `data/datasets/` is embedded, with its own text, and reads as `load_dir`
    /// reads the folder.
    #[test]
    fn the_embedded_definitions_are_the_committed_files() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/datasets");
        let mut stems: Vec<String> = std::fs::read_dir(&dir)
            .expect("data/datasets is listed")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_owned))
            .collect();
        stems.sort();
        let ids: Vec<&str> = EMBEDDED.iter().map(|(id, _)| *id).collect();
        assert_eq!(
            ids, stems,
            "EMBEDDED lists every file of data/datasets, in id order"
        );
        for (id, text) in EMBEDDED {
            let on_disk = std::fs::read_to_string(dir.join(format!("{id}.toml"))).expect("read");
            assert_eq!(text, on_disk, "{id}");
            assert_eq!(embedded_toml(id), Some(text));
        }
        assert_eq!(embedded_toml("inconnu"), None);
        let from_disk = load_dir(&dir).expect("the folder loads");
        let compiled_in = embedded().expect("the embedded definitions load");
        assert_eq!(compiled_in, from_disk);
    }
}
