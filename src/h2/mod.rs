//! HTTP/2 client with prior knowledge, and HPACK (to be written: see issue 2).
