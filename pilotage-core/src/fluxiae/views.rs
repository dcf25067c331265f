//! The mapping of each fluxIAE view onto its canonical source table.
//!
//! Column names are those of the ASP extraction as the public data pipeline of "Les emplois de
//! l'inclusion" reads them, where known. A few canonical columns have no raw column in the
//! views; they carry a name documented in `docs/fluxiae.md` (marked "pilotage" there), and a
//! real extraction lacking them is rejected with a missing-column error rather than read wrong.

use crate::source::SourceTable;

use super::layout::{ColumnSource, View, ViewLayout};

/// How one canonical column is obtained from a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    /// The fluxIAE column of that name.
    Column(&'static str),
    /// The year of the named canonical date column (not written).
    YearOf(&'static str),
    /// Numbered from 1 in file order (not written).
    RowNumber,
}

use Mapping::{Column, RowNumber, YearOf};

/// `(canonical column, mapping)` pairs of a view, in canonical column order.
pub fn mapping(view: View) -> &'static [(&'static str, Mapping)] {
    match view {
        View::AnnexeFinanciere => &[
            ("id", Column("af_id_annexe_financiere")),
            ("number", Column("af_numero_annexe_financiere")),
            ("convention_number", Column("af_numero_convention")),
            ("structure_asp_id", Column("af_id_structure")),
            ("measure", Column("af_mesure_dispositif_code")),
            ("state", Column("af_etat_annexe_financiere_code")),
            ("start_date", Column("af_date_debut_effet")),
            ("end_date", Column("af_date_fin_effet")),
            ("year", YearOf("start_date")),
            ("departement", Column("num_dep_af")),
            (
                "etp_conventionnes_mensuels",
                Column("af_etp_postes_insertion"),
            ),
            ("montant_total", Column("af_montant_total_annuel")),
            ("montant_cofinance_departement", Column("af_mt_cofinance")),
            (
                "montant_unitaire_annuel",
                Column("af_montant_unitaire_annuel_valeur"),
            ),
            ("heures_annuelles_etp", Column("af_duree_heure_annuel_etp")),
        ],
        View::Salarie => &[
            ("id", Column("salarie_id")),
            ("hash_nir", Column("hash_nir")),
            ("sex", Column("salarie_rci_libelle")),
            ("birth_year", Column("salarie_annee_naissance")),
            ("commune", Column("salarie_codeinseecom")),
            ("departement", Column("salarie_code_dpt")),
        ],
        View::ContratMission => &[
            ("id", Column("contrat_id_ctr")),
            ("salarie_id", Column("contrat_id_pph")),
            ("structure_asp_id", Column("contrat_id_structure")),
            ("measure", Column("contrat_mesure_disp_code")),
            ("parent_contrat_id", Column("contrat_parent_id")),
            ("start_date", Column("contrat_date_embauche")),
            ("end_date", Column("contrat_date_fin_contrat")),
            ("exit_date", Column("contrat_date_sortie_definitive")),
            ("exit_motive", Column("contrat_motif_sortie_code")),
            ("rsa", Column("contrat_salarie_rsa")),
            ("ass", Column("contrat_salarie_ass")),
            ("aah", Column("contrat_salarie_aah")),
            ("rqth", Column("contrat_salarie_rqth")),
            ("qpv", Column("contrat_salarie_is_qpv")),
            ("zrr", Column("contrat_salarie_is_zrr")),
            (
                "education_level",
                Column("contrat_niveau_de_formation_code"),
            ),
            (
                "unemployment_duration",
                Column("contrat_duree_inscription_ft_code"),
            ),
        ],
        View::EtatMensuelIndiv => &[
            ("id", RowNumber),
            ("salarie_id", Column("emi_pph_id")),
            ("af_id", Column("emi_afi_id")),
            ("contrat_id", Column("emi_ctr_id")),
            ("year", Column("emi_sme_annee")),
            ("month", Column("emi_sme_mois")),
            ("hours_worked", Column("emi_nb_heures_travail")),
            ("state", Column("emi_esm_etat_code")),
        ],
        View::Structure => &[
            ("id", Column("structure_id_emplois")),
            ("asp_id", Column("structure_id_siae")),
            ("siret", Column("structure_siret_actualise")),
            ("kind", Column("structure_type_emplois")),
            ("source", Column("structure_source_emplois")),
            ("parent_id", Column("structure_id_parent_emplois")),
            ("name", Column("structure_denomination")),
            ("commune", Column("structure_adresse_admin_code_insee")),
            ("departement", Column("structure_code_dpt")),
            ("region", Column("structure_code_region")),
            ("created_at", Column("structure_date_creation")),
        ],
        View::RefMotifSort => &[
            ("code", Column("rms_code")),
            ("label", Column("rms_libelle")),
            ("category", Column("rcs_code")),
        ],
    }
}

impl View {
    /// The canonical table this view is read into.
    pub fn table(self) -> SourceTable {
        match self {
            View::AnnexeFinanciere => SourceTable::AnnexesFinancieres,
            View::Salarie => SourceTable::Salaries,
            View::ContratMission => SourceTable::Contrats,
            View::EtatMensuelIndiv => SourceTable::EtatsMensuels,
            View::Structure => SourceTable::Structures,
            View::RefMotifSort => SourceTable::MotifsSortie,
        }
    }

    /// The view a canonical table is written as, if any.
    pub fn of_table(table: SourceTable) -> Option<View> {
        View::ALL.iter().copied().find(|v| v.table() == table)
    }

    /// The layout of this view over its canonical table's schema ([`SourceTable::schema`]).
    /// Canonical columns missing from [`mapping`] are read as null (they must be nullable).
    pub fn layout(self) -> ViewLayout {
        let table = self.table();
        let schema = table.schema();
        let pairs = mapping(self);
        let sources = schema
            .fields()
            .iter()
            .map(
                |field| match pairs.iter().find(|(c, _)| c == field.name()) {
                    Some((_, Column(name))) => ColumnSource::Flux((*name).to_owned()),
                    Some((_, YearOf(date))) => match schema.index_of(date) {
                        Ok(index) => ColumnSource::YearOf(index),
                        Err(_) => ColumnSource::Absent,
                    },
                    Some((_, RowNumber)) => ColumnSource::RowNumber,
                    None => ColumnSource::Absent,
                },
            )
            .collect();
        ViewLayout {
            view: self,
            table: table.name().to_owned(),
            schema,
            sources,
        }
    }
}
