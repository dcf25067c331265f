//! Employers of the inclusion field and the ASP measures that fund them.

code_enum! {
    /// Kind of employer structure (`kind` in the job-application platform).
    ///
    /// The five SIAE kinds form the IAE proper; the others are employers of the field "hors IAE".
    pub enum StructureKind: "kind" {
        /// Atelier chantier d'insertion.
        Aci = "ACI", "Atelier chantier d'insertion";
        /// Association intermédiaire.
        Ai = "AI", "Association intermédiaire";
        /// Entreprise d'insertion.
        Ei = "EI", "Entreprise d'insertion";
        /// Entreprise de travail temporaire d'insertion.
        Etti = "ETTI", "Entreprise de travail temporaire d'insertion";
        /// Entreprise d'insertion par le travail indépendant.
        Eiti = "EITI", "Entreprise d'insertion par le travail indépendant";
        /// Groupement d'employeurs pour l'insertion et la qualification.
        Geiq = "GEIQ", "Groupement d'employeurs pour l'insertion et la qualification";
        /// Entreprise adaptée.
        Ea = "EA", "Entreprise adaptée";
        /// Entreprise adaptée de travail temporaire.
        Eatt = "EATT", "Entreprise adaptée de travail temporaire";
        /// Organisation porteuse de la clause sociale.
        Opcs = "OPCS", "Organisation porteuse de la clause sociale";
    }
}

impl StructureKind {
    /// True for the five SIAE kinds (ACI, AI, EI, ETTI, EITI), grouped as "IAE" in dashboards.
    pub fn is_siae(self) -> bool {
        matches!(
            self,
            Self::Aci | Self::Ai | Self::Ei | Self::Etti | Self::Eiti
        )
    }

    /// The dashboard grouping of this kind: [`StructureGroup::Iae`] for the five SIAE kinds,
    /// [`StructureGroup::HorsIae`] for the others.
    pub fn group(self) -> StructureGroup {
        if self.is_siae() {
            StructureGroup::Iae
        } else {
            StructureGroup::HorsIae
        }
    }
}

code_enum! {
    /// Grouping of structure kinds used as a breakdown in dashboards ("IAE" / "Hors IAE").
    pub enum StructureGroup: "structure_group" {
        /// The five SIAE kinds: ACI, AI, EI, ETTI, EITI.
        Iae = "IAE", "IAE";
        /// Other employers of the field: GEIQ, EA, EATT, OPCS.
        HorsIae = "HORS_IAE", "Hors IAE";
    }
}

code_enum! {
    /// ASP measure ("mesure dispositif", `af_mesure_dispositif_code` in the fluxIAE extraction):
    /// the structure kind plus the funding context of an annexe financière or a contract.
    ///
    /// `_DC` is *droit commun*, `_MP` *milieu pénitentiaire* (work inside prisons). Labels are
    /// those of the platform's data pipeline referential (`ref_mesure_dispositif_asp`).
    pub enum AspMeasure: "af_mesure_dispositif_code" {
        /// ACI, droit commun.
        AciDc = "ACI_DC", "ACI Droit commun";
        /// AI, droit commun.
        AiDc = "AI_DC", "AI Droit commun";
        /// EI, droit commun.
        EiDc = "EI_DC", "EI Droit commun";
        /// ETTI, droit commun.
        EttiDc = "ETTI_DC", "ETTI Droit commun";
        /// EITI, droit commun.
        EitiDc = "EITI_DC", "EITI Droit commun";
        /// ACI in a prison (milieu pénitentiaire).
        AciMp = "ACI_MP", "ACI Milieu pénitentiaire";
        /// EI in a prison (milieu pénitentiaire).
        EiMp = "EI_MP", "EI Milieu pénitentiaire";
        /// ACIPA, droit commun: an ACI-type measure the data pipeline keeps apart from the
        /// ACI figures of ETP réalisés.
        AcipaDc = "ACIPA_DC", "ACIPA Droit commun";
        /// EIPA, droit commun: an EI-type measure the data pipeline keeps apart from the EI
        /// figures of ETP réalisés.
        EipaDc = "EIPA_DC", "EIPA Droit commun";
        /// Fonds départemental d'insertion: a subsidy to a structure, not insertion posts;
        /// excluded from ETP figures and not tied to one structure kind.
        FdiDc = "FDI_DC", "FDI Droit commun";
    }
}

impl AspMeasure {
    /// The structure kind this measure funds, or `None` for [`AspMeasure::FdiDc`], which is a
    /// subsidy granted to a structure of any kind (the data pipeline's referential gives it
    /// the pseudo-kind "FDI"). ACIPA maps to ACI and EIPA to EI.
    pub fn kind(self) -> Option<StructureKind> {
        match self {
            Self::AciDc | Self::AciMp | Self::AcipaDc => Some(StructureKind::Aci),
            Self::AiDc => Some(StructureKind::Ai),
            Self::EiDc | Self::EiMp | Self::EipaDc => Some(StructureKind::Ei),
            Self::EttiDc => Some(StructureKind::Etti),
            Self::EitiDc => Some(StructureKind::Eiti),
            Self::FdiDc => None,
        }
    }

    /// True when hours and posts under this measure count in ETP conventionnés and réalisés.
    /// Only FDI is excluded (it funds no insertion post).
    pub fn counts_in_etp(self) -> bool {
        !matches!(self, Self::FdiDc)
    }

    /// True for the measures in a prison (milieu pénitentiaire).
    pub fn is_prison(self) -> bool {
        matches!(self, Self::AciMp | Self::EiMp)
    }

    /// The droit-commun measure of an SIAE kind (`None` for kinds hors IAE, which the ASP
    /// does not fund through annexes financières).
    pub fn droit_commun(kind: StructureKind) -> Option<Self> {
        match kind {
            StructureKind::Aci => Some(Self::AciDc),
            StructureKind::Ai => Some(Self::AiDc),
            StructureKind::Ei => Some(Self::EiDc),
            StructureKind::Etti => Some(Self::EttiDc),
            StructureKind::Eiti => Some(Self::EitiDc),
            StructureKind::Geiq | StructureKind::Ea | StructureKind::Eatt | StructureKind::Opcs => {
                None
            }
        }
    }
}
