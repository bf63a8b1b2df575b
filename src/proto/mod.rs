//! Protobuf wire codec (to be written: see issue 2).
