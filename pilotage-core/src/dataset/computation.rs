//! What each computation produces: its axes (dimensions) and base measures.
//!
//! A definition is checked against the [`ComputationSpec`] of the computation it names when it
//! is loaded (see `validate`); the computations themselves, in [`crate::indicator`], fill the
//! cube these specifications describe. The specifications live here, below both, so that
//! loading a definition does not depend on the code that computes it.

use super::model::{MeasureKind, TimeRule};
use crate::domain::{
    AgeBracket, Code, EducationLevel, Origine, PrescriberGroup, PrescriberKind, ProlongationReason,
    RefusalReason, RsaStatus, Sex, StructureKind, UnemploymentDuration,
};

use MeasureKind::{Events, Magnitude, Median, Persons};
use TimeRule::{Average, Flow, Stock};

/// The kind of coordinates an axis of a computation produces.
#[derive(Debug, Clone, Copy)]
pub enum AxisKind {
    /// Département codes (rolled up to régions and France).
    Territory,
    /// Months (rolled up to quarters and years).
    Period,
    /// Codes of a closed list: the finest level of a categorical dimension.
    Codes(fn() -> Vec<&'static str>),
}

/// An axis a computation produces coordinates on.
#[derive(Debug, Clone, Copy)]
pub struct Axis {
    /// Dimension id in the definition.
    pub id: &'static str,
    /// Kind of coordinates.
    pub kind: AxisKind,
}

/// A base measure a computation produces.
#[derive(Debug, Clone, Copy)]
pub struct BaseMeasure {
    /// Measure id in the definition.
    pub id: &'static str,
    /// Kind.
    pub kind: MeasureKind,
    /// Time rule.
    pub time: TimeRule,
}

/// What a computation produces: definitions are validated against it.
#[derive(Debug, Clone, Copy)]
pub struct ComputationSpec {
    /// Computation id (the dataset id by default).
    pub id: &'static str,
    /// Axes, which the definition must declare as dimensions, all of them.
    pub axes: &'static [Axis],
    /// Base measures, which the definition must declare, all of them.
    pub measures: &'static [BaseMeasure],
    /// True if the computation reads job applications (then `pe_approval` must be excluded).
    pub reads_applications: bool,
}

/// Every computation.
pub const SPECS: &[ComputationSpec] = &[
    CANDIDATURES,
    DELAIS,
    REFUS,
    PRESCRIPTIONS,
    PASS_IAE,
    BENEFICIAIRES,
    ETP,
    SORTIES,
    OFFRE,
];

/// The computation with this id.
pub fn spec(id: &str) -> Option<&'static ComputationSpec> {
    SPECS.iter().find(|s| s.id == id)
}

/// Codes of a [`crate::domain::Code`] enum, for [`AxisKind::Codes`].
fn codes<C: Code>() -> Vec<&'static str> {
    C::ALL.iter().map(|c| c.code()).collect()
}

/// The axis `id` of kind `kind`.
const fn axis(id: &'static str, kind: AxisKind) -> Axis {
    Axis { id, kind }
}
/// The base measure `id` of kind `kind` under time rule `time`.
const fn measure(id: &'static str, kind: MeasureKind, time: TimeRule) -> BaseMeasure {
    BaseMeasure { id, kind, time }
}

/// The codes of `C`, then `extra` (a member outside the closed list).
fn codes_then<C: Code>(extra: &'static str) -> Vec<&'static str> {
    let mut v = codes::<C>();
    v.push(extra);
    v
}

const TERRITOIRE: Axis = axis("territoire", AxisKind::Territory);
const PERIODE: Axis = axis("periode", AxisKind::Period);
const TYPE_STRUCTURE: Axis = axis("type_structure", AxisKind::Codes(codes::<StructureKind>));

// Recruitment side: job applications, their delays and refusals, prescriptions, PASS IAE.

/// Member of `groupe_prescripteur` for applications not sent by a prescriber organisation.
pub const SANS_PRESCRIPTEUR: &str = "SANS_PRESCRIPTEUR";
/// Member of `motif_refus` for a refusal without reason.
pub const MOTIF_NON_RENSEIGNE: &str = "NR";
/// Delay buckets, in days: ≤ 30, 31–45, 46–60, 61–90, > 90.
pub const DELAY_BUCKETS: [&str; 5] = ["JUSQU_30", "31_45", "46_60", "61_90", "PLUS_90"];
/// Members of `habilitation`.
pub const HABILITATION: [&str; 2] = ["HABILITE", "NON_HABILITE"];

fn prescriber_groups() -> Vec<&'static str> {
    codes_then::<PrescriberGroup>(SANS_PRESCRIPTEUR)
}
fn refusal_reasons() -> Vec<&'static str> {
    codes_then::<RefusalReason>(MOTIF_NON_RENSEIGNE)
}

/// `candidatures`: received, answered, accepted, refused, pending at period end, candidates.
pub const CANDIDATURES: ComputationSpec = ComputationSpec {
    id: "candidatures",
    axes: &[
        TERRITOIRE,
        PERIODE,
        TYPE_STRUCTURE,
        axis("origine", AxisKind::Codes(codes::<Origine>)),
        axis("groupe_prescripteur", AxisKind::Codes(prescriber_groups)),
    ],
    measures: &[
        measure("recues", Events, Flow),
        measure("traitees", Events, Flow),
        measure("acceptees", Events, Flow),
        measure("refusees", Events, Flow),
        measure("refus_automatiques", Events, Flow),
        measure("en_attente", Events, Stock),
        measure("candidats", Persons, Flow),
    ],
    reads_applications: true,
};

/// `candidatures_delais`: delay to first look and to answer, by bucket, and their medians.
pub const DELAIS: ComputationSpec = ComputationSpec {
    id: "candidatures_delais",
    axes: &[
        TERRITOIRE,
        PERIODE,
        TYPE_STRUCTURE,
        axis("tranche_delai", AxisKind::Codes(|| DELAY_BUCKETS.to_vec())),
    ],
    measures: &[
        measure("prises_en_compte", Events, Flow),
        measure("reponses", Events, Flow),
        measure("delai_prise_en_compte_median", Median, Flow),
        measure("delai_reponse_median", Median, Flow),
    ],
    reads_applications: true,
};

/// `candidatures_refus`: refusals by reason, automatic refusals included.
pub const REFUS: ComputationSpec = ComputationSpec {
    id: "candidatures_refus",
    axes: &[
        TERRITOIRE,
        PERIODE,
        TYPE_STRUCTURE,
        axis("motif_refus", AxisKind::Codes(refusal_reasons)),
    ],
    measures: &[measure("refusees", Events, Flow)],
    reads_applications: true,
};

/// `prescriptions`: applications sent by prescriber organisations, candidates oriented and
/// accepted.
pub const PRESCRIPTIONS: ComputationSpec = ComputationSpec {
    id: "prescriptions",
    axes: &[
        TERRITOIRE,
        PERIODE,
        axis("prescripteur", AxisKind::Codes(codes::<PrescriberKind>)),
        axis("habilitation", AxisKind::Codes(|| HABILITATION.to_vec())),
    ],
    measures: &[
        measure("candidatures", Events, Flow),
        measure("candidats_orientes", Persons, Flow),
        measure("candidats_acceptes", Persons, Flow),
    ],
    reads_applications: true,
};

/// `pass_iae`: issued, valid, expiring soon and suspended at period end, prolongations by
/// reason.
pub const PASS_IAE: ComputationSpec = ComputationSpec {
    id: "pass_iae",
    axes: &[
        TERRITOIRE,
        PERIODE,
        axis(
            "motif_prolongation",
            AxisKind::Codes(codes::<ProlongationReason>),
        ),
    ],
    measures: &[
        measure("delivres", Events, Flow),
        measure("valides", Events, Stock),
        measure("expirant_bientot", Events, Stock),
        measure("suspendus", Events, Stock),
        measure("prolongations", Events, Flow),
    ],
    reads_applications: true,
};

// Parcours side, from the ASP extraction: beneficiaries, ETP, exits.

/// Member of the yes/no characteristic dimensions for "yes".
pub const OUI: &str = "OUI";
/// Member of the yes/no characteristic dimensions for "no".
pub const NON: &str = "NON";
/// Member for a characteristic not declared (education level, registration duration).
pub const NON_RENSEIGNE: &str = "NR";

fn yes_no() -> Vec<&'static str> {
    vec![OUI, NON]
}
fn with_nr<C: Code>() -> Vec<&'static str> {
    codes_then::<C>(NON_RENSEIGNE)
}
fn siae_kinds() -> Vec<&'static str> {
    StructureKind::ALL
        .iter()
        .filter(|k| k.is_siae())
        .map(|k| k.code())
        .collect()
}

/// Where, when and in which kind of SIAE: the axes of the ASP computations by structure.
const SIAE_AXES: &[Axis] = &[
    TERRITOIRE,
    PERIODE,
    axis("type_structure", AxisKind::Codes(siae_kinds)),
];

/// `beneficiaires`: distinct persons with at least one hour worked, and the hours.
pub const BENEFICIAIRES: ComputationSpec = ComputationSpec {
    id: "beneficiaires",
    axes: &[
        TERRITOIRE,
        PERIODE,
        TYPE_STRUCTURE,
        axis("sexe", AxisKind::Codes(codes::<Sex>)),
        axis("tranche_age", AxisKind::Codes(codes::<AgeBracket>)),
        axis("rsa", AxisKind::Codes(codes::<RsaStatus>)),
        axis("ass", AxisKind::Codes(yes_no)),
        axis("aah", AxisKind::Codes(yes_no)),
        axis("rqth", AxisKind::Codes(yes_no)),
        axis("qpv", AxisKind::Codes(yes_no)),
        axis("zrr", AxisKind::Codes(yes_no)),
        axis(
            "duree_chomage",
            AxisKind::Codes(with_nr::<UnemploymentDuration>),
        ),
        axis(
            "niveau_formation",
            AxisKind::Codes(with_nr::<EducationLevel>),
        ),
    ],
    measures: &[
        measure("beneficiaires", Persons, Flow),
        measure("heures", Magnitude, Flow),
    ],
    reads_applications: false,
};

/// `etp`: ETP conventionnés (State / Département) and réalisés.
pub const ETP: ComputationSpec = ComputationSpec {
    id: "etp",
    axes: SIAE_AXES,
    measures: &[
        measure("etp_conventionnes", Magnitude, Average),
        measure("etp_conventionnes_etat", Magnitude, Average),
        measure("etp_conventionnes_departement", Magnitude, Average),
        measure("etp_realises", Magnitude, Average),
    ],
    reads_applications: false,
};

/// `sorties`: hires (contract chains), exits and the length of the parcours they end,
/// examined exits by category.
pub const SORTIES: ComputationSpec = ComputationSpec {
    id: "sorties",
    axes: SIAE_AXES,
    measures: &[
        measure("embauches", Events, Flow),
        measure("sorties", Events, Flow),
        measure("duree_parcours_mediane", Median, Flow),
        measure("sorties_examinees", Events, Flow),
        measure("sorties_emploi_durable", Events, Flow),
        measure("sorties_emploi_transition", Events, Flow),
        measure("sorties_positives", Events, Flow),
        measure("sorties_dynamiques", Events, Flow),
        measure("autres_sorties", Events, Flow),
    ],
    reads_applications: false,
};

// Supply side: structures, job descriptions, prescriber organisations.

/// `offre`: structures, open job descriptions, job descriptions en tension, organisations.
pub const OFFRE: ComputationSpec = ComputationSpec {
    id: "offre",
    axes: &[
        TERRITOIRE,
        PERIODE,
        TYPE_STRUCTURE,
        axis("prescripteur", AxisKind::Codes(codes::<PrescriberKind>)),
    ],
    measures: &[
        measure("structures", Events, Stock),
        measure("fiches_ouvertes", Events, Stock),
        measure("fiches_en_tension", Events, Stock),
        measure("organisations", Events, Stock),
    ],
    reads_applications: true,
};
