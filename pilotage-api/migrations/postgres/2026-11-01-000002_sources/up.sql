-- Generated from pilotage_core::source by pilotage_api::storage::ddl: do not edit.
-- Regenerate with `PILOTAGE_BLESS=1 cargo test -p pilotage-api --test storage schema`.

-- Employer structures of the inclusion field (SIAE, GEIQ, EA, EATT, OPCS) and their antennes.
CREATE TABLE structures (
    _row BIGINT NOT NULL,
    vintage DATE NOT NULL,
    id BIGINT NOT NULL,
    asp_id BIGINT,
    siret TEXT NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    parent_id BIGINT,
    name TEXT NOT NULL,
    commune TEXT NOT NULL,
    departement TEXT NOT NULL,
    region TEXT NOT NULL,
    created_at DATE NOT NULL
);

-- Prescriber organisations (France Travail agencies, missions locales, CCAS, …) that send job applications.
CREATE TABLE organisations (
    _row BIGINT NOT NULL,
    vintage DATE NOT NULL,
    id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    habilitee BOOLEAN NOT NULL,
    brsa BOOLEAN NOT NULL,
    commune TEXT,
    departement TEXT,
    region TEXT,
    created_at DATE NOT NULL
);

-- Job seekers known to the platform, pseudonymized: no name, NIR, birth date or address.
CREATE TABLE candidats (
    _row BIGINT NOT NULL,
    vintage DATE NOT NULL,
    hash_nir TEXT NOT NULL,
    sex TEXT,
    birth_year INTEGER,
    commune TEXT,
    departement TEXT,
    qpv BOOLEAN,
    created_at DATE NOT NULL
);

-- Job descriptions published by structures; open ones receive applications.
CREATE TABLE fiches_de_poste (
    _row BIGINT NOT NULL,
    vintage DATE NOT NULL,
    id BIGINT NOT NULL,
    structure_id BIGINT NOT NULL,
    rome TEXT NOT NULL,
    created_at DATE NOT NULL,
    updated_at DATE NOT NULL,
    is_open BOOLEAN NOT NULL
);

-- Job applications sent to structures, with their sender, state and answer.
CREATE TABLE candidatures (
    _row BIGINT NOT NULL,
    vintage DATE NOT NULL,
    id TEXT NOT NULL,
    hash_nir TEXT NOT NULL,
    structure_id BIGINT NOT NULL,
    origine TEXT NOT NULL,
    sender_organisation_id BIGINT,
    sender_prescriber_kind TEXT,
    sender_structure_id BIGINT,
    state TEXT NOT NULL,
    created_at DATE NOT NULL,
    first_looked_at DATE,
    processed_at DATE,
    refusal_reason TEXT,
    creation_path TEXT NOT NULL,
    hired_at DATE,
    eligibility_by_employer BOOLEAN NOT NULL,
    fiche_de_poste_id BIGINT
);

-- PASS IAE (approvals) issued at hiring in an SIAE, valid 730 days by default.
CREATE TABLE pass_iae (
    _row BIGINT NOT NULL,
    vintage DATE NOT NULL,
    id BIGINT NOT NULL,
    hash_nir TEXT NOT NULL,
    structure_id BIGINT,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    issued_at DATE NOT NULL,
    candidature_id TEXT
);

-- Suspensions of PASS IAE: periods when the approval is paused.
CREATE TABLE pass_iae_suspensions (
    _row BIGINT NOT NULL,
    vintage DATE NOT NULL,
    id BIGINT NOT NULL,
    pass_iae_id BIGINT NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    reason TEXT NOT NULL
);

-- Prolongations of PASS IAE: periods added after the approval's end.
CREATE TABLE pass_iae_prolongations (
    _row BIGINT NOT NULL,
    vintage DATE NOT NULL,
    id BIGINT NOT NULL,
    pass_iae_id BIGINT NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    reason TEXT NOT NULL
);

-- The ASP referential of exit motives and the category each rolls up into.
CREATE TABLE motifs_sortie (
    _row BIGINT NOT NULL,
    vintage DATE NOT NULL,
    code TEXT NOT NULL,
    label TEXT NOT NULL,
    category TEXT NOT NULL
);

-- Annexes financières: the State's yearly funding of a structure's insertion posts (ETP conventionnés), partly co-financed by the Département.
CREATE TABLE annexes_financieres (
    _row BIGINT NOT NULL,
    vintage DATE NOT NULL,
    id BIGINT NOT NULL,
    number TEXT NOT NULL,
    convention_number TEXT NOT NULL,
    structure_asp_id BIGINT NOT NULL,
    measure TEXT NOT NULL,
    state TEXT NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    year INTEGER NOT NULL,
    departement TEXT NOT NULL,
    etp_conventionnes_mensuels DOUBLE PRECISION NOT NULL,
    montant_total DOUBLE PRECISION,
    montant_cofinance_departement DOUBLE PRECISION,
    montant_unitaire_annuel DOUBLE PRECISION,
    heures_annuelles_etp DOUBLE PRECISION
);

-- Salariés en insertion known to the ASP, pseudonymized; their situation at hiring is on each contract.
CREATE TABLE salaries (
    _row BIGINT NOT NULL,
    vintage DATE NOT NULL,
    id BIGINT NOT NULL,
    hash_nir TEXT NOT NULL,
    sex TEXT NOT NULL,
    birth_year INTEGER NOT NULL,
    commune TEXT,
    departement TEXT
);

-- Employment contracts of salariés en insertion declared to the ASP, with the person's situation at hiring and the exit.
CREATE TABLE contrats (
    _row BIGINT NOT NULL,
    vintage DATE NOT NULL,
    id BIGINT NOT NULL,
    salarie_id BIGINT NOT NULL,
    structure_asp_id BIGINT NOT NULL,
    measure TEXT NOT NULL,
    parent_contrat_id BIGINT,
    start_date DATE NOT NULL,
    end_date DATE,
    exit_date DATE,
    exit_motive TEXT,
    rsa TEXT NOT NULL,
    ass BOOLEAN NOT NULL,
    aah BOOLEAN NOT NULL,
    rqth BOOLEAN NOT NULL,
    qpv BOOLEAN NOT NULL,
    zrr BOOLEAN NOT NULL,
    education_level TEXT,
    unemployment_duration TEXT
);

-- Monthly declarations (états mensuels individuels): hours worked per person, annexe financière, contract and month.
CREATE TABLE etats_mensuels (
    _row BIGINT NOT NULL,
    vintage DATE NOT NULL,
    id BIGINT NOT NULL,
    salarie_id BIGINT NOT NULL,
    af_id BIGINT NOT NULL,
    contrat_id BIGINT NOT NULL,
    year INTEGER NOT NULL,
    month INTEGER NOT NULL,
    hours_worked DOUBLE PRECISION NOT NULL,
    state TEXT NOT NULL
);
