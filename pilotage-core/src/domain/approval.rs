//! The PASS IAE (approval): state, suspensions and prolongations.

/// Default validity of a PASS IAE, in days, from its start date (two years).
pub const DEFAULT_APPROVAL_DAYS: u32 = 730;

code_enum! {
    /// State of a PASS IAE at a given date (`ApprovalStatus` of the job-application platform).
    pub enum ApprovalState: "approval_state" {
        /// Valid and started.
        Valid = "VALID", "Valide";
        /// Valid, start date not reached yet.
        Future = "FUTURE", "Valide (non démarré)";
        /// Valid but paused by a suspension.
        Suspended = "SUSPENDED", "Valide (suspendu)";
        /// End date passed.
        Expired = "EXPIRED", "Expiré";
    }
}

impl ApprovalState {
    /// True for the states in which the PASS is still valid (valid, future, suspended).
    pub fn is_valid(self) -> bool {
        !matches!(self, Self::Expired)
    }
}

code_enum! {
    /// Reason for suspending a PASS IAE (`Suspension.Reason` of the platform). A suspension
    /// pauses the PASS and pushes its end date back by its length.
    ///
    /// The last six members are older reasons kept for history; see
    /// [`SuspensionReason::is_legacy`].
    pub enum SuspensionReason: "suspension_reason" {
        /// Employment contract suspended for more than 15 days.
        ContractSuspended = "CONTRACT_SUSPENDED", "Contrat de travail suspendu depuis plus de 15 jours";
        /// Employment contract broken.
        ContractBroken = "CONTRACT_BROKEN", "Contrat de travail rompu";
        /// Employment contract ended.
        FinishedContract = "FINISHED_CONTRACT", "Contrat de travail terminé";
        /// Situation agreed between the members of the CTA (comité technique d'animation).
        ApprovalBetweenCtaMembers = "APPROVAL_BETWEEN_CTA_MEMBERS", "Situation faisant l'objet d'un accord entre les acteurs membres du CTA (Comité technique d'animation)";
        /// Switch to the "contrat passerelle" experiment (EI and ACI only).
        ContratPasserelle = "CONTRAT_PASSERELLE", "Bascule dans l'expérimentation contrat passerelle";
        /// Legacy: long sickness leave.
        Sickness = "SICKNESS", "Arrêt pour longue maladie";
        /// Legacy: maternity leave.
        Maternity = "MATERNITY", "Congé de maternité";
        /// Legacy: incarceration.
        Incarceration = "INCARCERATION", "Incarcération";
        /// Legacy: trial period with an employer outside the IAE.
        TrialOutsideIae = "TRIAL_OUTSIDE_IAE", "Période d'essai auprès d'un employeur ne relevant pas de l'insertion par l'activité économique";
        /// Legacy: detoxification cure.
        Detoxification = "DETOXIFICATION", "Période de cure pour désintoxication";
        /// Legacy: force majeure.
        ForceMajeure = "FORCE_MAJEURE", "Raison de force majeure conduisant le salarié à quitter son emploi ou toute autre situation faisant l'objet d'un accord entre les acteurs membres du CTA";
    }
}

impl SuspensionReason {
    /// True for the older reasons no longer offered but present in the history.
    pub fn is_legacy(self) -> bool {
        matches!(
            self,
            Self::Sickness
                | Self::Maternity
                | Self::Incarceration
                | Self::TrialOutsideIae
                | Self::Detoxification
                | Self::ForceMajeure
        )
    }
}

code_enum! {
    /// Reason for prolonging a PASS IAE (`ProlongationReason` of the platform).
    pub enum ProlongationReason: "prolongation_reason" {
        /// CDI signed with a person over 57.
        SeniorCdi = "SENIOR_CDI", "CDI conclu avec une personne de plus de 57 ans";
        /// To complete a training.
        CompleteTraining = "COMPLETE_TRAINING", "Fin d'une formation";
        /// Recognised disabled worker.
        Rqth = "RQTH", "RQTH - Reconnaissance de la qualité de travailleur handicapé";
        /// Aged 50 or more.
        Senior = "SENIOR", "50 ans et plus";
        /// Particularly serious difficulties (AI and ACI only).
        ParticularDifficulties = "PARTICULAR_DIFFICULTIES", "Difficultés particulièrement importantes dont l'absence de prise en charge ferait obstacle à son insertion professionnelle";
        /// Legacy: health context (Covid-19), not usable since 2021-12-01.
        HealthContext = "HEALTH_CONTEXT", "Contexte sanitaire";
    }
}

impl ProlongationReason {
    /// True for the reason no longer usable (health context, closed on 2021-12-01).
    pub fn is_legacy(self) -> bool {
        matches!(self, Self::HealthContext)
    }
}
