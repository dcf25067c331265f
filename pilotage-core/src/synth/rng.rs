//! Seeded random streams and the few distributions the simulation draws from.
//!
//! Every stream is a ChaCha8 generator keyed by SHA-256 of the run seed and a label naming
//! what it drives (a table, a year, a département…), so adding draws to one stream never
//! shifts another and the output stays byte-identical for a given seed.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

/// A seeded random stream with the distributions the generator needs.
pub(crate) struct Stream {
    inner: ChaCha8Rng,
}

impl Stream {
    /// Opens the stream named by `label` and two integer keys, derived from the run `seed`.
    pub(crate) fn new(seed: u64, label: &str, a: u64, b: u64) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"pilotage-synth-stream");
        hasher.update(seed.to_le_bytes());
        hasher.update((label.len() as u64).to_le_bytes());
        hasher.update(label.as_bytes());
        hasher.update(a.to_le_bytes());
        hasher.update(b.to_le_bytes());
        let digest = hasher.finalize();
        let mut key = [0u8; 32];
        key.copy_from_slice(&digest);
        Self {
            inner: ChaCha8Rng::from_seed(key),
        }
    }

    /// 64 uniformly random bits.
    pub(crate) fn bits(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.bits() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform integer in `lo..=hi` (returns `lo` when `hi <= lo`).
    pub(crate) fn int(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = (hi - lo) as u64 + 1;
        lo + (self.bits() % span) as i64
    }

    /// Uniform index in `0..n` (`n` must be positive).
    pub(crate) fn index(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        (self.bits() % n as u64) as usize
    }

    /// Uniform real in [lo, hi).
    pub(crate) fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Standard normal draw (Box–Muller).
    pub(crate) fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Log-normal draw with the given median and log-scale standard deviation.
    pub(crate) fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// Exponential draw with the given mean.
    pub(crate) fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }

    /// Poisson draw (Knuth for small means, rounded normal approximation above 30).
    pub(crate) fn poisson(&mut self, mean: f64) -> u64 {
        if mean <= 0.0 {
            return 0;
        }
        if mean > 30.0 {
            return (mean + mean.sqrt() * self.normal()).round().max(0.0) as u64;
        }
        let limit = (-mean).exp();
        let mut k = 0u64;
        let mut p = self.unit();
        while p > limit {
            k += 1;
            p *= self.unit();
        }
        k
    }

    /// Geometric count ≥ 1 with the given mean (mean ≥ 1).
    pub(crate) fn count_at_least_one(&mut self, mean: f64) -> u32 {
        let p = 1.0 / mean.max(1.0);
        let mut k = 1u32;
        while k < 50 && !self.chance(p) {
            k += 1;
        }
        k
    }

    /// Picks an item of a small weighted table `(item, weight)`.
    pub(crate) fn pick<T: Copy>(&mut self, table: &[(T, f64)]) -> T {
        let total: f64 = table.iter().map(|(_, w)| *w).sum();
        let mut x = self.unit() * total;
        for (item, w) in table {
            if x < *w {
                return *item;
            }
            x -= *w;
        }
        table[table.len() - 1].0
    }

    /// Fills 32 bytes (used to derive person hashes).
    pub(crate) fn bytes32(&mut self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for chunk in out.chunks_mut(8) {
            chunk.copy_from_slice(&self.bits().to_le_bytes());
        }
        out
    }
}

/// A cumulative weight table for repeated draws over many items (binary search).
#[derive(Debug, Clone, Default)]
pub(crate) struct Cumulative {
    cumulative: Vec<f64>,
}

impl Cumulative {
    /// Builds the table from non-negative weights.
    pub(crate) fn new(weights: impl IntoIterator<Item = f64>) -> Self {
        let mut acc = 0.0;
        let cumulative = weights
            .into_iter()
            .map(|w| {
                acc += w.max(0.0);
                acc
            })
            .collect();
        Self { cumulative }
    }

    /// True when the table has no item or only zero weights.
    pub(crate) fn is_empty(&self) -> bool {
        self.cumulative.last().is_none_or(|t| *t <= 0.0)
    }

    /// Draws an index with probability proportional to its weight (0 if the table is empty).
    pub(crate) fn draw(&self, stream: &mut Stream) -> usize {
        let Some(total) = self.cumulative.last() else {
            return 0;
        };
        let x = stream.unit() * total;
        self.cumulative
            .partition_point(|c| *c <= x)
            .min(self.cumulative.len() - 1)
    }
}
