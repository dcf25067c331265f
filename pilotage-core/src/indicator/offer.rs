//! `offre`: the supply side at each month end: structures, job descriptions open and "en
//! tension", prescriber organisations. Structures and job descriptions are placed in the
//! structure's département, organisations in their own.

use arrow_array::Array;

use super::applications::{month_ends, translate, window};
use super::columns::{CodeTable, dates, flags, ints, opt, position, strings};
use super::prepared::Structures;
use super::{IndicatorError, Prepared};
use crate::calendar::MonthWindow;
use crate::cube::int_map::IntMap;
use crate::cube::{CubeBuilder, DimId, MeasureId, NONE};
use crate::dataset::{Definition, MeasureKind};
use crate::domain::{ApplicationState, PrescriberKind, StructureKind};
use crate::source::SourceTable;

/// Days a job description must have been open, without a hire, to be "en tension".
pub const TENSION_DAYS: i32 = 30;

pub(super) fn offre(
    b: &mut CubeBuilder,
    def: &Definition,
    p: &Prepared<'_>,
) -> Result<(), IndicatorError> {
    let cube = OfferCube::new(b, def, p)?;
    let structures = p.structures()?;
    cube.count_structures(b, structures);
    let hires = hires_by_fiche(def, p)?;
    cube.count_fiches(b, p, structures, &hires)?;
    cube.count_organisations(b, p)
}

/// What the stages of `offre` share: the month window, the extraction date, the cube's
/// dimensions and measures, and the members of each structure and prescriber kind.
struct OfferCube {
    w: MonthWindow,
    /// Extraction date (days since 1970-01-01): no month end after it is counted.
    as_of: i32,
    terr: DimId,
    per: DimId,
    kind_d: DimId,
    presc_d: DimId,
    /// Member of each structure kind (by position), or [`NONE`].
    kinds: Vec<u32>,
    /// Member of each prescriber kind (by position), or [`NONE`].
    prescribers: Vec<u32>,
    m_structures: MeasureId,
    m_open: MeasureId,
    m_tension: MeasureId,
    m_orgs: MeasureId,
}

impl OfferCube {
    /// Looks up the dimensions and measures of the cube being built.
    fn new(b: &CubeBuilder, def: &Definition, p: &Prepared<'_>) -> Result<Self, IndicatorError> {
        let w = window(def);
        let as_of = p.context.as_of;
        let [terr, per, kind_d, presc_d] =
            b.dim_ids(["territoire", "periode", "type_structure", "prescripteur"])?;
        let kinds = translate::<StructureKind>(b, kind_d);
        let prescribers = translate::<PrescriberKind>(b, presc_d);
        Ok(Self {
            w,
            as_of,
            terr,
            per,
            kind_d,
            presc_d,
            kinds,
            prescribers,
            m_structures: b.measure("structures", MeasureKind::Events)?,
            m_open: b.measure("fiches_ouvertes", MeasureKind::Events)?,
            m_tension: b.measure("fiches_en_tension", MeasureKind::Events)?,
            m_orgs: b.measure("organisations", MeasureKind::Events)?,
        })
    }

    /// Counts the structures registered at each month end (administrative records, not
    /// antennes).
    fn count_structures(&self, b: &mut CubeBuilder, structures: &Structures) {
        let mut coords = b.blank();
        for s in 0..structures.kind.len() {
            if !structures.administrative[s] {
                continue;
            }
            coords[self.terr.0] = structures.dep[s];
            coords[self.kind_d.0] = self.kinds[position(structures.kind[s])];
            month_ends(
                self.w,
                structures.created_at[s],
                i32::MAX,
                self.as_of,
                |m| {
                    coords[self.per.0] = m;
                    b.add_events(self.m_structures, &coords, Some(s as u32), 1);
                },
            );
        }
    }

    /// Counts the job descriptions open at each month end, and those en tension.
    ///
    /// Open at the month end e (a stock at the end of that day): created on or before e, and
    /// still open at extraction or last changed (closed) after e; one closed on e itself is
    /// closed at the end of e. En tension: open at e, created before e - TENSION_DAYS (open
    /// for more than 30 days), and no hire dated from e - TENSION_DAYS + 1 to e (the 30 days
    /// up to the month end, both included), a hire being dated by its acceptance
    /// (processed_at), not by the contract start (hired_at).
    fn count_fiches(
        &self,
        b: &mut CubeBuilder,
        p: &Prepared<'_>,
        structures: &Structures,
        hires: &IntMap<i64, Vec<i32>>,
    ) -> Result<(), IndicatorError> {
        let w = self.w;
        let mut coords = b.blank();
        let ft = SourceTable::FichesDePoste;
        for batch in p.sources.batches(ft) {
            let id = ints(batch, ft, "id")?;
            let structure_id = ints(batch, ft, "structure_id")?;
            let created = dates(batch, ft, "created_at")?;
            let updated = dates(batch, ft, "updated_at")?;
            let open = flags(batch, ft, "is_open")?;
            for i in 0..batch.num_rows() {
                let s = structures.by_platform_id(structure_id.value(i), ft, "structure_id")?;
                // Month ends strictly before `until` are counted: a closed job description
                // is open up to the day before its last change.
                let until = if open.value(i) {
                    i32::MAX
                } else {
                    updated.value(i)
                };
                let c = created.value(i);
                let fiche_hires = hires.get(&id.value(i)).map_or(&[][..], Vec::as_slice);
                coords[self.terr.0] = structures.dep[s as usize];
                coords[self.kind_d.0] = self.kinds[position(structures.kind[s as usize])];
                month_ends(w, c, until, self.as_of, |m| {
                    coords[self.per.0] = m;
                    b.add_events(self.m_open, &coords, Some(s), 1);
                    let end = w.month_end(m);
                    let recent = fiche_hires
                        .iter()
                        .any(|&d| d > end - TENSION_DAYS && d <= end);
                    if c < end - TENSION_DAYS && !recent {
                        b.add_events(self.m_tension, &coords, Some(s), 1);
                    }
                });
            }
        }
        Ok(())
    }

    /// Counts the prescriber organisations registered at each month end, in their own
    /// département.
    fn count_organisations(
        &self,
        b: &mut CubeBuilder,
        p: &Prepared<'_>,
    ) -> Result<(), IndicatorError> {
        let mut coords = b.blank();
        let ot = SourceTable::Organisations;
        let kind_t = CodeTable::<PrescriberKind>::new();
        for batch in p.sources.batches(ot) {
            let kind = strings(batch, ot, "kind")?;
            let dep = strings(batch, ot, "departement")?;
            let created = dates(batch, ot, "created_at")?;
            for i in 0..batch.num_rows() {
                let Some(k) = kind_t.at(kind, i, ot, "kind")? else {
                    continue;
                };
                coords[self.terr.0] = if dep.is_null(i) {
                    NONE
                } else {
                    p.context.geography.index(dep.value(i)).unwrap_or(NONE)
                };
                coords[self.presc_d.0] = self.prescribers[position(k)];
                month_ends(self.w, created.value(i), i32::MAX, self.as_of, |m| {
                    coords[self.per.0] = m;
                    b.add_events(self.m_orgs, &coords, None, 1);
                });
            }
        }
        Ok(())
    }
}

/// Hires per job description: the dates (days since 1970-01-01) of its accepted applications,
/// sorted, leaving out the creation paths the definition excludes.
fn hires_by_fiche(
    def: &Definition,
    p: &Prepared<'_>,
) -> Result<IntMap<i64, Vec<i32>>, IndicatorError> {
    let excluded = Prepared::excluded_paths(def);
    let ct = SourceTable::Candidatures;
    let states = CodeTable::<ApplicationState>::new();
    let paths = CodeTable::<crate::domain::CreationPath>::new();
    let mut hires: IntMap<i64, Vec<i32>> = IntMap::default();
    for batch in p.sources.batches(ct) {
        let fiche = ints(batch, ct, "fiche_de_poste_id")?;
        let state = strings(batch, ct, "state")?;
        let processed = dates(batch, ct, "processed_at")?;
        let path = strings(batch, ct, "creation_path")?;
        for i in 0..batch.num_rows() {
            let (Some(f), Some(d)) = (opt(fiche, i), opt(processed, i)) else {
                continue;
            };
            if states.at(state, i, ct, "state")? == Some(ApplicationState::Accepted)
                && !paths
                    .at(path, i, ct, "creation_path")?
                    .is_some_and(|pa| excluded[position(pa)])
            {
                hires.entry(f).or_default().push(d);
            }
        }
    }
    for dates in hires.values_mut() {
        dates.sort_unstable();
    }
    Ok(hires)
}
