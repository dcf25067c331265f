-- Generated from pilotage_core::source by pilotage_api::storage::ddl: do not edit.
-- Regenerate with `PILOTAGE_BLESS=1 cargo test -p pilotage-api --test storage schema`.
-- One row per successful `pilotage ingest` run. A refused run leaves no trace in the store.
CREATE TABLE ingestion_runs (
    id BIGSERIAL PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    user_name TEXT NOT NULL,
    host_name TEXT NOT NULL,
    source_vintage DATE NOT NULL,
    status TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    duplicates_dropped BIGINT NOT NULL,
    warning_count BIGINT NOT NULL
);

-- The files a run read: which table each fed, their SHA-256 and what they held.
CREATE TABLE ingestion_files (
    run_id BIGINT NOT NULL REFERENCES ingestion_runs (id),
    table_name TEXT NOT NULL,
    path TEXT NOT NULL,
    format TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    row_count BIGINT NOT NULL,
    duplicates_dropped BIGINT NOT NULL,
    PRIMARY KEY (run_id, table_name)
);

-- The extractions held for each source table: one row per (table, vintage), pointing at the run
-- that stored it. Releases and API keys get their own tables when they land.
CREATE TABLE source_vintages (
    table_name TEXT NOT NULL,
    vintage DATE NOT NULL,
    run_id BIGINT NOT NULL REFERENCES ingestion_runs (id),
    row_count BIGINT NOT NULL,
    PRIMARY KEY (table_name, vintage)
);
