//! The vocabulary of column specifications.

use arrow_schema::{Field, Metadata};

use super::{
    CodeList, META_ALLOWED, META_DESCRIPTION, META_DESCRIPTION_FR, META_SOURCE_COLUMN, META_UNIT,
    SourceTable,
};

/// The logical type of a source column, a small subset of Arrow's types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    /// UTF-8 text: identifiers that are not integers, and every code.
    Utf8,
    /// 32-bit signed integer: years, months, small counts.
    Int32,
    /// 64-bit signed integer: numeric identifiers.
    Int64,
    /// 64-bit float: hours, ETP, euros.
    Float64,
    /// Boolean flag.
    Boolean,
    /// Calendar date (days since 1970-01-01), no time of day.
    Date32,
}

impl DataType {
    /// The Arrow data type this maps to.
    pub fn to_arrow(self) -> arrow_schema::DataType {
        match self {
            DataType::Utf8 => arrow_schema::DataType::Utf8,
            DataType::Int32 => arrow_schema::DataType::Int32,
            DataType::Int64 => arrow_schema::DataType::Int64,
            DataType::Float64 => arrow_schema::DataType::Float64,
            DataType::Boolean => arrow_schema::DataType::Boolean,
            DataType::Date32 => arrow_schema::DataType::Date32,
        }
    }

    /// The name used in the documentation (Arrow's spelling).
    pub fn name(self) -> &'static str {
        match self {
            DataType::Utf8 => "Utf8",
            DataType::Int32 => "Int32",
            DataType::Int64 => "Int64",
            DataType::Float64 => "Float64",
            DataType::Boolean => "Boolean",
            DataType::Date32 => "Date32",
        }
    }
}

/// The unit of a numeric column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// Hours of work.
    Hours,
    /// Full-time equivalent posts (équivalent temps plein).
    Etp,
    /// Calendar days.
    Days,
    /// Euros (not cents).
    Euros,
}

impl Unit {
    /// The French unit name used in documentation and field metadata.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Hours => "heures",
            Unit::Etp => "ETP",
            Unit::Days => "jours",
            Unit::Euros => "euros",
        }
    }
}

/// A level of the INSEE territory referential a code column refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TerritoryLevel {
    /// Commune, 5-character INSEE code (`"75056"`, `"2A004"`).
    Commune,
    /// Département code (`"01"`–`"95"`, `"2A"`, `"2B"`, `"971"`–`"976"`).
    Departement,
    /// Région, 2-digit code (`"11"`, `"84"`, …).
    Region,
}

impl TerritoryLevel {
    /// The French name of the level.
    pub fn name(self) -> &'static str {
        match self {
            TerritoryLevel::Commune => "commune",
            TerritoryLevel::Departement => "département",
            TerritoryLevel::Region => "région",
        }
    }
}

/// A textual format a free-text column must follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextFormat {
    /// 64 lowercase hexadecimal characters (a keyed SHA-256, such as `hash_nir`).
    Sha256Hex,
    /// SIRET number: 14 digits.
    Siret,
    /// ROME job code: one uppercase letter and four digits (`"N1101"`).
    Rome,
}

impl TextFormat {
    /// Human-readable statement of the format.
    pub fn describe(self) -> &'static str {
        match self {
            TextFormat::Sha256Hex => "64 lowercase hexadecimal characters",
            TextFormat::Siret => "SIRET, 14 digits",
            TextFormat::Rome => "ROME code, one uppercase letter and 4 digits",
        }
    }

    /// True if `value` follows the format.
    pub fn matches(self, value: &str) -> bool {
        let b = value.as_bytes();
        match self {
            TextFormat::Sha256Hex => {
                b.len() == 64
                    && b.iter()
                        .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
            }
            TextFormat::Siret => b.len() == 14 && b.iter().all(u8::is_ascii_digit),
            TextFormat::Rome => {
                b.len() == 5 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit)
            }
        }
    }
}

/// What values a column may hold, beyond its type and nullability.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Allowed {
    /// Any value of the type.
    Free,
    /// One of the codes of a closed enumeration.
    Codes(CodeList),
    /// A code of the territory referential at the given level.
    Territory(TerritoryLevel),
    /// Text in a fixed format.
    Format(TextFormat),
    /// An integer in an inclusive range.
    IntRange {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// A float in an inclusive range.
    FloatRange {
        /// Smallest allowed value.
        min: f64,
        /// Largest allowed value.
        max: f64,
    },
}

impl Allowed {
    /// A short rendering for field metadata: codes are listed in full, comma separated.
    pub fn describe(&self) -> String {
        match self {
            Allowed::Codes(list) => {
                format!("{}: {}", list.name(), list.codes().join(", "))
            }
            _ => self.describe_short(),
        }
    }

    /// A short rendering for documentation tables: a code list is named, not listed (the
    /// documentation lists codes and labels in a section of their own).
    pub fn describe_short(&self) -> String {
        match self {
            Allowed::Free => String::new(),
            Allowed::Codes(list) => format!("codes of `{}`", list.name()),
            Allowed::Territory(level) => format!("{} code (INSEE)", level.name()),
            Allowed::Format(format) => format.describe().to_owned(),
            Allowed::IntRange { min, max } => format!("{min} to {max}"),
            Allowed::FloatRange { min, max } => format!("{min} to {max}"),
        }
    }
}

/// The specification of one column of a source table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColumnSpec {
    /// Canonical snake_case column name, as found in the CSV header or Parquet schema.
    pub name: &'static str,
    /// Logical type.
    pub data_type: DataType,
    /// Whether the column may be null (empty in CSV).
    pub nullable: bool,
    /// Unit of a numeric measure, if any.
    pub unit: Option<Unit>,
    /// Allowed values.
    pub allowed: Allowed,
    /// English description: what the value means and when it is set.
    pub description: &'static str,
    /// French description (may be empty).
    pub description_fr: &'static str,
    /// The upstream column this comes from (`fluxIAE_…` column or platform export column), or
    /// `None` for a column pilotage derives.
    pub source_column: Option<&'static str>,
}

impl ColumnSpec {
    /// The Arrow field, with the documentation in its metadata.
    pub fn to_field(&self) -> Field {
        let mut metadata = Metadata::new().with(META_DESCRIPTION, self.description);
        if !self.description_fr.is_empty() {
            metadata.insert(META_DESCRIPTION_FR, self.description_fr);
        }
        if let Some(unit) = self.unit {
            metadata.insert(META_UNIT, unit.symbol());
        }
        let allowed = self.allowed.describe();
        if !allowed.is_empty() {
            metadata.insert(META_ALLOWED, allowed);
        }
        if let Some(source) = self.source_column {
            metadata.insert(META_SOURCE_COLUMN, source);
        }
        Field::new(self.name, self.data_type.to_arrow(), self.nullable).with_metadata(metadata)
    }

    /// True if the column holds codes of a closed enumeration or of the territory referential.
    pub fn is_code(&self) -> bool {
        matches!(self.allowed, Allowed::Codes(_) | Allowed::Territory(_))
    }
}

/// A reference from a column of one table to a column of another (or the same) table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ForeignKey {
    /// The referencing column, in the table that declares the key.
    pub column: &'static str,
    /// The referenced table.
    pub table: SourceTable,
    /// The referenced column in that table (unique there).
    pub target_column: &'static str,
}

/// The system a source table is extracted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceSystem {
    /// The job-application platform "Les emplois de l'inclusion" (and its data pipeline).
    Emplois,
    /// The ASP's weekly "fluxIAE" extraction (Extranet IAE).
    Asp,
}

impl SourceSystem {
    /// Name of the system, for documentation.
    pub fn label(self) -> &'static str {
        match self {
            SourceSystem::Emplois => "Les emplois de l'inclusion",
            SourceSystem::Asp => "ASP fluxIAE",
        }
    }
}
