//! The job-application platform side of the simulation: candidats, their application
//! episodes, answers and delays, and the PASS IAE issued at hiring.
//!
//! An episode is a candidat sending one or more applications to structures of a département
//! within a few weeks, with one sender (a prescriber, an orienteur, an employer or
//! themselves). Episodes ending in a hire are driven by the hires of the ASP side; episodes
//! ending in no hire are added in proportion. Every application then follows the real
//! states, with the automatic refusal after 60 days in new/processing.

use sha2::{Digest, Sha256};

use crate::domain::{
    ApplicationState, CreationPath, Origine, ProlongationReason, RefusalReason, Sex,
};

use super::flows::{Hire, Ids, Simulation};
use super::params;
use super::records::{
    CandidatRow, CandidatureRow, PassRow, Person, ProlongationRow, SuspensionRow, YearRows,
};
use super::rng::Stream;
use crate::calendar::days_from_civil;

/// What will happen to an application, before the period end cuts it.
#[derive(Clone, Copy)]
enum Plan {
    /// Never opened: refused automatically after 60 days.
    Untouched,
    /// Opened, then answered on `answer` with `outcome`, perhaps after being put on hold.
    Answered {
        first_look: i32,
        postponed_on: Option<i32>,
        answer: i32,
        outcome: ApplicationState,
        reason: Option<RefusalReason>,
    },
}

/// Final state, refusal reason, first look and processing dates of an application.
struct Resolution {
    state: ApplicationState,
    reason: Option<RefusalReason>,
    first_look: Option<i32>,
    processed: Option<i32>,
}

/// An application to record: the candidat's hash, the structure index receiving it, its
/// creation day, its sender (origin, organisation, structure), how it ends and the day the
/// hiring it carries starts.
struct NewApplication {
    hash: [u8; 32],
    receiver: usize,
    created: i32,
    sender: (Origine, Option<i64>, Option<i64>),
    resolution: Resolution,
    hiring_start_on: Option<i32>,
}

impl<'w> Simulation<'w> {
    /// A new candidat living near département `dept`, first seen on `day`.
    pub(crate) fn new_person(
        &mut self,
        dept: u16,
        day: i32,
        stream: &mut Stream,
        rows: &mut YearRows,
    ) -> Person {
        let id = Ids::next(&mut self.ids.candidat);
        let mut hasher = Sha256::new();
        hasher.update(b"pilotage-synth-nir");
        hasher.update(self.seed.to_le_bytes());
        hasher.update(id.to_le_bytes());
        hasher.update(stream.bytes32());
        let mut hash = [0u8; 32];
        hash.copy_from_slice(&hasher.finalize());
        if hash.iter().all(|b| *b == 0) {
            hash[31] = 1;
        }
        let (young, middle) = params::AGE_SHARES;
        let r = stream.unit();
        let age = if r < young {
            stream.int(18, 25)
        } else if r < young + middle {
            stream.int(26, 49)
        } else {
            stream.int(50, 64)
        } as i32;
        let (year, _, _) = crate::calendar::civil_from_days(day);
        let person = Person {
            candidat_id: id,
            hash,
            sex: if stream.chance(params::WOMEN_SHARE) {
                Sex::Female
            } else {
                Sex::Male
            },
            birth_year: year - age,
            commune: self.world.geo.residence_near(dept, stream),
            qpv: stream.chance(params::QPV_SHARE),
            zrr: stream.chance(params::ZRR_SHARE),
        };
        rows.candidats.push(CandidatRow {
            person: person.clone(),
            created_on: day,
        });
        person
    }

    /// The person hired on `day` in département `dept`: sometimes a candidat of an earlier
    /// unsuccessful episode, else a new one.
    pub(crate) fn hire_person(
        &mut self,
        dept: u16,
        day: i32,
        stream: &mut Stream,
        rows: &mut YearRows,
    ) -> Person {
        // Registered on the platform some weeks before the applications that led to the hire.
        let registered = day - 100 - stream.int(0, 180) as i32;
        let pool = &mut self.pools[usize::from(dept)];
        if !pool.is_empty() && stream.chance(params::RETURNING_CANDIDAT_SHARE) {
            let k = stream.index(pool.len());
            if pool[k].1 <= registered {
                return pool.swap_remove(k).0;
            }
        }
        self.new_person(dept, registered, stream, rows)
    }

    /// An accepted application created by a bulk import (`ai_stock`, `pe_approval`).
    pub(crate) fn imported_application(
        &mut self,
        hire: &Hire,
        path: CreationPath,
        day: i32,
        rows: &mut YearRows,
    ) -> i64 {
        let s = &self.world.structures[hire.structure];
        let id = Ids::next(&mut self.ids.candidature);
        rows.candidatures.push(CandidatureRow {
            id,
            hash: hire.person.hash,
            structure_id: s.id,
            created_on: day,
            state: ApplicationState::Accepted,
            origine: Origine::Employeur,
            sender_organisation_id: None,
            sender_structure_id: Some(s.id),
            refusal_reason: None,
            first_look_on: Some(day),
            processed_on: Some(day),
            hiring_start_on: Some(hire.date),
            creation_path: path,
            fiche_id: None,
            diagnosis_by_employer: true,
        });
        id
    }

    /// Issues the PASS IAE of an SIAE hire, with its suspension and prolongation if any.
    pub(crate) fn issue_pass(
        &mut self,
        hire: &Hire,
        candidature_id: Option<i64>,
        issued_on: i32,
        dept: u16,
        stream: &mut Stream,
        rows: &mut YearRows,
    ) {
        let structure_id = self.world.structures[hire.structure].id;
        let pass_id = Ids::next(&mut self.ids.pass);
        let start = hire.date;
        let mut end = start + 729;
        let length = hire.parcours_end - start + 1;
        if stream.chance(params::SUSPENSION_SHARE) {
            let from = start + stream.int(30, i64::from(length.clamp(31, 700))) as i32;
            let days = stream.int(15, 180) as i32;
            if from <= self.end {
                rows.suspensions.push(SuspensionRow {
                    id: Ids::next(&mut self.ids.suspension),
                    pass_id,
                    start: from,
                    end: from + days - 1,
                    reason: stream.pick(&params::SUSPENSION_REASONS),
                    structure_id,
                    created_on: from + stream.int(0, 10) as i32,
                });
                end += days;
            }
        }
        if hire.parcours_end > end {
            let from = end + 1;
            let days = (hire.parcours_end - end).clamp(90, 365);
            if from - 30 <= self.end {
                let reason = stream.pick(&params::PROLONGATION_REASONS);
                let organisation_id = if reason == ProlongationReason::ParticularDifficulties {
                    self.world
                        .sender(dept, true, stream)
                        .map(|o| self.world.organisations[o].id)
                } else {
                    None
                };
                rows.prolongations.push(ProlongationRow {
                    id: Ids::next(&mut self.ids.prolongation),
                    pass_id,
                    start: from,
                    end: from + days - 1,
                    reason,
                    structure_id,
                    organisation_id,
                    created_on: from - stream.int(1, 30) as i32,
                });
                end += days;
            }
        }
        rows.pass.push(PassRow {
            id: pass_id,
            number: format!("99999{pass_id:07}"),
            hash: hire.person.hash,
            structure_id,
            candidature_id,
            start,
            end,
            created_on: issued_on.min(start),
        });
    }

    /// Applications of one département and year: an episode per hire, then episodes that end
    /// in no hire.
    pub(crate) fn platform_year(
        &mut self,
        dept: u16,
        year: i32,
        hires: Vec<Hire>,
        stream: &mut Stream,
        rows: &mut YearRows,
    ) {
        let n_hires = hires.len();
        for hire in hires {
            self.hire_episode(dept, year, &hire, stream, rows);
        }
        let episodes = stream.poisson(params::NON_HIRE_EPISODES_PER_HIRE * n_hires as f64);
        let first = days_from_civil(year, 1, 1);
        let last = days_from_civil(year, 12, 31).min(self.end);
        for _ in 0..episodes {
            let day = stream.int(i64::from(first), i64::from(last)) as i32;
            self.non_hire_episode(dept, year, day, stream, rows);
        }
    }

    fn receiver(&self, dept: u16, stream: &mut Stream) -> usize {
        let list = &self.world.structures_by_dept[usize::from(dept)];
        list[self.world.receivers_by_dept[usize::from(dept)].draw(stream)]
    }

    fn fiche(&self, si: usize, day: i32, stream: &mut Stream) -> Option<i64> {
        if !stream.chance(params::FICHE_SHARE) {
            return None;
        }
        let range = self.world.structures[si].fiches.clone();
        let open: Vec<&super::world::Fiche> = self.world.fiches[range]
            .iter()
            .filter(|f| f.created_on <= day)
            .collect();
        (!open.is_empty()).then(|| open[stream.index(open.len())].id)
    }

    /// The sender of an episode: origine, organisation, structure (for employer senders).
    fn sender(
        &self,
        origine: Origine,
        dept: u16,
        receiver: usize,
        stream: &mut Stream,
    ) -> (Origine, Option<i64>, Option<i64>) {
        let world = self.world;
        match origine {
            Origine::PrescripteurHabilite | Origine::Orienteur => {
                let authorized = origine == Origine::PrescripteurHabilite;
                match world.sender(dept, authorized, stream) {
                    Some(o) => (origine, Some(world.organisations[o].id), None),
                    None => (Origine::Candidat, None, None),
                }
            }
            Origine::Employeur => (origine, None, Some(world.structures[receiver].id)),
            Origine::EmployeurOrienteur => {
                let list = &world.structures_by_dept[usize::from(dept)];
                let other = list[stream.index(list.len())];
                if other == receiver {
                    (Origine::Candidat, None, None)
                } else {
                    (origine, None, Some(world.structures[other].id))
                }
            }
            Origine::Candidat => (origine, None, None),
        }
    }

    fn refusal_reason(&self, year: i32, stream: &mut Stream) -> RefusalReason {
        if year < 2023 && stream.chance(params::LEGACY_REFUSAL_SHARE) {
            stream.pick(&params::LEGACY_REFUSAL_REASONS)
        } else {
            stream.pick(&params::REFUSAL_REASONS)
        }
    }

    fn first_look_delay(stream: &mut Stream) -> i32 {
        let (median, sigma) = params::FIRST_LOOK_DELAY;
        (stream.lognormal(median, sigma) - 1.0)
            .round()
            .clamp(0.0, 200.0) as i32
    }

    /// Applies the period end and the automatic refusal to a plan.
    fn resolve(&self, created: i32, plan: Plan) -> Resolution {
        let end = self.end;
        let auto_day = created + params::AUTO_REFUSAL_DAYS;
        match plan {
            Plan::Untouched => {
                if auto_day <= end {
                    Resolution {
                        state: ApplicationState::Refused,
                        reason: Some(RefusalReason::Auto),
                        first_look: None,
                        processed: Some(auto_day),
                    }
                } else {
                    Resolution {
                        state: ApplicationState::New,
                        reason: None,
                        first_look: None,
                        processed: None,
                    }
                }
            }
            Plan::Answered {
                first_look,
                postponed_on,
                answer,
                outcome,
                reason,
            } => {
                let on_hold = postponed_on.is_some_and(|p| p < auto_day && p <= end);
                if !on_hold && answer > auto_day {
                    // Left new or processing for 60 days: refused automatically.
                    return if auto_day <= end {
                        Resolution {
                            state: ApplicationState::Refused,
                            reason: Some(RefusalReason::Auto),
                            first_look: (first_look < auto_day).then_some(first_look),
                            processed: Some(auto_day),
                        }
                    } else {
                        Resolution {
                            state: if first_look <= end {
                                ApplicationState::Processing
                            } else {
                                ApplicationState::New
                            },
                            reason: None,
                            first_look: (first_look <= end).then_some(first_look),
                            processed: None,
                        }
                    };
                }
                if answer > end {
                    let state = if on_hold {
                        ApplicationState::Postponed
                    } else if first_look <= end {
                        ApplicationState::Processing
                    } else {
                        ApplicationState::New
                    };
                    return Resolution {
                        state,
                        reason: None,
                        first_look: (first_look <= end).then_some(first_look),
                        processed: None,
                    };
                }
                let processed = outcome.is_processed().then_some(answer);
                Resolution {
                    state: outcome,
                    reason,
                    first_look: Some(first_look.min(answer)),
                    processed,
                }
            }
        }
    }

    /// Records an application and returns its id.
    fn push_application(
        &mut self,
        app: NewApplication,
        stream: &mut Stream,
        rows: &mut YearRows,
    ) -> i64 {
        let NewApplication {
            hash,
            receiver,
            created,
            sender,
            resolution,
            hiring_start_on,
        } = app;
        let id = Ids::next(&mut self.ids.candidature);
        let s = &self.world.structures[receiver];
        let (origine, organisation, structure) = sender;
        rows.candidatures.push(CandidatureRow {
            id,
            hash,
            structure_id: s.id,
            created_on: created,
            state: resolution.state,
            origine,
            sender_organisation_id: organisation,
            sender_structure_id: structure,
            refusal_reason: resolution.reason,
            first_look_on: resolution.first_look,
            processed_on: resolution.processed,
            hiring_start_on,
            creation_path: CreationPath::Default,
            fiche_id: self.fiche(receiver, created, stream),
            diagnosis_by_employer: origine == Origine::Employeur && s.kind.is_siae(),
        });
        id
    }

    fn hire_episode(
        &mut self,
        dept: u16,
        year: i32,
        hire: &Hire,
        stream: &mut Stream,
        rows: &mut YearRows,
    ) {
        let origine = stream.pick(&params::ORIGINE_HIRE);
        let sender = self.sender(origine, dept, hire.structure, stream);
        let accepted_on = (hire.date - stream.int(0, 14) as i32).max(self.period_start);
        let delay = stream.lognormal(12.0, 0.7).round().clamp(0.0, 55.0) as i32;
        let created = (accepted_on - delay).max(self.period_start);
        let first_look = created + Self::first_look_delay(stream).min(accepted_on - created);
        let resolution = Resolution {
            state: ApplicationState::Accepted,
            reason: None,
            first_look: Some(first_look),
            processed: Some(accepted_on),
        };
        let accepted = NewApplication {
            hash: hire.person.hash,
            receiver: hire.structure,
            created,
            sender,
            resolution,
            hiring_start_on: Some(hire.date),
        };
        let app = self.push_application(accepted, stream, rows);
        if hire.siae {
            self.issue_pass(hire, Some(app), accepted_on, dept, stream, rows);
        }
        // Other applications of the same search, answered before the hire or made obsolete by it.
        let extra = stream.poisson(params::EXTRA_APPS_PER_HIRE_EPISODE);
        let extra_sender = if sender.0 == Origine::Employeur {
            (Origine::Candidat, None, None)
        } else {
            sender
        };
        for _ in 0..extra {
            let receiver = self.receiver(dept, stream);
            let created_other =
                (created + stream.int(-20, 10) as i32).clamp(self.period_start, accepted_on);
            let (median, sigma) = params::ANSWER_DELAY;
            let answer = created_other + stream.lognormal(median, sigma).round() as i32;
            let first_look =
                created_other + Self::first_look_delay(stream).min(answer - created_other);
            let plan = if answer < accepted_on {
                Plan::Answered {
                    first_look,
                    postponed_on: None,
                    answer,
                    outcome: ApplicationState::Refused,
                    reason: Some(self.refusal_reason(year, stream)),
                }
            } else {
                Plan::Answered {
                    first_look: first_look.min(accepted_on),
                    postponed_on: None,
                    answer: accepted_on.max(created_other),
                    outcome: ApplicationState::Obsolete,
                    reason: None,
                }
            };
            let resolution = self.resolve(created_other, plan);
            let other = NewApplication {
                hash: hire.person.hash,
                receiver,
                created: created_other,
                sender: extra_sender,
                resolution,
                hiring_start_on: None,
            };
            self.push_application(other, stream, rows);
        }
    }

    fn non_hire_episode(
        &mut self,
        dept: u16,
        year: i32,
        day: i32,
        stream: &mut Stream,
        rows: &mut YearRows,
    ) {
        let person = self.new_person(dept, day, stream, rows);
        let origine = stream.pick(&params::ORIGINE_NON_HIRE);
        let first_receiver = self.receiver(dept, stream);
        let sender = self.sender(origine, dept, first_receiver, stream);
        let count = if sender.0 == Origine::Employeur {
            1
        } else {
            stream.count_at_least_one(params::APPS_PER_NON_HIRE_EPISODE)
        };
        let last_day = days_from_civil(year, 12, 31).min(self.end);
        for k in 0..count {
            let receiver = if k == 0 {
                first_receiver
            } else {
                self.receiver(dept, stream)
            };
            let created = (day + stream.int(0, 30) as i32).min(last_day);
            let (median, sigma) = params::ANSWER_DELAY;
            let r = stream.unit();
            let plan = if r < params::UNTOUCHED_SHARE {
                Plan::Untouched
            } else {
                let first_look = created + Self::first_look_delay(stream);
                let mut postponed_on = None;
                let mut answer = created + stream.lognormal(median, sigma).round() as i32;
                let mut outcome = ApplicationState::Refused;
                let mut reason = None;
                let r = r - params::UNTOUCHED_SHARE;
                if r < params::POSTPONED_SHARE {
                    postponed_on = Some(first_look + stream.int(0, 10) as i32);
                    answer = created + stream.lognormal(45.0, 0.6).round() as i32;
                    reason = Some(self.refusal_reason(year, stream));
                } else if r < params::POSTPONED_SHARE + params::POOL_SHARE {
                    outcome = ApplicationState::Pool;
                } else if r < params::POSTPONED_SHARE + params::POOL_SHARE + params::CANCELLED_SHARE
                {
                    outcome = ApplicationState::Cancelled;
                } else {
                    reason = Some(self.refusal_reason(year, stream));
                }
                Plan::Answered {
                    first_look: first_look.min(answer),
                    postponed_on: postponed_on.map(|p: i32| p.min(answer)),
                    answer,
                    outcome,
                    reason,
                }
            };
            let resolution = self.resolve(created, plan);
            let hiring_start_on = (resolution.state == ApplicationState::Cancelled)
                .then(|| resolution.processed.map(|p| p + 7))
                .flatten();
            let this_sender = if sender.0 == Origine::Employeur {
                (
                    Origine::Employeur,
                    None,
                    Some(self.world.structures[receiver].id),
                )
            } else {
                sender
            };
            let app = NewApplication {
                hash: person.hash,
                receiver,
                created,
                sender: this_sender,
                resolution,
                hiring_start_on,
            };
            self.push_application(app, stream, rows);
        }
        let pool = &mut self.pools[usize::from(dept)];
        if stream.chance(0.5) {
            if pool.len() < 50_000 {
                pool.push((person, day));
            } else {
                let k = stream.index(pool.len());
                pool[k] = (person, day);
            }
        }
    }
}
