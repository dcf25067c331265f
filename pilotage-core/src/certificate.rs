//! The disclosure certificate: the witness points that prove every claim of every confidential
//! value of a release, as the protection writes them and the checker reads them.
//!
//! This module is the format only (types, encoding, the fingerprint of the true values): it
//! holds no protection logic and no checking logic, so that the protection
//! ([`crate::disclosure`]) and the independent checker share nothing but the data they exchange.
//!
//! A cell is named by its dataset (index in the release's dataset order), its row (index in the
//! published table, which is the cube's row order) and its measure (index in the dataset's
//! measure columns). A [`Point`] is a sparse change of the true values: the release's true
//! values plus its `changes` form a point that the checker verifies against every relation of
//! the release. Each point lists the [`Claim`]s it proves.
//!
//! The certificate is private: it describes the true values around every confidential one, so
//! it is stored with the confidential data (the store), never in a release folder; the public
//! manifest records only its counts and SHA-256.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cube::{Cube, MeasureValues};

/// First bytes of an encoded certificate (before compression).
const MAGIC: &[u8] = b"PILOTAGE-CERTIFICATE 1\n";

/// One value of a release: dataset, row and measure indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CellRef {
    /// Index of the dataset in [`Certificate::datasets`].
    pub dataset: u16,
    /// Row of the published table (the cube's row order).
    pub row: u32,
    /// Index of the measure in [`Certificate::measures`] of that dataset.
    pub measure: u16,
}

/// What a point proves about one confidential value: that the release is consistent with it
/// taking a value on the far side of its protection threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ClaimKind {
    /// A count from 1 to 10 can be 0.
    Zero,
    /// A count from 1 to 10 can be the smallest publishable count (11 by default) or more.
    AtLeastMinCount,
    /// A zero of a sensitive breakdown whose total is 1–10 can be 1 or more.
    Positive,
    /// A confidential magnitude x can be x − m or less (m: the largest margin among the rules
    /// that fire), against the outsider and against every structure. A structure that alone
    /// makes some value knows it: the claim is listed under one or more points, and every
    /// structure must have among them a point that moves none of the values it alone makes
    /// (the claimed value aside; the structure that alone makes the claimed value knows it
    /// anyway and is left out).
    Below,
    /// A confidential magnitude x can be x + m or more (as [`ClaimKind::Below`]).
    Above,
}

impl ClaimKind {
    /// Every kind, in code order.
    pub const ALL: [ClaimKind; 5] = [
        ClaimKind::Zero,
        ClaimKind::AtLeastMinCount,
        ClaimKind::Positive,
        ClaimKind::Below,
        ClaimKind::Above,
    ];

    /// Stable one-byte code.
    pub fn code(self) -> u8 {
        match self {
            ClaimKind::Zero => 0,
            ClaimKind::AtLeastMinCount => 1,
            ClaimKind::Positive => 2,
            ClaimKind::Below => 3,
            ClaimKind::Above => 4,
        }
    }

    /// The kind of a code.
    pub fn from_code(code: u8) -> Option<ClaimKind> {
        ClaimKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// What the claim says under the rules in force, for failure messages: `min_count` is the
    /// smallest publishable count of the rules the release is protected under (11 by default),
    /// so that a message quotes the threshold that applied, not a fixed one.
    pub fn describe_under(self, min_count: u64) -> String {
        let small = min_count.saturating_sub(1);
        match self {
            ClaimKind::Zero => format!("can be 0 (a count from 1 to {small} is confidential)"),
            ClaimKind::AtLeastMinCount => {
                format!("can be {min_count} or more (the smallest publishable count)")
            }
            ClaimKind::Positive => format!(
                "can be 1 or more (a zero of a sensitive breakdown whose total is from 1 to \
                 {small})"
            ),
            ClaimKind::Below | ClaimKind::Above => self.describe().to_owned(),
        }
    }

    /// Short English name, for messages (`can be 0`, `can be ≥ 11`, …).
    pub fn describe(self) -> &'static str {
        match self {
            ClaimKind::Zero => "can be 0",
            ClaimKind::AtLeastMinCount => "can be at least the smallest publishable count",
            ClaimKind::Positive => "can be 1 or more",
            ClaimKind::Below => "can be lower by its protection margin",
            ClaimKind::Above => "can be higher by its protection margin",
        }
    }
}

/// One claim: a confidential value and what the point shows it can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Claim {
    /// The confidential value.
    pub cell: CellRef,
    /// What it can be.
    pub kind: ClaimKind,
}

/// A witness point: the true values changed at a few secret values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// The values changed and by how much (in the measure's unit), sorted by cell.
    pub changes: Vec<(CellRef, f64)>,
    /// The claims this point proves.
    pub claims: Vec<Claim>,
}

/// The certificate of one release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    /// The release version it certifies (filled when the release is written; empty before).
    pub release: String,
    /// Dataset ids, in the order [`CellRef::dataset`] indexes.
    pub datasets: Vec<String>,
    /// Per dataset, measure ids in the order [`CellRef::measure`] indexes.
    pub measures: Vec<Vec<String>>,
    /// [`fingerprint`] of the true values the points start from.
    pub fingerprint: String,
    /// The witness points.
    pub points: Vec<Point>,
}

/// A certificate that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    /// Not a certificate, or a truncated one.
    #[error("not a pilotage disclosure certificate: {0}")]
    Format(String),
    /// Reading or writing failed.
    #[error("certificate: {0}")]
    Io(#[from] std::io::Error),
}

impl Certificate {
    /// Number of claims over all points.
    pub fn claims(&self) -> usize {
        self.points.iter().map(|p| p.claims.len()).sum()
    }

    /// Number of value changes over all points.
    pub fn changes(&self) -> usize {
        self.points.iter().map(|p| p.changes.len()).sum()
    }

    /// The certificate as bytes (gzip of a small JSON header and a binary body): the same
    /// certificate always gives the same bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CertificateError> {
        #[derive(Serialize)]
        struct Header<'a> {
            release: &'a str,
            datasets: &'a [String],
            measures: &'a [Vec<String>],
            fingerprint: &'a str,
            points: usize,
        }
        let header = serde_json::to_vec(&Header {
            release: &self.release,
            datasets: &self.datasets,
            measures: &self.measures,
            fingerprint: &self.fingerprint,
            points: self.points.len(),
        })
        .map_err(|e| CertificateError::Format(e.to_string()))?;
        let mut raw = Vec::with_capacity(64 + header.len() + 24 * self.changes());
        raw.extend_from_slice(MAGIC);
        raw.extend_from_slice(&(header.len() as u64).to_le_bytes());
        raw.extend_from_slice(&header);
        let cell = |raw: &mut Vec<u8>, c: &CellRef| {
            raw.extend_from_slice(&c.dataset.to_le_bytes());
            raw.extend_from_slice(&c.row.to_le_bytes());
            raw.extend_from_slice(&c.measure.to_le_bytes());
        };
        for p in &self.points {
            raw.extend_from_slice(&(p.changes.len() as u32).to_le_bytes());
            for (c, d) in &p.changes {
                cell(&mut raw, c);
                raw.extend_from_slice(&d.to_le_bytes());
            }
            raw.extend_from_slice(&(p.claims.len() as u32).to_le_bytes());
            for claim in &p.claims {
                cell(&mut raw, &claim.cell);
                raw.push(claim.kind.code());
            }
        }
        let mut gz = flate2::write::GzEncoder::new(
            Vec::with_capacity(raw.len() / 4),
            flate2::Compression::fast(),
        );
        gz.write_all(&raw)?;
        Ok(gz.finish()?)
    }

    /// Reads what [`Certificate::to_bytes`] wrote.
    pub fn from_bytes(bytes: &[u8]) -> Result<Certificate, CertificateError> {
        #[derive(Deserialize)]
        struct Header {
            release: String,
            datasets: Vec<String>,
            measures: Vec<Vec<String>>,
            fingerprint: String,
            points: usize,
        }
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut raw)
            .map_err(|e| CertificateError::Format(e.to_string()))?;
        let mut r = Reader { raw: &raw, at: 0 };
        if r.take(MAGIC.len())? != MAGIC {
            return Err(CertificateError::Format("wrong magic".to_owned()));
        }
        let len = u64::from_le_bytes(r.array()?) as usize;
        let header: Header = serde_json::from_slice(r.take(len)?)
            .map_err(|e| CertificateError::Format(e.to_string()))?;
        let mut points = Vec::with_capacity(header.points.min(1 << 24));
        for _ in 0..header.points {
            let n = u32::from_le_bytes(r.array()?) as usize;
            let mut changes = Vec::with_capacity(n.min(1 << 16));
            for _ in 0..n {
                let c = r.cell()?;
                changes.push((c, f64::from_le_bytes(r.array()?)));
            }
            let k = u32::from_le_bytes(r.array()?) as usize;
            let mut claims = Vec::with_capacity(k.min(1 << 16));
            for _ in 0..k {
                let cell = r.cell()?;
                let code = r.take(1)?[0];
                let kind = ClaimKind::from_code(code)
                    .ok_or_else(|| CertificateError::Format(format!("claim code {code}")))?;
                claims.push(Claim { cell, kind });
            }
            points.push(Point { changes, claims });
        }
        if r.at != raw.len() {
            return Err(CertificateError::Format("trailing bytes".to_owned()));
        }
        Ok(Certificate {
            release: header.release,
            datasets: header.datasets,
            measures: header.measures,
            fingerprint: header.fingerprint,
            points,
        })
    }
}

/// Hex SHA-256 of bytes (the certificate's digest in the manifest).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

struct Reader<'a> {
    raw: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CertificateError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.raw.len())
            .ok_or_else(|| CertificateError::Format("truncated".to_owned()))?;
        let s = &self.raw[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], CertificateError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn cell(&mut self) -> Result<CellRef, CertificateError> {
        Ok(CellRef {
            dataset: u16::from_le_bytes(self.array()?),
            row: u32::from_le_bytes(self.array()?),
            measure: u16::from_le_bytes(self.array()?),
        })
    }
}

/// Hex SHA-256 of the true values of a release: every dataset id, measure id and value (the
/// unrounded value of magnitudes), in order. A certificate made on other data (another store,
/// another extraction) has another fingerprint.
pub fn fingerprint(cubes: &[Cube]) -> String {
    let mut h = Sha256::new();
    for cube in cubes {
        h.update(cube.dataset.as_bytes());
        h.update([0u8]);
        h.update((cube.len() as u64).to_le_bytes());
        for m in &cube.measures {
            h.update(m.id.as_bytes());
            h.update([0u8]);
            match &m.values {
                MeasureValues::Counts(v) => {
                    for x in v {
                        match x {
                            Some(x) => h.update(x.to_le_bytes()),
                            None => h.update([0xff; 8]),
                        }
                    }
                }
                MeasureValues::Values(v) => {
                    let raw = m.companion.as_ref().map(|c| &c.raw);
                    for (r, x) in v.iter().enumerate() {
                        match (x, raw.and_then(|raw| raw.get(r))) {
                            (Some(_), Some(raw)) => h.update(raw.to_le_bytes()),
                            (Some(x), None) => h.update(x.to_le_bytes()),
                            (None, _) => h.update([0xff; 8]),
                        }
                    }
                }
            }
        }
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_quote_the_threshold_in_force() {
        assert_eq!(
            ClaimKind::Zero.describe_under(5),
            "can be 0 (a count from 1 to 4 is confidential)"
        );
        assert_eq!(
            ClaimKind::AtLeastMinCount.describe_under(5),
            "can be 5 or more (the smallest publishable count)"
        );
        assert!(
            ClaimKind::Positive
                .describe_under(11)
                .ends_with("from 1 to 10)")
        );
    }

    #[test]
    fn bytes_round_trip() {
        let c = Certificate {
            release: "2025-12-31-abc".to_owned(),
            datasets: vec!["sorties".to_owned()],
            measures: vec![vec!["sorties".to_owned(), "embauches".to_owned()]],
            fingerprint: "00".repeat(32),
            points: vec![Point {
                changes: vec![
                    (
                        CellRef {
                            dataset: 0,
                            row: 3,
                            measure: 1,
                        },
                        -4.0,
                    ),
                    (
                        CellRef {
                            dataset: 0,
                            row: 9,
                            measure: 1,
                        },
                        4.0,
                    ),
                ],
                claims: vec![Claim {
                    cell: CellRef {
                        dataset: 0,
                        row: 3,
                        measure: 1,
                    },
                    kind: ClaimKind::Zero,
                }],
            }],
        };
        let bytes = c.to_bytes().expect("encode");
        assert_eq!(bytes, c.to_bytes().expect("encode"), "deterministic");
        assert_eq!(Certificate::from_bytes(&bytes).expect("decode"), c);
        assert!(Certificate::from_bytes(&bytes[..bytes.len() / 2]).is_err());
        assert!(Certificate::from_bytes(b"not a certificate").is_err());
    }
}
