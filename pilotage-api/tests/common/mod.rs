//! Helpers shared by the storage and ingest tests.
