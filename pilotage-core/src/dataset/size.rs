//! The declared size of a dataset: how many rows and published values its crossings can make,
//! before any data is read. Every cell costs suppression and audit time in the disclosure stage,
//! so the size is part of what a definition commits to (it is printed on its methodology page).

use super::model::{Definition, DimensionType};
use super::validate::level_names;

/// The most a definition can publish: one row per member combination of every projection (a
/// projection is one level per dimension, at or above the finest levels of one crossing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeclaredSize {
    /// Number of distinct projections over all crossings.
    pub projections: usize,
    /// Rows at most (cells of the crossing of all dimensions). A computed cube holds fewer:
    /// a row no unit reaches is absent.
    pub rows: u64,
    /// Measures (value columns) per row, derived ones included.
    pub measures: usize,
}

impl DeclaredSize {
    /// Published values at most: rows × measures (the cells disclosure control must clear).
    pub fn values(&self) -> u64 {
        self.rows * self.measures as u64
    }
}

/// The declared size of a definition, counting `regions` régions and `departements`
/// départements on a territory dimension. Members published at national level only are left out
/// of the rows below France, as the cube engine leaves them out.
pub fn declared_size(def: &Definition, regions: u64, departements: u64) -> DeclaredSize {
    let years = u64::try_from(def.last_year - def.first_year + 1).unwrap_or(0);
    // Members per level of each dimension, coarsest first; and the members of the finest level
    // restricted to national level.
    let members: Vec<Vec<u64>> = def
        .dimensions
        .iter()
        .map(|d| match d.kind {
            DimensionType::Territory => vec![1, regions, departements],
            DimensionType::Period => vec![years, 4 * years, 12 * years],
            DimensionType::Categorical => std::iter::once(1)
                .chain(d.levels.iter().map(|l| l.members.len() as u64))
                .collect(),
        })
        .collect();
    let national_only: Vec<u64> = def
        .dimensions
        .iter()
        .map(|d| {
            d.levels.last().map_or(0, |finest| {
                finest
                    .members
                    .iter()
                    .filter(|m| d.national_only.contains(&m.code))
                    .count() as u64
            })
        })
        .collect();
    let territory = def
        .dimensions
        .iter()
        .position(|d| d.kind == DimensionType::Territory);

    let mut seen = std::collections::BTreeSet::new();
    let mut rows = 0u64;
    for crossing in &def.crossings {
        let max: Vec<usize> = def
            .dimensions
            .iter()
            .map(|d| {
                let names = level_names(d);
                crossing
                    .get(&d.id)
                    .and_then(|l| names.iter().position(|n| n == l))
                    .unwrap_or(0)
            })
            .collect();
        let mut combo = vec![0usize; max.len()];
        loop {
            if seen.insert(combo.clone()) {
                let below_france = territory.is_some_and(|t| combo[t] > 0);
                rows += combo
                    .iter()
                    .enumerate()
                    .map(|(d, &level)| {
                        let n = members[d][level];
                        let finest = level + 1 == members[d].len() && level > 0;
                        if below_france && finest {
                            n - national_only[d]
                        } else {
                            n
                        }
                    })
                    .product::<u64>();
            }
            if !next_combination(&mut combo, &max) {
                break;
            }
        }
    }
    DeclaredSize {
        projections: seen.len(),
        rows,
        measures: def.measures.len(),
    }
}

/// Steps `combo` to the next combination in mixed radix (digit `d` from 0 to `max[d]`, the
/// first digit fastest); `false` once every combination has been given (`combo` is then back
/// to all zeros).
pub(crate) fn next_combination<T>(combo: &mut [T], max: &[T]) -> bool
where
    T: Copy + PartialOrd + Default + std::ops::Add<Output = T> + From<u8>,
{
    for (digit, &most) in combo.iter_mut().zip(max) {
        if *digit < most {
            *digit = *digit + T::from(1);
            return true;
        }
        *digit = T::default();
    }
    false
}
