//! The closed code lists that source columns draw their values from.

use crate::domain::{
    AfState, ApplicationState, ApprovalState, AspMeasure, Code, CreationPath, EducationLevel,
    EligibilityCriterion, EmiState, ExitCategory, ExitMotive, Origine, PrescriberKind,
    ProlongationReason, RefusalReason, RsaStatus, Sex, StructureKind, SuspensionReason,
    UnemploymentDuration,
};

crate::code_enum! {
    /// Where a structure record comes from (`source` in the job-application platform).
    ///
    /// Legally only structures from an administrative export count as SIAE; `USER_CREATED`
    /// records are antennes hanging under a parent structure through its convention.
    pub enum StructureSource: "source" {
        /// Imported from the ASP export of SIAE.
        Asp = "ASP", "Export ASP";
        /// Imported from the GEIQ export.
        Geiq = "GEIQ", "Export GEIQ";
        /// Imported from the EA and EATT export.
        EaEatt = "EA_EATT", "Export EA+EATT";
        /// Created by a user of the structure (antenne).
        UserCreated = "USER_CREATED", "Utilisateur (Antenne)";
        /// Created by the platform's staff.
        StaffCreated = "STAFF_CREATED", "Staff Itou";
    }
}

/// A closed enumeration whose codes a column may hold.
///
/// Each member names a [`Code`] enum of [`crate::domain`] (or of this module); [`CodeList::codes`]
/// returns its codes, so the documentation and ingestion checks list the real codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeList {
    /// [`StructureKind`]: ACI, AI, EI, ETTI, EITI, GEIQ, EA, EATT, OPCS.
    StructureKind,
    /// [`StructureSource`]: where a structure record comes from.
    StructureSource,
    /// [`AspMeasure`]: ASP measure (kind + context), e.g. `ACI_DC`.
    AspMeasure,
    /// [`PrescriberKind`]: the 34 kinds of prescriber organisation.
    PrescriberKind,
    /// [`ApplicationState`]: state of a job application.
    ApplicationState,
    /// [`Origine`]: who sent a job application.
    Origine,
    /// [`RefusalReason`]: why an application was refused.
    RefusalReason,
    /// [`CreationPath`]: how an application record was created.
    CreationPath,
    /// [`EligibilityCriterion`]: IAE eligibility criteria.
    EligibilityCriterion,
    /// [`ApprovalState`]: state of a PASS IAE.
    ApprovalState,
    /// [`SuspensionReason`]: why a PASS IAE was suspended.
    SuspensionReason,
    /// [`ProlongationReason`]: why a PASS IAE was prolonged.
    ProlongationReason,
    /// [`AfState`]: state of an annexe financière.
    AfState,
    /// [`EmiState`]: state of a monthly declaration.
    EmiState,
    /// [`ExitMotive`]: motive of an exit (ASP referential).
    ExitMotive,
    /// [`ExitCategory`]: category an exit motive rolls up into.
    ExitCategory,
    /// [`Sex`]: sex of a person.
    Sex,
    /// [`RsaStatus`]: RSA at hiring (`NON`, `OUI-M`, `OUI-NM`).
    RsaStatus,
    /// [`EducationLevel`]: ASP education level code.
    EducationLevel,
    /// [`UnemploymentDuration`]: France Travail registration duration at hiring.
    UnemploymentDuration,
}

impl CodeList {
    /// Every code list.
    pub const ALL: &'static [CodeList] = &[
        CodeList::StructureKind,
        CodeList::StructureSource,
        CodeList::AspMeasure,
        CodeList::PrescriberKind,
        CodeList::ApplicationState,
        CodeList::Origine,
        CodeList::RefusalReason,
        CodeList::CreationPath,
        CodeList::EligibilityCriterion,
        CodeList::ApprovalState,
        CodeList::SuspensionReason,
        CodeList::ProlongationReason,
        CodeList::AfState,
        CodeList::EmiState,
        CodeList::ExitMotive,
        CodeList::ExitCategory,
        CodeList::Sex,
        CodeList::RsaStatus,
        CodeList::EducationLevel,
        CodeList::UnemploymentDuration,
    ];

    /// The Rust name of the enum (e.g. `"StructureKind"`).
    pub fn name(self) -> &'static str {
        match self {
            CodeList::StructureKind => "StructureKind",
            CodeList::StructureSource => "StructureSource",
            CodeList::AspMeasure => "AspMeasure",
            CodeList::PrescriberKind => "PrescriberKind",
            CodeList::ApplicationState => "ApplicationState",
            CodeList::Origine => "Origine",
            CodeList::RefusalReason => "RefusalReason",
            CodeList::CreationPath => "CreationPath",
            CodeList::EligibilityCriterion => "EligibilityCriterion",
            CodeList::ApprovalState => "ApprovalState",
            CodeList::SuspensionReason => "SuspensionReason",
            CodeList::ProlongationReason => "ProlongationReason",
            CodeList::AfState => "AfState",
            CodeList::EmiState => "EmiState",
            CodeList::ExitMotive => "ExitMotive",
            CodeList::ExitCategory => "ExitCategory",
            CodeList::Sex => "Sex",
            CodeList::RsaStatus => "RsaStatus",
            CodeList::EducationLevel => "EducationLevel",
            CodeList::UnemploymentDuration => "UnemploymentDuration",
        }
    }

    /// The codes of the enumeration, in declaration order (`<T as Code>::ALL`).
    pub fn codes(self) -> Vec<&'static str> {
        self.entries().into_iter().map(|(code, _)| code).collect()
    }

    /// The `(code, French label)` pairs of the enumeration, in declaration order.
    pub fn entries(self) -> Vec<(&'static str, &'static str)> {
        match self {
            CodeList::StructureKind => entries_of::<StructureKind>(),
            CodeList::StructureSource => entries_of::<StructureSource>(),
            CodeList::AspMeasure => entries_of::<AspMeasure>(),
            CodeList::PrescriberKind => entries_of::<PrescriberKind>(),
            CodeList::ApplicationState => entries_of::<ApplicationState>(),
            CodeList::Origine => entries_of::<Origine>(),
            CodeList::RefusalReason => entries_of::<RefusalReason>(),
            CodeList::CreationPath => entries_of::<CreationPath>(),
            CodeList::EligibilityCriterion => entries_of::<EligibilityCriterion>(),
            CodeList::ApprovalState => entries_of::<ApprovalState>(),
            CodeList::SuspensionReason => entries_of::<SuspensionReason>(),
            CodeList::ProlongationReason => entries_of::<ProlongationReason>(),
            CodeList::AfState => entries_of::<AfState>(),
            CodeList::EmiState => entries_of::<EmiState>(),
            CodeList::ExitMotive => entries_of::<ExitMotive>(),
            CodeList::ExitCategory => entries_of::<ExitCategory>(),
            CodeList::Sex => entries_of::<Sex>(),
            CodeList::RsaStatus => entries_of::<RsaStatus>(),
            CodeList::EducationLevel => entries_of::<EducationLevel>(),
            CodeList::UnemploymentDuration => entries_of::<UnemploymentDuration>(),
        }
    }

    /// True if `value` is one of the codes (exact match, no trimming or case folding).
    pub fn contains(self, value: &str) -> bool {
        self.codes().contains(&value)
    }
}

fn entries_of<T: Code>() -> Vec<(&'static str, &'static str)> {
    T::ALL.iter().map(|m| (m.code(), m.label())).collect()
}
