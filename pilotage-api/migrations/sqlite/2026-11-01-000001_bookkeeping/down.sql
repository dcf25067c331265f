-- Generated from pilotage_core::source by pilotage_api::storage::ddl: do not edit.
-- Regenerate with `PILOTAGE_BLESS=1 cargo test -p pilotage-api --test storage schema`.
DROP TABLE source_vintages;
DROP TABLE ingestion_files;
DROP TABLE ingestion_runs;
