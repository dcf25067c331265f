//! Employers of the inclusion field.

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
        matches!(self, Self::Aci | Self::Ai | Self::Ei | Self::Etti | Self::Eiti)
    }
}
