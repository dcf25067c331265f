//! The rows of the synthetic sources, before they become Arrow batches.
//!
//! Dates are days since 1970-01-01. Territory is carried as commune indices into the
//! simulation's geography and resolved to codes when batches are built.

use crate::domain::{
    AfState, ApplicationState, AspMeasure, CreationPath, EducationLevel, EmiState, ExitMotive,
    Origine, ProlongationReason, RefusalReason, RsaStatus, Sex, SuspensionReason,
    UnemploymentDuration,
};

/// A person as the platform and the ASP know them.
#[derive(Clone)]
pub(crate) struct Person {
    pub candidat_id: i64,
    pub hash: [u8; 32],
    pub sex: Sex,
    pub birth_year: i32,
    pub commune: u32,
    pub qpv: bool,
    pub zrr: bool,
}

/// A job seeker registered on the platform.
pub(crate) struct CandidatRow {
    pub person: Person,
    pub created_on: i32,
}

/// A job application.
pub(crate) struct CandidatureRow {
    pub id: i64,
    pub hash: [u8; 32],
    pub structure_id: i64,
    pub created_on: i32,
    pub state: ApplicationState,
    pub origine: Origine,
    pub sender_organisation_id: Option<i64>,
    pub sender_structure_id: Option<i64>,
    pub refusal_reason: Option<RefusalReason>,
    pub first_look_on: Option<i32>,
    pub processed_on: Option<i32>,
    pub hiring_start_on: Option<i32>,
    pub creation_path: CreationPath,
    pub fiche_id: Option<i64>,
    /// The eligibility diagnosis was made by the hiring employer itself (auto-prescription).
    pub diagnosis_by_employer: bool,
}

/// A PASS IAE.
pub(crate) struct PassRow {
    pub id: i64,
    pub number: String,
    pub hash: [u8; 32],
    pub structure_id: i64,
    pub candidature_id: Option<i64>,
    pub start: i32,
    pub end: i32,
    pub created_on: i32,
}

/// A suspension of a PASS IAE.
pub(crate) struct SuspensionRow {
    pub id: i64,
    pub pass_id: i64,
    pub start: i32,
    pub end: i32,
    pub reason: SuspensionReason,
    pub structure_id: i64,
    pub created_on: i32,
}

/// A prolongation of a PASS IAE.
pub(crate) struct ProlongationRow {
    pub id: i64,
    pub pass_id: i64,
    pub start: i32,
    pub end: i32,
    pub reason: ProlongationReason,
    pub structure_id: i64,
    pub organisation_id: Option<i64>,
    pub created_on: i32,
}

/// An annexe financière (one version).
pub(crate) struct AfRow {
    pub id: i64,
    pub number: String,
    pub convention_number: String,
    pub structure_asp_id: i64,
    pub measure: AspMeasure,
    pub year: i32,
    pub start: i32,
    pub end: i32,
    pub state: AfState,
    pub dept: u16,
    pub etp_mensuels: f64,
    pub amount_total: f64,
    pub amount_departement: f64,
    /// Annual hours of one ETP when stated on the annexe (null means 1,607 h).
    pub annual_hours: Option<f64>,
}

/// A salarié en insertion at the ASP.
pub(crate) struct SalarieRow {
    pub id: i64,
    pub person: Person,
}

/// A contract (one link of a hire's chain).
pub(crate) struct ContratRow {
    pub id: i64,
    pub salarie_id: i64,
    pub structure_asp_id: i64,
    pub measure: AspMeasure,
    pub parent_id: Option<i64>,
    pub start: i32,
    pub planned_end: i32,
    pub exit_on: Option<i32>,
    pub exit_motive: Option<ExitMotive>,
    pub weekly_hours: f64,
    pub situation: Situation,
}

/// Situation of the person at hiring, as declared on the ASP contract.
#[derive(Clone, Copy)]
pub(crate) struct Situation {
    pub rsa: RsaStatus,
    pub ass: bool,
    pub aah: bool,
    pub rqth: bool,
    pub qpv: bool,
    pub zrr: bool,
    pub education: EducationLevel,
    pub unemployment: UnemploymentDuration,
}

/// A monthly declaration (EMI).
pub(crate) struct EmiRow {
    pub id: i64,
    pub salarie_id: i64,
    pub af_id: i64,
    pub contrat_id: i64,
    pub year: i32,
    pub month: u32,
    pub hours: f64,
    pub state: EmiState,
}

/// Every row produced while simulating one year (or the static tables).
#[derive(Default)]
pub(crate) struct YearRows {
    pub candidats: Vec<CandidatRow>,
    pub candidatures: Vec<CandidatureRow>,
    pub pass: Vec<PassRow>,
    pub suspensions: Vec<SuspensionRow>,
    pub prolongations: Vec<ProlongationRow>,
    pub afs: Vec<AfRow>,
    pub salaries: Vec<SalarieRow>,
    pub contrats: Vec<ContratRow>,
    pub emis: Vec<EmiRow>,
}
