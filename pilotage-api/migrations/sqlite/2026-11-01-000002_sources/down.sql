-- Generated from pilotage_core::source by pilotage_api::storage::ddl: do not edit.
-- Regenerate with `PILOTAGE_BLESS=1 cargo test -p pilotage-api --test storage schema`.
DROP TABLE etats_mensuels;
DROP TABLE contrats;
DROP TABLE salaries;
DROP TABLE annexes_financieres;
DROP TABLE motifs_sortie;
DROP TABLE pass_iae_prolongations;
DROP TABLE pass_iae_suspensions;
DROP TABLE pass_iae;
DROP TABLE candidatures;
DROP TABLE fiches_de_poste;
DROP TABLE candidats;
DROP TABLE organisations;
DROP TABLE structures;
