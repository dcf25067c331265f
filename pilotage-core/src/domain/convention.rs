//! Conventions, annexes financières (AF) and monthly declarations (EMI) of the ASP.

/// Default number of hours a full-time insertion post works in a year (1,607 h, the legal
/// annual working time), used to turn declared hours into ETP réalisés when the AF does not
/// carry its own figure.
pub const DEFAULT_ANNUAL_FULL_TIME_HOURS: f64 = 1607.0;

code_enum! {
    /// State of an annexe financière (`af_etat_annexe_financiere_code` in fluxIAE). Codes are
    /// the ASP's; labels are pilotage's French rendering of them.
    pub enum AfState: "af_etat_annexe_financiere_code" {
        /// Validated.
        Valide = "VALIDE", "Validée";
        /// Provisional (validated pending the final amount).
        Provisoire = "PROVISOIRE", "Provisoire";
        /// Closed at the end of its period.
        Cloture = "CLOTURE", "Clôturée";
        /// Superseded by a later version (renewal or amendment).
        Historise = "HISTORISE", "Historisée";
        /// Cancelled.
        Annule = "ANNULE", "Annulée";
        /// Entered, not yet validated.
        Saisi = "SAISI", "Saisie";
        /// Draft.
        Brouillon = "BROUILLON", "Brouillon";
        /// Rejected.
        Rejete = "REJETE", "Rejetée";
    }
}

impl AfState {
    /// True for the states whose AF counts in ETP and funding figures: VALIDE, PROVISOIRE,
    /// CLOTURE (the data pipeline's filter).
    pub fn counts(self) -> bool {
        matches!(self, Self::Valide | Self::Provisoire | Self::Cloture)
    }
}

code_enum! {
    /// State of a monthly individual declaration (`emi_esm_etat_code` in fluxIAE). Codes are
    /// the ASP's; labels are pilotage's French rendering of them.
    pub enum EmiState: "emi_esm_etat_code" {
        /// Validated by the structure.
        Valide = "VALIDE", "Validé";
        /// Unlocked after validation for a correction; its hours still count.
        Debloque = "DEBLOQUE", "Débloqué";
        /// Entered, not yet validated (the ASP's "saisi" state, also used for AFs); its hours
        /// do not count.
        Saisi = "SAISI", "Saisi";
    }
}

impl EmiState {
    /// True for the states whose hours count in ETP réalisés: VALIDE and DEBLOQUE.
    pub fn is_validated(self) -> bool {
        matches!(self, Self::Valide | Self::Debloque)
    }
}
