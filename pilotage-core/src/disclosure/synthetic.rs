//! Random hierarchical tables, for property tests and benchmarks of disclosure control.
//!
//! A table is the product of several hierarchical dimensions (territory, time, breakdowns):
//! every combination of one node per dimension is a cell, and every internal node of every
//! dimension gives one `total = Σ children` relation per combination of the other dimensions.
//! Leaf values are drawn so that a chosen share are small counts (1–10), which makes primary
//! cells plentiful; totals are exact sums.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::model::{Cell, CellKind, CostHint, Problem, Relation};

/// One hierarchical dimension, described by its fan-out per level from the root: `[13, 8]` is
/// a root with 13 children each with 8 leaves (a national total, 13 régions, 104 départements).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dimension {
    /// Name used in cell keys.
    pub name: String,
    /// Children per node at each level, root first.
    pub fanout: Vec<usize>,
}

impl Dimension {
    /// A dimension named `name` with the given fan-outs.
    pub fn new(name: &str, fanout: &[usize]) -> Self {
        Dimension {
            name: name.to_string(),
            fanout: fanout.to_vec(),
        }
    }

    /// Nodes as `(parent, height)` in breadth-first order, root first (height 0 for leaves).
    fn nodes(&self) -> Vec<(Option<usize>, u8)> {
        let depth = self.fanout.len();
        let mut nodes = vec![(None, depth as u8)];
        let mut level = vec![0usize];
        for (l, &fan) in self.fanout.iter().enumerate() {
            let mut next = Vec::new();
            for &parent in &level {
                for _ in 0..fan {
                    next.push(nodes.len());
                    nodes.push((Some(parent), (depth - l - 1) as u8));
                }
            }
            level = next;
        }
        nodes
    }
}

/// Parameters of a random problem.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSpec {
    /// The dimensions; the first one's root is a headline total (national).
    pub dimensions: Vec<Dimension>,
    /// Share of leaf cells that are zero.
    pub zero_share: f64,
    /// Share of leaf cells from 1 to 10.
    pub small_share: f64,
    /// Leaf cells that are neither are drawn uniformly from 11 to this.
    pub max_value: u64,
    /// Seed of the draw.
    pub seed: u64,
}

/// Number of cells a spec produces.
pub fn cell_count(dimensions: &[Dimension]) -> usize {
    dimensions.iter().map(|d| d.nodes().len()).product()
}

/// Draws a problem of person counts (default rules) from `spec`.
pub fn hierarchical_problem(spec: &TableSpec) -> Problem {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let dims: Vec<Vec<(Option<usize>, u8)>> =
        spec.dimensions.iter().map(Dimension::nodes).collect();
    let sizes: Vec<usize> = dims.iter().map(Vec::len).collect();
    let n: usize = sizes.iter().product();
    // Mixed-radix strides, last dimension fastest.
    let mut strides = vec![1usize; dims.len()];
    for d in (0..dims.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * sizes[d + 1];
    }
    let coords = |i: usize| -> Vec<usize> {
        (0..dims.len())
            .map(|d| (i / strides[d]) % sizes[d])
            .collect()
    };

    let mut values = vec![0.0f64; n];
    let mut is_leaf = vec![false; n];
    for (i, leaf) in is_leaf.iter_mut().enumerate() {
        let c = coords(i);
        if c.iter().enumerate().all(|(d, &k)| dims[d][k].1 == 0) {
            *leaf = true;
            let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            values[i] = if u < spec.zero_share {
                0.0
            } else if u < spec.zero_share + spec.small_share {
                (1 + rng.next_u64() % 10) as f64
            } else {
                (11 + rng.next_u64() % spec.max_value.saturating_sub(10).max(1)) as f64
            };
        }
    }
    // Aggregate leaves up every ancestor combination.
    let mut totals = vec![0.0f64; n];
    for i in (0..n).filter(|&i| is_leaf[i]) {
        let c = coords(i);
        let ancestors: Vec<Vec<usize>> = c
            .iter()
            .enumerate()
            .map(|(d, &k)| {
                let mut chain = vec![k];
                let mut cur = k;
                while let Some(p) = dims[d][cur].0 {
                    chain.push(p);
                    cur = p;
                }
                chain
            })
            .collect();
        let mut combo = vec![0usize; dims.len()];
        loop {
            let index: usize = (0..dims.len())
                .map(|d| ancestors[d][combo[d]] * strides[d])
                .sum();
            totals[index] += values[i];
            let mut d = 0;
            while d < dims.len() {
                combo[d] += 1;
                if combo[d] < ancestors[d].len() {
                    break;
                }
                combo[d] = 0;
                d += 1;
            }
            if d == dims.len() {
                break;
            }
        }
    }

    let cells = (0..n)
        .map(|i| {
            let c = coords(i);
            let key = c
                .iter()
                .enumerate()
                .map(|(d, k)| format!("{}={k}", spec.dimensions[d].name))
                .collect::<Vec<_>>()
                .join("/");
            let level: u8 = c.iter().enumerate().map(|(d, &k)| dims[d][k].1).sum();
            let mut cell = Cell::count(key, "synthetic", CellKind::PersonCount, totals[i]);
            cell.cost = CostHint {
                level,
                headline: c[0] == 0,
            };
            cell
        })
        .collect();

    let mut relations = Vec::new();
    for i in 0..n {
        let c = coords(i);
        for d in 0..dims.len() {
            let k = c[d];
            let children: Vec<usize> = (0..sizes[d])
                .filter(|&ch| dims[d][ch].0 == Some(k))
                .collect();
            if children.is_empty() {
                continue;
            }
            let base = i - k * strides[d];
            relations.push(Relation::Sum {
                total: i,
                parts: children.iter().map(|&ch| base + ch * strides[d]).collect(),
            });
        }
    }
    Problem {
        cells,
        relations,
        ..Problem::default()
    }
}
