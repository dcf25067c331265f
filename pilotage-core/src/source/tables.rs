//! The specifications of the thirteen source tables.
//!
//! Upstream column names: `fluxIAE_*` columns are those of the ASP extraction; other names are
//! the columns of the platform's data export (the "pilotage" database of Les emplois de
//! l'inclusion) or, in `Model.field` form, of the platform's own models.

use super::spec::{
    Allowed, ColumnSpec, DataType, ForeignKey, SourceSystem, TerritoryLevel, TextFormat, Unit,
};
use super::{CodeList, SourceTable};

/// Everything known about one table.
pub(super) struct TableSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub grain: &'static str,
    pub system: SourceSystem,
    pub upstream: &'static str,
    pub primary_key: &'static [&'static str],
    pub foreign_keys: &'static [ForeignKey],
    pub columns: &'static [ColumnSpec],
}

pub(super) fn spec(table: SourceTable) -> &'static TableSpec {
    match table {
        SourceTable::Structures => &STRUCTURES,
        SourceTable::Organisations => &ORGANISATIONS,
        SourceTable::Candidats => &CANDIDATS,
        SourceTable::Candidatures => &CANDIDATURES,
        SourceTable::PassIae => &PASS_IAE,
        SourceTable::PassIaeSuspensions => &PASS_IAE_SUSPENSIONS,
        SourceTable::PassIaeProlongations => &PASS_IAE_PROLONGATIONS,
        SourceTable::FichesDePoste => &FICHES_DE_POSTE,
        SourceTable::AnnexesFinancieres => &ANNEXES_FINANCIERES,
        SourceTable::Salaries => &SALARIES,
        SourceTable::Contrats => &CONTRATS,
        SourceTable::EtatsMensuels => &ETATS_MENSUELS,
        SourceTable::MotifsSortie => &MOTIFS_SORTIE,
    }
}

// --- Builders (const, so every spec is a static) ---------------------------------------------

const fn col(
    name: &'static str,
    data_type: DataType,
    nullable: bool,
    description: &'static str,
) -> ColumnSpec {
    ColumnSpec {
        name,
        data_type,
        nullable,
        unit: None,
        allowed: Allowed::Free,
        description,
        description_fr: "",
        source_column: None,
    }
}

/// A non-null 64-bit identifier.
const fn id(name: &'static str, description: &'static str) -> ColumnSpec {
    col(name, DataType::Int64, false, description)
}

/// A code column drawn from a closed enumeration.
const fn code(
    name: &'static str,
    list: CodeList,
    nullable: bool,
    description: &'static str,
) -> ColumnSpec {
    col(name, DataType::Utf8, nullable, description).allowed(Allowed::Codes(list))
}

/// A territory code column.
const fn territory(
    name: &'static str,
    level: TerritoryLevel,
    nullable: bool,
    description: &'static str,
) -> ColumnSpec {
    col(name, DataType::Utf8, nullable, description).allowed(Allowed::Territory(level))
}

const fn date(name: &'static str, nullable: bool, description: &'static str) -> ColumnSpec {
    col(name, DataType::Date32, nullable, description)
}

const fn flag(name: &'static str, nullable: bool, description: &'static str) -> ColumnSpec {
    col(name, DataType::Boolean, nullable, description)
}

const fn hash_nir(description: &'static str) -> ColumnSpec {
    col("hash_nir", DataType::Utf8, false, description)
        .allowed(Allowed::Format(TextFormat::Sha256Hex))
}

const fn birth_year(nullable: bool) -> ColumnSpec {
    col(
        "birth_year",
        DataType::Int32,
        nullable,
        "Year of birth (the birth date itself is never kept).",
    )
    .allowed(Allowed::IntRange {
        min: 1900,
        max: 2015,
    })
    .fr("Année de naissance")
}

const fn euros(name: &'static str, description: &'static str) -> ColumnSpec {
    col(name, DataType::Float64, true, description)
        .unit(Unit::Euros)
        .allowed(Allowed::FloatRange {
            min: 0.0,
            max: 1.0e9,
        })
}

impl ColumnSpec {
    const fn unit(mut self, unit: Unit) -> Self {
        self.unit = Some(unit);
        self
    }
    const fn allowed(mut self, allowed: Allowed) -> Self {
        self.allowed = allowed;
        self
    }
    const fn fr(mut self, description_fr: &'static str) -> Self {
        self.description_fr = description_fr;
        self
    }
    const fn from(mut self, source_column: &'static str) -> Self {
        self.source_column = Some(source_column);
        self
    }
}

const fn fk(column: &'static str, table: SourceTable, target_column: &'static str) -> ForeignKey {
    ForeignKey {
        column,
        table,
        target_column,
    }
}

use DataType::{Float64, Int32, Int64, Utf8};
use TerritoryLevel::{Commune, Departement, Region};

// --- Job-application platform ----------------------------------------------------------------

static STRUCTURES: TableSpec = TableSpec {
    name: "structures",
    description: "Employer structures of the inclusion field (SIAE, GEIQ, EA, EATT, OPCS) and their antennes.",
    grain: "one structure record of the platform (an SIAE and each of its antennes are distinct rows)",
    system: SourceSystem::Emplois,
    upstream: "structures (platform export), fluxIAE_Structure for asp_id",
    primary_key: &["id"],
    foreign_keys: &[
        fk("parent_id", SourceTable::Structures, "id"),
    ],
    columns: &[
        id("id", "Identifier of the structure in the platform.")
            .fr("Identifiant de la structure")
            .from("structures.id"),
        col("asp_id", Int64, true, "Identifier of the structure at the ASP (`structure_id_siae`); links annexes financières and contracts. Null for structures unknown to the ASP (antennes, most non-SIAE).")
            .fr("Identifiant ASP de la structure")
            .from("structures.id_asp / fluxIAE_Structure.structure_id_siae"),
        col("siret", Utf8, false, "SIRET of the structure (an antenne may share its parent's SIREN).")
            .allowed(Allowed::Format(TextFormat::Siret))
            .from("structures.siret"),
        code("kind", CodeList::StructureKind, false, "Kind of structure.")
            .fr("Type de structure")
            .from("structures.type"),
        code("source", CodeList::StructureSource, false, "Where the record comes from: an administrative export (only those count as SIAE) or created by a user (antenne).")
            .fr("Source de la structure")
            .from("structures.source"),
        col("parent_id", Int64, true, "For an antenne: the structure whose convention it hangs under. Null otherwise.")
            .fr("Structure mère (antennes)")
            .from("Company.convention → parent structure"),
        col("name", Utf8, false, "Name of the structure (synthetic in generated data).")
            .fr("Nom de la structure")
            .from("structures.nom"),
        territory("commune", Commune, false, "Commune where the structure is located.")
            .fr("Commune de la structure")
            .from("structures.code_commune"),
        territory("departement", Departement, false, "Département where the structure is located (that of `commune`).")
            .fr("Département de la structure")
            .from("structures.département"),
        territory("region", Region, false, "Région where the structure is located (that of `departement`).")
            .fr("Région de la structure")
            .from("structures.région"),
        date("created_at", false, "Date the record was created in the platform.")
            .fr("Date de création")
            .from("structures.date_inscription"),
    ],
};

static ORGANISATIONS: TableSpec = TableSpec {
    name: "organisations",
    description: "Prescriber organisations (France Travail agencies, missions locales, CCAS, …) that send job applications.",
    grain: "one prescriber organisation",
    system: SourceSystem::Emplois,
    upstream: "organisations (platform export)",
    primary_key: &["id"],
    foreign_keys: &[],
    columns: &[
        id("id", "Identifier of the organisation in the platform.")
            .fr("Identifiant de l'organisation")
            .from("organisations.id"),
        code("kind", CodeList::PrescriberKind, false, "Kind of prescriber organisation.")
            .fr("Type de prescripteur")
            .from("organisations.type"),
        flag("habilitee", false, "True if the organisation is habilitée: it may write eligibility diagnoses. False for an orienteur.")
            .fr("Prescripteur habilité")
            .from("organisations.habilitation"),
        flag("brsa", false, "True if the organisation follows RSA recipients (conventionnée pour le suivi des bRSA).")
            .fr("Suivi des bénéficiaires du RSA")
            .from("organisations.brsa"),
        territory("commune", Commune, true, "Commune where the organisation is located.")
            .fr("Commune de l'organisation")
            .from("organisations.code_commune"),
        territory("departement", Departement, true, "Département where the organisation is located.")
            .fr("Département de l'organisation")
            .from("organisations.département"),
        territory("region", Region, true, "Région where the organisation is located.")
            .fr("Région de l'organisation")
            .from("organisations.région"),
        date("created_at", false, "Date the organisation was created in the platform.")
            .fr("Date de création")
            .from("organisations.date_inscription"),
    ],
};

static CANDIDATS: TableSpec = TableSpec {
    name: "candidats",
    description: "Job seekers known to the platform, pseudonymized: no name, NIR, birth date or address.",
    grain: "one person (one hash_nir)",
    system: SourceSystem::Emplois,
    upstream: "candidats (platform export)",
    primary_key: &["hash_nir"],
    foreign_keys: &[],
    columns: &[
        hash_nir("Keyed SHA-256 of the person's social-security number (same key as the ASP side): the only person link between applications and ASP data.")
            .fr("NIR haché")
            .from("candidats.hash_nir"),
        code("sex", CodeList::Sex, true, "Sex of the person, if known.")
            .fr("Sexe")
            .from("candidats.sexe_selon_nir"),
        birth_year(true).from("candidats.annee_naissance_selon_nir (2 digits upstream, expanded to 4)"),
        territory("commune", Commune, true, "Commune of residence.")
            .fr("Commune de résidence")
            .from("candidats.code_postal → commune"),
        territory("departement", Departement, true, "Département of residence.")
            .fr("Département de résidence")
            .from("candidats.département"),
        flag("qpv", true, "True if the person lives in a quartier prioritaire de la politique de la ville. Null when the address is unknown.")
            .fr("Réside en QPV")
            .from("candidats.adresse_en_qpv (\"Adresse en QPV\")"),
        date("created_at", false, "Date the person's account or record was created in the platform.")
            .fr("Date d'inscription")
            .from("candidats.date_inscription"),
    ],
};

static CANDIDATURES: TableSpec = TableSpec {
    name: "candidatures",
    description: "Job applications sent to structures, with their sender, state and answer.",
    grain: "one job application (one person, one structure)",
    system: SourceSystem::Emplois,
    upstream: "candidatures (platform export)",
    primary_key: &["id"],
    foreign_keys: &[
        fk("hash_nir", SourceTable::Candidats, "hash_nir"),
        fk("structure_id", SourceTable::Structures, "id"),
        fk("sender_organisation_id", SourceTable::Organisations, "id"),
        fk("sender_structure_id", SourceTable::Structures, "id"),
        fk("fiche_de_poste_id", SourceTable::FichesDePoste, "id"),
    ],
    columns: &[
        col("id", Utf8, false, "Identifier of the application (a UUID in the platform).")
            .fr("Identifiant de la candidature")
            .from("candidatures.id"),
        hash_nir("The applicant (see `candidats`).")
            .fr("NIR haché du candidat")
            .from("candidatures.id_candidat → candidats.hash_nir"),
        id("structure_id", "The structure the application is sent to.")
            .fr("Structure destinataire")
            .from("candidatures.id_structure"),
        code("origine", CodeList::Origine, false, "Who sent the application: the person, a prescripteur habilité, an orienteur, the receiving employer itself (auto-prescription) or another employer.")
            .fr("Origine de la candidature")
            .from("candidatures.origine"),
        col("sender_organisation_id", Int64, true, "The prescriber organisation that sent the application. Null unless the sender is a prescriber.")
            .fr("Organisation prescriptrice")
            .from("candidatures.id_org_prescripteur"),
        code("sender_prescriber_kind", CodeList::PrescriberKind, true, "Kind of the sending prescriber organisation. Null unless the sender is a prescriber.")
            .fr("Type de prescripteur")
            .from("candidatures.type_prescripteur"),
        col("sender_structure_id", Int64, true, "The employer structure that sent the application (itself or another). Null unless the sender is an employer.")
            .fr("Structure émettrice")
            .from("candidatures.origine_id_structure"),
        code("state", CodeList::ApplicationState, false, "State of the application at extraction time.")
            .fr("État de la candidature")
            .from("candidatures.état"),
        date("created_at", false, "Date the application was sent (date of application).")
            .fr("Date de candidature")
            .from("candidatures.date_candidature"),
        date("first_looked_at", true, "Date the structure first moved the application from new to processing. Null if it never did.")
            .fr("Date de prise en compte")
            .from("candidatures.date_candidature + délai_prise_en_compte"),
        date("processed_at", true, "Date of the answer (accepted, refused, cancelled or obsolete). Null while pending.")
            .fr("Date de traitement")
            .from("candidatures.date_traitement"),
        code("refusal_reason", CodeList::RefusalReason, true, "Reason of refusal (`auto` for the automatic refusal after 60 days). Null unless refused.")
            .fr("Motif de refus")
            .from("candidatures.motif_de_refus"),
        code("creation_path", CodeList::CreationPath, false, "How the record was created: `pe_approval` imports are excluded everywhere, `ai_stock` from flow indicators.")
            .fr("Parcours de création")
            .from("candidatures.parcours_de_création"),
        date("hired_at", true, "Start date of the contract set at acceptance. Null unless accepted.")
            .fr("Date de début de contrat")
            .from("candidatures.date_début_contrat"),
        flag("eligibility_by_employer", false, "True if the eligibility diagnosis was made by the receiving employer itself (auto-prescription).")
            .fr("Diagnostic réalisé par l'employeur (auto-prescription)")
            .from("candidatures.auteur_diag_candidat = Employeur"),
        col("fiche_de_poste_id", Int64, true, "The job description the application answers, if any.")
            .fr("Fiche de poste visée")
            .from("fiches_de_poste_par_candidature.id_fiche_de_poste"),
    ],
};

static PASS_IAE: TableSpec = TableSpec {
    name: "pass_iae",
    description: "PASS IAE (approvals) issued at hiring in an SIAE, valid 730 days by default.",
    grain: "one PASS IAE",
    system: SourceSystem::Emplois,
    upstream: "pass_agréments (platform export)",
    primary_key: &["id"],
    foreign_keys: &[
        fk("hash_nir", SourceTable::Candidats, "hash_nir"),
        fk("structure_id", SourceTable::Structures, "id"),
        fk("candidature_id", SourceTable::Candidatures, "id"),
    ],
    columns: &[
        id("id", "Identifier of the PASS IAE.")
            .fr("Identifiant du PASS IAE")
            .from("pass_agréments.id"),
        hash_nir("The holder (see `candidats`).")
            .fr("NIR haché du titulaire")
            .from("pass_agréments.hash_nir"),
        col(
            "structure_id",
            Int64,
            true,
            "The structure whose hiring led to the PASS IAE. Null if unknown.",
        )
        .fr("Structure à l'origine de la délivrance")
        .from("pass_agréments.id_structure"),
        date("start_date", false, "First day of validity.")
            .fr("Date de début")
            .from("pass_agréments.date_début"),
        date(
            "end_date",
            false,
            "Last day of validity, including suspensions and prolongations.",
        )
        .fr("Date de fin")
        .from("pass_agréments.date_fin"),
        date("issued_at", false, "Date the PASS IAE was issued.")
            .fr("Date de délivrance")
            .from("pass_agréments.date_création"),
        col(
            "candidature_id",
            Utf8,
            true,
            "The accepted application that led to the PASS IAE, if known.",
        )
        .fr("Candidature à l'origine")
        .from("JobApplication.approval"),
    ],
};

static PASS_IAE_SUSPENSIONS: TableSpec = TableSpec {
    name: "pass_iae_suspensions",
    description: "Suspensions of PASS IAE: periods when the approval is paused.",
    grain: "one suspension of one PASS IAE",
    system: SourceSystem::Emplois,
    upstream: "suspensions (platform export)",
    primary_key: &["id"],
    foreign_keys: &[fk("pass_iae_id", SourceTable::PassIae, "id")],
    columns: &[
        id("id", "Identifier of the suspension.").from("suspensions.id"),
        id("pass_iae_id", "The suspended PASS IAE.")
            .fr("PASS IAE suspendu")
            .from("suspensions.id_pass_agrément"),
        date("start_date", false, "First day of the suspension.")
            .fr("Date de début")
            .from("suspensions.date_début"),
        date("end_date", false, "Last day of the suspension.")
            .fr("Date de fin")
            .from("suspensions.date_fin"),
        code(
            "reason",
            CodeList::SuspensionReason,
            false,
            "Reason of the suspension.",
        )
        .fr("Motif de suspension")
        .from("suspensions.motif"),
    ],
};

static PASS_IAE_PROLONGATIONS: TableSpec = TableSpec {
    name: "pass_iae_prolongations",
    description: "Prolongations of PASS IAE: periods added after the approval's end.",
    grain: "one prolongation of one PASS IAE",
    system: SourceSystem::Emplois,
    upstream: "prolongations (platform export)",
    primary_key: &["id"],
    foreign_keys: &[fk("pass_iae_id", SourceTable::PassIae, "id")],
    columns: &[
        id("id", "Identifier of the prolongation.").from("prolongations.id"),
        id("pass_iae_id", "The prolonged PASS IAE.")
            .fr("PASS IAE prolongé")
            .from("prolongations.id_pass_agrément"),
        date("start_date", false, "First day of the prolongation.")
            .fr("Date de début")
            .from("prolongations.date_début"),
        date("end_date", false, "Last day of the prolongation.")
            .fr("Date de fin")
            .from("prolongations.date_fin"),
        code(
            "reason",
            CodeList::ProlongationReason,
            false,
            "Reason of the prolongation.",
        )
        .fr("Motif de prolongation")
        .from("prolongations.motif"),
    ],
};

static FICHES_DE_POSTE: TableSpec = TableSpec {
    name: "fiches_de_poste",
    description: "Job descriptions published by structures; open ones receive applications.",
    grain: "one job description",
    system: SourceSystem::Emplois,
    upstream: "fiches_de_poste (platform export)",
    primary_key: &["id"],
    foreign_keys: &[fk("structure_id", SourceTable::Structures, "id")],
    columns: &[
        id("id", "Identifier of the job description.").from("fiches_de_poste.id"),
        id("structure_id", "The structure that publishes it.")
            .fr("Structure")
            .from("fiches_de_poste.id_employeur"),
        col("rome", Utf8, false, "ROME code of the job.")
            .allowed(Allowed::Format(TextFormat::Rome))
            .fr("Code ROME")
            .from("fiches_de_poste.code_rome"),
        date("created_at", false, "Date the job description was created.")
            .fr("Date de création")
            .from("fiches_de_poste.date_création"),
        date(
            "updated_at",
            false,
            "Date of the last change (opening or closing included).",
        )
        .fr("Date de dernière modification")
        .from("fiches_de_poste.date_dernière_modification"),
        flag(
            "is_open",
            false,
            "True if recruitment is open at extraction time.",
        )
        .fr("Recrutement ouvert")
        .from("fiches_de_poste.recrutement_ouvert"),
    ],
};

// --- ASP fluxIAE -----------------------------------------------------------------------------

static ANNEXES_FINANCIERES: TableSpec = TableSpec {
    name: "annexes_financieres",
    description: "Annexes financières: the State's yearly funding of a structure's insertion posts (ETP conventionnés), partly co-financed by the Département.",
    grain: "one annexe financière (one structure, one measure, one period, one version)",
    system: SourceSystem::Asp,
    upstream: "fluxIAE_AnnexeFinanciere",
    primary_key: &["id"],
    foreign_keys: &[fk("structure_asp_id", SourceTable::Structures, "asp_id")],
    columns: &[
        id("id", "Identifier of the annexe financière at the ASP.")
            .fr("Identifiant de l'annexe financière")
            .from("af_id_annexe_financiere"),
        col("number", Utf8, false, "Number of the annexe financière (it carries the measure, département, year and version).")
            .fr("Numéro de l'annexe financière")
            .from("af_numero_annexe_financiere"),
        col("convention_number", Utf8, false, "Number of the convention the annexe belongs to.")
            .fr("Numéro de convention")
            .from("af_numero_convention"),
        id("structure_asp_id", "The funded structure (ASP identifier, see `structures.asp_id`).")
            .fr("Structure conventionnée (identifiant ASP)")
            .from("af_id_structure"),
        code("measure", CodeList::AspMeasure, false, "ASP measure (structure kind and context). `FDI_DC` is excluded from ETP.")
            .fr("Mesure")
            .from("af_mesure_dispositif_code"),
        code("state", CodeList::AfState, false, "State of the annexe. Only VALIDE, PROVISOIRE and CLOTURE count.")
            .fr("État de l'annexe financière")
            .from("af_etat_annexe_financiere_code"),
        date("start_date", false, "First day of effect.")
            .fr("Date de début d'effet")
            .from("af_date_debut_effet"),
        date("end_date", false, "Last day of effect.")
            .fr("Date de fin d'effet")
            .from("af_date_fin_effet"),
        col("year", Int32, false, "Funding year (year of `start_date`).")
            .allowed(Allowed::IntRange { min: 2000, max: 2100 })
            .fr("Année de l'annexe financière")
            .from("annee_af (derived from af_date_debut_effet)"),
        territory("departement", Departement, false, "The annexe's own département (who funds), which may differ from the structure's.")
            .fr("Département de l'annexe financière")
            .from("code_departement_af"),
        col("etp_conventionnes_mensuels", Float64, false, "Insertion posts funded, as a monthly full-time-equivalent figure. Annual ETP = this × months of effect ÷ 12.")
            .unit(Unit::Etp)
            .allowed(Allowed::FloatRange { min: 0.0, max: 10_000.0 })
            .fr("Effectif mensuel conventionné (ETP)")
            .from("af_etp_postes_insertion"),
        euros("montant_total", "Total annual amount of the aid (State and Département).")
            .fr("Montant total annuel")
            .from("af_montant_total_annuel"),
        euros("montant_cofinance_departement", "Part of `montant_total` co-financed by the Département. Its share of the total splits ETP conventionnés between State and Département.")
            .fr("Montant cofinancé par le Département")
            .from("af_mt_cofinance"),
        euros("montant_unitaire_annuel", "Annual amount of the aid per ETP (aide au poste).")
            .fr("Montant unitaire annuel de l'aide au poste")
            .from("af_montant_unitaire_annuel_valeur"),
        col("heures_annuelles_etp", Float64, true, "Annual hours of one full-time equivalent for this annexe. Null means the default, 1,607 hours.")
            .unit(Unit::Hours)
            .allowed(Allowed::FloatRange { min: 1.0, max: 8_784.0 })
            .fr("Durée annuelle d'un ETP")
            .from("af_duree_heure_annuel_etp_id (hours of that referential entry)"),
    ],
};

static SALARIES: TableSpec = TableSpec {
    name: "salaries",
    description: "Salariés en insertion known to the ASP, pseudonymized; their situation at hiring is on each contract.",
    grain: "one person at the ASP (one pph id)",
    system: SourceSystem::Asp,
    upstream: "fluxIAE_Salarie",
    primary_key: &["id"],
    foreign_keys: &[],
    columns: &[
        id("id", "Identifier of the person at the ASP (pph id).")
            .fr("Identifiant du salarié (ASP)")
            .from("salarie_id"),
        hash_nir("Keyed SHA-256 of the social-security number, same key as the platform: links to `candidats`.")
            .fr("NIR haché")
            .from("hash_nir"),
        code("sex", CodeList::Sex, false, "Sex of the person.")
            .fr("Sexe")
            .from("salarie_rci_libelle (MME / M.)"),
        birth_year(false).from("salarie_annee_naissance"),
        territory("commune", Commune, true, "Commune of residence.")
            .fr("Commune de résidence")
            .from("salarie_adr_code_insee"),
        territory("departement", Departement, true, "Département of residence.")
            .fr("Département de résidence")
            .from("derived from salarie_adr_code_insee"),
    ],
};

static CONTRATS: TableSpec = TableSpec {
    name: "contrats",
    description: "Employment contracts of salariés en insertion declared to the ASP, with the person's situation at hiring and the exit.",
    grain: "one contract (an initial hire or a renewal)",
    system: SourceSystem::Asp,
    upstream: "fluxIAE_ContratMission",
    primary_key: &["id"],
    foreign_keys: &[
        fk("salarie_id", SourceTable::Salaries, "id"),
        fk("structure_asp_id", SourceTable::Structures, "asp_id"),
        fk("parent_contrat_id", SourceTable::Contrats, "id"),
        fk("exit_motive", SourceTable::MotifsSortie, "code"),
    ],
    columns: &[
        id("id", "Identifier of the contract at the ASP.")
            .fr("Identifiant du contrat")
            .from("contrat_id_ctr"),
        id("salarie_id", "The employee (see `salaries`).")
            .fr("Salarié")
            .from("contrat_id_pph"),
        id("structure_asp_id", "The employing structure (ASP identifier).")
            .fr("Structure employeuse (identifiant ASP)")
            .from("contrat_id_structure"),
        code("measure", CodeList::AspMeasure, false, "ASP measure the contract is under.")
            .fr("Mesure")
            .from("contrat_mesure_disp_code"),
        col("parent_contrat_id", Int64, true, "For a renewal: the contract it renews. Null for an initial hire; a chain of renewals is one hire.")
            .fr("Contrat renouvelé")
            .from("contrat_parent_id"),
        date("start_date", false, "Hiring date (first day of the contract).")
            .fr("Date d'embauche")
            .from("contrat_date_embauche"),
        date("end_date", true, "Planned end date. Null for an open-ended contract.")
            .fr("Date de fin prévisionnelle")
            .from("contrat_date_fin_contrat"),
        date("exit_date", true, "Date the person actually left (sortie définitive). Null while employed or when the contract was renewed.")
            .fr("Date de sortie définitive")
            .from("contrat_date_sortie_definitive"),
        code("exit_motive", CodeList::ExitMotive, true, "Motive of the exit (see `motifs_sortie`). Null without exit.")
            .fr("Motif de sortie")
            .from("contrat_motif_sortie_id → rms_code (mapped)"),
        code("rsa", CodeList::RsaStatus, false, "RSA at hiring: not a recipient, recipient of the majoré or non-majoré RSA.")
            .fr("Bénéficiaire du RSA à l'embauche")
            .from("contrat_salarie_rsa"),
        flag("ass", false, "True if the person received the ASS (allocation de solidarité spécifique) at hiring.")
            .fr("Bénéficiaire de l'ASS")
            .from("contrat_salarie_ass"),
        flag("aah", false, "True if the person received the AAH (allocation aux adultes handicapés) at hiring.")
            .fr("Bénéficiaire de l'AAH")
            .from("contrat_salarie_aah"),
        flag("rqth", false, "True if the person was a recognised disabled worker (RQTH) at hiring.")
            .fr("Reconnaissance de la qualité de travailleur handicapé")
            .from("contrat_salarie_rqth"),
        flag("qpv", false, "True if the person lived in a QPV at hiring.")
            .fr("Résidant en QPV")
            .from("salarie_adr_qpv_type = QP"),
        flag("zrr", false, "True if the person lived in a ZRR (zone de revitalisation rurale) at hiring.")
            .fr("Résidant en ZRR")
            .from("contrat_salarie_is_zrr"),
        code("education_level", CodeList::EducationLevel, true, "Education level at hiring (ASP code). Null if not declared.")
            .fr("Niveau de formation")
            .from("fluxIAE_RefNiveauFormation code"),
        code("unemployment_duration", CodeList::UnemploymentDuration, true, "Duration of registration with France Travail at hiring. Null if not registered or not declared.")
            .fr("Durée d'inscription à France Travail")
            .from("fluxIAE_RefDureePoleEmploi code"),
    ],
};

static ETATS_MENSUELS: TableSpec = TableSpec {
    name: "etats_mensuels",
    description: "Monthly declarations (états mensuels individuels): hours worked per person, annexe financière, contract and month.",
    grain: "one person × annexe financière × contract × month",
    system: SourceSystem::Asp,
    upstream: "fluxIAE_EtatMensuelIndiv",
    primary_key: &["id"],
    foreign_keys: &[
        fk("salarie_id", SourceTable::Salaries, "id"),
        fk("af_id", SourceTable::AnnexesFinancieres, "id"),
        fk("contrat_id", SourceTable::Contrats, "id"),
    ],
    columns: &[
        id("id", "Row identifier. fluxIAE has no single key for a declaration: its natural key is (salarie_id, af_id, contrat_id, year, month).")
            .fr("Identifiant de l'état mensuel"),
        id("salarie_id", "The employee (see `salaries`).")
            .fr("Salarié")
            .from("emi_pph_id"),
        id("af_id", "The annexe financière the hours count against.")
            .fr("Annexe financière")
            .from("emi_afi_id"),
        id("contrat_id", "The contract the hours were worked under.")
            .fr("Contrat")
            .from("emi_ctr_id"),
        col("year", Int32, false, "Year of the declared month.")
            .allowed(Allowed::IntRange { min: 2000, max: 2100 })
            .fr("Année")
            .from("emi_sme_annee"),
        col("month", Int32, false, "Declared month, 1 to 12.")
            .allowed(Allowed::IntRange { min: 1, max: 12 })
            .fr("Mois")
            .from("emi_sme_mois"),
        col("hours_worked", Float64, false, "Hours worked in the month. ETP réalisés = hours ÷ the annexe's annual full-time hours.")
            .unit(Unit::Hours)
            .allowed(Allowed::FloatRange { min: 0.0, max: 744.0 })
            .fr("Nombre d'heures travaillées")
            .from("emi_nb_heures_travail"),
        code("state", CodeList::EmiState, false, "State of the declaration; only VALIDE and DEBLOQUE count.")
            .fr("État de la saisie")
            .from("emi_esm_etat_code"),
    ],
};

static MOTIFS_SORTIE: TableSpec = TableSpec {
    name: "motifs_sortie",
    description: "The ASP referential of exit motives and the category each rolls up into.",
    grain: "one exit motive",
    system: SourceSystem::Asp,
    upstream: "fluxIAE_RefMotifSort, fluxIAE_RefCategorieSort",
    primary_key: &["code"],
    foreign_keys: &[],
    columns: &[
        code("code", CodeList::ExitMotive, false, "Code of the exit motive: pilotage's stable code, onto which a reader of real data maps the ASP's numeric `rms_code`.")
            .fr("Code du motif de sortie")
            .from("rms_code (mapped)"),
        col("label", Utf8, false, "French label of the motive.")
            .fr("Libellé du motif de sortie")
            .from("rms_libelle"),
        code("category", CodeList::ExitCategory, false, "Category the motive rolls up into (emploi durable, de transition, sortie positive, autre, retrait); agrees with `ExitMotive::category`.")
            .fr("Catégorie de sortie")
            .from("rcs_libelle"),
    ],
};
