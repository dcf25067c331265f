//! What a check finds: the [`Report`], its [`Failure`]s and their [`Check`] kinds.

use std::fmt;

use serde::Serialize;

/// Failures kept per [`Check`] kind; the others are only counted
/// ([`Report::failures_not_listed`]), so that a badly broken release cannot exhaust memory.
pub const FAILURES_KEPT_PER_CHECK: usize = 1_000;

/// The kind of a failed check, with a stable snake_case code ([`Check::code`]) for scripts and
/// logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Check {
    /// The certificate was made on other true values (its fingerprint differs).
    OtherData,
    /// The inputs do not fit together (datasets, measures, rows or columns differ).
    Format,
    /// A confidential value is published.
    ConfidentialPublished,
    /// A rate or difference is published while one of its parts is secret.
    DerivedOverSecret,
    /// A median is published over fewer observations than the rules allow.
    MedianTooFewObservations,
    /// A point changes a value that does not exist or cannot move (public count, derived
    /// measure, median, not-applicable value), or changes one value twice.
    PointBadCell,
    /// A point changes a value the release publishes.
    PointMovesPublished,
    /// A point changes a value the previous release published unchanged.
    PointMovesKnown,
    /// A point makes a value negative.
    Negative,
    /// A point changes a count by a non-integral amount.
    NotIntegral,
    /// A point breaks a relation of the release that holds at the true values.
    RelationBroken,
    /// A claim of a confidential value is proved by no valid point.
    ClaimWithoutPoint,
    /// A count from 1 to the smallest publishable count − 1 is published (public check).
    PublishedSmallCount,
    /// A breakdown by a sensitive attribute is published under a total from 1 to the smallest
    /// publishable count − 1 (public check).
    PublishedUnderSensitiveTotal,
    /// Published values break a relation of the release beyond rounding (public check).
    PublishedRelationBroken,
}

impl Check {
    /// Every kind, in code order.
    pub const ALL: [Check; 15] = [
        Check::OtherData,
        Check::Format,
        Check::ConfidentialPublished,
        Check::DerivedOverSecret,
        Check::MedianTooFewObservations,
        Check::PointBadCell,
        Check::PointMovesPublished,
        Check::PointMovesKnown,
        Check::Negative,
        Check::NotIntegral,
        Check::RelationBroken,
        Check::ClaimWithoutPoint,
        Check::PublishedSmallCount,
        Check::PublishedUnderSensitiveTotal,
        Check::PublishedRelationBroken,
    ];

    /// Stable snake_case code (`relation_broken`, …), as serialized.
    pub fn code(self) -> &'static str {
        match self {
            Check::OtherData => "other_data",
            Check::Format => "format",
            Check::ConfidentialPublished => "confidential_published",
            Check::DerivedOverSecret => "derived_over_secret",
            Check::MedianTooFewObservations => "median_too_few_observations",
            Check::PointBadCell => "point_bad_cell",
            Check::PointMovesPublished => "point_moves_published",
            Check::PointMovesKnown => "point_moves_known",
            Check::Negative => "negative",
            Check::NotIntegral => "not_integral",
            Check::RelationBroken => "relation_broken",
            Check::ClaimWithoutPoint => "claim_without_point",
            Check::PublishedSmallCount => "published_small_count",
            Check::PublishedUnderSensitiveTotal => "published_under_sensitive_total",
            Check::PublishedRelationBroken => "published_relation_broken",
        }
    }

    fn index(self) -> usize {
        Check::ALL.iter().position(|&c| c == self).unwrap_or(0)
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One failed check, naming the value at fault.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    /// What failed.
    pub check: Check,
    /// Dataset id (empty when the failure concerns the whole release).
    pub dataset: String,
    /// The row: `(dimension id, member code)` per dimension, in definition order.
    pub coordinates: Vec<(String, String)>,
    /// Measure id (empty when the failure concerns no single measure).
    pub measure: String,
    /// The claim concerned (`ClaimKind` name, e.g. `Zero`), if any.
    pub claim: Option<String>,
    /// What failed, in one sentence.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.check.code(), self.dataset)?;
        if !self.coordinates.is_empty() {
            let coords: Vec<String> = self
                .coordinates
                .iter()
                .map(|(d, c)| format!("{d}={c}"))
                .collect();
            write!(f, " [{}]", coords.join(", "))?;
        }
        if !self.measure.is_empty() {
            write!(f, " {}", self.measure)?;
        }
        if let Some(claim) = &self.claim {
            write!(f, " (claim {claim})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The outcome of a check: counts of what was checked and every failure (capped per kind).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// True when no check failed: the release may be published.
    pub passed: bool,
    /// Values subject to statistical secrecy: non-null values of every measure of every table.
    pub values: u64,
    /// Of those, values published as secret.
    pub secret: u64,
    /// Values the checker's own evaluation of the primary rules finds confidential (0 in the
    /// public check).
    pub confidential: u64,
    /// Claims those confidential values need proved (each value has one or two).
    pub claims: u64,
    /// Witness points in the certificate.
    pub points: u64,
    /// Claims the certificate lists for values the checker does not find confidential (or
    /// with a kind their rule does not need): ignored, counted here.
    pub ignored_claims: u64,
    /// Failures beyond [`FAILURES_KEPT_PER_CHECK`] per kind, counted but not listed.
    pub failures_not_listed: u64,
    /// The failures, in a deterministic order: by check stage, then dataset, row and point.
    pub failures: Vec<Failure>,
}

impl Report {
    /// An empty, passing report.
    pub(crate) fn new() -> Report {
        Report {
            passed: true,
            values: 0,
            secret: 0,
            confidential: 0,
            claims: 0,
            points: 0,
            ignored_claims: 0,
            failures_not_listed: 0,
            failures: Vec::new(),
        }
    }

    /// Number of failures of one kind that are listed.
    pub fn count(&self, check: Check) -> usize {
        self.failures.iter().filter(|f| f.check == check).count()
    }

    /// Takes the failures of a sink; `passed` becomes false if there is any.
    pub(crate) fn absorb(&mut self, sink: Failures) {
        if sink.total() > 0 {
            self.passed = false;
        }
        self.failures_not_listed += sink.dropped;
        self.failures.extend(sink.list);
    }
}

/// A capped collection of failures, in the order they are pushed.
#[derive(Debug, Default)]
pub(crate) struct Failures {
    pub list: Vec<Failure>,
    kept: [usize; Check::ALL.len()],
    pub dropped: u64,
}

impl Failures {
    /// Whether a failure of this kind would still be listed (to skip building its message).
    pub fn wants(&self, check: Check) -> bool {
        self.kept[check.index()] < FAILURES_KEPT_PER_CHECK
    }

    /// Records a failure built lazily, only if it will be listed.
    pub fn push_with(&mut self, check: Check, make: impl FnOnce() -> Failure) {
        if self.wants(check) {
            self.kept[check.index()] += 1;
            self.list.push(make());
        } else {
            self.dropped += 1;
        }
    }

    /// Appends another sink (failures keep their order; caps apply to the whole).
    pub fn append(&mut self, other: Failures) {
        self.dropped += other.dropped;
        for f in other.list {
            let check = f.check;
            self.push_with(check, || f);
        }
    }

    /// Failures recorded, listed or not.
    pub fn total(&self) -> u64 {
        self.list.len() as u64 + self.dropped
    }
}
