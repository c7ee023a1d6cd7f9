//! The message bus (being written).
