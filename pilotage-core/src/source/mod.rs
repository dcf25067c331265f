//! The canonical source tables, as Arrow schemas.
