//! The encodings of the data route.

/// An answer encoding of the data route (`format=`, or chosen from `Accept`).
///
/// The enumeration is exhaustive on purpose: a new encoding is a change of the API that the
/// server must serve and clients must read, so every `match` on it has to be revisited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// `application/json`: `{"dataset", "release", "next", "rows": [{…}]}`.
    Json,
    /// `text/csv`, header line then one line per row, as the release CSV files.
    Csv,
    /// `application/x-ndjson`: one JSON object per row.
    Ndjson,
    /// `application/vnd.apache.parquet`: one Parquet file.
    Parquet,
}

impl Format {
    /// Every encoding, in the order the API documents them.
    pub const ALL: [Format; 4] = [Format::Json, Format::Csv, Format::Ndjson, Format::Parquet];

    /// The name used by `format=`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Ndjson => "ndjson",
            Format::Parquet => "parquet",
        }
    }

    /// The media type of the answer (`Content-Type`).
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Ndjson => "application/x-ndjson",
            Format::Parquet => "application/vnd.apache.parquet",
        }
    }

    /// The encoding named `name` by `format=` (exact, lowercase), if any.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    /// Parses a `format=` name; the error names the value and lists the valid ones.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::from_name(s)
            .ok_or_else(|| format!("unknown format {s:?}: json, csv, ndjson or parquet"))
    }
}

impl std::fmt::Display for Format {
    /// Writes the `format=` name.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_explained() {
        for format in Format::ALL {
            assert_eq!(format.name().parse::<Format>(), Ok(format));
            assert_eq!(format.to_string(), format.name());
        }
        let err = "xml".parse::<Format>().expect_err("unknown");
        assert_eq!(err, "unknown format \"xml\": json, csv, ndjson or parquet");
    }
}
