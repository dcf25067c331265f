// Generated from pilotage_core::source by pilotage_api::storage::ddl: do not edit.
// Regenerate with `PILOTAGE_BLESS=1 cargo test -p pilotage-api --test storage schema`.
//! The diesel schema of the store (both backends), generated from the source specifications.

diesel::table! {
    /// One row per successful ingestion run.
    ingestion_runs (id) {
        id -> BigInt,
        started_at -> Text,
        finished_at -> Text,
        user_name -> Text,
        host_name -> Text,
        source_vintage -> Date,
        status -> Text,
        row_count -> BigInt,
        duplicates_dropped -> BigInt,
        warning_count -> BigInt,
    }
}

diesel::table! {
    /// The files each run read.
    ingestion_files (run_id, table_name) {
        run_id -> BigInt,
        table_name -> Text,
        path -> Text,
        format -> Text,
        sha256 -> Text,
        bytes -> BigInt,
        row_count -> BigInt,
        duplicates_dropped -> BigInt,
    }
}

diesel::table! {
    /// The extractions held for each source table.
    source_vintages (table_name, vintage) {
        table_name -> Text,
        vintage -> Date,
        run_id -> BigInt,
        row_count -> BigInt,
    }
}

diesel::table! {
    /// The private disclosure certificate of each published release (never served).
    disclosure_certificates (release_version) {
        release_version -> Text,
        sha256 -> Text,
        created_at -> Text,
        body -> Binary,
    }
}

diesel::table! {
    /// Professional API keys (token hashes only).
    api_keys (id) {
        id -> BigInt,
        token_sha256 -> Text,
        role -> Text,
        perimeter -> Text,
        label -> Text,
        created_at -> Text,
        expires_at -> Nullable<Text>,
        revoked_at -> Nullable<Text>,
    }
}

diesel::table! {
    /// One row per professional request.
    api_access_log (id) {
        id -> BigInt,
        key_id -> BigInt,
        at -> Text,
        route -> Text,
        asked -> Text,
        status -> Integer,
        rows_returned -> BigInt,
    }
}

diesel::table! {
    /// Employer structures of the inclusion field (SIAE, GEIQ, EA, EATT, OPCS) and their antennes.
    structures (_row) {
        _row -> BigInt,
        vintage -> Date,
        id -> BigInt,
        asp_id -> Nullable<BigInt>,
        siret -> Text,
        kind -> Text,
        source -> Text,
        parent_id -> Nullable<BigInt>,
        name -> Text,
        commune -> Text,
        departement -> Text,
        region -> Text,
        created_at -> Date,
    }
}

diesel::table! {
    /// Prescriber organisations (France Travail agencies, missions locales, CCAS, …) that send job applications.
    organisations (_row) {
        _row -> BigInt,
        vintage -> Date,
        id -> BigInt,
        kind -> Text,
        habilitee -> Bool,
        brsa -> Bool,
        commune -> Nullable<Text>,
        departement -> Nullable<Text>,
        region -> Nullable<Text>,
        created_at -> Date,
    }
}

diesel::table! {
    /// Job seekers known to the platform, pseudonymized: no name, NIR, birth date or address.
    candidats (_row) {
        _row -> BigInt,
        vintage -> Date,
        hash_nir -> Text,
        sex -> Nullable<Text>,
        birth_year -> Nullable<Integer>,
        commune -> Nullable<Text>,
        departement -> Nullable<Text>,
        qpv -> Nullable<Bool>,
        created_at -> Date,
    }
}

diesel::table! {
    /// Job descriptions published by structures; open ones receive applications.
    fiches_de_poste (_row) {
        _row -> BigInt,
        vintage -> Date,
        id -> BigInt,
        structure_id -> BigInt,
        rome -> Text,
        created_at -> Date,
        updated_at -> Date,
        is_open -> Bool,
    }
}

diesel::table! {
    /// Job applications sent to structures, with their sender, state and answer.
    candidatures (_row) {
        _row -> BigInt,
        vintage -> Date,
        id -> Text,
        hash_nir -> Text,
        structure_id -> BigInt,
        origine -> Text,
        sender_organisation_id -> Nullable<BigInt>,
        sender_prescriber_kind -> Nullable<Text>,
        sender_structure_id -> Nullable<BigInt>,
        state -> Text,
        created_at -> Date,
        first_looked_at -> Nullable<Date>,
        processed_at -> Nullable<Date>,
        refusal_reason -> Nullable<Text>,
        creation_path -> Text,
        hired_at -> Nullable<Date>,
        eligibility_by_employer -> Bool,
        fiche_de_poste_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// PASS IAE (approvals) issued at hiring in an SIAE, valid 730 days by default.
    pass_iae (_row) {
        _row -> BigInt,
        vintage -> Date,
        id -> BigInt,
        hash_nir -> Text,
        structure_id -> Nullable<BigInt>,
        start_date -> Date,
        end_date -> Date,
        issued_at -> Date,
        candidature_id -> Nullable<Text>,
    }
}

diesel::table! {
    /// Suspensions of PASS IAE: periods when the approval is paused.
    pass_iae_suspensions (_row) {
        _row -> BigInt,
        vintage -> Date,
        id -> BigInt,
        pass_iae_id -> BigInt,
        start_date -> Date,
        end_date -> Date,
        reason -> Text,
    }
}

diesel::table! {
    /// Prolongations of PASS IAE: periods added after the approval's end.
    pass_iae_prolongations (_row) {
        _row -> BigInt,
        vintage -> Date,
        id -> BigInt,
        pass_iae_id -> BigInt,
        start_date -> Date,
        end_date -> Date,
        reason -> Text,
    }
}

diesel::table! {
    /// The ASP referential of exit motives and the category each rolls up into.
    motifs_sortie (_row) {
        _row -> BigInt,
        vintage -> Date,
        code -> Text,
        label -> Text,
        category -> Text,
    }
}

diesel::table! {
    /// Annexes financières: the State's yearly funding of a structure's insertion posts (ETP conventionnés), partly co-financed by the Département.
    annexes_financieres (_row) {
        _row -> BigInt,
        vintage -> Date,
        id -> BigInt,
        number -> Text,
        convention_number -> Text,
        structure_asp_id -> BigInt,
        measure -> Text,
        state -> Text,
        start_date -> Date,
        end_date -> Date,
        year -> Integer,
        departement -> Text,
        etp_conventionnes_mensuels -> Double,
        montant_total -> Nullable<Double>,
        montant_cofinance_departement -> Nullable<Double>,
        montant_unitaire_annuel -> Nullable<Double>,
        heures_annuelles_etp -> Nullable<Double>,
    }
}

diesel::table! {
    /// Salariés en insertion known to the ASP, pseudonymized; their situation at hiring is on each contract.
    salaries (_row) {
        _row -> BigInt,
        vintage -> Date,
        id -> BigInt,
        hash_nir -> Text,
        sex -> Text,
        birth_year -> Integer,
        commune -> Nullable<Text>,
        departement -> Nullable<Text>,
    }
}

diesel::table! {
    /// Employment contracts of salariés en insertion declared to the ASP, with the person's situation at hiring and the exit.
    contrats (_row) {
        _row -> BigInt,
        vintage -> Date,
        id -> BigInt,
        salarie_id -> BigInt,
        structure_asp_id -> BigInt,
        measure -> Text,
        parent_contrat_id -> Nullable<BigInt>,
        start_date -> Date,
        end_date -> Nullable<Date>,
        exit_date -> Nullable<Date>,
        exit_motive -> Nullable<Text>,
        rsa -> Text,
        ass -> Bool,
        aah -> Bool,
        rqth -> Bool,
        qpv -> Bool,
        zrr -> Bool,
        education_level -> Nullable<Text>,
        unemployment_duration -> Nullable<Text>,
    }
}

diesel::table! {
    /// Monthly declarations (états mensuels individuels): hours worked per person, annexe financière, contract and month.
    etats_mensuels (_row) {
        _row -> BigInt,
        vintage -> Date,
        id -> BigInt,
        salarie_id -> BigInt,
        af_id -> BigInt,
        contrat_id -> BigInt,
        year -> Integer,
        month -> Integer,
        hours_worked -> Double,
        state -> Text,
    }
}

/// Runs `COPY <table> FROM STDIN` (every column, in table order) in `format` on a PostgreSQL
/// connection, `write` producing the data; with `freeze`, rows are written frozen (the
/// table must have been created or emptied in the current transaction).
pub(crate) fn copy_into(
    conn: &mut diesel::PgConnection,
    table: pilotage_core::source::SourceTable,
    format: diesel::pg::CopyFormat,
    freeze: bool,
    write: &dyn Fn(&mut dyn std::io::Write) -> diesel::QueryResult<()>,
) -> diesel::QueryResult<usize> {
    use pilotage_core::source::SourceTable;
    match table {
        SourceTable::Structures => copy_into!(structures::table, conn, format, freeze, write),
        SourceTable::Organisations => copy_into!(organisations::table, conn, format, freeze, write),
        SourceTable::Candidats => copy_into!(candidats::table, conn, format, freeze, write),
        SourceTable::FichesDePoste => copy_into!(fiches_de_poste::table, conn, format, freeze, write),
        SourceTable::Candidatures => copy_into!(candidatures::table, conn, format, freeze, write),
        SourceTable::PassIae => copy_into!(pass_iae::table, conn, format, freeze, write),
        SourceTable::PassIaeSuspensions => copy_into!(pass_iae_suspensions::table, conn, format, freeze, write),
        SourceTable::PassIaeProlongations => copy_into!(pass_iae_prolongations::table, conn, format, freeze, write),
        SourceTable::MotifsSortie => copy_into!(motifs_sortie::table, conn, format, freeze, write),
        SourceTable::AnnexesFinancieres => copy_into!(annexes_financieres::table, conn, format, freeze, write),
        SourceTable::Salaries => copy_into!(salaries::table, conn, format, freeze, write),
        SourceTable::Contrats => copy_into!(contrats::table, conn, format, freeze, write),
        SourceTable::EtatsMensuels => copy_into!(etats_mensuels::table, conn, format, freeze, write),
    }
}
