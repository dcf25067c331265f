//! Every generating assumption, in one place, at scale 1 (national).
//!
//! `docs/synthetic-data.md` lists these figures with their source (DOMAIN.md orders of
//! magnitude, or an explicit assumption). Keep both in step.

use crate::domain::{
    ExitCategory, Origine, PrescriberKind, ProlongationReason, RefusalReason, StructureKind,
    SuspensionReason,
};

/// Per structure kind: count at scale 1, mean annual ETP conventionnés, mean weekly hours of a
/// salarié, mean parcours length in months, typical contract length in months.
pub(crate) struct KindProfile {
    pub kind: StructureKind,
    pub count: f64,
    pub mean_etp: f64,
    pub weekly_hours: f64,
    pub parcours_months: f64,
    pub contract_months: (i64, i64),
    /// Platform hires a year per structure (only for kinds without ASP follow-up).
    pub hors_iae_hires: f64,
    /// State aid per ETP (euros, "aide au poste" socle).
    pub aid_per_etp: f64,
}

/// The nine structure kinds. SIAE counts sum to 4,500 (DOMAIN.md §6).
pub(crate) const KINDS: [KindProfile; 9] = [
    KindProfile {
        kind: StructureKind::Aci,
        count: 2250.0,
        mean_etp: 22.0,
        weekly_hours: 26.0,
        parcours_months: 12.0,
        contract_months: (4, 12),
        hors_iae_hires: 0.0,
        aid_per_etp: 23_000.0,
    },
    KindProfile {
        kind: StructureKind::Ai,
        count: 585.0,
        mean_etp: 18.0,
        weekly_hours: 9.0,
        parcours_months: 14.0,
        contract_months: (3, 12),
        hors_iae_hires: 0.0,
        aid_per_etp: 1_500.0,
    },
    KindProfile {
        kind: StructureKind::Ei,
        count: 1125.0,
        mean_etp: 16.0,
        weekly_hours: 33.0,
        parcours_months: 12.0,
        contract_months: (4, 12),
        hors_iae_hires: 0.0,
        aid_per_etp: 11_500.0,
    },
    KindProfile {
        kind: StructureKind::Etti,
        count: 450.0,
        mean_etp: 22.0,
        weekly_hours: 18.0,
        parcours_months: 9.0,
        contract_months: (2, 6),
        hors_iae_hires: 0.0,
        aid_per_etp: 4_500.0,
    },
    KindProfile {
        kind: StructureKind::Eiti,
        count: 90.0,
        mean_etp: 2.0,
        weekly_hours: 20.0,
        parcours_months: 15.0,
        contract_months: (12, 24),
        hors_iae_hires: 0.0,
        aid_per_etp: 5_500.0,
    },
    KindProfile {
        kind: StructureKind::Geiq,
        count: 150.0,
        mean_etp: 0.0,
        weekly_hours: 35.0,
        parcours_months: 12.0,
        contract_months: (6, 24),
        hors_iae_hires: 15.0,
        aid_per_etp: 0.0,
    },
    KindProfile {
        kind: StructureKind::Ea,
        count: 180.0,
        mean_etp: 0.0,
        weekly_hours: 35.0,
        parcours_months: 12.0,
        contract_months: (6, 24),
        hors_iae_hires: 8.0,
        aid_per_etp: 0.0,
    },
    KindProfile {
        kind: StructureKind::Eatt,
        count: 20.0,
        mean_etp: 0.0,
        weekly_hours: 35.0,
        parcours_months: 12.0,
        contract_months: (1, 6),
        hors_iae_hires: 10.0,
        aid_per_etp: 0.0,
    },
    KindProfile {
        kind: StructureKind::Opcs,
        count: 50.0,
        mean_etp: 0.0,
        weekly_hours: 35.0,
        parcours_months: 12.0,
        contract_months: (1, 12),
        hors_iae_hires: 4.0,
        aid_per_etp: 0.0,
    },
];

/// Log-scale spread of a structure's size around its kind's mean.
pub(crate) const SIZE_SIGMA: f64 = 0.5;
/// Yearly growth of ETP conventionnés.
pub(crate) const ETP_GROWTH: f64 = 0.02;
/// Share of SIAE having a user-created antenne (no ASP identity, hangs under its parent).
pub(crate) const ANTENNE_SHARE: f64 = 0.05;
/// Share of antennes' platform hires (the ASP side stays with the parent).
pub(crate) const ANTENNE_HIRE_SHARE: f64 = 0.25;
/// Share of ACI (resp. EI) with an extra prison measure (ACI_MP, EI_MP) funding line.
pub(crate) const PRISON_SHARE_ACI: f64 = 0.03;
/// Share of EI with a prison measure.
pub(crate) const PRISON_SHARE_EI: f64 = 0.02;
/// Mean gap in days between the end of a parcours and the next hire on the same post.
pub(crate) const SLOT_GAP_DAYS: f64 = 20.0;
/// Share of a post's time actually occupied (parcours ÷ (parcours + gap)), used to size posts.
pub(crate) const OCCUPANCY: f64 = 0.95;
/// ETP réalisés ÷ conventionnés, drawn uniformly per funding line and year.
pub(crate) const REALISATION_RANGE: (f64, f64) = (0.84, 1.06);
/// Annual full-time hours of one ETP (DOMAIN.md §2).
pub(crate) const FULL_TIME_HOURS: f64 = 1607.0;

/// Prescriber organisations at scale 1 (~10,000, DOMAIN.md §6): kind, count, share habilitée,
/// share flagged brsa.
pub(crate) const PRESCRIBERS: [(PrescriberKind, f64, f64, f64); 34] = [
    (PrescriberKind::Ft, 900.0, 1.0, 0.0),
    (PrescriberKind::Ml, 1000.0, 1.0, 0.0),
    (PrescriberKind::CapEmploi, 100.0, 1.0, 0.0),
    (PrescriberKind::Dept, 700.0, 1.0, 0.6),
    (PrescriberKind::Odc, 150.0, 1.0, 0.8),
    (PrescriberKind::Ccas, 1500.0, 0.5, 0.3),
    (PrescriberKind::Chrs, 700.0, 0.8, 0.1),
    (PrescriberKind::Plie, 150.0, 0.9, 0.2),
    (PrescriberKind::Autre, 1400.0, 0.3, 0.05),
    (PrescriberKind::Orienteur, 800.0, 0.0, 0.0),
    (PrescriberKind::Cada, 250.0, 0.7, 0.0),
    (PrescriberKind::Huda, 150.0, 0.6, 0.0),
    (PrescriberKind::Chu, 200.0, 0.6, 0.0),
    (PrescriberKind::Cph, 60.0, 0.6, 0.0),
    (PrescriberKind::E2c, 130.0, 0.8, 0.0),
    (PrescriberKind::Epide, 20.0, 0.9, 0.0),
    (PrescriberKind::Afpa, 100.0, 0.7, 0.0),
    (PrescriberKind::Caf, 100.0, 0.7, 0.3),
    (PrescriberKind::Msa, 35.0, 0.7, 0.3),
    (PrescriberKind::Cava, 80.0, 0.8, 0.0),
    (PrescriberKind::RsFjt, 250.0, 0.5, 0.0),
    (PrescriberKind::PijBij, 120.0, 0.4, 0.0),
    (PrescriberKind::Oil, 40.0, 0.5, 0.0),
    (PrescriberKind::Ohpd, 40.0, 1.0, 0.0),
    (PrescriberKind::Ocasf, 50.0, 0.8, 0.0),
    (PrescriberKind::Oacas, 40.0, 0.8, 0.0),
    // Sensitive kinds: few organisations each.
    (PrescriberKind::Spip, 100.0, 1.0, 0.0),
    (PrescriberKind::Ase, 60.0, 0.9, 0.0),
    (PrescriberKind::Pjj, 50.0, 0.9, 0.0),
    (PrescriberKind::Csapa, 90.0, 0.8, 0.0),
    (PrescriberKind::Caarud, 40.0, 0.7, 0.0),
    (PrescriberKind::Cidff, 60.0, 0.8, 0.0),
    (PrescriberKind::Prevention, 60.0, 0.8, 0.0),
    (PrescriberKind::Pension, 60.0, 0.6, 0.0),
];

/// Weight of a prescriber kind when an organisation is picked as a sender, relative to its
/// count: the public employment service sends far more applications per organisation.
pub(crate) fn sender_activity(kind: PrescriberKind) -> f64 {
    match kind {
        PrescriberKind::Ft => 12.0,
        PrescriberKind::Ml => 4.0,
        PrescriberKind::CapEmploi | PrescriberKind::Plie => 3.0,
        PrescriberKind::Dept | PrescriberKind::Odc => 3.0,
        PrescriberKind::Spip => 1.5,
        _ => 1.0,
    }
}

/// Origine of an episode that ends in no hire (episode weights: an employer sends one
/// application for itself, other senders 2.4 on average, so that applications come ≈ 45 %
/// from prescripteurs habilités, 25 % from candidats, 13 % from orienteurs, 11 % from
/// employers and 5 % from other employers).
pub(crate) const ORIGINE_NON_HIRE: [(Origine, f64); 5] = [
    (Origine::PrescripteurHabilite, 0.443),
    (Origine::Candidat, 0.24),
    (Origine::Employeur, 0.245),
    (Origine::Orienteur, 0.134),
    (Origine::EmployeurOrienteur, 0.053),
];
/// Origine of the accepted application of a hire (auto-prescription is more frequent).
pub(crate) const ORIGINE_HIRE: [(Origine, f64); 5] = [
    (Origine::PrescripteurHabilite, 0.50),
    (Origine::Candidat, 0.12),
    (Origine::Employeur, 0.25),
    (Origine::Orienteur, 0.10),
    (Origine::EmployeurOrienteur, 0.03),
];

/// Applications sent in one platform episode ending in a hire, besides the accepted one (mean).
pub(crate) const EXTRA_APPS_PER_HIRE_EPISODE: f64 = 1.5;
/// Mean applications of an episode ending in no hire.
pub(crate) const APPS_PER_NON_HIRE_EPISODE: f64 = 2.4;
/// Non-hire episodes per platform hire, tuned so that applications ≈ 1.2 M a year at scale 1.
pub(crate) const NON_HIRE_EPISODES_PER_HIRE: f64 = 2.9;
/// Share of hire episodes whose candidat already applied in an earlier episode.
pub(crate) const RETURNING_CANDIDAT_SHARE: f64 = 0.25;
/// Share of applications pointing at one of the structure's job descriptions.
pub(crate) const FICHE_SHARE: f64 = 0.55;
/// Share of non-hire applications never looked at (refused automatically after 60 days).
pub(crate) const UNTOUCHED_SHARE: f64 = 0.10;
/// Share of non-hire applications put on hold (postponed) before their answer.
pub(crate) const POSTPONED_SHARE: f64 = 0.06;
/// Share of non-hire applications ending in the pool (vivier).
pub(crate) const POOL_SHARE: f64 = 0.03;
/// Share of non-hire applications accepted then cancelled (embauche annulée).
pub(crate) const CANCELLED_SHARE: f64 = 0.01;
/// Median and log-sd of the delay (days) from application to first look.
pub(crate) const FIRST_LOOK_DELAY: (f64, f64) = (3.0, 1.2);
/// Median and log-sd of the delay (days) from application to answer.
pub(crate) const ANSWER_DELAY: (f64, f64) = (16.0, 0.8);
/// Days an application may stay new or processing before its automatic refusal (DOMAIN.md §2).
pub(crate) const AUTO_REFUSAL_DAYS: i32 = 60;

/// Reasons of manual refusals.
pub(crate) const REFUSAL_REASONS: [(RefusalReason, f64); 13] = [
    (RefusalReason::DidNotCome, 10.0),
    (RefusalReason::DidNotComeToInterview, 10.0),
    (RefusalReason::HiredElsewhere, 11.0),
    (RefusalReason::Training, 3.0),
    (RefusalReason::NonEligible, 6.0),
    (RefusalReason::NotMobile, 4.0),
    (RefusalReason::NotInterested, 12.0),
    (RefusalReason::LackingSkills, 10.0),
    (RefusalReason::Incompatible, 6.0),
    (RefusalReason::PreventObjectives, 2.0),
    (RefusalReason::NoPosition, 15.0),
    (RefusalReason::Duplicate, 3.0),
    (RefusalReason::Other, 8.0),
];
/// Before 2023, a share of manual refusals still used the older reasons.
pub(crate) const LEGACY_REFUSAL_SHARE: f64 = 0.05;
/// Older refusal reasons, used before 2023.
pub(crate) const LEGACY_REFUSAL_REASONS: [(RefusalReason, f64); 5] = [
    (RefusalReason::Unavailable, 4.0),
    (RefusalReason::EligibilityDoubt, 2.0),
    (RefusalReason::PoorlyInformed, 2.0),
    (RefusalReason::ApprovalExpirationTooClose, 1.0),
    (RefusalReason::Deactivation, 1.0),
];

/// Share of PASS IAE with a suspension.
pub(crate) const SUSPENSION_SHARE: f64 = 0.08;
/// Suspension reasons.
pub(crate) const SUSPENSION_REASONS: [(SuspensionReason, f64); 6] = [
    (SuspensionReason::ContractSuspended, 30.0),
    (SuspensionReason::ContractBroken, 25.0),
    (SuspensionReason::FinishedContract, 25.0),
    (SuspensionReason::ApprovalBetweenCtaMembers, 10.0),
    (SuspensionReason::ContratPasserelle, 3.0),
    (SuspensionReason::Sickness, 4.0),
];
/// Share of parcours lasting past the 24 months of the PASS, through a prolongation.
pub(crate) const PROLONGATION_SHARE: f64 = 0.06;
/// Prolongation reasons.
pub(crate) const PROLONGATION_REASONS: [(ProlongationReason, f64); 5] = [
    (ProlongationReason::ParticularDifficulties, 50.0),
    (ProlongationReason::Senior, 15.0),
    (ProlongationReason::Rqth, 15.0),
    (ProlongationReason::CompleteTraining, 15.0),
    (ProlongationReason::SeniorCdi, 5.0),
];

/// Exit categories (share of exits).
pub(crate) const EXIT_CATEGORIES: [(ExitCategory, f64); 5] = [
    (ExitCategory::EmploiDurable, 0.35),
    (ExitCategory::EmploiTransition, 0.25),
    (ExitCategory::SortiePositive, 0.10),
    (ExitCategory::AutreSortie, 0.25),
    (ExitCategory::RetraitSortiesConstatees, 0.05),
];

/// Share of women among candidats.
pub(crate) const WOMEN_SHARE: f64 = 0.40;
/// Age brackets at application: share under 26, 26–49, 50+.
pub(crate) const AGE_SHARES: (f64, f64) = (0.25, 0.55);
/// Share of candidats living in a QPV.
pub(crate) const QPV_SHARE: f64 = 0.20;
/// Share of candidats living in a ZRR.
pub(crate) const ZRR_SHARE: f64 = 0.07;
/// Share living in the structure's département.
pub(crate) const SAME_DEPARTEMENT_SHARE: f64 = 0.88;
/// RSA at hiring: non-majoré, majoré (≈ 30 % recipients).
pub(crate) const RSA_SHARES: (f64, f64) = (0.22, 0.08);
/// ASS, AAH, RQTH at hiring.
pub(crate) const ASS_SHARE: f64 = 0.06;
/// AAH at hiring.
pub(crate) const AAH_SHARE: f64 = 0.05;
/// RQTH at hiring.
pub(crate) const RQTH_SHARE: f64 = 0.09;
/// France Travail registration duration: <6, 6–11, 12–23 (DELD), 24+ (DETLD) months.
pub(crate) const UNEMPLOYMENT_SHARES: [f64; 4] = [0.30, 0.20, 0.22, 0.28];
/// Education levels (ASP codes) with weights.
pub(crate) const EDUCATION: [(&str, f64); 11] = [
    ("00", 6.0),
    ("01", 5.0),
    ("10", 1.0),
    ("20", 3.0),
    ("30", 4.0),
    ("40", 10.0),
    ("41", 7.0),
    ("50", 18.0),
    ("51", 14.0),
    ("60", 6.0),
    ("70", 26.0),
];

/// Share of AF counted versions preceded by a historised version (amendment).
pub(crate) const AF_HISTORISE_SHARE: f64 = 0.12;
/// Share of structure-years with an extra cancelled AF.
pub(crate) const AF_ANNULE_SHARE: f64 = 0.02;
/// Share of AF whose département differs from the structure's.
pub(crate) const AF_OTHER_DEPARTEMENT_SHARE: f64 = 0.05;
/// Share of AF with no Département co-financing.
pub(crate) const AF_NO_COFINANCING_SHARE: f64 = 0.45;
/// Range of the Département's share of the total amount when it co-finances.
pub(crate) const AF_COFINANCING_RANGE: (f64, f64) = (0.03, 0.35);

/// EMI states: validated, unblocked, still being entered (not counted).
pub(crate) const EMI_STATE_SHARES: (f64, f64) = (0.96, 0.03);

/// Share of AI salariés active on 2021-11-30 imported in the `ai_stock` batch.
pub(crate) const AI_STOCK_SHARE: f64 = 0.3;
/// Share of pre-period hires carried by an imported France Travail approval (`pe_approval`).
pub(crate) const PE_APPROVAL_SHARE: f64 = 0.02;

/// Job descriptions: mean per structure, share still open at the end.
pub(crate) const FICHES_PER_STRUCTURE: f64 = 3.0;
/// Common ROME codes of insertion jobs with an appellation.
pub(crate) const ROME: [(&str, &str); 16] = [
    ("A1203", "Jardinier / Jardinière d'espaces verts"),
    ("K2204", "Agent / Agente de propreté des locaux"),
    ("N1103", "Préparateur / Préparatrice de commandes"),
    ("F1703", "Maçon / Maçonne"),
    ("G1603", "Employé / Employée polyvalent(e) de restauration"),
    ("K1304", "Aide ménager / ménagère à domicile"),
    ("N4105", "Chauffeur-livreur / Chauffeuse-livreuse"),
    ("D1507", "Employé / Employée de mise en rayon"),
    ("H3302", "Opérateur / Opératrice de production"),
    ("K2303", "Agent / Agente de tri des déchets"),
    ("A1414", "Ouvrier / Ouvrière maraîcher(ère)"),
    ("F1607", "Peintre en bâtiment"),
    ("B1806", "Couturier / Couturière"),
    ("I1203", "Agent / Agente de maintenance des bâtiments"),
    ("D1106", "Vendeur / Vendeuse en alimentation générale"),
    ("N1105", "Manutentionnaire"),
];
