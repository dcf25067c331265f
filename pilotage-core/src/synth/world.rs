//! The static side of the synthetic country: geography, structures, prescriber organisations
//! and job descriptions, drawn once per run.

use crate::domain::{AspMeasure, Code, PrescriberKind, StructureKind};
use crate::territory::Referential;

use super::SynthError;
use super::params::{self, KINDS, KindProfile, PRESCRIBERS};
use super::rng::{Cumulative, Stream};
use crate::calendar::days_from_civil;

/// A commune that can host structures and people (current, populated, in one of the 101
/// départements).
pub(crate) struct GeoCommune {
    pub code: String,
    pub dept: u16,
}

/// A département with its populated communes.
pub(crate) struct GeoDept {
    pub code: String,
    pub region: String,
    pub communes: Vec<u32>,
    pub weights: Cumulative,
    /// Other départements of the same région (for AF attachments and residence).
    pub neighbours: Vec<u16>,
}

/// The geography the simulation draws places from, weighted by population.
pub(crate) struct Geo {
    pub communes: Vec<GeoCommune>,
    pub depts: Vec<GeoDept>,
    pub weights: Cumulative,
}

impl Geo {
    /// Builds the geography from the territory referential.
    pub(crate) fn new(referential: &Referential) -> Result<Self, SynthError> {
        let mut communes = Vec::new();
        let mut depts = Vec::new();
        let mut weights = Vec::new();
        for (d, dept) in referential.departements().iter().enumerate() {
            let mut ids = Vec::new();
            let mut local = Vec::new();
            for commune in referential.communes_of_departement(&dept.code) {
                let population = f64::from(commune.population.unwrap_or(0));
                if population <= 0.0 {
                    continue;
                }
                ids.push(communes.len() as u32);
                local.push(population);
                weights.push(population);
                communes.push(GeoCommune {
                    code: commune.code.clone(),
                    dept: d as u16,
                });
            }
            depts.push((
                dept.code.clone(),
                dept.region.clone(),
                ids,
                Cumulative::new(local),
            ));
        }
        let regions: Vec<String> = depts.iter().map(|d| d.1.clone()).collect();
        let depts: Vec<GeoDept> = depts
            .into_iter()
            .enumerate()
            .map(|(i, (code, region, ids, weights))| GeoDept {
                code,
                region: region.clone(),
                communes: ids,
                weights,
                neighbours: regions
                    .iter()
                    .enumerate()
                    .filter(|(j, r)| *j != i && **r == *region)
                    .map(|(j, _)| j as u16)
                    .collect(),
            })
            .collect();
        if communes.is_empty() || depts.iter().any(|d| d.communes.is_empty()) {
            return Err(SynthError::Referential(
                "a département of the referential has no populated commune".to_owned(),
            ));
        }
        Ok(Self {
            communes,
            depts,
            weights: Cumulative::new(weights),
        })
    }

    /// A commune anywhere, with probability proportional to its population.
    pub(crate) fn commune(&self, stream: &mut Stream) -> u32 {
        self.weights.draw(stream) as u32
    }

    /// A commune of département `dept`, proportional to population.
    pub(crate) fn commune_in(&self, dept: u16, stream: &mut Stream) -> u32 {
        let d = &self.depts[usize::from(dept)];
        d.communes[d.weights.draw(stream)]
    }

    /// Where someone applying to a structure of `dept` lives: mostly the same département,
    /// else another of the same région.
    pub(crate) fn residence_near(&self, dept: u16, stream: &mut Stream) -> u32 {
        let d = &self.depts[usize::from(dept)];
        if d.neighbours.is_empty() || stream.chance(params::SAME_DEPARTEMENT_SHARE) {
            self.commune_in(dept, stream)
        } else {
            let other = d.neighbours[stream.index(d.neighbours.len())];
            self.commune_in(other, stream)
        }
    }

    /// Département index of a commune.
    pub(crate) fn dept_of(&self, commune: u32) -> u16 {
        self.communes[commune as usize].dept
    }
}

/// One funding line of an SIAE: an ASP measure with its posts.
pub(crate) struct FundingLine {
    pub measure: AspMeasure,
    /// Annual ETP conventionnés in the first year.
    pub base_etp: f64,
}

/// An employer structure.
pub(crate) struct Structure {
    pub id: i64,
    pub asp_id: Option<i64>,
    pub parent: Option<usize>,
    pub siret: String,
    pub name: String,
    pub kind: StructureKind,
    pub commune: u32,
    pub dept: u16,
    pub created_on: i32,
    pub lines: Vec<FundingLine>,
    /// Index of its antenne, if any.
    pub antenne: Option<usize>,
    /// Relative weight as a receiver of applications.
    pub attraction: f64,
    /// Range of its job descriptions in `World::fiches`.
    pub fiches: std::ops::Range<usize>,
}

/// A prescriber organisation.
pub(crate) struct Organisation {
    pub id: i64,
    pub siret: String,
    pub name: String,
    pub kind: PrescriberKind,
    pub commune: u32,
    pub authorized: bool,
    pub brsa: bool,
    pub created_on: i32,
}

/// A job description.
pub(crate) struct Fiche {
    pub id: i64,
    pub structure_id: i64,
    pub rome: usize,
    pub created_on: i32,
    pub open: bool,
    /// Days between creation and last change.
    pub updated_after: i32,
}

/// The static entities and per-département lookups.
pub(crate) struct World {
    pub geo: Geo,
    pub structures: Vec<Structure>,
    pub organisations: Vec<Organisation>,
    pub fiches: Vec<Fiche>,
    /// Per département: structure indices (in id order).
    pub structures_by_dept: Vec<Vec<usize>>,
    /// Per département: application-receiving weights over `structures_by_dept`.
    pub receivers_by_dept: Vec<Cumulative>,
    /// Per département: authorized organisations and their sender weights.
    pub authorized_by_dept: Vec<(Vec<usize>, Cumulative)>,
    /// Per département: non-authorized organisations (orienteurs) and their weights.
    pub orienteurs_by_dept: Vec<(Vec<usize>, Cumulative)>,
    /// Fallback senders when a département has none: every authorized / orienteur organisation.
    pub authorized_all: (Vec<usize>, Cumulative),
    /// Fallback orienteurs nationally.
    pub orienteurs_all: (Vec<usize>, Cumulative),
}

/// Count of items at `scale`, at least one when `at_least_one`.
pub(crate) fn scaled(count: f64, scale: f64, at_least_one: bool) -> usize {
    let n = (count * scale).round() as usize;
    if at_least_one { n.max(1) } else { n }
}

/// The kind profile of a structure kind.
pub(crate) fn profile(kind: StructureKind) -> &'static KindProfile {
    KINDS.iter().find(|p| p.kind == kind).unwrap_or(&KINDS[0])
}

fn siret(stream: &mut Stream, siren_seq: u64) -> String {
    // Nine-digit SIREN from a sequence (unique), then a five-digit establishment number.
    let siren = 300_000_000 + siren_seq * 7919 % 600_000_000;
    format!("{siren:09}{:05}", stream.int(1, 99_999))
}

/// Draws the structures of every kind, `scale` times the kind's count each (at least
/// one when `at_least_one`), created before `period_start` (days since 1970-01-01); ids and
/// names are left to [`name_structures`].
fn draw_structures(
    geo: &Geo,
    stream: &mut Stream,
    scale: f64,
    at_least_one: bool,
    period_start: i32,
) -> Vec<Structure> {
    let mut structures: Vec<Structure> = Vec::new();
    let mut siren_seq = 1u64;
    for p in &KINDS {
        let n = scaled(p.count, scale, at_least_one);
        for _ in 0..n {
            let commune = geo.commune(stream);
            let dept = geo.dept_of(commune);
            let lines = funding_lines(p, stream);
            let attraction = attraction(p, &lines);
            let created_on = period_start - stream.int(200, 20 * 365) as i32;
            structures.push(Structure {
                id: 0,
                asp_id: None,
                parent: None,
                siret: siret(stream, siren_seq),
                name: String::new(),
                kind: p.kind,
                commune,
                dept,
                created_on,
                lines,
                antenne: None,
                attraction,
                fiches: 0..0,
            });
            siren_seq += 1;
        }
    }
    structures
}

/// The funding lines of a structure of kind `p`: none outside the IAE; else the kind's
/// droit-commun measure (ETP drawn lognormal around the kind's mean, 0.5–400, to the
/// hundredth) and, for some ACI and EI, a prison measure of 2–12 ETP.
fn funding_lines(p: &KindProfile, stream: &mut Stream) -> Vec<FundingLine> {
    let mut lines = Vec::new();
    if let Some(measure) = AspMeasure::droit_commun(p.kind) {
        let median = p.mean_etp / (params::SIZE_SIGMA.powi(2) / 2.0).exp();
        let etp = stream
            .lognormal(median, params::SIZE_SIGMA)
            .clamp(0.5, 400.0);
        lines.push(FundingLine {
            measure,
            base_etp: (etp * 100.0).round() / 100.0,
        });
        let prison = match p.kind {
            StructureKind::Aci => Some((AspMeasure::AciMp, params::PRISON_SHARE_ACI)),
            StructureKind::Ei => Some((AspMeasure::EiMp, params::PRISON_SHARE_EI)),
            _ => None,
        };
        if let Some((measure, share)) = prison
            && stream.chance(share)
        {
            let etp = stream.uniform(2.0, 12.0);
            lines.push(FundingLine {
                measure,
                base_etp: (etp * 100.0).round() / 100.0,
            });
        }
    }
    lines
}

/// A structure's weight as a receiver of applications, in hires a year: the kind's hires
/// outside the IAE, else what its funded posts allow.
fn attraction(p: &KindProfile, lines: &[FundingLine]) -> f64 {
    if lines.is_empty() {
        p.hors_iae_hires
    } else {
        // Hires a year: posts (ETP × 1,607 h ÷ yearly hours of one salarié)
        // renewed every parcours.
        lines.iter().map(|l| l.base_etp).sum::<f64>() * params::FULL_TIME_HOURS
            / (p.weekly_hours * 52.0)
            * 12.0
            / p.parcours_months
    }
}

/// Gives some SIAE an antenne: same kind and SIREN, no ASP identity, in the same
/// département, appended after every parent structure.
fn add_antennes(structures: &mut Vec<Structure>, geo: &Geo, stream: &mut Stream) {
    let parents = structures.len();
    for i in 0..parents {
        if structures[i].kind.is_siae() && stream.chance(params::ANTENNE_SHARE) {
            let dept = structures[i].dept;
            let commune = geo.commune_in(dept, stream);
            let siren = structures[i].siret[..9].to_owned();
            let created_on = structures[i].created_on + stream.int(100, 2000) as i32;
            let antenne = Structure {
                id: 0,
                asp_id: None,
                parent: Some(i),
                siret: format!("{siren}{:05}", stream.int(1, 99_999)),
                name: String::new(),
                kind: structures[i].kind,
                commune,
                dept,
                created_on,
                lines: Vec::new(),
                antenne: None,
                attraction: structures[i].attraction * params::ANTENNE_HIRE_SHARE,
                fiches: 0..0,
            };
            structures[i].antenne = Some(structures.len());
            structures.push(antenne);
        }
    }
}

/// Gives the structures stable ids (their position, from 1), ASP ids to the funded ones, and
/// names from their kind, commune and id.
fn name_structures(structures: &mut [Structure], geo: &Geo) {
    let mut asp_seq = 1000i64;
    for (i, s) in structures.iter_mut().enumerate() {
        s.id = i as i64 + 1;
        if !s.lines.is_empty() {
            asp_seq += 1 + (i as i64 % 3);
            s.asp_id = Some(asp_seq);
        }
        let place = &geo.communes[s.commune as usize].code;
        let suffix = if s.parent.is_some() { " (antenne)" } else { "" };
        s.name = format!("{} {} n°{}{}", s.kind.code(), place, s.id, suffix);
    }
}

/// Per département of `n_depts`: the indices of its structures and their weights as receivers
/// of applications.
fn receivers(structures: &[Structure], n_depts: usize) -> (Vec<Vec<usize>>, Vec<Cumulative>) {
    let mut structures_by_dept = vec![Vec::new(); n_depts];
    for (i, s) in structures.iter().enumerate() {
        structures_by_dept[usize::from(s.dept)].push(i);
    }
    let receivers_by_dept = structures_by_dept
        .iter()
        .map(|list| Cumulative::new(list.iter().map(|&i| structures[i].attraction)))
        .collect();
    (structures_by_dept, receivers_by_dept)
}

/// The organisations that send applications, authorized or not, per département and
/// nationally, weighted by their activity as senders.
struct Senders {
    authorized_by_dept: Vec<(Vec<usize>, Cumulative)>,
    orienteurs_by_dept: Vec<(Vec<usize>, Cumulative)>,
    authorized_all: (Vec<usize>, Cumulative),
    orienteurs_all: (Vec<usize>, Cumulative),
}

impl Senders {
    /// Sorts `organisations` by département (of their commune) and authorization.
    fn new(organisations: &[Organisation], geo: &Geo) -> Self {
        let n_depts = geo.depts.len();
        let mut authorized_by_dept = vec![Vec::new(); n_depts];
        let mut orienteurs_by_dept = vec![Vec::new(); n_depts];
        for (i, o) in organisations.iter().enumerate() {
            let d = usize::from(geo.dept_of(o.commune));
            if o.authorized {
                authorized_by_dept[d].push(i);
            } else {
                orienteurs_by_dept[d].push(i);
            }
        }
        let weighted = |list: Vec<usize>| {
            let w = Cumulative::new(
                list.iter()
                    .map(|&i| params::sender_activity(organisations[i].kind)),
            );
            (list, w)
        };
        let authorized_all = weighted(
            (0..organisations.len())
                .filter(|&i| organisations[i].authorized)
                .collect(),
        );
        let orienteurs_all = weighted(
            (0..organisations.len())
                .filter(|&i| !organisations[i].authorized)
                .collect(),
        );
        let authorized_by_dept = authorized_by_dept.into_iter().map(weighted).collect();
        let orienteurs_by_dept = orienteurs_by_dept.into_iter().map(weighted).collect();
        Self {
            authorized_by_dept,
            orienteurs_by_dept,
            authorized_all,
            orienteurs_all,
        }
    }
}

impl World {
    /// Draws the static entities of a run.
    pub(crate) fn build(
        referential: &Referential,
        seed: u64,
        scale: f64,
        first_year: i32,
        last_year: i32,
    ) -> Result<Self, SynthError> {
        let geo = Geo::new(referential)?;
        let mut stream = Stream::new(seed, "structures", 0, 0);
        let at_least_one = scale >= 0.001;
        let period_start = days_from_civil(first_year, 1, 1);
        let mut structures = draw_structures(&geo, &mut stream, scale, at_least_one, period_start);
        add_antennes(&mut structures, &geo, &mut stream);
        name_structures(&mut structures, &geo);

        let organisations = build_organisations(&geo, seed, scale, at_least_one, period_start);
        let period_end = days_from_civil(last_year, 12, 31);
        let fiches = build_fiches(&mut structures, seed, period_start, period_end);

        let (structures_by_dept, receivers_by_dept) = receivers(&structures, geo.depts.len());
        let senders = Senders::new(&organisations, &geo);
        Ok(Self {
            geo,
            structures,
            organisations,
            fiches,
            structures_by_dept,
            receivers_by_dept,
            authorized_by_dept: senders.authorized_by_dept,
            orienteurs_by_dept: senders.orienteurs_by_dept,
            authorized_all: senders.authorized_all,
            orienteurs_all: senders.orienteurs_all,
        })
    }

    /// Picks a sender organisation in `dept` (falling back to the whole country).
    pub(crate) fn sender(&self, dept: u16, authorized: bool, stream: &mut Stream) -> Option<usize> {
        let (list, weights) = if authorized {
            &self.authorized_by_dept[usize::from(dept)]
        } else {
            &self.orienteurs_by_dept[usize::from(dept)]
        };
        if !weights.is_empty() {
            return Some(list[weights.draw(stream)]);
        }
        let (list, weights) = if authorized {
            &self.authorized_all
        } else {
            &self.orienteurs_all
        };
        (!weights.is_empty()).then(|| list[weights.draw(stream)])
    }
}

fn build_organisations(
    geo: &Geo,
    seed: u64,
    scale: f64,
    at_least_one: bool,
    period_start: i32,
) -> Vec<Organisation> {
    let mut stream = Stream::new(seed, "organisations", 0, 0);
    let mut organisations = Vec::new();
    for &(kind, count, authorized_share, brsa_share) in &PRESCRIBERS {
        let n = scaled(count, scale, at_least_one);
        for _ in 0..n {
            let commune = geo.commune(&mut stream);
            let id = organisations.len() as i64 + 1;
            // Habilitée organisations of the public employment service are always authorized.
            let authorized = authorized_share >= 1.0 || stream.chance(authorized_share);
            let brsa = stream.chance(brsa_share);
            let created_on = period_start - stream.int(0, 4 * 365) as i32
                + if stream.chance(0.2) {
                    stream.int(0, 3 * 365) as i32
                } else {
                    0
                };
            organisations.push(Organisation {
                id,
                siret: siret(&mut stream, 800_000 + id as u64),
                name: format!(
                    "{} {} n°{}",
                    kind.code(),
                    geo.communes[commune as usize].code,
                    id
                ),
                kind,
                commune,
                authorized,
                brsa,
                created_on,
            });
        }
    }
    organisations
}

fn build_fiches(
    structures: &mut [Structure],
    seed: u64,
    period_start: i32,
    period_end: i32,
) -> Vec<Fiche> {
    let mut stream = Stream::new(seed, "fiches_de_poste", 0, 0);
    let mut fiches = Vec::new();
    for s in structures.iter_mut() {
        let mean = params::FICHES_PER_STRUCTURE * (1.0 + s.attraction / 40.0).min(3.0);
        let n = stream.count_at_least_one(mean);
        let start = fiches.len();
        for _ in 0..n {
            fiches.push(Fiche {
                id: fiches.len() as i64 + 1,
                structure_id: s.id,
                rome: stream.index(params::ROME.len()),
                created_on: (s.created_on.max(period_start - 3 * 365)
                    + stream.int(0, 4 * 365) as i32)
                    .min(period_end - 30),
                open: stream.chance(0.6),
                updated_after: stream.int(0, 400) as i32,
            });
        }
        s.fiches = start..fiches.len();
    }
    fiches
}
