//! HTTP/2 client with prior knowledge over a unix socket (RFC 9113), and HPACK (RFC 7541).
//!
//! | module | what |
//! | --- | --- |
//! | [`reader`] | the one bounds-checked reader all decoding goes through |
//! | [`frame`] | frame codec (sans-I/O) |
//! | [`hpack`] | header compression codec (sans-I/O) |
//! | [`conn`] | the connection: socket, reader thread, streams, flow control |
//! | [`error`] | HTTP/2 error codes and request errors |

pub mod conn;
pub mod error;
pub mod frame;
pub mod hpack;
pub mod reader;

pub use conn::{Config, Connection, RequestOptions, Response};
pub use error::{ConnectionError, Error, ErrorCode};
pub use hpack::Header;
