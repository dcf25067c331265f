//! The lines of each report (the figure map of `docs/reports.md`) and the builders that
//! compute them for a perimeter and a period.

use std::collections::BTreeSet;

use super::{Cells, Line, Measures, Period, ReportBody};
use crate::private::PrivateSet;

/// The reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// A structure's yearly activity report (dialogue de gestion).
    Structure,
    /// The Département's follow-up of RSA recipients.
    DepartementRsa,
    /// The DDETS's territorial overview (CDIAE).
    Territoire,
}

impl Report {
    /// Every report.
    pub const ALL: [Report; 3] = [
        Report::Structure,
        Report::DepartementRsa,
        Report::Territoire,
    ];

    /// Its id in the route (`structure`, `departement-rsa`, `territoire`).
    pub fn id(self) -> &'static str {
        match self {
            Report::Structure => "structure",
            Report::DepartementRsa => "departement-rsa",
            Report::Territoire => "territoire",
        }
    }

    /// The report with this id.
    pub fn from_id(id: &str) -> Option<Report> {
        Report::ALL.into_iter().find(|r| r.id() == id)
    }

    /// Its title (French).
    pub fn title(self) -> &'static str {
        match self {
            Report::Structure => "Rapport d'activité de la structure (dialogue de gestion)",
            Report::DepartementRsa => "Suivi des allocataires du RSA en IAE (Département)",
            Report::Territoire => "Vue d'ensemble territoriale de l'IAE (CDIAE)",
        }
    }

    /// The query parameter naming the perimeter (`structure` or `departement`).
    pub fn perimeter_param(self) -> &'static str {
        match self {
            Report::Structure => "structure",
            Report::DepartementRsa | Report::Territoire => "departement",
        }
    }
}

/// One line of a report: a measure of a dataset under a filter.
#[derive(Debug, Clone, Copy)]
pub struct Figure {
    /// Section heading (French).
    pub section: &'static str,
    /// Label (French).
    pub label: &'static str,
    /// Dataset id.
    pub dataset: &'static str,
    /// Measure id.
    pub measure: &'static str,
    /// Filter on other dimensions (dimension id, code); others at their total.
    pub filter: &'static [(&'static str, &'static str)],
}

const fn f(
    section: &'static str,
    label: &'static str,
    dataset: &'static str,
    measure: &'static str,
    filter: &'static [(&'static str, &'static str)],
) -> Figure {
    Figure {
        section,
        label,
        dataset,
        measure,
        filter,
    }
}

const ETP: &str = "ETP conventionnés et réalisés";
const BEN: &str = "Bénéficiaires (personnes distinctes) et profil";
const PARC: &str = "Embauches, parcours et sorties";
const CAND: &str = "Candidatures";
const ORIG: &str = "Origine des candidats (prescripteurs)";
const PASS: &str = "PASS IAE";
const OFFRE: &str = "Offre d'insertion";

/// The lines of the `structure` report (and of each structure in `territoire`'s detail).
#[rustfmt::skip]
pub const STRUCTURE: &[Figure] = &[
    f(ETP, "ETP conventionnés", "etp", "etp_conventionnes", &[]),
    f(ETP, "ETP conventionnés, part État", "etp", "etp_conventionnes_etat", &[]),
    f(ETP, "ETP conventionnés, part Département", "etp", "etp_conventionnes_departement", &[]),
    f(ETP, "ETP réalisés", "etp", "etp_realises", &[]),
    f(ETP, "Taux de réalisation", "etp", "taux_realisation", &[]),
    f(ETP, "Écart réalisé − conventionné", "etp", "ecart", &[]),
    f(BEN, "Bénéficiaires", "beneficiaires", "beneficiaires", &[]),
    f(BEN, "dont femmes", "beneficiaires", "beneficiaires", &[("sexe", "MME")]),
    f(BEN, "dont hommes", "beneficiaires", "beneficiaires", &[("sexe", "M.")]),
    f(BEN, "dont moins de 26 ans", "beneficiaires", "beneficiaires", &[("tranche_age", "MOINS_26")]),
    f(BEN, "dont 26 à 49 ans", "beneficiaires", "beneficiaires", &[("tranche_age", "DE_26_A_49")]),
    f(BEN, "dont 50 ans et plus", "beneficiaires", "beneficiaires", &[("tranche_age", "50_ET_PLUS")]),
    f(BEN, "dont allocataires du RSA", "beneficiaires", "beneficiaires", &[("rsa", "RSA_OUI")]),
    f(BEN, "dont ASS", "beneficiaires", "beneficiaires", &[("ass", "OUI")]),
    f(BEN, "dont AAH", "beneficiaires", "beneficiaires", &[("aah", "OUI")]),
    f(BEN, "dont RQTH", "beneficiaires", "beneficiaires", &[("rqth", "OUI")]),
    f(BEN, "dont résidant en QPV", "beneficiaires", "beneficiaires", &[("qpv", "OUI")]),
    f(BEN, "dont résidant en ZRR", "beneficiaires", "beneficiaires", &[("zrr", "OUI")]),
    f(BEN, "dont inscrits à France Travail depuis moins de 6 mois", "beneficiaires", "beneficiaires", &[("duree_chomage", "LESS_THAN_6_MONTHS")]),
    f(BEN, "dont inscrits depuis 6 à 11 mois", "beneficiaires", "beneficiaires", &[("duree_chomage", "FROM_6_TO_11_MONTHS")]),
    f(BEN, "dont inscrits depuis 12 à 23 mois (DELD)", "beneficiaires", "beneficiaires", &[("duree_chomage", "FROM_12_TO_23_MONTHS")]),
    f(BEN, "dont inscrits depuis 24 mois et plus (DETLD)", "beneficiaires", "beneficiaires", &[("duree_chomage", "MORE_THAN_24_MONTHS")]),
    f(BEN, "dont niveau CAP-BEP ou infra", "beneficiaires", "beneficiaires", &[("niveau_formation", "CAP_BEP_OU_INFRA")]),
    f(BEN, "dont niveau bac ou plus", "beneficiaires", "beneficiaires", &[("niveau_formation", "BAC_OU_PLUS")]),
    f(BEN, "Heures travaillées", "beneficiaires", "heures", &[]),
    f(PARC, "Embauches", "sorties", "embauches", &[]),
    f(PARC, "Durée médiane des parcours", "sorties", "duree_parcours_mediane", &[]),
    f(PARC, "Sorties", "sorties", "sorties", &[]),
    f(PARC, "Sorties examinées", "sorties", "sorties_examinees", &[]),
    f(PARC, "Sorties vers l'emploi durable", "sorties", "sorties_emploi_durable", &[]),
    f(PARC, "Sorties vers l'emploi de transition", "sorties", "sorties_emploi_transition", &[]),
    f(PARC, "Sorties positives", "sorties", "sorties_positives", &[]),
    f(PARC, "Autres sorties", "sorties", "autres_sorties", &[]),
    f(PARC, "Taux de sorties durables", "sorties", "taux_sorties_durables", &[]),
    f(PARC, "Taux de sorties de transition", "sorties", "taux_sorties_transition", &[]),
    f(PARC, "Taux de sorties positives", "sorties", "taux_sorties_positives", &[]),
    f(PARC, "Taux de sorties dynamiques", "sorties", "taux_sorties_dynamiques", &[]),
    f(CAND, "Candidatures reçues", "candidatures", "recues", &[]),
    f(CAND, "Candidatures acceptées", "candidatures", "acceptees", &[]),
    f(CAND, "Candidatures refusées", "candidatures", "refusees", &[]),
    f(CAND, "dont refus automatiques", "candidatures", "refus_automatiques", &[]),
    f(CAND, "Candidatures en attente (fin de période)", "candidatures", "en_attente", &[]),
    f(CAND, "Taux d'acceptation", "candidatures", "taux_acceptation", &[]),
    f(CAND, "Refus: candidat non venu", "candidatures_refus", "refusees", &[("motif_refus", "did_not_come")]),
    f(CAND, "Refus: non venu à l'entretien", "candidatures_refus", "refusees", &[("motif_refus", "did_not_come_to_interview")]),
    f(CAND, "Refus: embauché ailleurs", "candidatures_refus", "refusees", &[("motif_refus", "hired_elsewhere")]),
    f(CAND, "Refus: non éligible", "candidatures_refus", "refusees", &[("motif_refus", "non_eligible")]),
    f(CAND, "Refus: pas de poste", "candidatures_refus", "refusees", &[("motif_refus", "no_position")]),
    f(CAND, "Refus: compétences insuffisantes", "candidatures_refus", "refusees", &[("motif_refus", "lacking_skills")]),
    f(CAND, "Refus: automatique", "candidatures_refus", "refusees", &[("motif_refus", "auto")]),
    f(CAND, "Refus: autre motif", "candidatures_refus", "refusees", &[("motif_refus", "other")]),
    f(CAND, "Réponses en 30 jours ou moins", "candidatures_delais", "reponses", &[("tranche_delai", "JUSQU_30")]),
    f(CAND, "Réponses en 31 à 45 jours", "candidatures_delais", "reponses", &[("tranche_delai", "31_45")]),
    f(CAND, "Réponses en 46 à 60 jours", "candidatures_delais", "reponses", &[("tranche_delai", "46_60")]),
    f(CAND, "Réponses en plus de 60 jours", "candidatures_delais", "reponses", &[("tranche_delai", "61_90")]),
    f(CAND, "Délai médian de réponse", "candidatures_delais", "delai_reponse_median", &[]),
    f(ORIG, "Candidatures du service public de l'emploi", "candidatures", "recues", &[("groupe_prescripteur", "SPE")]),
    f(ORIG, "Candidatures orientées par le Département", "candidatures", "recues", &[("groupe_prescripteur", "DEPARTEMENT")]),
    f(ORIG, "Candidatures des nouveaux prescripteurs", "candidatures", "recues", &[("groupe_prescripteur", "NOUVEAUX_PRESCRIPTEURS")]),
    f(ORIG, "Candidatures d'autres prescripteurs", "candidatures", "recues", &[("groupe_prescripteur", "AUTRE")]),
    f(ORIG, "Candidatures sans prescripteur", "candidatures", "recues", &[("groupe_prescripteur", "SANS_PRESCRIPTEUR")]),
    f(PASS, "PASS IAE délivrés", "pass_iae", "delivres", &[]),
    f(PASS, "PASS IAE valides (fin de période)", "pass_iae", "valides", &[]),
    f(PASS, "PASS IAE expirant bientôt (fin de période)", "pass_iae", "expirant_bientot", &[]),
    f(PASS, "PASS IAE suspendus (fin de période)", "pass_iae", "suspendus", &[]),
    f(OFFRE, "Fiches de poste ouvertes (fin de période)", "offre", "fiches_ouvertes", &[]),
    f(OFFRE, "Fiches de poste en tension (fin de période)", "offre", "fiches_en_tension", &[]),
];

const RSA: &str = "Allocataires du RSA";

/// The lines of the `departement-rsa` report, for the département and each of its structures.
#[rustfmt::skip]
pub const DEPARTEMENT_RSA: &[Figure] = &[
    f(RSA, "Bénéficiaires allocataires du RSA", "beneficiaires", "beneficiaires", &[("rsa", "RSA_OUI")]),
    f(RSA, "dont RSA majoré", "beneficiaires", "beneficiaires", &[("rsa", "OUI-M")]),
    f(RSA, "dont RSA non majoré", "beneficiaires", "beneficiaires", &[("rsa", "OUI-NM")]),
    f(RSA, "Bénéficiaires, tous", "beneficiaires", "beneficiaires", &[]),
    f(ETP, "ETP conventionnés, part Département", "etp", "etp_conventionnes_departement", &[]),
    f(ETP, "ETP conventionnés", "etp", "etp_conventionnes", &[]),
    f(ETP, "ETP réalisés (tous salariés)", "etp", "etp_realises", &[]),
    f(CAND, "Candidatures orientées par le Département", "candidatures", "recues", &[("groupe_prescripteur", "DEPARTEMENT")]),
    f(PARC, "Embauches (tous salariés)", "sorties", "embauches", &[]),
    f(PARC, "Sorties (tous salariés)", "sorties", "sorties", &[]),
    f(PARC, "Taux de sorties dynamiques (tous salariés)", "sorties", "taux_sorties_dynamiques", &[]),
];

/// The lines given per structure in the `territoire` report.
#[rustfmt::skip]
pub const TERRITOIRE_STRUCTURE: &[Figure] = &[
    f(ETP, "ETP conventionnés", "etp", "etp_conventionnes", &[]),
    f(ETP, "ETP réalisés", "etp", "etp_realises", &[]),
    f(ETP, "Taux de réalisation", "etp", "taux_realisation", &[]),
    f(BEN, "Bénéficiaires", "beneficiaires", "beneficiaires", &[]),
    f(BEN, "dont femmes", "beneficiaires", "beneficiaires", &[("sexe", "MME")]),
    f(BEN, "dont allocataires du RSA", "beneficiaires", "beneficiaires", &[("rsa", "RSA_OUI")]),
    f(BEN, "dont 50 ans et plus", "beneficiaires", "beneficiaires", &[("tranche_age", "50_ET_PLUS")]),
    f(PARC, "Taux de sorties durables", "sorties", "taux_sorties_durables", &[]),
    f(PARC, "Taux de sorties dynamiques", "sorties", "taux_sorties_dynamiques", &[]),
    f(CAND, "Candidatures en attente (fin de période)", "candidatures", "en_attente", &[]),
    f(OFFRE, "Fiches de poste en tension (fin de période)", "offre", "fiches_en_tension", &[]),
    f(PASS, "PASS IAE délivrés", "pass_iae", "delivres", &[]),
];

/// The lines compared between the département, its région and France in `territoire`.
#[rustfmt::skip]
pub const TERRITOIRE_COMPARE: &[Figure] = &[
    f(ETP, "ETP conventionnés", "etp", "etp_conventionnes", &[]),
    f(ETP, "ETP réalisés", "etp", "etp_realises", &[]),
    f(ETP, "Taux de réalisation", "etp", "taux_realisation", &[]),
    f(BEN, "Bénéficiaires", "beneficiaires", "beneficiaires", &[]),
    f(PARC, "Taux de sorties dynamiques", "sorties", "taux_sorties_dynamiques", &[]),
    f(CAND, "Candidatures reçues", "candidatures", "recues", &[]),
    f(CAND, "Candidatures en attente (fin de période)", "candidatures", "en_attente", &[]),
    f(OFFRE, "Fiches de poste en tension (fin de période)", "offre", "fiches_en_tension", &[]),
    f(PASS, "PASS IAE délivrés", "pass_iae", "delivres", &[]),
];

fn filter_text(filter: &[(&str, &str)]) -> String {
    filter
        .iter()
        .map(|(d, c)| format!("{d}={c}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Whose territory codes a block of lines sums.
enum Codes {
    /// A structure's codes in each table (one per attachment département).
    Structure(i64),
    /// One territory code in every table (`DEP-75`, `REG-11`, `FR`).
    Territory(String),
}

/// One block of a report: figures computed for one territory, from the professional tables
/// (`private`) or from the public release (`public`).
struct Block<'a> {
    /// The tables read.
    set: &'a PrivateSet,
    /// Where the values come from: `private` or `public`.
    source: &'static str,
    /// The figures, in order.
    figures: &'static [Figure],
    /// Whose codes.
    codes: Codes,
    /// Whose figures, as the line says it (`structure 123 (ACI)`, `département 75`).
    name: String,
    /// Prefix of the line ids (`structure:123:`), empty for none.
    key: String,
    /// Prefix of the section headings (`Par structure — `), empty for none.
    section: &'static str,
}

impl Block<'_> {
    /// A structure's block of the professional tables.
    fn structure<'a>(set: &'a PrivateSet, figures: &'static [Figure], id: i64) -> Block<'a> {
        Block {
            set,
            source: "private",
            figures,
            codes: Codes::Structure(id),
            name: format!("structure {id}"),
            key: String::new(),
            section: "",
        }
    }

    /// The same block as one of the structures detailed in a département report.
    fn detail(mut self, id: i64) -> Self {
        self.key = format!("structure:{id}:");
        self.section = "Par structure — ";
        self
    }

    /// A territory's block (`DEP-75`, `REG-11`, `FR`).
    fn territory<'a>(
        set: &'a PrivateSet,
        source: &'static str,
        figures: &'static [Figure],
        code: String,
        name: String,
        key: &str,
    ) -> Block<'a> {
        Block {
            set,
            source,
            figures,
            codes: Codes::Territory(code),
            name,
            key: key.to_owned(),
            section: "",
        }
    }

    /// Appends the block's lines to `out`.
    fn push(&self, out: &mut Vec<Line>, measures: &Measures, period: Period) {
        let periode = period.label();
        for fig in self.figures {
            let v = self.set.table(fig.dataset).and_then(|table| {
                let owned: Vec<&str> = match &self.codes {
                    Codes::Structure(id) => table
                        .structure_codes(*id)
                        .into_iter()
                        .map(|(c, _)| c)
                        .collect(),
                    Codes::Territory(code) => vec![code.as_str()],
                };
                // A territory with no row in this table: its counts are 0.
                let codes: &[&str] = if owned.is_empty() {
                    &["STR-none"]
                } else {
                    &owned
                };
                Cells {
                    measures,
                    table,
                    dataset: fig.dataset,
                    codes,
                    period,
                    filter: fig.filter,
                }
                .value(fig.measure)
            });
            let filter = filter_text(fig.filter);
            let measure = format!("{}.{}", fig.dataset, fig.measure);
            let id = if filter.is_empty() {
                format!("{}{measure}", self.key)
            } else {
                format!("{}{measure}[{filter}]", self.key)
            };
            out.push(Line {
                section: format!("{}{}", self.section, fig.section),
                id,
                label: fig.label.to_owned(),
                periode: periode.clone(),
                territoire: self.name.clone(),
                value: v,
                unit: measures.unit(fig.dataset, fig.measure),
                source: self.source,
                measure,
                filter,
            });
        }
    }
}

/// The lines of `blocks`, in order.
fn lines_of(measures: &Measures, period: Period, blocks: &[Block<'_>]) -> Vec<Line> {
    let mut lines = Vec::new();
    for block in blocks {
        block.push(&mut lines, measures, period);
    }
    lines
}

/// The structure's report.
pub fn structure(measures: &Measures, set: &PrivateSet, id: i64, period: Period) -> ReportBody {
    let mut lines = lines_of(measures, period, &[Block::structure(set, STRUCTURE, id)]);
    // ETP month by month, up to the month asked.
    let etp = set.table("etp");
    let codes: Vec<&str> = etp
        .map(|t| t.structure_codes(id).into_iter().map(|(c, _)| c).collect())
        .unwrap_or_default();
    for m in 1..=period.month {
        let periode = format!("{}-{m:02}", period.year);
        for (measure, label) in [
            ("etp_conventionnes", "ETP conventionnés du mois"),
            ("etp_realises", "ETP réalisés du mois"),
        ] {
            let v = etp.and_then(|t| {
                let mut total: Option<f64> = None;
                for c in &codes {
                    if let Some(x) = t.value(&[("territoire", c), ("periode", &periode)], measure) {
                        *total.get_or_insert(0.0) += x;
                    }
                }
                total.map(|x| super::round(x, 2))
            });
            lines.push(Line {
                section: "ETP par mois".to_owned(),
                id: format!("etp.{measure}@{periode}"),
                label: label.to_owned(),
                periode: periode.clone(),
                territoire: format!("structure {id}"),
                value: v,
                unit: "ETP".to_owned(),
                source: "private",
                measure: format!("etp.{measure}"),
                filter: String::new(),
            });
        }
    }
    body(
        Report::Structure,
        set,
        format!("structure={id}"),
        period,
        lines,
    )
}

/// The Département's RSA follow-up: the département, then each of its structures.
pub fn departement_rsa(
    measures: &Measures,
    set: &PrivateSet,
    dep: &str,
    period: Period,
) -> ReportBody {
    let mut blocks = vec![Block::territory(
        set,
        "private",
        DEPARTEMENT_RSA,
        format!("DEP-{dep}"),
        format!("département {dep}"),
        "",
    )];
    blocks.extend(
        structures_of(set, dep)
            .into_iter()
            .map(|id| Block::structure(set, DEPARTEMENT_RSA, id).detail(id)),
    );
    body(
        Report::DepartementRsa,
        set,
        format!("departement={dep}"),
        period,
        lines_of(measures, period, &blocks),
    )
}

/// The DDETS's overview: the département's structures, then the département against its
/// région and France (public figures).
pub fn territoire(
    measures: &Measures,
    set: &PrivateSet,
    public: Option<&PrivateSet>,
    dep: &str,
    period: Period,
) -> ReportBody {
    let mut blocks: Vec<Block<'_>> = structures_of(set, dep)
        .into_iter()
        .map(|id| {
            let mut block = Block::structure(set, TERRITOIRE_STRUCTURE, id).detail(id);
            if let Some(kind) = structure_kind(set, id, period) {
                block.name = format!("structure {id} ({kind})");
            }
            block
        })
        .collect();
    blocks.push(Block::territory(
        set,
        "private",
        TERRITOIRE_COMPARE,
        format!("DEP-{dep}"),
        format!("département {dep}"),
        "departement:",
    ));
    if let Some(public) = public {
        let region = pilotage_core::territory::Referential::official()
            .departement(dep)
            .map(|d| d.region.clone())
            .unwrap_or_default();
        for (code, name, key) in [
            (
                format!("DEP-{dep}"),
                format!("département {dep} (public)"),
                "public:departement:",
            ),
            (
                format!("REG-{region}"),
                format!("région {region} (public)"),
                "public:region:",
            ),
            (
                "FR".to_owned(),
                "France (public)".to_owned(),
                "public:france:",
            ),
        ] {
            blocks.push(Block::territory(
                public,
                "public",
                TERRITOIRE_COMPARE,
                code,
                name,
                key,
            ));
        }
    }
    body(
        Report::Territoire,
        set,
        format!("departement={dep}"),
        period,
        lines_of(measures, period, &blocks),
    )
}

fn body(
    report: Report,
    set: &PrivateSet,
    perimeter: String,
    period: Period,
    lines: Vec<Line>,
) -> ReportBody {
    ReportBody {
        report: report.id().to_owned(),
        title: report.title().to_owned(),
        release: set.version.clone(),
        perimeter,
        year: period.year,
        month: period.month,
        lines,
    }
}

/// The structures attached to département `dep` in any table, by id.
pub fn structures_of(set: &PrivateSet, dep: &str) -> Vec<i64> {
    let mut ids = BTreeSet::new();
    for t in set.tables.values() {
        ids.extend(t.structures_in(dep).into_iter().map(|(id, _)| id));
    }
    ids.into_iter().collect()
}

/// The structure's kind, read from the tables that cross structures by kind.
fn structure_kind(set: &PrivateSet, id: i64, period: Period) -> Option<String> {
    let year = period.year.to_string();
    for dataset in ["etp", "sorties", "candidatures"] {
        let Some(t) = set.table(dataset) else {
            continue;
        };
        for (code, _) in t.structure_codes(id) {
            for kind in [
                "ACI", "AI", "EI", "ETTI", "EITI", "GEIQ", "EA", "EATT", "OPCS",
            ] {
                if t.has_cell(&[
                    ("territoire", code),
                    ("periode", &year),
                    ("type_structure", kind),
                ]) {
                    return Some(kind.to_owned());
                }
            }
        }
    }
    None
}

/// The figure map of `docs/reports.md`, as Markdown tables: for each report, each line with
/// its dataset, measure and filter. A test keeps the documentation equal to it.
pub fn figure_map_markdown() -> String {
    let mut out = String::new();
    let table = |out: &mut String, title: &str, figures: &[Figure]| {
        out.push_str(&format!(
            "\n#### {title}\n\n| section | ligne | jeu de données | mesure | filtre |\n|---|---|---|---|---|\n"
        ));
        for fig in figures {
            let filter = filter_text(fig.filter);
            out.push_str(&format!(
                "| {} | {} | `{}` | `{}` | {} |\n",
                fig.section,
                fig.label,
                fig.dataset,
                fig.measure,
                if filter.is_empty() {
                    "—".to_owned()
                } else {
                    format!("`{filter}`")
                }
            ));
        }
    };
    table(
        &mut out,
        "`structure` (the structure's lines, then `etp.etp_conventionnes` and `etp.etp_realises` of each month)",
        STRUCTURE,
    );
    table(
        &mut out,
        "`departement-rsa` (for the département, then for each of its structures)",
        DEPARTEMENT_RSA,
    );
    table(
        &mut out,
        "`territoire`, per structure",
        TERRITOIRE_STRUCTURE,
    );
    table(
        &mut out,
        "`territoire`, the département (professional tables) against the département, its région and France (public release)",
        TERRITOIRE_COMPARE,
    );
    out
}

#[cfg(test)]
mod tests {
    /// `docs/reports.md` holds the figure map the code computes, between its markers.
    /// `PILOTAGE_BLESS=1` rewrites it.
    #[test]
    fn the_documentation_lists_every_figure() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/reports.md");
        let text = std::fs::read_to_string(&path).expect("docs/reports.md");
        let (begin, end) = ("<!-- figure map: begin -->\n", "<!-- figure map: end -->");
        let start = text.find(begin).expect("begin marker") + begin.len();
        let stop = text.find(end).expect("end marker");
        let fresh = super::figure_map_markdown();
        if text[start..stop] != fresh {
            if std::env::var_os("PILOTAGE_BLESS").is_some() {
                let mut new = text[..start].to_owned();
                new.push_str(&fresh);
                new.push_str(&text[stop..]);
                std::fs::write(&path, new).expect("write docs/reports.md");
            } else {
                panic!(
                    "docs/reports.md is out of date: run `PILOTAGE_BLESS=1 cargo test -p pilotage-api --lib figures`"
                );
            }
        }
    }
}
