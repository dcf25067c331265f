-- Generated from pilotage_core::source by pilotage_api::storage::ddl: do not edit.
-- Regenerate with `PILOTAGE_BLESS=1 cargo test -p pilotage-api --test storage schema`.

-- Employer structures of the inclusion field (SIAE, GEIQ, EA, EATT, OPCS) and their antennes.
CREATE TABLE structures (
    _row INTEGER PRIMARY KEY,
    vintage TEXT NOT NULL,
    id INTEGER NOT NULL,
    asp_id INTEGER,
    siret TEXT NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    parent_id INTEGER,
    name TEXT NOT NULL,
    commune TEXT NOT NULL,
    departement TEXT NOT NULL,
    region TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Prescriber organisations (France Travail agencies, missions locales, CCAS, …) that send job applications.
CREATE TABLE organisations (
    _row INTEGER PRIMARY KEY,
    vintage TEXT NOT NULL,
    id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    habilitee INTEGER NOT NULL,
    brsa INTEGER NOT NULL,
    commune TEXT,
    departement TEXT,
    region TEXT,
    created_at TEXT NOT NULL
);

-- Job seekers known to the platform, pseudonymized: no name, NIR, birth date or address.
CREATE TABLE candidats (
    _row INTEGER PRIMARY KEY,
    vintage TEXT NOT NULL,
    hash_nir TEXT NOT NULL,
    sex TEXT,
    birth_year INTEGER,
    commune TEXT,
    departement TEXT,
    qpv INTEGER,
    created_at TEXT NOT NULL
);

-- Job descriptions published by structures; open ones receive applications.
CREATE TABLE fiches_de_poste (
    _row INTEGER PRIMARY KEY,
    vintage TEXT NOT NULL,
    id INTEGER NOT NULL,
    structure_id INTEGER NOT NULL,
    rome TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    is_open INTEGER NOT NULL
);

-- Job applications sent to structures, with their sender, state and answer.
CREATE TABLE candidatures (
    _row INTEGER PRIMARY KEY,
    vintage TEXT NOT NULL,
    id TEXT NOT NULL,
    hash_nir TEXT NOT NULL,
    structure_id INTEGER NOT NULL,
    origine TEXT NOT NULL,
    sender_organisation_id INTEGER,
    sender_prescriber_kind TEXT,
    sender_structure_id INTEGER,
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    first_looked_at TEXT,
    processed_at TEXT,
    refusal_reason TEXT,
    creation_path TEXT NOT NULL,
    hired_at TEXT,
    eligibility_by_employer INTEGER NOT NULL,
    fiche_de_poste_id INTEGER
);

-- PASS IAE (approvals) issued at hiring in an SIAE, valid 730 days by default.
CREATE TABLE pass_iae (
    _row INTEGER PRIMARY KEY,
    vintage TEXT NOT NULL,
    id INTEGER NOT NULL,
    hash_nir TEXT NOT NULL,
    structure_id INTEGER,
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    candidature_id TEXT
);

-- Suspensions of PASS IAE: periods when the approval is paused.
CREATE TABLE pass_iae_suspensions (
    _row INTEGER PRIMARY KEY,
    vintage TEXT NOT NULL,
    id INTEGER NOT NULL,
    pass_iae_id INTEGER NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    reason TEXT NOT NULL
);

-- Prolongations of PASS IAE: periods added after the approval's end.
CREATE TABLE pass_iae_prolongations (
    _row INTEGER PRIMARY KEY,
    vintage TEXT NOT NULL,
    id INTEGER NOT NULL,
    pass_iae_id INTEGER NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    reason TEXT NOT NULL
);

-- The ASP referential of exit motives and the category each rolls up into.
CREATE TABLE motifs_sortie (
    _row INTEGER PRIMARY KEY,
    vintage TEXT NOT NULL,
    code TEXT NOT NULL,
    label TEXT NOT NULL,
    category TEXT NOT NULL
);

-- Annexes financières: the State's yearly funding of a structure's insertion posts (ETP conventionnés), partly co-financed by the Département.
CREATE TABLE annexes_financieres (
    _row INTEGER PRIMARY KEY,
    vintage TEXT NOT NULL,
    id INTEGER NOT NULL,
    number TEXT NOT NULL,
    convention_number TEXT NOT NULL,
    structure_asp_id INTEGER NOT NULL,
    measure TEXT NOT NULL,
    state TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    year INTEGER NOT NULL,
    departement TEXT NOT NULL,
    etp_conventionnes_mensuels REAL NOT NULL,
    montant_total REAL,
    montant_cofinance_departement REAL,
    montant_unitaire_annuel REAL,
    heures_annuelles_etp REAL
);

-- Salariés en insertion known to the ASP, pseudonymized; their situation at hiring is on each contract.
CREATE TABLE salaries (
    _row INTEGER PRIMARY KEY,
    vintage TEXT NOT NULL,
    id INTEGER NOT NULL,
    hash_nir TEXT NOT NULL,
    sex TEXT NOT NULL,
    birth_year INTEGER NOT NULL,
    commune TEXT,
    departement TEXT
);

-- Employment contracts of salariés en insertion declared to the ASP, with the person's situation at hiring and the exit.
CREATE TABLE contrats (
    _row INTEGER PRIMARY KEY,
    vintage TEXT NOT NULL,
    id INTEGER NOT NULL,
    salarie_id INTEGER NOT NULL,
    structure_asp_id INTEGER NOT NULL,
    measure TEXT NOT NULL,
    parent_contrat_id INTEGER,
    start_date TEXT NOT NULL,
    end_date TEXT,
    exit_date TEXT,
    exit_motive TEXT,
    rsa TEXT NOT NULL,
    ass INTEGER NOT NULL,
    aah INTEGER NOT NULL,
    rqth INTEGER NOT NULL,
    qpv INTEGER NOT NULL,
    zrr INTEGER NOT NULL,
    education_level TEXT,
    unemployment_duration TEXT
);

-- Monthly declarations (états mensuels individuels): hours worked per person, annexe financière, contract and month.
CREATE TABLE etats_mensuels (
    _row INTEGER PRIMARY KEY,
    vintage TEXT NOT NULL,
    id INTEGER NOT NULL,
    salarie_id INTEGER NOT NULL,
    af_id INTEGER NOT NULL,
    contrat_id INTEGER NOT NULL,
    year INTEGER NOT NULL,
    month INTEGER NOT NULL,
    hours_worked REAL NOT NULL,
    state TEXT NOT NULL
);
