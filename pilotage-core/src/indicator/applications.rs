//! Recruitment-side datasets: job applications, their delays and refusals, prescriptions and
//! PASS IAE. Territory: the département of the structure the application is sent to (of the
//! structure whose hiring led to the PASS IAE).

use std::collections::HashSet;

use arrow_array::Array;

use super::columns::{CodeTable, dates, flags, ints, opt, position, strings};
use super::prepared::Structures;
use super::{IndicatorError, Prepared};
use crate::calendar::MonthWindow;
use crate::cube::int_map::IntMap;
use crate::cube::{CubeBuilder, DimId, MeasureId, NONE};
use crate::dataset::computation::{
    DELAY_BUCKETS, HABILITATION, MOTIF_NON_RENSEIGNE, SANS_PRESCRIPTEUR,
};
use crate::dataset::{Definition, MeasureKind};
use crate::domain::{
    AUTO_REFUSAL_DAYS, ApplicationState, Code, CreationPath, Origine, PrescriberGroup,
    PrescriberKind, ProlongationReason, RefusalReason, StructureKind,
};
use crate::source::SourceTable;

use MeasureKind::{Events, Median, Persons};

/// Horizon of a PASS IAE "expiring soon", in days: valid at the end of the period and whose
/// end date (suspensions and prolongations included) falls within the 90 days that follow.
/// Three months is the window in which an employer prepares the exit or asks for a
/// prolongation, the figure the dashboards follow.
pub const EXPIRING_SOON_DAYS: i32 = 90;

/// Finest index in `dim` of every member of `C`, by position in `C::ALL`.
pub(super) fn translate<C: Code>(b: &CubeBuilder, dim: DimId) -> Vec<u32> {
    C::ALL
        .iter()
        .map(|c| b.code(dim, c.code()).unwrap_or(NONE))
        .collect()
}

pub(super) fn window(def: &Definition) -> MonthWindow {
    MonthWindow {
        first_year: def.first_year,
        last_year: def.last_year,
    }
}

/// Calls `f(month)` for every month of the window whose last day `e` satisfies
/// `from <= e < until` and `e <= as_of`.
pub(super) fn month_ends(
    w: MonthWindow,
    from: i32,
    until: i32,
    as_of: i32,
    mut f: impl FnMut(u32),
) {
    let start = match w.month_of_day(from) {
        Some(m) => m,
        None if from < w.month_start(0) => 0,
        None => return,
    };
    for m in start..w.len() {
        let e = w.month_end(m);
        if e >= until || e > as_of {
            break;
        }
        if e >= from {
            f(m);
        }
    }
}

/// One application, decoded, with the automatic refusal applied.
struct Application {
    structure: u32,
    state: ApplicationState,
    created: i32,
    /// Answer date (processed_at, or day 60 for an automatic refusal not yet recorded).
    answered: Option<i32>,
    auto: bool,
    reason: Option<RefusalReason>,
}

/// One column of every candidatures batch, looked up once (not per row).
fn per_batch<'s, T>(
    p: &Prepared<'s>,
    get: impl Fn(&'s arrow_array::RecordBatch) -> Result<&'s T, IndicatorError>,
) -> Result<Vec<&'s T>, IndicatorError> {
    p.sources
        .batches(SourceTable::Candidatures)
        .iter()
        .map(get)
        .collect()
}

/// Iterates over the applications kept by the definition's filters, calling `f` with the
/// batch index, the row and the decoded application.
fn for_each_application(
    p: &Prepared<'_>,
    def: &Definition,
    mut f: impl FnMut(usize, usize, &Application) -> Result<(), IndicatorError>,
) -> Result<(), IndicatorError> {
    let t = SourceTable::Candidatures;
    let structures = p.structures()?;
    let excluded = Prepared::excluded_paths(def);
    let states = CodeTable::<ApplicationState>::new();
    let paths = CodeTable::<CreationPath>::new();
    let reasons = CodeTable::<RefusalReason>::new();
    let as_of = p.context.as_of;
    for (bi, batch) in p.sources.batches(t).iter().enumerate() {
        let structure_id = ints(batch, t, "structure_id")?;
        let state = strings(batch, t, "state")?;
        let created = dates(batch, t, "created_at")?;
        let processed = dates(batch, t, "processed_at")?;
        let reason = strings(batch, t, "refusal_reason")?;
        let path = strings(batch, t, "creation_path")?;
        for i in 0..batch.num_rows() {
            let Some(pa) = paths.at(path, i, t, "creation_path")? else {
                continue;
            };
            if excluded[position(pa)] {
                continue;
            }
            let structure = structures.by_platform_id(structure_id.value(i), t, "structure_id")?;
            let Some(mut st) = states.at(state, i, t, "state")? else {
                continue;
            };
            let c = created.value(i);
            let mut answered = opt(processed, i);
            let mut r = reasons.at(reason, i, t, "refusal_reason")?;
            let mut auto = r == Some(RefusalReason::Auto);
            if matches!(st, ApplicationState::New | ApplicationState::Processing)
                && answered.is_none()
            {
                let day = c + AUTO_REFUSAL_DAYS as i32;
                if day <= as_of {
                    st = ApplicationState::Refused;
                    answered = Some(day);
                    r = Some(RefusalReason::Auto);
                    auto = true;
                }
            }
            let app = Application {
                structure,
                state: st,
                created: c,
                answered,
                auto,
                reason: r,
            };
            f(bi, i, &app)?;
        }
    }
    Ok(())
}

pub(super) fn candidatures(
    b: &mut CubeBuilder,
    def: &Definition,
    p: &Prepared<'_>,
) -> Result<(), IndicatorError> {
    let t = SourceTable::Candidatures;
    let w = window(def);
    let as_of = p.context.as_of;
    let [terr, per] = b.dim_ids(["territoire", "periode"])?;
    let [kind_d, origine_d, group_d] =
        b.dim_ids(["type_structure", "origine", "groupe_prescripteur"])?;
    let kinds = translate::<StructureKind>(b, kind_d);
    let origines = translate::<Origine>(b, origine_d);
    let groups = translate::<PrescriberGroup>(b, group_d);
    let sans = b.code(group_d, SANS_PRESCRIPTEUR).unwrap_or(NONE);
    let m_recues = b.measure("recues", Events)?;
    let m_traitees = b.measure("traitees", Events)?;
    let m_acceptees = b.measure("acceptees", Events)?;
    let m_refusees = b.measure("refusees", Events)?;
    let m_auto = b.measure("refus_automatiques", Events)?;
    let m_attente = b.measure("en_attente", Events)?;
    let m_candidats = b.measure("candidats", Persons)?;
    let structures = p.structures()?;
    let origine_t = CodeTable::<Origine>::new();
    let kind_t = CodeTable::<PrescriberKind>::new();
    let mut coords = b.blank();
    let origine_c = per_batch(p, |b| strings(b, t, "origine"))?;
    let prescriber_c = per_batch(p, |b| strings(b, t, "sender_prescriber_kind"))?;
    let hash_c = per_batch(p, |b| strings(b, t, "hash_nir"))?;
    for_each_application(p, def, |bi, i, app| {
        let (origine, prescriber, hash) = (origine_c[bi], prescriber_c[bi], hash_c[bi]);
        let s = app.structure as usize;
        coords[terr.0] = structures.dep[s];
        coords[kind_d.0] = kinds[position(structures.kind[s])];
        coords[origine_d.0] = origine_t
            .at(origine, i, t, "origine")?
            .map_or(NONE, |o| origines[position(o)]);
        coords[group_d.0] = match kind_t.at(prescriber, i, t, "sender_prescriber_kind")? {
            Some(k) => groups[position(k.group())],
            None => sans,
        };
        let structure = Some(app.structure);
        if let Some(m) = w.month_of_day(app.created) {
            coords[per.0] = m;
            b.add_events(m_recues, &coords, structure, 1);
            b.add_person(m_candidats, &coords, structure, p.person(hash.value(i))?);
        }
        if let Some(answered) = app.answered
            && app.state.is_processed()
            && let Some(m) = w.month_of_day(answered)
        {
            coords[per.0] = m;
            b.add_events(m_traitees, &coords, structure, 1);
            match app.state {
                ApplicationState::Accepted => b.add_events(m_acceptees, &coords, structure, 1),
                ApplicationState::Refused => {
                    b.add_events(m_refusees, &coords, structure, 1);
                    if app.auto {
                        b.add_events(m_auto, &coords, structure, 1);
                    }
                }
                _ => {}
            }
        }
        // Pending at a month end: sent on or before it, not answered by then. Applications in
        // the pool or before hiring have no dated history and are left out.
        if app.state.is_pending() || app.state.is_processed() {
            let until = app.answered.unwrap_or(i32::MAX);
            month_ends(w, app.created, until, as_of, |m| {
                coords[per.0] = m;
                b.add_events(m_attente, &coords, structure, 1);
            });
        }
        Ok(())
    })
}

fn bucket(days: i32) -> usize {
    match days {
        ..=30 => 0,
        31..=45 => 1,
        46..=60 => 2,
        61..=90 => 3,
        _ => 4,
    }
}

/// Where a delay goes: its period and bucket axes, and the bucket members.
struct DelayAxes {
    window: MonthWindow,
    per: DimId,
    bucket: DimId,
    buckets: Vec<u32>,
}

impl DelayAxes {
    /// Adds one application to the bucket count and the median of a delay ending on `date`
    /// (first look or answer), placed in the month of `date`.
    fn add(
        &self,
        b: &mut CubeBuilder,
        coords: &mut [u32],
        (count, median): (MeasureId, MeasureId),
        structure: u32,
        created: i32,
        date: i32,
    ) {
        let Some(m) = self.window.month_of_day(date) else {
            return;
        };
        let days = (date - created).max(0);
        coords[self.per.0] = m;
        coords[self.bucket.0] = self.buckets[bucket(days)];
        b.add_events(count, coords, Some(structure), 1);
        b.add_value(median, coords, Some(structure), days as u32);
    }
}

pub(super) fn delais(
    b: &mut CubeBuilder,
    def: &Definition,
    p: &Prepared<'_>,
) -> Result<(), IndicatorError> {
    let t = SourceTable::Candidatures;
    let [terr, kind_d, bucket_d] = b.dim_ids(["territoire", "type_structure", "tranche_delai"])?;
    let axes = DelayAxes {
        window: window(def),
        per: b.dim("periode")?,
        bucket: bucket_d,
        buckets: DELAY_BUCKETS
            .iter()
            .map(|c| b.code(bucket_d, c).unwrap_or(NONE))
            .collect(),
    };
    let kinds = translate::<StructureKind>(b, kind_d);
    let look = (
        b.measure("prises_en_compte", Events)?,
        b.measure("delai_prise_en_compte_median", Median)?,
    );
    let answer = (
        b.measure("reponses", Events)?,
        b.measure("delai_reponse_median", Median)?,
    );
    let structures = p.structures()?;
    let mut coords = b.blank();
    let looked_c = per_batch(p, |b| dates(b, t, "first_looked_at"))?;
    for_each_application(p, def, |bi, i, app| {
        let s = app.structure as usize;
        coords[terr.0] = structures.dep[s];
        coords[kind_d.0] = kinds[position(structures.kind[s])];
        if let Some(l) = opt(looked_c[bi], i) {
            axes.add(b, &mut coords, look, app.structure, app.created, l);
        }
        if let Some(a) = app.answered
            && app.state.is_processed()
        {
            axes.add(b, &mut coords, answer, app.structure, app.created, a);
        }
        Ok(())
    })
}

pub(super) fn refus(
    b: &mut CubeBuilder,
    def: &Definition,
    p: &Prepared<'_>,
) -> Result<(), IndicatorError> {
    let w = window(def);
    let [terr, per, kind_d, reason_d] =
        b.dim_ids(["territoire", "periode", "type_structure", "motif_refus"])?;
    let kinds = translate::<StructureKind>(b, kind_d);
    let reasons = translate::<RefusalReason>(b, reason_d);
    let nr = b.code(reason_d, MOTIF_NON_RENSEIGNE).unwrap_or(NONE);
    let m = b.measure("refusees", Events)?;
    let structures = p.structures()?;
    let mut coords = b.blank();
    for_each_application(p, def, |_, _, app| {
        if app.state != ApplicationState::Refused {
            return Ok(());
        }
        let (Some(a), s) = (app.answered, app.structure as usize) else {
            return Ok(());
        };
        if let Some(month) = w.month_of_day(a) {
            coords[terr.0] = structures.dep[s];
            coords[kind_d.0] = kinds[position(structures.kind[s])];
            coords[per.0] = month;
            coords[reason_d.0] = app.reason.map_or(nr, |r| reasons[position(r)]);
            b.add_events(m, &coords, Some(app.structure), 1);
        }
        Ok(())
    })
}

pub(super) fn prescriptions(
    b: &mut CubeBuilder,
    def: &Definition,
    p: &Prepared<'_>,
) -> Result<(), IndicatorError> {
    let t = SourceTable::Candidatures;
    let w = window(def);
    let [terr, per, kind_d, hab_d] =
        b.dim_ids(["territoire", "periode", "prescripteur", "habilitation"])?;
    let kinds = translate::<PrescriberKind>(b, kind_d);
    let hab = [
        b.code(hab_d, HABILITATION[0]).unwrap_or(NONE),
        b.code(hab_d, HABILITATION[1]).unwrap_or(NONE),
    ];
    // Organisations: id → (kind, habilitée).
    let ot = SourceTable::Organisations;
    let kind_t = CodeTable::<PrescriberKind>::new();
    let mut orgs: IntMap<i64, (PrescriberKind, bool)> = IntMap::default();
    for batch in p.sources.batches(ot) {
        let id = ints(batch, ot, "id")?;
        let kind = strings(batch, ot, "kind")?;
        let habilitee = flags(batch, ot, "habilitee")?;
        for i in 0..batch.num_rows() {
            if let Some(k) = kind_t.at(kind, i, ot, "kind")? {
                orgs.insert(id.value(i), (k, habilitee.value(i)));
            }
        }
    }
    let m_apps = b.measure("candidatures", Events)?;
    let m_oriented = b.measure("candidats_orientes", Persons)?;
    let m_accepted = b.measure("candidats_acceptes", Persons)?;
    let structures = p.structures()?;
    let mut coords = b.blank();
    let org_c = per_batch(p, |b| ints(b, t, "sender_organisation_id"))?;
    let hash_c = per_batch(p, |b| strings(b, t, "hash_nir"))?;
    for_each_application(p, def, |bi, i, app| {
        let org = org_c[bi];
        let Some(org_id) = opt(org, i) else {
            return Ok(());
        };
        let &(kind, habilitee) =
            orgs.get(&org_id)
                .ok_or_else(|| IndicatorError::UnknownReference {
                    table: t.name(),
                    column: "sender_organisation_id",
                    value: org_id.to_string(),
                })?;
        let Some(month) = w.month_of_day(app.created) else {
            return Ok(());
        };
        let person = p.person(hash_c[bi].value(i))?;
        coords[terr.0] = structures.dep[app.structure as usize];
        coords[per.0] = month;
        coords[kind_d.0] = kinds[position(kind)];
        coords[hab_d.0] = hab[usize::from(!habilitee)];
        let structure = Some(app.structure);
        b.add_events(m_apps, &coords, structure, 1);
        b.add_person(m_oriented, &coords, structure, person);
        if app.state == ApplicationState::Accepted {
            b.add_person(m_accepted, &coords, structure, person);
        }
        Ok(())
    })
}

pub(super) fn pass_iae(
    b: &mut CubeBuilder,
    def: &Definition,
    p: &Prepared<'_>,
) -> Result<(), IndicatorError> {
    let cube = PassCube::new(b, def, p)?;
    let structures = p.structures()?;
    let excluded_apps = excluded_applications(def, p)?;
    let kept = cube.count_passes(b, p, structures, &excluded_apps)?;
    cube.count_suspensions(b, p, &kept)?;
    cube.count_prolongations(b, p, &kept)
}

/// The applications whose creation path the definition excludes (their PASS IAE are left out
/// too), by id.
fn excluded_applications<'a>(
    def: &Definition,
    p: &Prepared<'a>,
) -> Result<HashSet<&'a str>, IndicatorError> {
    let excluded = Prepared::excluded_paths(def);
    let paths = CodeTable::<CreationPath>::new();
    let ct = SourceTable::Candidatures;
    let mut excluded_apps: HashSet<&str> = HashSet::new();
    for batch in p.sources.batches(ct) {
        let id = strings(batch, ct, "id")?;
        let path = strings(batch, ct, "creation_path")?;
        for i in 0..batch.num_rows() {
            if let Some(pa) = paths.at(path, i, ct, "creation_path")?
                && excluded[position(pa)]
            {
                excluded_apps.insert(id.value(i));
            }
        }
    }
    Ok(excluded_apps)
}

/// The PASS IAE kept, by id: the territory member and the structure (dense index) they are
/// counted under.
type KeptPasses = IntMap<i64, (u32, Option<u32>)>;

/// What the stages of `pass_iae` share: the month window, the extraction date, the cube's
/// dimensions and measures, and the members of each prolongation reason.
struct PassCube {
    w: MonthWindow,
    /// Extraction date (days since 1970-01-01): no month end after it is counted.
    as_of: i32,
    terr: DimId,
    per: DimId,
    reason_d: DimId,
    /// Member of each prolongation reason (by position), or [`NONE`].
    reasons: Vec<u32>,
    m_issued: MeasureId,
    m_valid: MeasureId,
    m_expiring: MeasureId,
    m_suspended: MeasureId,
    m_prolongations: MeasureId,
}

impl PassCube {
    /// Looks up the dimensions and measures of the cube being built.
    fn new(b: &CubeBuilder, def: &Definition, p: &Prepared<'_>) -> Result<Self, IndicatorError> {
        let w = window(def);
        let as_of = p.context.as_of;
        let [terr, per, reason_d] = b.dim_ids(["territoire", "periode", "motif_prolongation"])?;
        let reasons = translate::<ProlongationReason>(b, reason_d);
        Ok(Self {
            w,
            as_of,
            terr,
            per,
            reason_d,
            reasons,
            m_issued: b.measure("delivres", Events)?,
            m_valid: b.measure("valides", Events)?,
            m_expiring: b.measure("expirant_bientot", Events)?,
            m_suspended: b.measure("suspendus", Events)?,
            m_prolongations: b.measure("prolongations", Events)?,
        })
    }

    /// Counts the PASS IAE issued each month, and those valid and expiring soon at each month
    /// end, leaving out those of excluded applications; returns the PASS IAE kept.
    fn count_passes(
        &self,
        b: &mut CubeBuilder,
        p: &Prepared<'_>,
        structures: &Structures,
        excluded_apps: &HashSet<&str>,
    ) -> Result<KeptPasses, IndicatorError> {
        let w = self.w;
        let t = SourceTable::PassIae;
        let mut kept: KeptPasses = IntMap::default();
        let mut coords = b.blank();
        for batch in p.sources.batches(t) {
            let id = ints(batch, t, "id")?;
            let structure_id = ints(batch, t, "structure_id")?;
            let issued = dates(batch, t, "issued_at")?;
            let end = dates(batch, t, "end_date")?;
            let application = strings(batch, t, "candidature_id")?;
            for i in 0..batch.num_rows() {
                if application.is_valid(i) && excluded_apps.contains(application.value(i)) {
                    continue;
                }
                let structure = opt(structure_id, i)
                    .map(|sid| structures.by_platform_id(sid, t, "structure_id"))
                    .transpose()?;
                let dep = structure.map_or(NONE, |s| structures.dep[s as usize]);
                kept.insert(id.value(i), (dep, structure));
                coords[self.terr.0] = dep;
                let issued_at = issued.value(i);
                if let Some(m) = w.month_of_day(issued_at) {
                    coords[self.per.0] = m;
                    b.add_events(self.m_issued, &coords, structure, 1);
                }
                // Valid at a month end: issued on or before it and not ended (future and
                // suspended PASS IAE included); expiring soon if it ends within the next
                // EXPIRING_SOON_DAYS days.
                let end_date = end.value(i);
                month_ends(w, issued_at, end_date.saturating_add(1), self.as_of, |m| {
                    coords[self.per.0] = m;
                    b.add_events(self.m_valid, &coords, structure, 1);
                    if end_date <= w.month_end(m).saturating_add(EXPIRING_SOON_DAYS) {
                        b.add_events(self.m_expiring, &coords, structure, 1);
                    }
                });
            }
        }
        Ok(kept)
    }

    /// Counts the kept PASS IAE suspended at each month end.
    fn count_suspensions(
        &self,
        b: &mut CubeBuilder,
        p: &Prepared<'_>,
        kept: &KeptPasses,
    ) -> Result<(), IndicatorError> {
        let mut coords = b.blank();
        let st = SourceTable::PassIaeSuspensions;
        for batch in p.sources.batches(st) {
            let pass = ints(batch, st, "pass_iae_id")?;
            let start = dates(batch, st, "start_date")?;
            let end = dates(batch, st, "end_date")?;
            for i in 0..batch.num_rows() {
                let Some(&(dep, structure)) = kept.get(&pass.value(i)) else {
                    continue;
                };
                coords[self.terr.0] = dep;
                month_ends(
                    self.w,
                    start.value(i),
                    end.value(i).saturating_add(1),
                    self.as_of,
                    |m| {
                        coords[self.per.0] = m;
                        b.add_events(self.m_suspended, &coords, structure, 1);
                    },
                );
            }
        }
        Ok(())
    }

    /// Counts the prolongations of kept PASS IAE starting each month, by reason.
    fn count_prolongations(
        &self,
        b: &mut CubeBuilder,
        p: &Prepared<'_>,
        kept: &KeptPasses,
    ) -> Result<(), IndicatorError> {
        let mut coords = b.blank();
        let pt = SourceTable::PassIaeProlongations;
        let reason_t = CodeTable::<ProlongationReason>::new();
        for batch in p.sources.batches(pt) {
            let pass = ints(batch, pt, "pass_iae_id")?;
            let start = dates(batch, pt, "start_date")?;
            let reason = strings(batch, pt, "reason")?;
            for i in 0..batch.num_rows() {
                let Some(&(dep, structure)) = kept.get(&pass.value(i)) else {
                    continue;
                };
                let Some(m) = self.w.month_of_day(start.value(i)) else {
                    continue;
                };
                coords[self.terr.0] = dep;
                coords[self.per.0] = m;
                coords[self.reason_d.0] = reason_t
                    .at(reason, i, pt, "reason")?
                    .map_or(NONE, |r| self.reasons[position(r)]);
                b.add_events(self.m_prolongations, &coords, structure, 1);
            }
            coords[self.reason_d.0] = NONE;
        }
        Ok(())
    }
}
