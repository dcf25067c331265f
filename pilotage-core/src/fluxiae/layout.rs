//! Views of the fluxIAE extraction, their file names, and how their columns map onto a canonical
//! table.

use std::fmt;

use arrow_schema::SchemaRef;

/// One view (file) of the ASP's weekly fluxIAE extraction that pilotage reads.
///
/// The name ([`View::name`]) is the one found in file names (`fluxIAE_<name>_…`) and on the `DEB`
/// line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum View {
    /// `fluxIAE_AnnexeFinanciere`: annexes financières (yearly funding of insertion posts).
    AnnexeFinanciere,
    /// `fluxIAE_Salarie`: salariés en insertion (pseudonymized).
    Salarie,
    /// `fluxIAE_ContratMission`: contracts (and missions for AI/ETTI).
    ContratMission,
    /// `fluxIAE_EtatMensuelIndiv`: monthly individual declarations (EMI), hours worked.
    EtatMensuelIndiv,
    /// `fluxIAE_Structure`: the structures known to the ASP.
    Structure,
    /// `fluxIAE_RefMotifSort`: the exit-motive referential.
    RefMotifSort,
}

impl View {
    /// Every view, in dependency order (a view only references views listed before it).
    pub const ALL: &'static [View] = &[
        View::Structure,
        View::RefMotifSort,
        View::AnnexeFinanciere,
        View::Salarie,
        View::ContratMission,
        View::EtatMensuelIndiv,
    ];

    /// The view name as written in file names and on the `DEB` line (e.g. `"AnnexeFinanciere"`).
    pub fn name(self) -> &'static str {
        match self {
            View::AnnexeFinanciere => "AnnexeFinanciere",
            View::Salarie => "Salarie",
            View::ContratMission => "ContratMission",
            View::EtatMensuelIndiv => "EtatMensuelIndiv",
            View::Structure => "Structure",
            View::RefMotifSort => "RefMotifSort",
        }
    }

    /// Parses a view name as returned by [`View::name`] (exact match).
    pub fn from_name(name: &str) -> Option<View> {
        View::ALL.iter().copied().find(|v| v.name() == name)
    }

    /// Detects the view from a file name such as `fluxIAE_Salarie_14092025_063002.csv.gz`
    /// (a directory part is ignored). `None` if the name does not start with `fluxIAE_<View>_`
    /// for a known view.
    pub fn from_file_name(file_name: &str) -> Option<View> {
        let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
        let rest = base.strip_prefix("fluxIAE_")?;
        let (name, _) = rest.split_once('_')?;
        View::from_name(name)
    }

    /// The file name of this view for an extraction: `fluxIAE_<View>_DDMMYYYY_HHMMSS.csv`, plus
    /// `.gz` when `gzip`.
    pub fn file_name(self, stamp: ExtractionStamp, gzip: bool) -> String {
        let ext = if gzip { ".csv.gz" } else { ".csv" };
        format!("fluxIAE_{}_{stamp}{ext}", self.name())
    }
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The date and time of an extraction, as written in fluxIAE file names and `DEB` lines
/// (`DDMMYYYY_HHMMSS`, local time of the ASP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExtractionStamp {
    /// Year (e.g. 2025).
    pub year: u16,
    /// Month, 1–12.
    pub month: u8,
    /// Day of month, 1–31.
    pub day: u8,
    /// Hour, 0–23.
    pub hour: u8,
    /// Minute, 0–59.
    pub minute: u8,
    /// Second, 0–59.
    pub second: u8,
}

impl ExtractionStamp {
    /// Parses `DDMMYYYY_HHMMSS`; `None` if malformed or not a valid date and time.
    pub fn parse(text: &str) -> Option<ExtractionStamp> {
        let b = text.as_bytes();
        if b.len() != 15
            || b[8] != b'_'
            || !b
                .iter()
                .enumerate()
                .all(|(i, c)| i == 8 || c.is_ascii_digit())
        {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> u16 {
            b[r].iter()
                .fold(0u16, |acc, c| acc * 10 + u16::from(c - b'0'))
        };
        let (day, month, year) = (num(0..2) as u8, num(2..4) as u8, num(4..8));
        let (hour, minute, second) = (num(9..11) as u8, num(11..13) as u8, num(13..15) as u8);
        let valid_date = (1..=12).contains(&month)
            && day >= 1
            && u32::from(day) <= crate::calendar::days_in_month(i32::from(year), u32::from(month));
        (valid_date && hour < 24 && minute < 60 && second < 60).then_some(ExtractionStamp {
            year,
            month,
            day,
            hour,
            minute,
            second,
        })
    }
}

impl fmt::Display for ExtractionStamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}{:02}{:04}_{:02}{:02}{:02}",
            self.day, self.month, self.year, self.hour, self.minute, self.second
        )
    }
}

/// Where the value of one canonical column comes from in a fluxIAE view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnSource {
    /// Read from (and written to) the fluxIAE column of that name.
    Flux(String),
    /// Not carried by the view: the year of the canonical date column at that index of the
    /// schema (e.g. an annexe's funding year from its start date). Not written.
    YearOf(usize),
    /// Not carried by the view: numbered 1, 2, … in file order over the rows kept (duplicates
    /// dropped). Not written.
    RowNumber,
    /// Not carried by the view and nullable: read as null, not written.
    Absent,
}

/// How the columns of a fluxIAE view map onto a canonical table: one [`ColumnSource`] per field
/// of the canonical schema, in schema order.
#[derive(Debug, Clone)]
pub struct ViewLayout {
    /// The view.
    pub view: View,
    /// The canonical table name (for messages).
    pub table: String,
    /// The canonical schema the batches conform to.
    pub schema: SchemaRef,
    /// Per canonical field (schema order), where its values come from.
    pub sources: Vec<ColumnSource>,
}

impl ViewLayout {
    /// The fluxIAE column names, in canonical column order: the header the writer writes and the
    /// columns the reader requires.
    pub fn header(&self) -> Vec<&str> {
        self.sources
            .iter()
            .filter_map(|s| match s {
                ColumnSource::Flux(name) => Some(name.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The fluxIAE column a canonical column is read from, if the view carries it.
    pub fn flux_column(&self, canonical: &str) -> Option<&str> {
        let index = self.schema.index_of(canonical).ok()?;
        match &self.sources[index] {
            ColumnSource::Flux(name) => Some(name),
            _ => None,
        }
    }
}
