//! Test dependencies (being written).
