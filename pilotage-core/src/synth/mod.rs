//! Seeded generator of national-scale synthetic sources.
