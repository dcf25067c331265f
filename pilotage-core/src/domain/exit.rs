//! Exits (sorties) of salariés en insertion: motive, category, and whether an exit counts.

use super::StructureKind;

code_enum! {
    /// Category an exit motive rolls up into (the ASP's "catégorie de sortie",
    /// `rcs_libelle` in fluxIAE). Labels are the exact ASP strings, so
    /// [`Code::from_label`](crate::domain::Code::from_label) reads pipeline exports; codes are
    /// pilotage's stable ASCII names.
    pub enum ExitCategory: "exit_category" {
        /// Emploi durable: CDI, CDD or intérim of 6 months or more, business creation, civil
        /// service.
        EmploiDurable = "EMPLOI_DURABLE", "Emploi durable";
        /// Emploi de transition: CDD or intérim under 6 months, subsidised contract.
        EmploiTransition = "EMPLOI_TRANSITION", "Emploi de transition";
        /// Sorties positives: qualifying training, hire in another SIAE.
        SortiePositive = "SORTIE_POSITIVE", "Sorties positives";
        /// Autres sorties: unemployment, inactivity, no news, …; counted but not dynamic.
        AutreSortie = "AUTRE_SORTIE", "Autres sorties";
        /// Retrait des sorties constatées (the ASP's category code 5): exits withdrawn from
        /// the statistics, never counted.
        RetraitSortiesConstatees = "RETRAIT_SORTIES_CONSTATEES", "Retrait des sorties constatées";
    }
}

impl ExitCategory {
    /// True for the three categories that make "sorties dynamiques": emploi durable, emploi
    /// de transition, sorties positives.
    pub fn is_dynamic(self) -> bool {
        matches!(
            self,
            Self::EmploiDurable | Self::EmploiTransition | Self::SortiePositive
        )
    }

    /// True when exits of this category count in exit figures (the denominator of exit
    /// rates): every category but the retrait des sorties constatées.
    pub fn is_counted(self) -> bool {
        !matches!(self, Self::RetraitSortiesConstatees)
    }
}

code_enum! {
    /// Exit motive of a salarié en insertion.
    ///
    /// **Not the ASP numbering.** The ASP's referential (`fluxIAE_RefMotifSort`, numeric
    /// `rms_code` with a label `rms_libelle` and a category `rcs_id`) is delivered with the
    /// extraction and is not published; pilotage uses this documented list of stable ASCII
    /// codes covering the categories of the DGEFP definition of sorties, and a reader of real
    /// data maps `rms_code` onto it. The two ASP codes known from public code are noted on
    /// their members (2: CDD in another IAE structure, 96: CDI inclusion).
    pub enum ExitMotive: "exit_motive" {
        /// Hired on a CDI (permanent contract) outside the IAE.
        Cdi = "CDI", "Embauche en CDI";
        /// CDI inclusion: permanent contract in an SIAE for a person aged 57 or more (ASP
        /// `rms_code` 96); the person stays in the IAE.
        CdiInclusion = "CDI_INCLUSION", "CDI inclusion";
        /// Hired on a CDD of 6 months or more.
        Cdd6MoisEtPlus = "CDD_6_MOIS_ET_PLUS", "Embauche en CDD de 6 mois ou plus";
        /// Temporary-work missions of 6 months or more.
        Interim6MoisEtPlus = "INTERIM_6_MOIS_ET_PLUS", "Mission d'intérim de 6 mois ou plus";
        /// Business creation or takeover.
        CreationEntreprise = "CREATION_ENTREPRISE", "Création ou reprise d'entreprise";
        /// Entry into the civil service (titularisation or stage).
        FonctionPublique = "FONCTION_PUBLIQUE", "Intégration dans la fonction publique";
        /// Hired on a CDD of less than 6 months.
        CddMoins6Mois = "CDD_MOINS_6_MOIS", "Embauche en CDD de moins de 6 mois";
        /// Temporary-work missions of less than 6 months.
        InterimMoins6Mois = "INTERIM_MOINS_6_MOIS", "Mission d'intérim de moins de 6 mois";
        /// Subsidised contract (contrat aidé) with an ordinary employer.
        ContratAide = "CONTRAT_AIDE", "Contrat aidé chez un employeur de droit commun";
        /// Entry into a qualifying or pre-qualifying training.
        FormationQualifiante = "FORMATION_QUALIFIANTE", "Entrée en formation qualifiante ou pré-qualifiante";
        /// Hired by another SIAE (ASP `rms_code` 2, "CDD dans une autre structure IAE").
        EmbaucheAutreSiae = "EMBAUCHE_AUTRE_SIAE", "Embauche dans une autre structure de l'IAE";
        /// Unemployed, looking for a job.
        Chomage = "CHOMAGE", "Au chômage";
        /// Inactive (not looking for a job).
        Inactivite = "INACTIVITE", "Inactivité";
        /// No news of the person.
        SansNouvelles = "SANS_NOUVELLES", "Sans nouvelles";
        /// Retirement.
        Retraite = "RETRAITE", "Départ à la retraite";
        /// Any other exit situation.
        AutreMotif = "AUTRE_MOTIF", "Autre motif de sortie";
        /// Death: withdrawn from the statistics.
        Deces = "DECES", "Décès";
        /// Long sickness or health reasons preventing any activity: withdrawn.
        RaisonsSante = "RAISONS_SANTE", "Raisons de santé";
        /// Moved away from the territory: withdrawn.
        Demenagement = "DEMENAGEMENT", "Déménagement";
        /// Incarcerated: withdrawn.
        Incarceration = "INCARCERATION", "Incarcération";
        /// Exit declared by mistake or contract renewed after the declaration: withdrawn.
        ErreurSaisie = "ERREUR_SAISIE", "Sortie déclarée à tort";
    }
}

impl ExitMotive {
    /// The category this motive rolls up into.
    pub fn category(self) -> ExitCategory {
        match self {
            Self::Cdi
            | Self::CdiInclusion
            | Self::Cdd6MoisEtPlus
            | Self::Interim6MoisEtPlus
            | Self::CreationEntreprise
            | Self::FonctionPublique => ExitCategory::EmploiDurable,
            Self::CddMoins6Mois | Self::InterimMoins6Mois | Self::ContratAide => {
                ExitCategory::EmploiTransition
            }
            Self::FormationQualifiante | Self::EmbaucheAutreSiae => ExitCategory::SortiePositive,
            Self::Chomage
            | Self::Inactivite
            | Self::SansNouvelles
            | Self::Retraite
            | Self::AutreMotif => ExitCategory::AutreSortie,
            Self::Deces
            | Self::RaisonsSante
            | Self::Demenagement
            | Self::Incarceration
            | Self::ErreurSaisie => ExitCategory::RetraitSortiesConstatees,
        }
    }

    /// True when the person stays in the IAE after this exit (hire in another SIAE, CDI
    /// inclusion); some partner exports leave these out.
    pub fn stays_in_iae(self) -> bool {
        matches!(self, Self::EmbaucheAutreSiae | Self::CdiInclusion)
    }
}

/// Minimum time worked in total, in months, above which an exit from an ACI or an EI is
/// examined (strictly more than this).
pub const EXAMINED_MIN_MONTHS_ACI_EI: f64 = 3.0;

/// Minimum hours worked in total from which an exit from an AI or an ETTI is examined
/// (this many hours or more).
pub const EXAMINED_MIN_HOURS_AI_ETTI: f64 = 150.0;

/// Whether an exit is *examined*, i.e. counted in exit figures and rates (DGEFP rule).
///
/// - `months_worked`: total time the person worked in the structure, in months (fractional
///   months allowed); used for ACI and EI, which need strictly more than 3 months.
/// - `hours_worked`: total hours worked in the structure; used for AI and ETTI, which need
///   150 hours or more.
/// - EITI: always examined. Kinds hors IAE: never (the rule is an IAE one).
///
/// A NaN input never satisfies a threshold, so the exit is then not examined.
pub fn exit_is_examined(kind: StructureKind, months_worked: f64, hours_worked: f64) -> bool {
    match kind {
        StructureKind::Aci | StructureKind::Ei => months_worked > EXAMINED_MIN_MONTHS_ACI_EI,
        StructureKind::Ai | StructureKind::Etti => hours_worked >= EXAMINED_MIN_HOURS_AI_ETTI,
        StructureKind::Eiti => true,
        StructureKind::Geiq | StructureKind::Ea | StructureKind::Eatt | StructureKind::Opcs => {
            false
        }
    }
}
