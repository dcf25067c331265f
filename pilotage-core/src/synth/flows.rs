//! The ASP side of the simulation: posts of each funding line, parcours and their contract
//! chains, annexes financières and monthly declarations, year by year.
//!
//! Each SIAE funding line holds a number of posts ("slots") sized from its ETP conventionnés.
//! A post is occupied by one parcours after another, separated by a short gap; a parcours is
//! a chain of contracts ending with an exit. Monthly hours are then scaled per funding line
//! and year so that ETP réalisés fall within a realistic band around ETP conventionnés.

use crate::domain::{
    AfState, AspMeasure, Code, EmiState, ExitCategory, ExitMotive, RsaStatus, StructureKind,
    UnemploymentDuration,
};

use super::params::{self, FULL_TIME_HOURS};
use super::records::{AfRow, ContratRow, EmiRow, Person, SalarieRow, Situation, YearRows};
use super::rng::Stream;
use super::world::{World, profile};
use crate::calendar::{days_from_civil, last_day_of_month};

/// Average days in a month.
const MONTH_DAYS: f64 = 30.44;
/// Longest parcours drawn (36 months), in days.
const MAX_PARCOURS_DAYS: i32 = 1096;

/// Identifier sequences, one per table.
#[derive(Default)]
pub(crate) struct Ids {
    pub candidat: i64,
    pub candidature: i64,
    pub pass: i64,
    pub suspension: i64,
    pub prolongation: i64,
    pub af: i64,
    pub salarie: i64,
    pub contrat: i64,
    pub emi: i64,
}

impl Ids {
    /// Next value of a sequence (sequences start at 1).
    pub(crate) fn next(counter: &mut i64) -> i64 {
        *counter += 1;
        *counter
    }
}

/// A post of a funding line.
#[derive(Clone)]
struct Slot {
    next_start: i32,
    open: bool,
}

/// One salarié's stay in a structure: a chain of contracts.
pub(crate) struct Parcours {
    pub salarie_id: i64,
    pub person: Person,
    pub start: i32,
    pub end: i32,
    /// (contract id, start, end) of each contract of the chain.
    contracts: Vec<(i64, i32, i32)>,
    weekly_hours: f64,
    pub stock: bool,
    pub has_application: bool,
}

/// A parcours to start: who, on which day, for how many days, and whether it is part of the
/// stock in place on the first day of the period.
pub(crate) struct NewParcours {
    pub person: Person,
    pub start: i32,
    pub length: i32,
    pub stock: bool,
}

/// One year of a funding line: the year, the ETP funded and the id of the annexe financière
/// counted.
#[derive(Clone, Copy)]
struct Funded {
    year: i32,
    etp: f64,
    af_id: i64,
}

/// State of one funding line across years.
#[derive(Default)]
pub(crate) struct LineState {
    slots: Vec<Slot>,
    live: Vec<Parcours>,
}

/// A hire the platform must carry (an accepted application, and a PASS IAE for SIAE).
pub(crate) struct Hire {
    /// Structure index receiving the application (the antenne, sometimes).
    pub structure: usize,
    pub date: i32,
    pub person: Person,
    pub siae: bool,
    pub parcours_end: i32,
}

/// The whole simulation state, carried from year to year.
pub(crate) struct Simulation<'w> {
    pub world: &'w World,
    pub seed: u64,
    pub first_year: i32,
    pub last_year: i32,
    pub period_start: i32,
    pub end: i32,
    pub ids: Ids,
    pub lines: Vec<Vec<LineState>>,
    /// Per département: candidats of earlier unsuccessful episodes who may apply again, with
    /// the day they registered.
    pub pools: Vec<Vec<(Person, i32)>>,
    /// Rows drawn before the first year (the stock of salariés in place), emitted with it.
    pub carried: YearRows,
    /// Per département: AF versions numbered so far in the current year.
    af_serial: u32,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The three-character département part of ASP numbers ("075", "02A", "971").
fn dept3(code: &str) -> String {
    format!("{code:0>3}")
}

/// The letters of a measure code before its context ("ACI" of "ACI_MP").
fn measure_prefix(measure: AspMeasure) -> &'static str {
    let code = measure.code();
    code.split('_').next().unwrap_or(code)
}

fn exit_motive_weight(motive: ExitMotive) -> f64 {
    match motive {
        ExitMotive::Cdi => 30.0,
        ExitMotive::CdiInclusion => 5.0,
        ExitMotive::Cdd6MoisEtPlus => 35.0,
        ExitMotive::Interim6MoisEtPlus => 15.0,
        ExitMotive::CreationEntreprise => 5.0,
        ExitMotive::FonctionPublique => 10.0,
        ExitMotive::CddMoins6Mois => 50.0,
        ExitMotive::InterimMoins6Mois => 35.0,
        ExitMotive::ContratAide => 15.0,
        ExitMotive::FormationQualifiante => 70.0,
        ExitMotive::EmbaucheAutreSiae => 30.0,
        ExitMotive::Chomage => 40.0,
        ExitMotive::Inactivite => 10.0,
        ExitMotive::SansNouvelles => 30.0,
        ExitMotive::Retraite => 5.0,
        ExitMotive::AutreMotif => 15.0,
        ExitMotive::Deces => 2.0,
        ExitMotive::RaisonsSante => 40.0,
        ExitMotive::Demenagement => 35.0,
        ExitMotive::Incarceration => 8.0,
        ExitMotive::ErreurSaisie => 15.0,
    }
}

fn draw_exit_motive(stream: &mut Stream) -> ExitMotive {
    let category: ExitCategory = stream.pick(&params::EXIT_CATEGORIES);
    let table: Vec<(ExitMotive, f64)> = ExitMotive::ALL
        .iter()
        .filter(|m| m.category() == category)
        .map(|&m| (m, exit_motive_weight(m)))
        .collect();
    stream.pick(&table)
}

/// One of three outcomes of shares `a`, `b` and the rest, given `u` drawn uniform in [0, 1):
/// the first below `a`, the second below `a + b`, the third otherwise.
fn one_of_three<T>(u: f64, (a, b): (f64, f64), [first, second, third]: [T; 3]) -> T {
    if u < a {
        first
    } else if u < a + b {
        second
    } else {
        third
    }
}

fn draw_situation(person: &Person, stream: &mut Stream) -> Situation {
    let (nm, m) = params::RSA_SHARES;
    let rsa = one_of_three(
        stream.unit(),
        (nm, m),
        [
            RsaStatus::OuiNonMajore,
            RsaStatus::OuiMajore,
            RsaStatus::Non,
        ],
    );
    let u = stream.unit();
    let shares = params::UNEMPLOYMENT_SHARES;
    let unemployment = if u < shares[0] {
        UnemploymentDuration::Moins6Mois
    } else if u < shares[0] + shares[1] {
        UnemploymentDuration::De6A11Mois
    } else if u < shares[0] + shares[1] + shares[2] {
        UnemploymentDuration::De12A23Mois
    } else {
        UnemploymentDuration::PlusDe24Mois
    };
    let code = stream.pick(&params::EDUCATION);
    let education = code
        .parse()
        .unwrap_or(crate::domain::EducationLevel::ScolariteObligatoire);
    Situation {
        rsa,
        ass: stream.chance(params::ASS_SHARE),
        aah: stream.chance(params::AAH_SHARE),
        rqth: stream.chance(params::RQTH_SHARE),
        qpv: person.qpv,
        zrr: person.zrr,
        education,
        unemployment,
    }
}

impl<'w> Simulation<'w> {
    /// Prepares the simulation and draws the salariés already in place before the first year.
    pub(crate) fn new(world: &'w World, seed: u64, first_year: i32, last_year: i32) -> Self {
        let mut sim = Self {
            world,
            seed,
            first_year,
            last_year,
            period_start: days_from_civil(first_year, 1, 1),
            end: days_from_civil(last_year, 12, 31),
            ids: Ids::default(),
            lines: world
                .structures
                .iter()
                .map(|s| s.lines.iter().map(|_| LineState::default()).collect())
                .collect(),
            pools: vec![Vec::new(); world.geo.depts.len()],
            carried: YearRows::default(),
            af_serial: 0,
        };
        sim.draw_stock();
        sim
    }

    /// Posts of a funding line for an annual ETP figure.
    fn posts_for(kind: StructureKind, etp: f64) -> usize {
        let p = profile(kind);
        let monthly_hours = p.weekly_hours * 52.0 / 12.0;
        ((etp * FULL_TIME_HOURS / (12.0 * monthly_hours * params::OCCUPANCY)).round() as usize)
            .max(1)
    }

    /// Parcours length in days for a structure kind (a few exceed the 24 months of a PASS).
    fn parcours_days(kind: StructureKind, stream: &mut Stream) -> i32 {
        let p = profile(kind);
        let months = if stream.chance(params::PROLONGATION_SHARE) {
            stream.uniform(25.0, 36.0)
        } else {
            let median = p.parcours_months / (0.6f64 * 0.6 / 2.0).exp();
            stream.lognormal(median, 0.6).clamp(1.0, 23.5)
        };
        ((months * MONTH_DAYS).round() as i32).max(14)
    }

    fn draw_stock(&mut self) {
        let mut rows = YearRows::default();
        let mut hires = Vec::new();
        for si in 0..self.world.structures.len() {
            let s = &self.world.structures[si];
            let mut stream = Stream::new(self.seed, "stock", si as u64, 0);
            for li in 0..s.lines.len() {
                let posts = Self::posts_for(s.kind, s.lines[li].base_etp);
                let mut state = std::mem::take(&mut self.lines[si][li]);
                for _ in 0..posts {
                    // Some posts are between two parcours on the first day.
                    if stream.chance(1.0 - params::OCCUPANCY) {
                        let gap = stream.exponential(params::SLOT_GAP_DAYS).round() as i32;
                        state.slots.push(Slot {
                            next_start: self.period_start + gap,
                            open: true,
                        });
                        continue;
                    }
                    // People in place on a given day stayed longer than average (length bias):
                    // keep a drawn length with probability proportional to it.
                    let mut length = Self::parcours_days(s.kind, &mut stream);
                    for _ in 0..1000 {
                        if stream.unit() * f64::from(MAX_PARCOURS_DAYS) < f64::from(length) {
                            break;
                        }
                        length = Self::parcours_days(s.kind, &mut stream);
                    }
                    let elapsed = stream.int(0, i64::from(length) - 1) as i32;
                    let start = self.period_start - elapsed;
                    let person = self.new_person(s.dept, start, &mut stream, &mut rows);
                    let new = NewParcours {
                        person,
                        start,
                        length,
                        stock: true,
                    };
                    let parcours = self.start_parcours(si, li, new, &mut stream, &mut rows);
                    let gap = stream.exponential(params::SLOT_GAP_DAYS).round() as i32;
                    state.slots.push(Slot {
                        next_start: parcours.end + 1 + gap,
                        open: true,
                    });
                    hires.push(Hire {
                        structure: si,
                        date: parcours.start,
                        person: parcours.person.clone(),
                        siae: true,
                        parcours_end: parcours.end,
                    });
                    state.live.push(parcours);
                }
                self.lines[si][li] = state;
            }
            // Stock hires carry a PASS IAE issued before the period, a few through an imported
            // France Travail approval.
            for hire in hires.drain(..) {
                let dept = self.world.structures[hire.structure].dept;
                if stream.chance(params::PE_APPROVAL_SHARE) {
                    let app = self.imported_application(
                        &hire,
                        crate::domain::CreationPath::PeApproval,
                        hire.date,
                        &mut rows,
                    );
                    self.issue_pass(&hire, Some(app), hire.date, dept, &mut stream, &mut rows);
                    self.mark_application(hire.structure, hire.person.candidat_id);
                } else {
                    self.issue_pass(&hire, None, hire.date, dept, &mut stream, &mut rows);
                }
            }
        }
        self.carried = rows;
    }

    /// Records that a stock parcours received an imported application.
    fn mark_application(&mut self, si: usize, candidat_id: i64) {
        for line in &mut self.lines[si] {
            for p in &mut line.live {
                if p.person.candidat_id == candidat_id {
                    p.has_application = true;
                }
            }
        }
    }

    /// Starts a parcours on funding line `li` of structure `si`: salarié, contracts (with
    /// their exit), and returns it.
    pub(crate) fn start_parcours(
        &mut self,
        si: usize,
        li: usize,
        new: NewParcours,
        stream: &mut Stream,
        rows: &mut YearRows,
    ) -> Parcours {
        let NewParcours {
            person,
            start,
            length,
            stock,
        } = new;
        let s = &self.world.structures[si];
        let p = profile(s.kind);
        let measure = s.lines[li].measure;
        let asp_id = s.asp_id.unwrap_or_default();
        let end = start + length - 1;
        let salarie_id = Ids::next(&mut self.ids.salarie);
        rows.salaries.push(SalarieRow {
            id: salarie_id,
            person: person.clone(),
        });
        let situation = draw_situation(&person, stream);
        let weekly_hours = (p.weekly_hours * stream.uniform(0.7, 1.3)).clamp(4.0, 35.0);
        let motive = draw_exit_motive(stream);
        let (lo, hi) = p.contract_months;
        let mut contracts = Vec::new();
        let mut cursor = start;
        let mut parent = None;
        while cursor <= end && cursor <= self.end {
            let months = if contracts.len() >= 11 {
                36
            } else {
                stream.int(lo, hi)
            };
            let planned_end = cursor + (months as f64 * MONTH_DAYS).round() as i32 - 1;
            let last = planned_end >= end || contracts.len() >= 11;
            let contract_end = if last { end } else { planned_end };
            let id = Ids::next(&mut self.ids.contrat);
            let exit_on = (last && end <= self.end).then_some(end);
            rows.contrats.push(ContratRow {
                id,
                salarie_id,
                structure_asp_id: asp_id,
                measure,
                parent_id: parent,
                start: cursor,
                planned_end: if last {
                    planned_end.max(end)
                } else {
                    planned_end
                },
                exit_on,
                exit_motive: exit_on.map(|_| motive),
                weekly_hours: round2(weekly_hours),
                situation,
            });
            contracts.push((id, cursor, contract_end));
            parent = Some(id);
            cursor = contract_end + 1;
        }
        Parcours {
            salarie_id,
            person,
            start,
            end,
            contracts,
            weekly_hours,
            stock,
            has_application: false,
        }
    }

    /// Simulates one year of every département and returns its rows.
    pub(crate) fn year(&mut self, year: i32) -> YearRows {
        let mut rows = if year == self.first_year {
            std::mem::take(&mut self.carried)
        } else {
            YearRows::default()
        };
        for dept in 0..self.world.geo.depts.len() {
            let mut stream = Stream::new(self.seed, "year", year as u64, dept as u64);
            self.af_serial = 0;
            let mut hires = Vec::new();
            for &si in &self.world.structures_by_dept[dept] {
                let s = &self.world.structures[si];
                for li in 0..s.lines.len() {
                    self.line_year(si, li, year, &mut stream, &mut rows, &mut hires);
                }
                if s.lines.is_empty() && s.parent.is_none() && !s.kind.is_siae() {
                    self.hors_iae_hires(si, year, &mut stream, &mut rows, &mut hires);
                }
            }
            self.platform_year(dept as u16, year, hires, &mut stream, &mut rows);
        }
        rows
    }

    fn hors_iae_hires(
        &mut self,
        si: usize,
        year: i32,
        stream: &mut Stream,
        rows: &mut YearRows,
        hires: &mut Vec<Hire>,
    ) {
        let s = &self.world.structures[si];
        let p = profile(s.kind);
        let first = days_from_civil(year, 1, 1);
        let last = days_from_civil(year, 12, 31).min(self.end);
        let n = stream.poisson(p.hors_iae_hires);
        let mut dates: Vec<i32> = (0..n)
            .map(|_| stream.int(i64::from(first), i64::from(last)) as i32)
            .collect();
        dates.sort_unstable();
        for date in dates {
            let person = self.hire_person(s.dept, date, stream, rows);
            hires.push(Hire {
                structure: si,
                date,
                person,
                siae: false,
                parcours_end: date + 365,
            });
        }
    }

    fn line_year(
        &mut self,
        si: usize,
        li: usize,
        year: i32,
        stream: &mut Stream,
        rows: &mut YearRows,
        hires: &mut Vec<Hire>,
    ) {
        let world = self.world;
        let s = &world.structures[si];
        let line = &s.lines[li];
        let year_start = days_from_civil(year, 1, 1);
        let year_end = days_from_civil(year, 12, 31).min(self.end);
        let growth = (1.0 + params::ETP_GROWTH).powi(year - self.first_year);
        let etp = round2(line.base_etp * growth * stream.uniform(0.95, 1.05)).max(0.5);
        let af_id = self.annexes(si, li, year, etp, stream, rows);

        let mut state = std::mem::take(&mut self.lines[si][li]);
        // Resize the posts to this year's funding.
        let posts = Self::posts_for(s.kind, etp);
        let open = state.slots.iter().filter(|x| x.open).count();
        if posts > open {
            let mut missing = posts - open;
            for slot in state.slots.iter_mut().filter(|x| !x.open) {
                if missing == 0 {
                    break;
                }
                slot.open = true;
                slot.next_start = slot.next_start.max(year_start);
                missing -= 1;
            }
            for _ in 0..missing {
                let delay = stream.int(0, 120) as i32;
                state.slots.push(Slot {
                    next_start: year_start + delay,
                    open: true,
                });
            }
        } else {
            let mut extra = open - posts;
            for slot in state.slots.iter_mut().rev().filter(|x| x.open) {
                if extra == 0 {
                    break;
                }
                slot.open = false;
                extra -= 1;
            }
        }
        // Hires of the year.
        for k in 0..state.slots.len() {
            while state.slots[k].open && state.slots[k].next_start <= year_end {
                let start = state.slots[k].next_start.max(year_start);
                let length = Self::parcours_days(s.kind, stream);
                let person = self.hire_person(s.dept, start, stream, rows);
                let new = NewParcours {
                    person,
                    start,
                    length,
                    stock: false,
                };
                let parcours = self.start_parcours(si, li, new, stream, rows);
                let gap = stream.exponential(params::SLOT_GAP_DAYS).round() as i32;
                state.slots[k].next_start = parcours.end + 1 + gap;
                let platform = match s.antenne {
                    Some(a) if stream.chance(params::ANTENNE_HIRE_SHARE) => a,
                    _ => si,
                };
                hires.push(Hire {
                    structure: platform,
                    date: start,
                    person: parcours.person.clone(),
                    siae: true,
                    parcours_end: parcours.end,
                });
                let mut parcours = parcours;
                parcours.has_application = true;
                state.live.push(parcours);
            }
        }
        // The bulk import of AI employees, on 2021-11-30.
        let ai_stock_day = days_from_civil(2021, 11, 30);
        if s.kind == StructureKind::Ai && year == 2021 && ai_stock_day >= self.period_start {
            for k in 0..state.live.len() {
                let p = &state.live[k];
                if p.stock
                    && !p.has_application
                    && p.start <= ai_stock_day
                    && p.end >= ai_stock_day
                    && stream.chance(params::AI_STOCK_SHARE)
                {
                    let hire = Hire {
                        structure: si,
                        date: p.start,
                        person: p.person.clone(),
                        siae: true,
                        parcours_end: p.end,
                    };
                    self.imported_application(
                        &hire,
                        crate::domain::CreationPath::AiStock,
                        ai_stock_day,
                        rows,
                    );
                    state.live[k].has_application = true;
                }
            }
        }
        let funded = Funded { year, etp, af_id };
        self.monthly_declarations(&state, s.kind, funded, stream, rows);
        state.live.retain(|p| p.end > year_end);
        self.lines[si][li] = state;
    }

    /// Draws this year's annexes financières of a funding line; returns the counted one's id.
    fn annexes(
        &mut self,
        si: usize,
        li: usize,
        year: i32,
        etp: f64,
        stream: &mut Stream,
        rows: &mut YearRows,
    ) -> i64 {
        let world = self.world;
        let s = &world.structures[si];
        let measure = s.lines[li].measure;
        let asp_id = s.asp_id.unwrap_or_default();
        let neighbours = &world.geo.depts[usize::from(s.dept)].neighbours;
        let dept = if !neighbours.is_empty() && stream.chance(params::AF_OTHER_DEPARTEMENT_SHARE) {
            neighbours[stream.index(neighbours.len())]
        } else {
            s.dept
        };
        let dept_code = dept3(&world.geo.depts[usize::from(dept)].code);
        let prefix = measure_prefix(measure);
        let convention_number = format!("{prefix}{dept_code}{asp_id:07}");
        let start = days_from_civil(year, 1, 1);
        let end = days_from_civil(year, 12, 31);
        let aid = profile(measure.kind().unwrap_or(s.kind)).aid_per_etp
            * (1.0 + 0.015 * f64::from(year - 2021));
        let amount = |etp: f64, stream: &mut Stream| round2(etp * aid * stream.uniform(1.0, 1.1));
        let cofinancing = |total: f64, stream: &mut Stream| {
            if stream.chance(params::AF_NO_COFINANCING_SHARE) {
                0.0
            } else {
                let (lo, hi) = params::AF_COFINANCING_RANGE;
                round2(total * stream.uniform(lo, hi))
            }
        };
        self.af_serial += 1;
        let serial = self.af_serial;
        let yy = year.rem_euclid(100);
        let mut modification = 0;
        if stream.chance(params::AF_HISTORISE_SHARE) {
            let old_etp = round2(etp * stream.uniform(0.85, 1.0));
            let total = amount(old_etp, stream);
            rows.afs.push(AfRow {
                id: Ids::next(&mut self.ids.af),
                number: format!("{prefix}{dept_code}{yy:02}{serial:04}A0M0"),
                convention_number: convention_number.clone(),
                structure_asp_id: asp_id,
                measure,
                year,
                start,
                end,
                state: AfState::Historise,
                dept,
                etp_mensuels: old_etp,
                amount_total: total,
                amount_departement: cofinancing(total, stream),
                annual_hours: None,
            });
            modification = 1;
        }
        let state = if year < self.last_year {
            if stream.chance(0.9) {
                AfState::Cloture
            } else {
                AfState::Valide
            }
        } else if stream.chance(0.85) {
            AfState::Valide
        } else {
            AfState::Provisoire
        };
        let total = amount(etp, stream);
        let id = Ids::next(&mut self.ids.af);
        rows.afs.push(AfRow {
            id,
            number: format!("{prefix}{dept_code}{yy:02}{serial:04}A0M{modification}"),
            convention_number: convention_number.clone(),
            structure_asp_id: asp_id,
            measure,
            year,
            start,
            end,
            state,
            dept,
            etp_mensuels: etp,
            amount_total: total,
            amount_departement: cofinancing(total, stream),
            annual_hours: stream.chance(0.3).then_some(FULL_TIME_HOURS),
        });
        if stream.chance(params::AF_ANNULE_SHARE) {
            self.af_serial += 1;
            let serial = self.af_serial;
            let etp = round2(etp * stream.uniform(0.3, 1.0));
            let total = amount(etp, stream);
            rows.afs.push(AfRow {
                id: Ids::next(&mut self.ids.af),
                number: format!("{prefix}{dept_code}{yy:02}{serial:04}A0M0"),
                convention_number,
                structure_asp_id: asp_id,
                measure,
                year,
                start,
                end,
                state: AfState::Annule,
                dept,
                etp_mensuels: etp,
                amount_total: total,
                amount_departement: 0.0,
                annual_hours: None,
            });
        }
        id
    }

    /// Monthly declarations of a funding line for one year, scaled to the realisation target.
    fn monthly_declarations(
        &mut self,
        state: &LineState,
        kind: StructureKind,
        funded: Funded,
        stream: &mut Stream,
        rows: &mut YearRows,
    ) {
        let Funded { year, etp, af_id } = funded;
        let variable = matches!(kind, StructureKind::Ai | StructureKind::Etti);
        let first = rows.emis.len();
        let mut validated = 0.0;
        for parcours in &state.live {
            for &(contrat_id, cs, ce) in &parcours.contracts {
                for month in 1..=12u32 {
                    let ms = days_from_civil(year, month, 1);
                    let me = last_day_of_month(year, month);
                    let from = cs.max(ms);
                    let to = ce.min(me).min(self.end);
                    if from > to {
                        continue;
                    }
                    let share = f64::from(to - from + 1) / f64::from(me - ms + 1);
                    let noise = if variable {
                        stream.uniform(0.3, 1.7)
                    } else {
                        stream.uniform(0.85, 1.15)
                    };
                    let hours = parcours.weekly_hours * 52.0 / 12.0 * share * noise;
                    let (v, d) = params::EMI_STATE_SHARES;
                    let emi_state = one_of_three(
                        stream.unit(),
                        (v, d),
                        [EmiState::Valide, EmiState::Debloque, EmiState::Saisi],
                    );
                    if emi_state.is_validated() {
                        validated += hours;
                    }
                    rows.emis.push(EmiRow {
                        id: 0,
                        salarie_id: parcours.salarie_id,
                        af_id,
                        contrat_id,
                        year,
                        month,
                        hours,
                        state: emi_state,
                    });
                }
            }
        }
        let (lo, hi) = params::REALISATION_RANGE;
        let target = etp * stream.uniform(lo, hi) * FULL_TIME_HOURS;
        let factor = if validated > 0.0 {
            (target / validated).clamp(0.5, 2.0)
        } else {
            1.0
        };
        for row in &mut rows.emis[first..] {
            row.hours = round2((row.hours * factor).clamp(0.5, 220.0));
            row.id = Ids::next(&mut self.ids.emi);
        }
    }
}
