//! Behaviour of the domain enumerations: codes, labels, groupings and business rules.

use std::collections::BTreeSet;
use std::fmt::{Debug, Display};
use std::str::FromStr;

use pilotage_core::domain::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Checks every generic property of a code enum: round trip code ↔ member through
/// `from_code`, `FromStr`, `Display`, label lookup and serde; unique, non-empty codes and
/// labels; strict parsing of unknown, padded or case-changed codes, naming the field.
fn check_enum<T>(expected_len: usize)
where
    T: Code + Debug + Display + FromStr<Err = CodeError> + Serialize + DeserializeOwned,
{
    assert_eq!(T::ALL.len(), expected_len, "member count of `{}`", T::FIELD);
    let mut codes = BTreeSet::new();
    let mut labels = BTreeSet::new();
    for &member in T::ALL {
        let code = member.code();
        assert!(!code.is_empty(), "{member:?} has an empty code");
        assert!(!member.label().is_empty(), "{member:?} has an empty label");
        assert!(
            codes.insert(code),
            "duplicate code {code:?} in `{}`",
            T::FIELD
        );
        assert!(
            labels.insert(member.label()),
            "duplicate label {:?} in `{}`",
            member.label(),
            T::FIELD
        );
        assert_eq!(T::from_code(code), Ok(member));
        assert_eq!(code.parse::<T>(), Ok(member));
        assert_eq!(member.to_string(), code);
        assert_eq!(T::from_label(member.label()), Ok(member));

        let json = serde_json::to_string(&member).expect("serialize");
        assert_eq!(json, serde_json::to_string(code).expect("serialize code"));
        let back: T = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, member);

        for bad in [
            format!(" {code}"),
            format!("{code} "),
            code.to_lowercase(),
            code.to_uppercase(),
        ] {
            if bad != code {
                let err = T::from_code(&bad).expect_err("variant must be rejected");
                assert_eq!(err.field, T::FIELD);
                assert_eq!(err.value, bad);
            }
        }
    }
    for unknown in ["", "UNKNOWN_CODE", "99x"] {
        let err = T::from_code(unknown).expect_err("unknown code must be rejected");
        assert_eq!(
            err,
            CodeError {
                field: T::FIELD,
                value: unknown.to_owned()
            }
        );
        let msg = err.to_string();
        assert!(msg.contains(T::FIELD), "{msg}");
        assert!(msg.contains(&format!("{unknown:?}")), "{msg}");
        assert!(serde_json::from_str::<T>(&format!("{unknown:?}")).is_err());
    }
}

#[test]
fn every_enum_round_trips_and_parses_strictly() {
    check_enum::<StructureKind>(9);
    check_enum::<StructureGroup>(2);
    check_enum::<AspMeasure>(10);
    check_enum::<PrescriberKind>(34);
    check_enum::<PrescriberGroup>(4);
    check_enum::<ApplicationState>(9);
    check_enum::<Origine>(5);
    check_enum::<RefusalReason>(19);
    check_enum::<CreationPath>(4);
    check_enum::<EligibilityLevel>(2);
    check_enum::<EligibilityCriterion>(18);
    check_enum::<ApprovalState>(4);
    check_enum::<SuspensionReason>(11);
    check_enum::<ProlongationReason>(6);
    check_enum::<AfState>(8);
    check_enum::<EmiState>(3);
    check_enum::<ExitCategory>(5);
    check_enum::<ExitMotive>(21);
    check_enum::<Sex>(2);
    check_enum::<RsaStatus>(3);
    check_enum::<EducationLevel>(11);
    check_enum::<UnemploymentDuration>(4);
    check_enum::<AgeBracket>(3);
}

#[test]
fn error_message_names_field_and_value() {
    let err = PrescriberKind::from_code("ft").expect_err("case matters");
    assert_eq!(
        err.to_string(),
        "unknown code \"ft\" for field `prescriber_kind`"
    );
    let err = serde_json::from_str::<StructureKind>("\"aci\"").expect_err("case matters");
    assert!(err.to_string().contains("`kind`"), "{err}");
}

#[test]
fn real_platform_codes_are_used() {
    assert_eq!(PrescriberKind::Orienteur.code(), "Orienteur");
    assert_eq!(PrescriberKind::Autre.code(), "Autre");
    assert_eq!(PrescriberKind::Ft.code(), "FT");
    assert!(PrescriberKind::from_code("PE").is_err());
    assert_eq!(ApprovalState::Suspended.code(), "SUSPENDED");
    assert_eq!(RsaStatus::OuiNonMajore.code(), "OUI-NM");
    assert_eq!(Sex::Male.code(), "M.");
    assert_eq!(EducationLevel::BepCapDiplome.code(), "51");
    assert_eq!(EligibilityLevel::Level1.code(), "1");
    assert_eq!(
        Origine::from_label("Prescripteur habilité"),
        Ok(Origine::PrescripteurHabilite)
    );
    assert_eq!(
        ExitCategory::from_label("Retrait des sorties constatées"),
        Ok(ExitCategory::RetraitSortiesConstatees)
    );
}

#[test]
fn structure_groups() {
    let iae: Vec<_> = StructureKind::ALL
        .iter()
        .copied()
        .filter(|k| k.group() == StructureGroup::Iae)
        .collect();
    assert_eq!(
        iae,
        [
            StructureKind::Aci,
            StructureKind::Ai,
            StructureKind::Ei,
            StructureKind::Etti,
            StructureKind::Eiti
        ]
    );
    for kind in StructureKind::ALL {
        assert_eq!(kind.is_siae(), kind.group() == StructureGroup::Iae);
    }
    assert_eq!(StructureKind::Geiq.group(), StructureGroup::HorsIae);
    assert_eq!(StructureGroup::HorsIae.label(), "Hors IAE");
}

#[test]
fn asp_measures_map_to_kinds_and_etp() {
    use AspMeasure::*;
    assert_eq!(AciDc.kind(), Some(StructureKind::Aci));
    assert_eq!(AciMp.kind(), Some(StructureKind::Aci));
    assert_eq!(AcipaDc.kind(), Some(StructureKind::Aci));
    assert_eq!(AiDc.kind(), Some(StructureKind::Ai));
    assert_eq!(EiDc.kind(), Some(StructureKind::Ei));
    assert_eq!(EiMp.kind(), Some(StructureKind::Ei));
    assert_eq!(EipaDc.kind(), Some(StructureKind::Ei));
    assert_eq!(EttiDc.kind(), Some(StructureKind::Etti));
    assert_eq!(EitiDc.kind(), Some(StructureKind::Eiti));
    assert_eq!(FdiDc.kind(), None);
    let not_in_etp: Vec<_> = AspMeasure::ALL
        .iter()
        .copied()
        .filter(|m| !m.counts_in_etp())
        .collect();
    assert_eq!(not_in_etp, [FdiDc]);
    for kind in StructureKind::ALL {
        let dc = AspMeasure::droit_commun(*kind);
        assert_eq!(dc.is_some(), kind.is_siae(), "{kind:?}");
        if let Some(m) = dc {
            assert_eq!(m.kind(), Some(*kind));
            assert!(m.code().ends_with("_DC"));
        }
    }
    assert!(AciMp.is_prison() && EiMp.is_prison() && !AciDc.is_prison());
}

#[test]
fn prescriber_groups_and_sensitivity() {
    use PrescriberKind::*;
    for kind in PrescriberKind::ALL {
        let expected = match kind {
            Ml | Ft | CapEmploi => PrescriberGroup::Spe,
            Dept | Odc => PrescriberGroup::Departement,
            Autre => PrescriberGroup::Autre,
            _ => PrescriberGroup::NouveauxPrescripteurs,
        };
        assert_eq!(kind.group(), expected, "{kind:?}");
    }
    assert_eq!(Orienteur.group(), PrescriberGroup::NouveauxPrescripteurs);
    let sensitive: BTreeSet<&str> = PrescriberKind::ALL
        .iter()
        .filter(|k| k.is_sensitive())
        .map(|k| k.code())
        .collect();
    let expected: BTreeSet<&str> = [
        "ASE",
        "CAARUD",
        "CIDFF",
        "CSAPA",
        "PENSION",
        "PJJ",
        "PREVENTION",
        "SPIP",
    ]
    .into();
    assert_eq!(sensitive, expected);
    assert_eq!(PrescriberGroup::Departement.label(), "Département");
    assert_eq!(
        PrescriberGroup::NouveauxPrescripteurs.label(),
        "Nouveaux prescripteurs"
    );
    assert_eq!(PrescriberGroup::Spe.label(), "SPE");
}

#[test]
fn application_states_and_paths() {
    use ApplicationState::*;
    let processed: Vec<_> = ApplicationState::ALL
        .iter()
        .copied()
        .filter(|s| s.is_processed())
        .collect();
    assert_eq!(processed, [Accepted, Refused, Cancelled, Obsolete]);
    let pending: Vec<_> = ApplicationState::ALL
        .iter()
        .copied()
        .filter(|s| s.is_pending())
        .collect();
    assert_eq!(pending, [New, Processing, Postponed]);
    assert!(!PriorToHire.is_pending() && !PriorToHire.is_processed());
    assert!(!Pool.is_pending() && !Pool.is_processed());

    let legacy: Vec<&str> = RefusalReason::ALL
        .iter()
        .filter(|r| r.is_legacy())
        .map(|r| r.code())
        .collect();
    assert_eq!(
        legacy,
        [
            "approval_expiration_too_close",
            "unavailable",
            "eligibility_doubt",
            "deactivation",
            "poorly_informed"
        ]
    );
    assert!(!RefusalReason::Auto.is_legacy());

    assert!(CreationPath::AiStock.excluded_from_flows());
    assert!(CreationPath::PeApproval.excluded_from_flows());
    assert!(!CreationPath::Default.excluded_from_flows());
    assert!(!CreationPath::Admin.excluded_from_flows());
    assert!(CreationPath::PeApproval.excluded_everywhere());
    assert!(!CreationPath::AiStock.excluded_everywhere());
    // Whatever is excluded everywhere is excluded from flows too.
    for p in CreationPath::ALL {
        assert!(!p.excluded_everywhere() || p.excluded_from_flows());
    }
}

#[test]
fn eligibility_criterion_levels() {
    let level1: Vec<&str> = EligibilityCriterion::ALL
        .iter()
        .filter(|c| c.level() == EligibilityLevel::Level1)
        .map(|c| c.code())
        .collect();
    assert_eq!(level1, ["RSA", "ASS", "AAH", "DETLD"]);
}

#[test]
fn eligibility_rule_edge_cases() {
    use EligibilityCriterion::*;
    let two_level2 = [Jeune, Qpv];
    let three_level2 = [Jeune, Qpv, Pm];
    for kind in [StructureKind::Ai, StructureKind::Etti] {
        assert!(is_eligible(kind, &two_level2), "{kind:?}");
        assert!(!is_eligible(kind, &[Jeune]), "{kind:?}");
    }
    for kind in [StructureKind::Aci, StructureKind::Ei, StructureKind::Eiti] {
        assert!(!is_eligible(kind, &two_level2), "{kind:?}");
        assert!(is_eligible(kind, &three_level2), "{kind:?}");
    }
    for kind in StructureKind::ALL.iter().copied().filter(|k| k.is_siae()) {
        assert!(is_eligible(kind, &[Rsa]), "{kind:?}");
        assert!(is_eligible(kind, &[Detld, Jeune]), "{kind:?}");
        assert!(!is_eligible(kind, &[]), "{kind:?}");
        // A criterion listed twice counts once.
        assert!(!is_eligible(kind, &[Jeune, Jeune, Jeune]), "{kind:?}");
    }
    assert!(!is_eligible(StructureKind::Aci, &[Jeune, Jeune, Qpv]));
    for kind in StructureKind::ALL.iter().copied().filter(|k| !k.is_siae()) {
        assert!(!is_eligible(kind, &[Rsa, Jeune, Qpv, Pm]), "{kind:?}");
        assert_eq!(level2_threshold(kind), None);
    }
}

#[test]
fn approvals() {
    assert_eq!(DEFAULT_APPROVAL_DAYS, 730);
    assert!(ApprovalState::Future.is_valid() && ApprovalState::Suspended.is_valid());
    assert!(!ApprovalState::Expired.is_valid());
    for code in [
        "CONTRACT_SUSPENDED",
        "CONTRACT_BROKEN",
        "FINISHED_CONTRACT",
        "APPROVAL_BETWEEN_CTA_MEMBERS",
        "CONTRAT_PASSERELLE",
    ] {
        let r = SuspensionReason::from_code(code).expect("current reason");
        assert!(!r.is_legacy(), "{code}");
    }
    for code in [
        "SENIOR_CDI",
        "COMPLETE_TRAINING",
        "RQTH",
        "SENIOR",
        "PARTICULAR_DIFFICULTIES",
    ] {
        let r = ProlongationReason::from_code(code).expect("current reason");
        assert!(!r.is_legacy(), "{code}");
    }
    assert!(ProlongationReason::HealthContext.is_legacy());
}

#[test]
fn convention_states() {
    let counting: Vec<&str> = AfState::ALL
        .iter()
        .filter(|s| s.counts())
        .map(|s| s.code())
        .collect();
    assert_eq!(counting, ["VALIDE", "PROVISOIRE", "CLOTURE"]);
    assert!(EmiState::Valide.is_validated() && EmiState::Debloque.is_validated());
    assert!(!EmiState::Saisi.is_validated());
    assert_eq!(DEFAULT_ANNUAL_FULL_TIME_HOURS, 1607.0);
}

#[test]
fn exit_categories() {
    use ExitCategory::*;
    let dynamic: Vec<_> = ExitCategory::ALL
        .iter()
        .copied()
        .filter(|c| c.is_dynamic())
        .collect();
    assert_eq!(dynamic, [EmploiDurable, EmploiTransition, SortiePositive]);
    assert!(AutreSortie.is_counted() && !AutreSortie.is_dynamic());
    assert!(!RetraitSortiesConstatees.is_counted());
    assert_eq!(EmploiDurable.label(), "Emploi durable");
    assert_eq!(EmploiTransition.label(), "Emploi de transition");
    assert_eq!(SortiePositive.label(), "Sorties positives");
    assert_eq!(AutreSortie.label(), "Autres sorties");
    assert_eq!(
        RetraitSortiesConstatees.label(),
        "Retrait des sorties constatées"
    );

    // Every category is reached by at least one motive.
    let reached: BTreeSet<_> = ExitMotive::ALL.iter().map(|m| m.category()).collect();
    assert_eq!(reached.len(), ExitCategory::ALL.len());

    assert_eq!(ExitMotive::Cdi.category(), EmploiDurable);
    assert_eq!(ExitMotive::Cdd6MoisEtPlus.category(), EmploiDurable);
    assert_eq!(ExitMotive::Interim6MoisEtPlus.category(), EmploiDurable);
    assert_eq!(ExitMotive::CreationEntreprise.category(), EmploiDurable);
    assert_eq!(ExitMotive::FonctionPublique.category(), EmploiDurable);
    assert_eq!(ExitMotive::CddMoins6Mois.category(), EmploiTransition);
    assert_eq!(ExitMotive::InterimMoins6Mois.category(), EmploiTransition);
    assert_eq!(ExitMotive::ContratAide.category(), EmploiTransition);
    assert_eq!(ExitMotive::FormationQualifiante.category(), SortiePositive);
    assert_eq!(ExitMotive::EmbaucheAutreSiae.category(), SortiePositive);
    assert_eq!(ExitMotive::Chomage.category(), AutreSortie);
    assert_eq!(ExitMotive::Deces.category(), RetraitSortiesConstatees);
}

#[test]
fn exit_examination_at_the_borders() {
    use StructureKind::*;
    for kind in [Aci, Ei] {
        assert!(
            !exit_is_examined(kind, 3.0, 10_000.0),
            "{kind:?} at 3 months"
        );
        assert!(
            exit_is_examined(kind, 3.01, 0.0),
            "{kind:?} just above 3 months"
        );
        assert!(
            !exit_is_examined(kind, 1.0, 10_000.0),
            "hours do not matter"
        );
        assert!(!exit_is_examined(kind, f64::NAN, 0.0));
    }
    for kind in [Ai, Etti] {
        assert!(exit_is_examined(kind, 0.0, 150.0), "{kind:?} at 150 h");
        assert!(!exit_is_examined(kind, 0.0, 149.99), "{kind:?} below 150 h");
        assert!(!exit_is_examined(kind, 24.0, 10.0), "months do not matter");
        assert!(!exit_is_examined(kind, 0.0, f64::NAN));
    }
    assert!(exit_is_examined(Eiti, 0.0, 0.0));
    for kind in [Geiq, Ea, Eatt, Opcs] {
        assert!(!exit_is_examined(kind, 100.0, 100_000.0), "{kind:?}");
    }
}

#[test]
fn person_characteristics() {
    assert!(RsaStatus::OuiMajore.is_recipient() && RsaStatus::OuiNonMajore.is_recipient());
    assert!(!RsaStatus::Non.is_recipient());

    let cap_bep_or_below: Vec<&str> = EducationLevel::ALL
        .iter()
        .filter(|e| e.is_cap_bep_or_below())
        .map(|e| e.code())
        .collect();
    assert_eq!(cap_bep_or_below, ["00", "01", "50", "51", "60", "70"]);

    use UnemploymentDuration::*;
    assert_eq!(UnemploymentDuration::from_months(0), Moins6Mois);
    assert_eq!(UnemploymentDuration::from_months(5), Moins6Mois);
    assert_eq!(UnemploymentDuration::from_months(6), De6A11Mois);
    assert_eq!(UnemploymentDuration::from_months(11), De6A11Mois);
    assert_eq!(UnemploymentDuration::from_months(12), De12A23Mois);
    assert_eq!(UnemploymentDuration::from_months(23), De12A23Mois);
    assert_eq!(UnemploymentDuration::from_months(24), PlusDe24Mois);
    let deld: Vec<_> = UnemploymentDuration::ALL
        .iter()
        .copied()
        .filter(|d| d.is_deld())
        .collect();
    assert_eq!(deld, [De12A23Mois]);
    let detld: Vec<_> = UnemploymentDuration::ALL
        .iter()
        .copied()
        .filter(|d| d.is_detld())
        .collect();
    assert_eq!(detld, [PlusDe24Mois]);
}

#[test]
fn age_brackets_at_the_borders() {
    use AgeBracket::*;
    assert_eq!(AgeBracket::from_age(25), Moins26);
    assert_eq!(AgeBracket::from_age(26), De26A49);
    assert_eq!(AgeBracket::from_age(49), De26A49);
    assert_eq!(AgeBracket::from_age(50), Plus50);
    assert_eq!(AgeBracket::from_age(-3), Moins26);
    assert_eq!(AgeBracket::from_age(i32::MAX), Plus50);
    // Age is the difference of years, whatever the birth date within the year.
    assert_eq!(AgeBracket::from_birth_year(2024, 1999), Moins26);
    assert_eq!(AgeBracket::from_birth_year(2024, 1998), De26A49);
    assert_eq!(AgeBracket::from_birth_year(2024, 1975), De26A49);
    assert_eq!(AgeBracket::from_birth_year(2024, 1974), Plus50);
    assert_eq!(AgeBracket::from_birth_year(i32::MIN, i32::MAX), Moins26);
}
