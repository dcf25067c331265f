//! Characteristics of a person at hiring, as carried by ASP data (already pseudonymized).

code_enum! {
    /// Sex of a salarié, as the ASP carries it: the civility (`salarie_rci_libelle` in
    /// fluxIAE), which the data pipeline maps to "Femme" / "Homme". A missing civility is a
    /// missing value, not a member.
    pub enum Sex: "sex" {
        /// Woman (civility "MME").
        Female = "MME", "Femme";
        /// Man (civility "M.").
        Male = "M.", "Homme";
    }
}

code_enum! {
    /// RSA status at hiring (`contrat_salarie_rsa` in fluxIAE, `RSAAllocation` of the
    /// platform's employee records).
    pub enum RsaStatus: "rsa" {
        /// Not an RSA recipient.
        Non = "NON", "Non bénéficiaire du RSA";
        /// RSA recipient, majoré (increased amount, e.g. single parent).
        OuiMajore = "OUI-M", "Bénéficiaire du RSA et majoré";
        /// RSA recipient, non majoré.
        OuiNonMajore = "OUI-NM", "Bénéficiaire du RSA et non-majoré";
    }
}

impl RsaStatus {
    /// True for RSA recipients, majoré or not (the "dont RSA" figures).
    pub fn is_recipient(self) -> bool {
        !matches!(self, Self::Non)
    }
}

code_enum! {
    /// Education level at hiring, ASP codes (`ref_niveau_formation`, two characters). Labels
    /// are the platform's (`EducationLevel`), with its typo "écolde" corrected.
    pub enum EducationLevel: "education_level" {
        /// Non-certifying qualifications only.
        NonCertifiant = "00", "Personne avec qualifications non-certifiantes";
        /// Never schooled.
        JamaisScolarise = "01", "Jamais scolarisé";
        /// Third cycle (master, doctorate) or engineering school.
        TroisiemeCycle = "10", "Troisième cycle ou école d'ingénieur";
        /// Licence (bachelor) level.
        Licence = "20", "Formation de niveau licence";
        /// BTS or DUT level (bac + 2).
        BtsDut = "30", "Formation de niveau BTS ou DUT";
        /// Baccalauréat level.
        Bac = "40", "Formation de niveau BAC";
        /// Brevet de technicien or baccalauréat professionnel.
        BtBacPro = "41", "Brevet de technicien ou baccalauréat professionnel";
        /// BEP or CAP level (training followed, diploma not necessarily obtained).
        BepCapNiveau = "50", "Formation de niveau BEP ou CAP";
        /// BEP or CAP obtained.
        BepCapDiplome = "51", "Diplôme obtenu CAP ou BEP";
        /// Short training of one year.
        FormationCourte = "60", "Formation courte d'une durée d'un an";
        /// No training beyond compulsory schooling.
        ScolariteObligatoire = "70", "Pas de formation au-delà de la scolarité obligatoire";
    }
}

impl EducationLevel {
    /// True for level 3 (CAP, BEP) or below: the eligibility criterion `CAP_BEP` and the
    /// "dont niveau CAP/BEP ou infra" figure. Everything but bac level and above.
    pub fn is_cap_bep_or_below(self) -> bool {
        matches!(
            self,
            Self::NonCertifiant
                | Self::JamaisScolarise
                | Self::BepCapNiveau
                | Self::BepCapDiplome
                | Self::FormationCourte
                | Self::ScolariteObligatoire
        )
    }
}

code_enum! {
    /// Duration of registration as a job seeker (France Travail) at hiring. Codes are those
    /// of the platform's translation of the ASP referential `ref_duree_allocation_emploi`
    /// (`AllocationDuration`).
    pub enum UnemploymentDuration: "unemployment_duration" {
        /// Less than 6 months.
        Moins6Mois = "LESS_THAN_6_MONTHS", "Moins de 6 mois";
        /// 6 to 11 months.
        De6A11Mois = "FROM_6_TO_11_MONTHS", "De 6 à 11 mois";
        /// 12 to 23 months: long-term job seeker (DELD).
        De12A23Mois = "FROM_12_TO_23_MONTHS", "De 12 à 23 mois";
        /// 24 months or more: very long-term job seeker (DETLD).
        PlusDe24Mois = "MORE_THAN_24_MONTHS", "24 mois et plus";
    }
}

impl UnemploymentDuration {
    /// The bracket of a registration duration given in whole months.
    pub fn from_months(months: u32) -> Self {
        match months {
            0..=5 => Self::Moins6Mois,
            6..=11 => Self::De6A11Mois,
            12..=23 => Self::De12A23Mois,
            _ => Self::PlusDe24Mois,
        }
    }

    /// True for a long-term job seeker, 12 to 23 months (DELD, a level-2 criterion).
    pub fn is_deld(self) -> bool {
        matches!(self, Self::De12A23Mois)
    }

    /// True for a very long-term job seeker, 24 months or more (DETLD, a level-1 criterion).
    pub fn is_detld(self) -> bool {
        matches!(self, Self::PlusDe24Mois)
    }
}

code_enum! {
    /// Age bracket used in every breakdown by age. Pinned definition: age = reference year −
    /// birth year (persons arrive with a birth year only), brackets under 26, 26 to 49,
    /// 50 and over.
    pub enum AgeBracket: "age_bracket" {
        /// Under 26 (the "jeunes").
        Moins26 = "MOINS_26", "Moins de 26 ans";
        /// 26 to 49.
        De26A49 = "DE_26_A_49", "De 26 à 49 ans";
        /// 50 and over (the "seniors").
        Plus50 = "50_ET_PLUS", "50 ans et plus";
    }
}

impl AgeBracket {
    /// The bracket of an age in whole years (a negative age, from inconsistent input, falls
    /// in the youngest bracket).
    pub fn from_age(years: i32) -> Self {
        if years < 26 {
            Self::Moins26
        } else if years < 50 {
            Self::De26A49
        } else {
            Self::Plus50
        }
    }

    /// The bracket of a person born in `birth_year`, at `reference_year` (the year of the
    /// figure): age = `reference_year` − `birth_year`, with no day or month.
    pub fn from_birth_year(reference_year: i32, birth_year: i32) -> Self {
        Self::from_age(reference_year.saturating_sub(birth_year))
    }
}
