//! Eligibility to the IAE: administrative criteria and the rule combining them.

use super::StructureKind;

code_enum! {
    /// Level of an administrative criterion (`AdministrativeCriteriaLevel` of the platform).
    pub enum EligibilityLevel: "level" {
        /// Level 1: one criterion alone makes the person eligible.
        Level1 = "1", "Niveau 1";
        /// Level 2: criteria that must be combined (3 for ACI/EI/EITI, 2 for AI/ETTI).
        Level2 = "2", "Niveau 2";
    }
}

code_enum! {
    /// Administrative criterion of an IAE eligibility diagnosis
    /// (`AdministrativeCriteriaKind` of the platform, IAE criteria only: the GEIQ-specific
    /// criteria are out of scope).
    pub enum EligibilityCriterion: "criterion" {
        /// RSA recipient (level 1).
        Rsa = "RSA", "Bénéficiaire du RSA";
        /// ASS recipient (allocation de solidarité spécifique; level 1).
        Ass = "ASS", "Allocataire ASS";
        /// AAH recipient (allocation aux adultes handicapés; level 1).
        Aah = "AAH", "Allocation aux adultes handicapés";
        /// Very long-term job seeker, 24 months or more (level 1).
        Detld = "DETLD", "Demandeur d'emploi de très longue durée (+24 mois)";
        /// Education level 3 (CAP, BEP) or below (level 2).
        CapBep = "CAP_BEP", "Niveau d'étude 3 (CAP, BEP) ou infra";
        /// Aged 50 or more (level 2).
        Senior = "SENIOR", "Senior (+ de 50 ans)";
        /// Aged under 26 (level 2).
        Jeune = "JEUNE", "Jeune (- de 26 ans)";
        /// Followed by the aide sociale à l'enfance (level 2).
        Ase = "ASE", "Aide sociale à l'enfance";
        /// Long-term job seeker, 12 to 24 months (level 2).
        Deld = "DELD", "Demandeur d'emploi de longue durée (12-24 mois)";
        /// Recognised disabled worker (level 2).
        Th = "TH", "Travailleur handicapé";
        /// Single parent (level 2).
        Pi = "PI", "Parent isolé";
        /// Homeless, hosted, or with a street history (level 2).
        PshPr = "PSH_PR", "Personne sans hébergement ou hébergée ou ayant un parcours de rue";
        /// Refugee, temporary or subsidiary protection, or asylum seeker (level 2).
        RefDa = "REF_DA", "Réfugié statutaire, bénéficiaire d'une protection temporaire, protégé subsidiaire ou demandeur d'asile";
        /// Resident of a zone de revitalisation rurale (level 2).
        Zrr = "ZRR", "Résident ZRR";
        /// Resident of a quartier prioritaire de la politique de la ville (level 2).
        Qpv = "QPV", "Résident QPV";
        /// Leaving detention or under a judicial measure (level 2).
        DetentionMj = "DETENTION_MJ", "Sortant de détention ou personne placée sous main de justice";
        /// French below level A1 (level 2).
        Fle = "FLE", "Maîtrise de la langue française";
        /// Mobility problem (level 2).
        Pm = "PM", "Problème de mobilité";
    }
}

impl EligibilityCriterion {
    /// The level of this criterion: RSA, ASS, AAH and DETLD are level 1, the rest level 2.
    pub fn level(self) -> EligibilityLevel {
        match self {
            Self::Rsa | Self::Ass | Self::Aah | Self::Detld => EligibilityLevel::Level1,
            _ => EligibilityLevel::Level2,
        }
    }
}

/// Number of distinct level-2 criteria that make a person eligible in a structure of this
/// kind, or `None` for kinds hors IAE (no IAE eligibility rule applies to them).
pub fn level2_threshold(kind: StructureKind) -> Option<usize> {
    match kind {
        StructureKind::Aci | StructureKind::Ei | StructureKind::Eiti => Some(3),
        StructureKind::Ai | StructureKind::Etti => Some(2),
        StructureKind::Geiq | StructureKind::Ea | StructureKind::Eatt | StructureKind::Opcs => None,
    }
}

/// Applies the IAE eligibility rule for a hire in a structure of `kind`: eligible with one
/// level-1 criterion, or with at least 3 distinct level-2 criteria (ACI, EI, EITI) / 2
/// (AI, ETTI). A criterion listed twice counts once. Always false for kinds hors IAE.
pub fn is_eligible(kind: StructureKind, criteria: &[EligibilityCriterion]) -> bool {
    let Some(threshold) = level2_threshold(kind) else {
        return false;
    };
    if criteria
        .iter()
        .any(|c| c.level() == EligibilityLevel::Level1)
    {
        return true;
    }
    let mut level2: Vec<EligibilityCriterion> = criteria
        .iter()
        .copied()
        .filter(|c| c.level() == EligibilityLevel::Level2)
        .collect();
    level2.sort_unstable();
    level2.dedup();
    level2.len() >= threshold
}
