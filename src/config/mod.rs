//! Command-line flags and KubeletConfiguration (to be written).
