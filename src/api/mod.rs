//! Kubernetes API object types (to be written).
