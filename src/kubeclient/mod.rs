//! The API server client (to be written).
