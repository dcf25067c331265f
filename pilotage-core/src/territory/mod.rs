//! The official territory referential (INSEE Code officiel géographique).
