//! Parcours-side datasets from the ASP extraction: beneficiaries, ETP, exits.
//!
//! Beneficiaries and exits are placed in the département of the employing structure; ETP (both
//! conventionnés and réalisés) in the département of the annexe financière, who funds.

use super::applications::{translate, window};
use arrow_array::{Int32Array, Int64Array};

use super::columns::{CodeTable, dates, flags, floats, ints, ints32, opt, position, strings};
use super::prepared::Structures;
use super::{IndicatorError, Prepared};
use crate::calendar::{days_from_civil, days_in_month};
use crate::cube::int_map::IntMap;
use crate::cube::{CubeBuilder, MeasureId, NONE};
use crate::dataset::computation::{NON, NON_RENSEIGNE, OUI};
use crate::dataset::{Definition, MeasureKind};
use crate::domain::{
    AfState, AgeBracket, AspMeasure, Code, DEFAULT_ANNUAL_FULL_TIME_HOURS, EducationLevel,
    EmiState, ExitCategory, ExitMotive, RsaStatus, Sex, StructureKind, UnemploymentDuration,
    exit_is_examined,
};
use crate::source::SourceTable;

use MeasureKind::{Events, Magnitude, Median, Persons};

/// The flag characteristics, as dimension ids, in the order of [`Contract::flags`].
pub const FLAG_DIMENSIONS: [&str; 5] = ["ass", "aah", "rqth", "qpv", "zrr"];

/// A contract's situation at hiring and structure.
#[derive(Debug, Clone, Copy)]
struct Contract {
    structure: u32,
    rsa: RsaStatus,
    /// ASS, AAH, RQTH, QPV, ZRR.
    flags: [bool; 5],
    education: Option<EducationLevel>,
    duration: Option<UnemploymentDuration>,
}

fn contracts(p: &Prepared<'_>) -> Result<IntMap<i64, Contract>, IndicatorError> {
    let t = SourceTable::Contrats;
    let structures = p.structures()?;
    let rsa_t = CodeTable::<RsaStatus>::new();
    let edu_t = CodeTable::<EducationLevel>::new();
    let dur_t = CodeTable::<UnemploymentDuration>::new();
    let mut out = IntMap::default();
    for batch in p.sources.batches(t) {
        let id = ints(batch, t, "id")?;
        let asp = ints(batch, t, "structure_asp_id")?;
        let rsa = strings(batch, t, "rsa")?;
        let fl = [
            flags(batch, t, "ass")?,
            flags(batch, t, "aah")?,
            flags(batch, t, "rqth")?,
            flags(batch, t, "qpv")?,
            flags(batch, t, "zrr")?,
        ];
        let edu = strings(batch, t, "education_level")?;
        let dur = strings(batch, t, "unemployment_duration")?;
        for i in 0..batch.num_rows() {
            let structure = structures.by_asp_id(asp.value(i), t, "structure_asp_id")?;
            out.insert(
                id.value(i),
                Contract {
                    structure,
                    rsa: rsa_t.at(rsa, i, t, "rsa")?.unwrap_or(RsaStatus::Non),
                    flags: [
                        fl[0].value(i),
                        fl[1].value(i),
                        fl[2].value(i),
                        fl[3].value(i),
                        fl[4].value(i),
                    ],
                    education: edu_t.at(edu, i, t, "education_level")?,
                    duration: dur_t.at(dur, i, t, "unemployment_duration")?,
                },
            );
        }
    }
    Ok(out)
}

/// Salariés: id → (dense person id, sex, birth year).
fn salaries(p: &Prepared<'_>) -> Result<IntMap<i64, (u32, Sex, i32)>, IndicatorError> {
    let t = SourceTable::Salaries;
    let sex_t = CodeTable::<Sex>::new();
    let mut out = IntMap::default();
    for batch in p.sources.batches(t) {
        let id = ints(batch, t, "id")?;
        let sex = strings(batch, t, "sex")?;
        let birth = ints32(batch, t, "birth_year")?;
        for i in 0..batch.num_rows() {
            let s = sex_t
                .at(sex, i, t, "sex")?
                .ok_or(IndicatorError::UnknownCode {
                    table: t.name(),
                    column: "sex",
                    value: String::new(),
                })?;
            let next = out.len() as u32;
            out.insert(id.value(i), (next, s, birth.value(i)));
        }
    }
    Ok(out)
}

/// Annexes financières that count: id → (structure, département, measure, annual hours).
struct Af {
    structure: u32,
    dep: u32,
    kind: StructureKind,
    annual_hours: f64,
}

fn annexes(p: &Prepared<'_>) -> Result<IntMap<i64, Af>, IndicatorError> {
    let t = SourceTable::AnnexesFinancieres;
    let structures = p.structures()?;
    let state_t = CodeTable::<AfState>::new();
    let measure_t = CodeTable::<AspMeasure>::new();
    let mut out = IntMap::default();
    for batch in p.sources.batches(t) {
        let id = ints(batch, t, "id")?;
        let asp = ints(batch, t, "structure_asp_id")?;
        let state = strings(batch, t, "state")?;
        let measure = strings(batch, t, "measure")?;
        let dep = strings(batch, t, "departement")?;
        let hours = floats(batch, t, "heures_annuelles_etp")?;
        for i in 0..batch.num_rows() {
            if !state_t
                .at(state, i, t, "state")?
                .is_some_and(AfState::counts)
            {
                continue;
            }
            let Some(kind) = measure_t
                .at(measure, i, t, "measure")?
                .filter(|m| m.counts_in_etp())
                .and_then(AspMeasure::kind)
            else {
                continue;
            };
            let structure = structures.by_asp_id(asp.value(i), t, "structure_asp_id")?;
            out.insert(
                id.value(i),
                Af {
                    structure,
                    dep: p.context.geography.index(dep.value(i)).unwrap_or(NONE),
                    kind,
                    annual_hours: opt(hours, i)
                        .filter(|h| *h > 0.0)
                        .unwrap_or(DEFAULT_ANNUAL_FULL_TIME_HOURS),
                },
            );
        }
    }
    Ok(out)
}

/// The columns of a batch of monthly declarations (EMI) the computations read.
struct EmiColumns<'a> {
    salarie: &'a Int64Array,
    contrat: &'a Int64Array,
    af: &'a Int64Array,
    year: &'a Int32Array,
    month: &'a Int32Array,
}

/// Calls `f(columns, row, hours)` for every validated monthly declaration (VALIDE, DEBLOQUE)
/// with hours worked (> 0): the rows every parcours-side measure starts from.
fn for_each_worked_month(
    p: &Prepared<'_>,
    mut f: impl FnMut(&EmiColumns<'_>, usize, f64) -> Result<(), IndicatorError>,
) -> Result<(), IndicatorError> {
    let t = SourceTable::EtatsMensuels;
    let state_t = CodeTable::<EmiState>::new();
    for batch in p.sources.batches(t) {
        let columns = EmiColumns {
            salarie: ints(batch, t, "salarie_id")?,
            contrat: ints(batch, t, "contrat_id")?,
            af: ints(batch, t, "af_id")?,
            year: ints32(batch, t, "year")?,
            month: ints32(batch, t, "month")?,
        };
        let hours = floats(batch, t, "hours_worked")?;
        let state = strings(batch, t, "state")?;
        for i in 0..batch.num_rows() {
            let h = hours.value(i);
            if h > 0.0
                && state_t
                    .at(state, i, t, "state")?
                    .is_some_and(EmiState::is_validated)
            {
                f(&columns, i, h)?;
            }
        }
    }
    Ok(())
}

pub(super) fn beneficiaires(
    b: &mut CubeBuilder,
    def: &Definition,
    p: &Prepared<'_>,
) -> Result<(), IndicatorError> {
    let w = window(def);
    let structures = p.structures()?;
    let contracts = contracts(p)?;
    let salaries = salaries(p)?;
    let [terr, per, kind_d, sex_d, age_d, rsa_d, dur_d, edu_d] = b.dim_ids([
        "territoire",
        "periode",
        "type_structure",
        "sexe",
        "tranche_age",
        "rsa",
        "duree_chomage",
        "niveau_formation",
    ])?;
    let flag_dims = FLAG_DIMENSIONS
        .iter()
        .map(|d| b.dim(d))
        .collect::<Result<Vec<_>, _>>()?;
    let yes_no: Vec<[u32; 2]> = flag_dims
        .iter()
        .map(|&d| {
            [
                b.code(d, OUI).unwrap_or(NONE),
                b.code(d, NON).unwrap_or(NONE),
            ]
        })
        .collect();
    let kinds = translate::<StructureKind>(b, kind_d);
    let sexes = translate::<Sex>(b, sex_d);
    let ages = translate::<AgeBracket>(b, age_d);
    let rsas = translate::<RsaStatus>(b, rsa_d);
    let durs = translate::<UnemploymentDuration>(b, dur_d);
    let dur_nr = b.code(dur_d, NON_RENSEIGNE).unwrap_or(NONE);
    let edus = translate::<EducationLevel>(b, edu_d);
    let edu_nr = b.code(edu_d, NON_RENSEIGNE).unwrap_or(NONE);
    let m_persons = b.measure("beneficiaires", Persons)?;
    let m_hours = b.measure("heures", Magnitude)?;

    let t = SourceTable::EtatsMensuels;
    let mut coords = b.blank();
    for_each_worked_month(p, |emi, i, h| {
        let y = emi.year.value(i);
        let Some(m) = w.month_of(y, emi.month.value(i) as u32) else {
            return Ok(());
        };
        let cid = emi.contrat.value(i);
        let c = contracts
            .get(&cid)
            .ok_or_else(|| IndicatorError::UnknownReference {
                table: t.name(),
                column: "contrat_id",
                value: cid.to_string(),
            })?;
        let sid = emi.salarie.value(i);
        let &(person, sex, birth) =
            salaries
                .get(&sid)
                .ok_or_else(|| IndicatorError::UnknownReference {
                    table: t.name(),
                    column: "salarie_id",
                    value: sid.to_string(),
                })?;
        let s = c.structure as usize;
        coords[terr.0] = structures.dep[s];
        coords[per.0] = m;
        coords[kind_d.0] = kinds[position(structures.kind[s])];
        coords[sex_d.0] = sexes[position(sex)];
        coords[age_d.0] = ages[position(AgeBracket::from_birth_year(y, birth))];
        coords[rsa_d.0] = rsas[position(c.rsa)];
        for (k, d) in flag_dims.iter().enumerate() {
            coords[d.0] = yes_no[k][usize::from(!c.flags[k])];
        }
        coords[dur_d.0] = c.duration.map_or(dur_nr, |x| durs[position(x)]);
        coords[edu_d.0] = c.education.map_or(edu_nr, |x| edus[position(x)]);
        b.add_person(m_persons, &coords, Some(c.structure), person);
        b.add_magnitude(m_hours, &coords, c.structure, Some(person), h);
        Ok(())
    })
}

pub(super) fn etp(
    b: &mut CubeBuilder,
    def: &Definition,
    p: &Prepared<'_>,
) -> Result<(), IndicatorError> {
    let w = window(def);
    let [terr, per, kind_d] = b.dim_ids(["territoire", "periode", "type_structure"])?;
    let kinds = translate::<StructureKind>(b, kind_d);
    let m_total = b.measure("etp_conventionnes", Magnitude)?;
    let m_state = b.measure("etp_conventionnes_etat", Magnitude)?;
    let m_dept = b.measure("etp_conventionnes_departement", Magnitude)?;
    let m_done = b.measure("etp_realises", Magnitude)?;
    let afs = annexes(p)?;
    let mut coords = b.blank();

    // ETP conventionnés: the monthly figure, prorated by the days of effect in each month.
    let t = SourceTable::AnnexesFinancieres;
    for batch in p.sources.batches(t) {
        let id = ints(batch, t, "id")?;
        let start = dates(batch, t, "start_date")?;
        let end = dates(batch, t, "end_date")?;
        let etp = floats(batch, t, "etp_conventionnes_mensuels")?;
        let total = floats(batch, t, "montant_total")?;
        let cofinanced = floats(batch, t, "montant_cofinance_departement")?;
        for i in 0..batch.num_rows() {
            let Some(af) = afs.get(&id.value(i)) else {
                continue;
            };
            let share = match (opt(total, i), opt(cofinanced, i)) {
                (Some(t), Some(c)) if t > 0.0 => (c / t).clamp(0.0, 1.0),
                _ => 0.0,
            };
            let (s, e, monthly) = (start.value(i), end.value(i), etp.value(i));
            coords[terr.0] = af.dep;
            coords[kind_d.0] = kinds[position(af.kind)];
            for m in 0..w.len() {
                let (y, mo) = w.year_month(m);
                let first = days_from_civil(y, mo, 1);
                let last = first + days_in_month(y, mo) as i32 - 1;
                let overlap = (e.min(last) - s.max(first) + 1).max(0);
                if overlap == 0 {
                    continue;
                }
                let v = monthly * f64::from(overlap) / f64::from(days_in_month(y, mo));
                coords[per.0] = m;
                for (measure, value) in [
                    (m_total, v),
                    (m_state, v * (1.0 - share)),
                    (m_dept, v * share),
                ] {
                    b.add_magnitude(measure, &coords, af.structure, None, value);
                }
            }
        }
    }

    // ETP réalisés: validated hours of the month × 12 ÷ the annexe's annual full-time hours.
    let salaries = salaries(p)?;
    for_each_worked_month(p, |emi, i, h| {
        let Some(af) = afs.get(&emi.af.value(i)) else {
            return Ok(());
        };
        let Some(m) = w.month_of(emi.year.value(i), emi.month.value(i) as u32) else {
            return Ok(());
        };
        let person = salaries.get(&emi.salarie.value(i)).map(|s| s.0);
        coords[terr.0] = af.dep;
        coords[per.0] = m;
        coords[kind_d.0] = kinds[position(af.kind)];
        let etp = h * 12.0 / af.annual_hours;
        b.add_magnitude(m_done, &coords, af.structure, person, etp);
        Ok(())
    })
}

/// Average length of a month in days (365.25 ÷ 12), to turn days worked into months.
pub const DAYS_PER_MONTH: f64 = 30.4375;

pub(super) fn sorties(
    b: &mut CubeBuilder,
    def: &Definition,
    p: &Prepared<'_>,
) -> Result<(), IndicatorError> {
    let w = window(def);
    let structures = p.structures()?;
    let [terr, per, kind_d] = b.dim_ids(["territoire", "periode", "type_structure"])?;
    let kinds = translate::<StructureKind>(b, kind_d);
    let measures = ExitMeasures::new(b)?;
    let categories = exit_categories(p)?;
    let t = SourceTable::Contrats;
    let chains = Chains::read(p, structures)?;
    let chain_hours = chains.hours(p)?;

    let mut coords = b.blank();
    let mut ids: Vec<i64> = chains.rows.keys().copied().collect();
    ids.sort_unstable();
    for id in ids {
        let row = &chains.rows[&id];
        let kind = structures.kind[row.structure as usize];
        coords[terr.0] = structures.dep[row.structure as usize];
        coords[kind_d.0] = kinds[position(kind)];
        let s = Some(row.structure);
        // A hire: the first contract of a chain, dated by its start.
        let root = chains.root_of(id);
        if root == id
            && kind.is_siae()
            && let Some(m) = w.month_of_day(row.start)
        {
            coords[per.0] = m;
            b.add_events(measures.hires, &coords, s, 1);
        }
        let Some((exit_date, motive)) = row.exit else {
            continue;
        };
        let Some(category) = categories[position(motive)] else {
            return Err(IndicatorError::UnknownReference {
                table: t.name(),
                column: "exit_motive",
                value: motive.code().to_owned(),
            });
        };
        if !category.is_counted() || !kind.is_siae() {
            continue;
        }
        let Some(m) = w.month_of_day(exit_date) else {
            continue;
        };
        let start = chains.rows.get(&root).map_or(row.start, |r| r.start);
        coords[per.0] = m;
        let exit = Exit {
            kind,
            category,
            // Days of the parcours, both ends included: from the chain's first day to the exit.
            days: (exit_date - start + 1).max(0),
            months: f64::from(exit_date - start + 1) / DAYS_PER_MONTH,
            hours: chain_hours.get(&root).copied().unwrap_or(0.0),
        };
        measures.add_exit(b, &coords, s, &exit);
    }
    Ok(())
}

/// The measures of `sorties`, looked up in the cube being built.
struct ExitMeasures {
    hires: MeasureId,
    all: MeasureId,
    duration: MeasureId,
    examined: MeasureId,
    durable: MeasureId,
    transition: MeasureId,
    positive: MeasureId,
    dynamic: MeasureId,
    other: MeasureId,
}

/// One exit from an SIAE counted by `sorties`.
struct Exit {
    /// Kind of the structure left.
    kind: StructureKind,
    /// Category of the exit motive.
    category: ExitCategory,
    /// Length of the parcours in days, both ends included (0 when the dates are reversed).
    days: i32,
    /// Length of the parcours in months of [`DAYS_PER_MONTH`] days.
    months: f64,
    /// Hours validated over the whole chain of contracts.
    hours: f64,
}

impl ExitMeasures {
    /// Looks the measures up by id.
    fn new(b: &CubeBuilder) -> Result<Self, IndicatorError> {
        Ok(Self {
            hires: b.measure("embauches", Events)?,
            all: b.measure("sorties", Events)?,
            duration: b.measure("duree_parcours_mediane", Median)?,
            examined: b.measure("sorties_examinees", Events)?,
            durable: b.measure("sorties_emploi_durable", Events)?,
            transition: b.measure("sorties_emploi_transition", Events)?,
            positive: b.measure("sorties_positives", Events)?,
            dynamic: b.measure("sorties_dynamiques", Events)?,
            other: b.measure("autres_sorties", Events)?,
        })
    }

    /// Counts one exit at `coords`: as an exit with its parcours length, then, when it is
    /// examined, by category and as dynamic if it is one.
    fn add_exit(&self, b: &mut CubeBuilder, coords: &[u32], s: Option<u32>, exit: &Exit) {
        b.add_events(self.all, coords, s, 1);
        b.add_value(self.duration, coords, s, exit.days as u32);
        if !exit_is_examined(exit.kind, exit.months, exit.hours) {
            return;
        }
        let specific = match exit.category {
            ExitCategory::EmploiDurable => self.durable,
            ExitCategory::EmploiTransition => self.transition,
            ExitCategory::SortiePositive => self.positive,
            _ => self.other,
        };
        for measure in [self.examined, specific] {
            b.add_events(measure, coords, s, 1);
        }
        if exit.category.is_dynamic() {
            b.add_events(self.dynamic, coords, s, 1);
        }
    }
}

/// The category of each exit motive (by position in [`ExitMotive::ALL`]): from the exit-motive
/// referential as delivered (code → category), or the documented mapping of the domain when
/// the table is empty.
fn exit_categories(p: &Prepared<'_>) -> Result<Vec<Option<ExitCategory>>, IndicatorError> {
    let mt = SourceTable::MotifsSortie;
    let motive_t = CodeTable::<ExitMotive>::new();
    let category_t = CodeTable::<ExitCategory>::new();
    let mut categories: Vec<Option<ExitCategory>> = vec![None; ExitMotive::ALL.len()];
    let mut delivered = false;
    for batch in p.sources.batches(mt) {
        let code = strings(batch, mt, "code")?;
        let category = strings(batch, mt, "category")?;
        for i in 0..batch.num_rows() {
            if let (Some(m), Some(c)) = (
                motive_t.at(code, i, mt, "code")?,
                category_t.at(category, i, mt, "category")?,
            ) {
                categories[position(m)] = Some(c);
                delivered = true;
            }
        }
    }
    if !delivered {
        for &m in ExitMotive::ALL {
            categories[position(m)] = Some(m.category());
        }
    }
    Ok(categories)
}

/// One contract of the ASP extraction, as `sorties` needs it.
struct ContractRow {
    /// The contract it renews, if any.
    parent: Option<i64>,
    /// Start date (days since 1970-01-01).
    start: i32,
    /// Dense index of the employing structure.
    structure: u32,
    /// Exit date (days since 1970-01-01) and motive, when the contract ended with an exit.
    exit: Option<(i32, ExitMotive)>,
}

/// The contracts by id, chained by parent id: each chain is one parcours, its root the first
/// hire.
struct Chains {
    rows: IntMap<i64, ContractRow>,
}

impl Chains {
    /// Reads the contracts table.
    fn read(p: &Prepared<'_>, structures: &Structures) -> Result<Self, IndicatorError> {
        let t = SourceTable::Contrats;
        let motive_t = CodeTable::<ExitMotive>::new();
        let mut rows: IntMap<i64, ContractRow> = IntMap::default();
        for batch in p.sources.batches(t) {
            let id = ints(batch, t, "id")?;
            let parent = ints(batch, t, "parent_contrat_id")?;
            let asp = ints(batch, t, "structure_asp_id")?;
            let start = dates(batch, t, "start_date")?;
            let exit = dates(batch, t, "exit_date")?;
            let motive = strings(batch, t, "exit_motive")?;
            for i in 0..batch.num_rows() {
                let structure = structures.by_asp_id(asp.value(i), t, "structure_asp_id")?;
                let exit = match (opt(exit, i), motive_t.at(motive, i, t, "exit_motive")?) {
                    (Some(d), Some(m)) => Some((d, m)),
                    _ => None,
                };
                rows.insert(
                    id.value(i),
                    ContractRow {
                        parent: opt(parent, i),
                        start: start.value(i),
                        structure,
                        exit,
                    },
                );
            }
        }
        Ok(Self { rows })
    }

    /// The root of the chain of contract `id` (itself when it renews nothing known).
    fn root_of(&self, mut id: i64) -> i64 {
        // Bounded walk: a cycle in the chain cannot loop forever.
        for _ in 0..self.rows.len() {
            match self.rows.get(&id).and_then(|r| r.parent) {
                Some(parent) if self.rows.contains_key(&parent) => id = parent,
                _ => break,
            }
        }
        id
    }

    /// Validated hours per chain, by root id.
    fn hours(&self, p: &Prepared<'_>) -> Result<IntMap<i64, f64>, IndicatorError> {
        let mut chain_hours: IntMap<i64, f64> = IntMap::default();
        for_each_worked_month(p, |emi, i, h| {
            *chain_hours
                .entry(self.root_of(emi.contrat.value(i)))
                .or_default() += h;
            Ok(())
        })?;
        Ok(chain_hours)
    }
}
