//! Job applications (candidatures): state, sender, refusal reason, creation path.

code_enum! {
    /// State of a job application (`JobApplicationState` of the job-application platform).
    pub enum ApplicationState: "state" {
        /// Nouvelle: sent, not yet looked at.
        New = "new", "Nouvelle candidature";
        /// À l'étude: the employer is examining it.
        Processing = "processing", "Candidature à l'étude";
        /// En attente: put on hold by the employer.
        Postponed = "postponed", "Candidature en attente";
        /// Action préalable à l'embauche (e.g. a pre-hiring training), before acceptance.
        PriorToHire = "prior_to_hire", "Action préalable à l’embauche";
        /// Acceptée: the candidate is hired.
        Accepted = "accepted", "Candidature acceptée";
        /// Refusée (déclinée) by the employer, or automatically after 60 days without answer.
        Refused = "refused", "Candidature déclinée";
        /// Embauche annulée: an accepted application whose hiring was cancelled.
        Cancelled = "cancelled", "Embauche annulée";
        /// Embauché ailleurs: made obsolete when another application of the candidate was
        /// accepted.
        Obsolete = "obsolete", "Embauché ailleurs";
        /// Vivier: kept in the employer's pool of candidates for a later opening.
        Pool = "pool", "Vivier";
    }
}

impl ApplicationState {
    /// True once the employer's answer is final: accepted, refused, cancelled or obsolete.
    pub fn is_processed(self) -> bool {
        matches!(
            self,
            Self::Accepted | Self::Refused | Self::Cancelled | Self::Obsolete
        )
    }

    /// True while the application awaits an answer: new, processing or postponed (the
    /// "pending at period end" indicator).
    pub fn is_pending(self) -> bool {
        matches!(self, Self::New | Self::Processing | Self::Postponed)
    }
}

/// Days after which an application left in `new` or `processing` is refused automatically
/// with [`RefusalReason::Auto`].
pub const AUTO_REFUSAL_DAYS: u32 = 60;

code_enum! {
    /// Who sent the application (*origine* in the platform's data pipeline and dashboards).
    ///
    /// Upstream the values are the French labels themselves ("Prescripteur habilité", …);
    /// pilotage uses the stable ASCII codes below and keeps those exact strings as labels, so
    /// [`Code::from_label`](crate::domain::Code::from_label) reads pipeline exports.
    pub enum Origine: "origine" {
        /// The job seeker applied alone.
        Candidat = "CANDIDAT", "Candidat";
        /// A member of a habilitée prescriber organisation sent it.
        PrescripteurHabilite = "PRESCRIPTEUR_HABILITE", "Prescripteur habilité";
        /// A member of a non-habilitée organisation (orienteur) sent it.
        Orienteur = "ORIENTEUR", "Orienteur";
        /// The receiving structure itself (auto-prescription).
        Employeur = "EMPLOYEUR", "Employeur";
        /// Another employer structure oriented the candidate.
        EmployeurOrienteur = "EMPLOYEUR_ORIENTEUR", "Employeur orienteur";
    }
}

code_enum! {
    /// Reason given when refusing an application (`RefusalReason` of the platform).
    ///
    /// The last five members are older reasons, hidden from forms but kept in the history;
    /// see [`RefusalReason::is_legacy`].
    pub enum RefusalReason: "refusal_reason" {
        /// Candidate could not be reached.
        DidNotCome = "did_not_come", "Candidat non joignable";
        /// Candidate did not come to the interview.
        DidNotComeToInterview = "did_not_come_to_interview", "Candidat ne s’étant pas présenté à l’entretien";
        /// Candidate unavailable: already in employment.
        HiredElsewhere = "hired_elsewhere", "Candidat indisponible : en emploi";
        /// Candidate unavailable: in training.
        Training = "training", "Candidat indisponible : en formation";
        /// Candidate not eligible to the IAE.
        NonEligible = "non_eligible", "Candidat non éligible";
        /// Candidate cannot travel to the job.
        NotMobile = "not_mobile", "Candidat non mobile";
        /// Candidate not interested.
        NotInterested = "not_interested", "Candidat non intéressé";
        /// Candidate lacks the skills the job requires.
        LackingSkills = "lacking_skills", "Le candidat n’a pas les compétences requises pour le poste";
        /// One of the candidate's barriers to employment is incompatible with the job.
        Incompatible = "incompatible", "Un des freins à l'emploi du candidat est incompatible avec le poste proposé";
        /// Hiring would prevent the structure from meeting its dialogue-de-gestion objectives.
        PreventObjectives = "prevent_objectives", "L'embauche du candidat empêche la réalisation des objectifs du dialogue de gestion";
        /// No hiring in progress.
        NoPosition = "no_position", "Pas de recrutement en cours";
        /// Duplicate application.
        Duplicate = "duplicate", "Candidature en doublon";
        /// Refused automatically after [`AUTO_REFUSAL_DAYS`] days without answer.
        Auto = "auto", "Refus automatique";
        /// Other reason (free text upstream, never published).
        Other = "other", "Autre";
        /// Legacy: the PASS IAE ends too soon.
        ApprovalExpirationTooClose = "approval_expiration_too_close", "La date de fin du PASS IAE / agrément est trop proche";
        /// Legacy: candidate unavailable or not interested.
        Unavailable = "unavailable", "Candidat indisponible ou non intéressé par le poste";
        /// Legacy: doubt about eligibility.
        EligibilityDoubt = "eligibility_doubt", "Doute sur l'éligibilité du candidat (penser à renvoyer la personne vers un prescripteur)";
        /// Legacy: the structure is no longer conventionnée.
        Deactivation = "deactivation", "La structure n'est plus conventionnée";
        /// Legacy: application not informative enough.
        PoorlyInformed = "poorly_informed", "Candidature pas assez renseignée";
    }
}

impl RefusalReason {
    /// True for the older reasons hidden from forms but still present in the history.
    pub fn is_legacy(self) -> bool {
        matches!(
            self,
            Self::ApprovalExpirationTooClose
                | Self::Unavailable
                | Self::EligibilityDoubt
                | Self::Deactivation
                | Self::PoorlyInformed
        )
    }
}

code_enum! {
    /// How a job application (or a PASS IAE) was created (`origin` on the platform).
    pub enum CreationPath: "origin" {
        /// Created normally through the platform.
        Default = "default", "Créée normalement via les emplois";
        /// Imported from the former Pôle emploi agréments: excluded from every indicator.
        PeApproval = "pe_approval", "Créée lors d'un import d'Agrément Pole Emploi";
        /// Bulk import of the AI employees' stock on 2021-11-30: excluded from flow
        /// indicators (it is not a hire of that day).
        AiStock = "ai_stock", "Créée lors de l'import du stock AI";
        /// Created by the platform's support staff.
        Admin = "admin", "Créée depuis l'admin";
    }
}

impl CreationPath {
    /// True when rows with this path must be left out of flow indicators (applications,
    /// hires, PASS issued): `ai_stock` and `pe_approval`.
    pub fn excluded_from_flows(self) -> bool {
        matches!(self, Self::AiStock | Self::PeApproval)
    }

    /// True when rows with this path must be left out of every indicator: `pe_approval`.
    pub fn excluded_everywhere(self) -> bool {
        matches!(self, Self::PeApproval)
    }
}
