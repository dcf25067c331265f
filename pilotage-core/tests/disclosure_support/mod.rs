//! Small helpers shared by the disclosure tests: building problems by cell key.

#![allow(dead_code)]

use std::collections::BTreeMap;

use pilotage_core::disclosure::{Cell, CellKind, Contributions, Problem, Published, Relation};

/// Builds a problem cell by cell, remembering indices by key.
#[derive(Default)]
pub struct Builder {
    pub problem: Problem,
    index: BTreeMap<String, usize>,
}

impl Builder {
    /// Adds a cell and returns its index.
    pub fn cell(&mut self, cell: Cell) -> usize {
        let i = self.problem.cells.len();
        assert!(
            self.index.insert(cell.key.clone(), i).is_none(),
            "duplicate key {}",
            cell.key
        );
        self.problem.cells.push(cell);
        i
    }

    /// Adds a person count of the given aggregation level.
    pub fn count(&mut self, key: &str, value: f64, level: u8) -> usize {
        self.cell(Cell::count(key, "t", CellKind::PersonCount, value).with_cost(level, false))
    }

    /// Adds a magnitude with its contributor facts.
    pub fn magnitude(
        &mut self,
        key: &str,
        value: f64,
        contributions: Contributions,
        level: u8,
    ) -> usize {
        let mut cell = Cell::count(key, "m", CellKind::Magnitude, value).with_cost(level, false);
        cell.contributions = contributions;
        self.cell(cell)
    }

    /// Index of a key.
    pub fn at(&self, key: &str) -> usize {
        self.index[key]
    }

    /// Adds `total = Σ parts` by keys.
    pub fn sum(&mut self, total: &str, parts: &[&str]) {
        let relation = Relation::Sum {
            total: self.at(total),
            parts: parts.iter().map(|p| self.at(p)).collect(),
        };
        self.problem.relations.push(relation);
    }

    /// Publishes every cell but the listed keys.
    pub fn publish_all_but(&self, secret: &[&str]) -> Vec<Published> {
        let hidden: Vec<usize> = secret.iter().map(|k| self.at(k)).collect();
        self.problem
            .cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if hidden.contains(&i) {
                    Published::Secret
                } else {
                    Published::Value(c.value)
                }
            })
            .collect()
    }

    /// Keys of the hidden cells of a publication, sorted.
    pub fn secret_keys(&self, published: &[Published]) -> Vec<String> {
        let mut keys: Vec<String> = published
            .iter()
            .enumerate()
            .filter(|(_, p)| **p == Published::Secret)
            .map(|(i, _)| self.problem.cells[i].key.clone())
            .collect();
        keys.sort();
        keys
    }
}

/// A two-way table `rows × cols` with margins: cells `r{i}c{j}`, row totals `r{i}T`, column
/// totals `Tc{j}` and grand total `TT`, from the inner values.
pub fn two_way(b: &mut Builder, prefix: &str, inner: &[&[f64]]) {
    let rows = inner.len();
    let cols = inner[0].len();
    for (i, row) in inner.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            b.count(&format!("{prefix}r{i}c{j}"), v, 0);
        }
        b.count(&format!("{prefix}r{i}T"), row.iter().sum(), 1);
    }
    for j in 0..cols {
        b.count(
            &format!("{prefix}Tc{j}"),
            inner.iter().map(|r| r[j]).sum(),
            1,
        );
    }
    b.count(
        &format!("{prefix}TT"),
        inner.iter().flat_map(|r| r.iter()).sum(),
        2,
    );
    for i in 0..rows {
        let parts: Vec<String> = (0..cols).map(|j| format!("{prefix}r{i}c{j}")).collect();
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        b.sum(&format!("{prefix}r{i}T"), &parts);
    }
    for j in 0..cols {
        let parts: Vec<String> = (0..rows).map(|i| format!("{prefix}r{i}c{j}")).collect();
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        b.sum(&format!("{prefix}Tc{j}"), &parts);
    }
    let parts: Vec<String> = (0..cols).map(|j| format!("{prefix}Tc{j}")).collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    b.sum(&format!("{prefix}TT"), &parts);
    let parts: Vec<String> = (0..rows).map(|i| format!("{prefix}r{i}T")).collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    b.sum(&format!("{prefix}TT"), &parts);
}
