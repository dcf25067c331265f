//! Exact-disclosure detection by Gaussian elimination, as GaussSuppression does it.
//!
//! Published cells are constants; what remains is a linear system over the hidden cells. A
//! hidden cell is exactly recoverable when its unit vector lies in the row space of that
//! system. The reduced row echelon form, built incrementally on sparse rows, tells it: the
//! cell must be a pivot whose row has no other non-zero entry.

/// Entries smaller than this (relative to 1, coefficients being small rationals) are zero.
const EPS: f64 = 1e-9;

/// A sparse row sorted by column.
type Row = Vec<(usize, f64)>;

/// For each of `unknowns` columns, whether the equality `rows` determine it exactly.
pub(crate) fn determined(unknowns: usize, rows: &[Row]) -> Vec<bool> {
    let mut pivot_of: Vec<Option<usize>> = vec![None; unknowns];
    let mut basis: Vec<(usize, Row)> = Vec::new();
    for input in rows {
        // Reduce against the basis (which is kept in reduced form, so one pass suffices).
        let mut acc: std::collections::BTreeMap<usize, f64> = std::collections::BTreeMap::new();
        for &(c, v) in input {
            *acc.entry(c).or_insert(0.0) += v;
        }
        let pivots_here: Vec<(usize, f64)> = acc
            .iter()
            .filter_map(|(&c, &v)| pivot_of[c].map(|_| (c, v)))
            .collect();
        for (c, factor) in pivots_here {
            if let Some(b) = pivot_of[c] {
                for &(col, v) in &basis[b].1 {
                    *acc.entry(col).or_insert(0.0) -= factor * v;
                }
            }
        }
        let row: Row = acc.into_iter().filter(|(_, v)| v.abs() > EPS).collect();
        let Some(&(pivot, pv)) = row
            .iter()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()).then_with(|| b.0.cmp(&a.0)))
        else {
            continue;
        };
        let row: Row = row.into_iter().map(|(c, v)| (c, v / pv)).collect();
        // Eliminate the new pivot from the existing basis rows.
        for (_, other) in basis.iter_mut() {
            if let Ok(pos) = other.binary_search_by_key(&pivot, |e| e.0) {
                let factor = other[pos].1;
                let mut merged: Row = Vec::with_capacity(other.len() + row.len());
                let (mut i, mut j) = (0, 0);
                while i < other.len() || j < row.len() {
                    let take_other = j >= row.len() || (i < other.len() && other[i].0 < row[j].0);
                    let take_row = i >= other.len() || (j < row.len() && row[j].0 < other[i].0);
                    let (col, v) = if take_other {
                        i += 1;
                        other[i - 1]
                    } else if take_row {
                        j += 1;
                        (row[j - 1].0, -factor * row[j - 1].1)
                    } else {
                        i += 1;
                        j += 1;
                        (other[i - 1].0, other[i - 1].1 - factor * row[j - 1].1)
                    };
                    if v.abs() > EPS {
                        merged.push((col, v));
                    }
                }
                *other = merged;
            }
        }
        pivot_of[pivot] = Some(basis.len());
        basis.push((pivot, row));
    }
    let mut out = vec![false; unknowns];
    for (pivot, row) in &basis {
        out[*pivot] = row.len() == 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::determined;

    #[test]
    fn a_chain_of_two_equations_determines_the_middle_cells() {
        // x0 + x1 = c, x1 + x2 = c', x0 - x2 = c'' : rank 2, nothing determined.
        let rows = vec![
            vec![(0, 1.0), (1, 1.0)],
            vec![(1, 1.0), (2, 1.0)],
            vec![(0, 1.0), (2, -1.0)],
        ];
        assert_eq!(determined(3, &rows), vec![false, false, false]);
        // Adding x0 + x2 = c''' makes every cell determined.
        let mut rows = rows;
        rows.push(vec![(0, 1.0), (2, 1.0)]);
        assert_eq!(determined(3, &rows), vec![true, true, true]);
    }

    #[test]
    fn a_single_unknown_row_is_determined() {
        let rows = vec![vec![(1, 1.0)], vec![(0, 1.0), (2, 1.0)]];
        assert_eq!(determined(3, &rows), vec![false, true, false]);
    }
}
