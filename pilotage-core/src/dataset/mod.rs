//! Dataset definitions: `datasets/<id>.toml`, read and validated.
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
//! let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../datasets");
//! let defs = pilotage_core::dataset::load_dir(&dir).unwrap();
//! let candidatures = defs.iter().find(|d| d.id == "candidatures").unwrap();
//! assert_eq!(candidatures.license, "Licence Ouverte 2.0");
//! ```

mod methodology;
mod model;
mod size;
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
