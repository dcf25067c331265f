//! Record moves across datasets: a record counted in two tables moves in both.
//!
//! Where two datasets publish the same figure (an equality between tables, see
//! `grid::equalities_between_tables`), the records behind one table are also behind the
//! other: the applications a structure answered are counted by `candidatures` month by month
//! and by `candidatures_delais` year by year, bucketed by delay. A record move in one table
//! changes the tied figures, so the same records move in the other table too: at the same
//! members of the dimensions both tables have (the finest member the other table holds above
//! each one, or a leaf below it where the other table is finer), and at one leaf of the
//! dimensions only the other table has, chosen so that the rows the records leave hold as
//! many as possible. Tables reached that way are mirrored in
//! turn, each table once. The final check of every point (every relation it touches) stays
//! the judge: a mirror that cannot keep a tie simply gives a move that is not taken.

use super::{Corners, Step};
use crate::disclosure::release::grid::{NONE, RelationKind, System, Table};
use crate::disclosure::release::witness::RowIndex;

/// How the records of one table are found in another that publishes some of the same figures.
pub(crate) struct Link {
    /// The other table.
    pub(super) to: usize,
    /// Measures tied by an equality: (measure here, measure there).
    pub(super) measures: Vec<(usize, usize)>,
    /// Per dimension of the other table: the dimension here with the same id and kind, and
    /// for each member here the finest member there at or above it ([`NONE`] if none); `None`
    /// for a dimension only the other table has.
    dims: Vec<Option<(usize, Vec<u32>)>>,
    /// Per dimension of the other table, its total member (the root at depth 0).
    pub(super) roots: Vec<u32>,
}

impl Link {
    /// The member of the other table where the records of `leaf` (a leaf here) are counted:
    /// the same members in the dimensions both tables have (the finest there at or above
    /// each), the total in the dimensions only the other table has; `None` when a member has
    /// no counterpart there.
    pub(super) fn project(&self, leaf: &[u32]) -> Option<Vec<u32>> {
        self.dims
            .iter()
            .zip(&self.roots)
            .map(|(d, &root)| match d {
                Some((ka, map)) => Some(map[leaf[*ka] as usize]).filter(|&m| m != NONE),
                None => Some(root),
            })
            .collect()
    }
}

/// The links of every table, from the equalities between tables of the system.
pub(crate) fn links(
    tables: &[Table],
    system: &System,
    rows: &[Option<RowIndex>],
) -> Vec<Vec<Link>> {
    let mut pairs: Vec<(usize, usize, usize, usize)> = Vec::new();
    for rel in &system.relations {
        if !matches!(rel.kind, RelationKind::Sum(k) if k == 1.0) || rel.parts.len() != 1 {
            continue;
        }
        let (ta, ma, _) = system.locate(rel.total as usize);
        let (tb, mb, _) = system.locate(rel.parts[0] as usize);
        if ta != tb {
            pairs.push((ta, tb, ma, mb));
            pairs.push((tb, ta, mb, ma));
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    let mut out: Vec<Vec<Link>> = (0..tables.len()).map(|_| Vec::new()).collect();
    for run in pairs.chunk_by(|x, y| (x.0, x.1) == (y.0, y.1)) {
        let (from, to) = (run[0].0, run[0].1);
        let Some(index) = rows[to].as_ref() else {
            continue;
        };
        let (a, b) = (&tables[from], &tables[to]);
        let dims = b
            .dims
            .iter()
            .enumerate()
            .map(|(kb, db)| {
                let ka = a
                    .dims
                    .iter()
                    .position(|da| da.id == db.id && da.kind == db.kind)?;
                let da = &a.dims[ka];
                let map = (0..da.codes.len())
                    .map(|m| {
                        let mut cur = m as u32;
                        while cur != NONE {
                            if let Some(&x) = index.by_code[kb].get(&da.codes[cur as usize]) {
                                return x;
                            }
                            cur = da.parent[cur as usize];
                        }
                        NONE
                    })
                    .collect();
                Some((ka, map))
            })
            .collect();
        let roots = b
            .dims
            .iter()
            .map(|d| {
                (0..d.codes.len() as u32)
                    .find(|&m| d.parent[m as usize] == NONE && d.depth[m as usize] == 0)
                    .unwrap_or(NONE)
            })
            .collect();
        out[from].push(Link {
            to,
            measures: run.iter().map(|x| (x.2, x.3)).collect(),
            dims,
            roots,
        });
    }
    out
}

/// Most leaves below the first corner weighed for one mirror.
const MIRROR_LEAVES: usize = 8;

impl Step<'_, '_> {
    /// The tables tied to this step's table through a measure of its kind, with the tied
    /// measures there.
    fn tied(&self) -> impl Iterator<Item = (&Link, Vec<usize>)> {
        self.space.links[self.t].iter().filter_map(|link| {
            let mut tied: Vec<usize> = link
                .measures
                .iter()
                .filter(|(here, _)| self.kind.contains(here))
                .map(|x| x.1)
                .collect();
            tied.sort_unstable();
            tied.dedup();
            (!tied.is_empty()).then_some((link, tied))
        })
    }

    /// Whether records at `leaf` (a leaf of this step's table) have a place in every table
    /// tied to it: a leaf there, below the member that counts them, whose rows all exist
    /// (with records where `mass`, for records that leave). A table counts its records at a
    /// finer crossing than another in some dimensions (applications by département and
    /// structure kind, where refusals are by département and kind group): a leaf that holds
    /// here may stand for records no row there can hold, and a move through it cannot be
    /// mirrored. Checked where moves choose their leaves, so that the moves scored are
    /// those that can be.
    pub(super) fn placeable(&self, leaf: &[u32], mass: bool) -> bool {
        self.tied().all(|(link, tied)| {
            let (Some(shape), Some(member)) =
                (self.space.shapes[link.to].as_ref(), link.project(leaf))
            else {
                return false;
            };
            let there = Step {
                space: self.space,
                shape,
                t: link.to,
                kind: &tied,
                over: self.over,
                breadth: self.breadth,
            };
            there.leaf_below_here(&member, mass).is_some()
        })
    }

    /// Adds to `out` (the image of `corners` in this step's table) the image of the same
    /// records in every table tied to it, and in the tables tied to those (each table once,
    /// `visited` holding those done). In each tied table the records are of the `choice`-th
    /// kind that holds the tied measures (the last one when it has fewer; `varied` is set
    /// when some table had more than `choice`). `None` when the records cannot be placed in
    /// a tied table (a member it does not hold, a row it lacks).
    pub(super) fn mirror(
        &self,
        corners: &Corners,
        out: &mut Vec<(u32, f64)>,
        visited: &mut Vec<usize>,
        choice: usize,
        varied: &mut bool,
    ) -> Option<()> {
        for (link, tied) in self.tied() {
            if visited.contains(&link.to) {
                continue;
            }
            let first = tied[0];
            let shape = self.space.shapes[link.to].as_ref()?;
            // The tied measures alone first, then every kind of the table that holds them.
            let mut kinds: Vec<&[usize]> = vec![&tied];
            kinds.extend(
                shape.kinds[first]
                    .iter()
                    .filter(|k| *k != &tied && tied.iter().all(|m| k.contains(m)))
                    .map(Vec::as_slice),
            );
            *varied |= kinds.len() > choice + 1;
            let kind = kinds[choice.min(kinds.len() - 1)];
            let index = self.space.rows[link.to].as_ref()?;
            // The corners seen from the other table: its own dimensions at their total.
            let mut projected: Vec<(Vec<u32>, f64)> = Vec::with_capacity(corners.len());
            for (leaf, sign) in corners {
                projected.push((link.project(leaf)?, *sign));
            }
            projected.sort_by(|x, y| x.0.cmp(&y.0));
            let mut merged: Vec<(Vec<u32>, f64)> = Vec::with_capacity(projected.len());
            for (leaf, sign) in projected {
                match merged.last_mut() {
                    Some(last) if last.0 == leaf => last.1 += sign,
                    _ => merged.push((leaf, sign)),
                }
            }
            merged.retain(|x| x.1.abs() > 1e-12);
            if merged.is_empty() {
                continue;
            }
            if link.roots.contains(&NONE) {
                return None;
            }
            visited.push(link.to);
            let step = Step {
                space: self.space,
                shape,
                t: link.to,
                kind,
                over: self.over,
                breadth: self.breadth,
            };
            // Each corner is a member there, coarser than a leaf in the other table's own
            // dimensions (at their total) and where it is finer than here (a year for a table
            // by month): the records go to a leaf below it with records (the fullest). The
            // same leaf for every corner where they share the member, so that the rows above
            // the leaf see the records come and go, when one exists; else each corner its own.
            let all: Vec<usize> = (0..shape.patterns.len()).collect();
            let dims = &self.space.tables[link.to].dims;
            let place = |first: &[u32], member: &[u32]| -> Vec<u32> {
                member
                    .iter()
                    .enumerate()
                    .map(|(k, &m)| {
                        if index.children[k][m as usize].is_empty() {
                            return m;
                        }
                        let depth = dims[k].depth[m as usize];
                        if shape.ancestor(k, first[k], depth) == m {
                            first[k]
                        } else {
                            shape.leaves[k][m as usize].first().copied().unwrap_or(m)
                        }
                    })
                    .collect()
            };
            let shared = step
                .search_below(&merged[0].0, true, MIRROR_LEAVES, false)
                .into_iter()
                .map(|first| {
                    merged
                        .iter()
                        .map(|(member, sign)| (place(&first, member), *sign))
                        .collect::<Corners>()
                })
                .find(|placed| {
                    placed
                        .iter()
                        .all(|(leaf, _)| step.holds(leaf, &all, true).is_some())
                });
            let placed: Corners = match shared {
                Some(placed) => placed,
                None => merged
                    .iter()
                    .map(|(member, sign)| {
                        let leaf = step
                            .leaf_below_here(member, true)
                            .or_else(|| step.leaf_below_here(member, false))?;
                        Some((leaf, *sign))
                    })
                    .collect::<Option<Corners>>()?,
            };
            let image = step.image_here(&placed)?;
            out.extend(image);
            step.mirror(&placed, out, visited, choice, varied)?;
        }
        Some(())
    }
}
