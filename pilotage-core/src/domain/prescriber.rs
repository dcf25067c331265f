//! Prescriber organisations: who orients job seekers towards the IAE.

code_enum! {
    /// Kind of prescriber organisation (`PrescriberOrganizationKind` of the job-application
    /// platform, field `kind`). Codes and labels are the platform's own.
    ///
    /// Whether an organisation is *habilitée* (may write eligibility diagnoses) is a property
    /// of the organisation, not of its kind, and is carried separately.
    pub enum PrescriberKind: "prescriber_kind" {
        /// Agence nationale pour la formation professionnelle des adultes.
        Afpa = "AFPA", "AFPA - Agence nationale pour la formation professionnelle des adultes";
        /// Aide sociale à l'enfance (sensitive).
        Ase = "ASE", "ASE - Aide sociale à l'enfance";
        /// Any other organisation acting as orienteur (not habilitée); hidden from the kind
        /// picker on the platform.
        Orienteur = "Orienteur", "Autre organisation (orienteur)";
        /// Centre d'accueil et d'accompagnement à la réduction de risques pour usagers de
        /// drogues (sensitive).
        Caarud = "CAARUD", "CAARUD - Centre d'accueil et d'accompagnement à la réduction de risques pour usagers de drogues";
        /// Centre d'accueil de demandeurs d'asile.
        Cada = "CADA", "CADA - Centre d'accueil de demandeurs d'asile";
        /// Caisse d'allocations familiales.
        Caf = "CAF", "CAF - Caisse d'allocations familiales";
        /// Cap emploi (public employment service for disabled workers; SPE).
        CapEmploi = "CAP_EMPLOI", "Cap emploi";
        /// Centre d'adaptation à la vie active.
        Cava = "CAVA", "CAVA - Centre d'adaptation à la vie active";
        /// Centre (inter)communal d'action sociale.
        Ccas = "CCAS", "CCAS - Centre communal d'action sociale ou centre intercommunal d'action sociale";
        /// Centre d'hébergement et de réinsertion sociale.
        Chrs = "CHRS", "CHRS - Centre d'hébergement et de réinsertion sociale";
        /// Centre d'hébergement d'urgence.
        Chu = "CHU", "CHU - Centre d'hébergement d'urgence";
        /// Centre d'information sur les droits des femmes et des familles (sensitive).
        Cidff = "CIDFF", "CIDFF - Centre d'information sur les droits des femmes et des familles";
        /// Centre provisoire d'hébergement.
        Cph = "CPH", "CPH - Centre provisoire d'hébergement";
        /// Centre de soins, d'accompagnement et de prévention en addictologie (sensitive).
        Csapa = "CSAPA", "CSAPA - Centre de soins, d'accompagnement et de prévention en addictologie";
        /// École de la deuxième chance.
        E2c = "E2C", "E2C - École de la deuxième chance";
        /// Établissement pour l'insertion dans l'emploi.
        Epide = "EPIDE", "EPIDE - Établissement pour l'insertion dans l'emploi";
        /// France Travail (ex-Pôle emploi, code `PE` before 2025; SPE).
        Ft = "FT", "France Travail";
        /// Hébergement d'urgence pour demandeurs d'asile.
        Huda = "HUDA", "HUDA - Hébergement d'urgence pour demandeurs d'asile";
        /// Mission locale (young people; SPE).
        Ml = "ML", "Mission locale";
        /// Mutualité sociale agricole.
        Msa = "MSA", "MSA - Mutualité Sociale Agricole";
        /// Organisme d'accueil communautaire et d'activité solidaire.
        Oacas = "OACAS", "OACAS - Structure porteuse d'un agrément national organisme d'accueil communautaire et d'activité solidaire";
        /// Opérateur d'intermédiation locative.
        Oil = "OIL", "Opérateur d'intermédiation locative";
        /// Organisation délégataire d'un conseil départemental (follows RSA recipients;
        /// grouped with the Département).
        Odc = "ODC", "Organisation délégataire d'un Conseil Départemental (Orientation et suivi des BRSA)";
        /// Organisme habilité par le préfet de département; hidden from the kind picker.
        Ohpd = "OHPD", "Organisme habilité par le préfet de département";
        /// Organisme mentionné au 8° du I de l'article L. 312-1 du code de l'action sociale et
        /// des familles; hidden from the kind picker.
        Ocasf = "OCASF", "Organisme mentionné au 8° du I de l’article L. 312-1 du code de l’action sociale et des familles";
        /// Pension de famille / résidence accueil (sensitive).
        Pension = "PENSION", "Pension de famille / résidence accueil";
        /// Point / bureau information jeunesse.
        PijBij = "PIJ_BIJ", "PIJ-BIJ - Point/Bureau information jeunesse";
        /// Protection judiciaire de la jeunesse (sensitive).
        Pjj = "PJJ", "PJJ - Protection judiciaire de la jeunesse";
        /// Plan local pour l'insertion et l'emploi.
        Plie = "PLIE", "PLIE - Plan local pour l'insertion et l'emploi";
        /// Résidence sociale / foyer de jeunes travailleurs.
        RsFjt = "RS_FJT", "Résidence sociale / FJT - Foyer de Jeunes Travailleurs";
        /// Service ou club de prévention (sensitive).
        Prevention = "PREVENTION", "Service ou club de prévention";
        /// Service social du conseil départemental.
        Dept = "DEPT", "Service social du conseil départemental";
        /// Service pénitentiaire d'insertion et de probation (sensitive).
        Spip = "SPIP", "SPIP - Service pénitentiaire d'insertion et de probation";
        /// Other kind (the platform's default when none fits).
        Autre = "Autre", "Autre";
    }
}

impl PrescriberKind {
    /// The dashboard grouping: SPE (ML, FT, CAP_EMPLOI), Département (DEPT, ODC), Autre,
    /// everything else Nouveaux prescripteurs.
    pub fn group(self) -> PrescriberGroup {
        match self {
            Self::Ml | Self::Ft | Self::CapEmploi => PrescriberGroup::Spe,
            Self::Dept | Self::Odc => PrescriberGroup::Departement,
            Self::Autre => PrescriberGroup::Autre,
            _ => PrescriberGroup::NouveauxPrescripteurs,
        }
    }

    /// True for the kinds whose figures must never be broken out below national level in
    /// open data (the platform's own list of kinds it withholds from partners): ASE, CAARUD,
    /// CIDFF, CSAPA, PENSION, PJJ, PREVENTION, SPIP.
    pub fn is_sensitive(self) -> bool {
        matches!(
            self,
            Self::Ase
                | Self::Caarud
                | Self::Cidff
                | Self::Csapa
                | Self::Pension
                | Self::Pjj
                | Self::Prevention
                | Self::Spip
        )
    }
}

code_enum! {
    /// Grouping of prescriber kinds used as a breakdown in dashboards.
    pub enum PrescriberGroup: "prescriber_group" {
        /// Service public de l'emploi: Mission locale, France Travail, Cap emploi.
        Spe = "SPE", "SPE";
        /// The Département and its delegates: DEPT, ODC.
        Departement = "DEPARTEMENT", "Département";
        /// The kind `Autre`.
        Autre = "AUTRE", "Autre";
        /// Every other kind.
        NouveauxPrescripteurs = "NOUVEAUX_PRESCRIPTEURS", "Nouveaux prescripteurs";
    }
}
