//! gRPC over HTTP/2, the parts that are pure functions (PROTOCOL-HTTP2.md in grpc/grpc):
//! length-prefixed messages, `grpc-timeout`, `grpc-message` percent-decoding, and turning a
//! response or a transport error into a [`Status`].

#![forbid(unsafe_code)]

use std::time::Duration;

use super::{Code, Status};
use crate::h2::reader::Reader;
use crate::h2::{Error as H2Error, ErrorCode, Response};

/// Prefixes `message` with the 5-byte header: compressed flag 0, big-endian length.
pub fn frame_message(message: &[u8]) -> Result<Vec<u8>, Status> {
    let len = u32::try_from(message.len()).map_err(|_| {
        Status::new(Code::ResourceExhausted, format!("request of {} bytes is too large", message.len()))
    })?;
    let mut out = Vec::with_capacity(message.len() + 5);
    out.push(0);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(message);
    Ok(out)
}

/// The single message of a unary response body.
pub fn single_message(body: &[u8]) -> Result<Vec<u8>, Status> {
    let internal = |m: &str| Status::new(Code::Internal, m);
    let mut r = Reader::new(body);
    let (Some(flag), Some(len)) = (r.u8(), r.u32()) else {
        return Err(internal("response has no message"));
    };
    match flag {
        0 => {}
        1 => return Err(internal("response message is compressed, but no compression was negotiated")),
        _ => return Err(internal("response message has an invalid compressed flag")),
    }
    let len = usize::try_from(len).map_err(|_| internal("response message length overflows"))?;
    let message = r.take(len).ok_or_else(|| internal("response message is truncated"))?;
    if !r.is_empty() {
        return Err(internal("more than one message in a unary response"));
    }
    Ok(message.to_vec())
}

/// `grpc-timeout`: at most 8 digits, in the finest unit that fits, rounded up.
pub fn encode_timeout(t: Duration) -> String {
    const MAX: u128 = 99_999_999;
    let nanos = t.as_nanos();
    let units: [(u128, char); 6] = [
        (1, 'n'),
        (1_000, 'u'),
        (1_000_000, 'm'),
        (1_000_000_000, 'S'),
        (60_000_000_000, 'M'),
        (3_600_000_000_000, 'H'),
    ];
    for (per, unit) in units {
        let value = nanos.div_ceil(per);
        if value <= MAX {
            return format!("{value}{unit}");
        }
    }
    format!("{MAX}H")
}

/// Percent-decodes `grpc-message`; malformed escapes are kept as they are.
pub fn percent_decode(raw: &[u8]) -> String {
    let hex = |b: u8| char::from(b).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        let escaped = match (b, raw.get(i + 1).copied().and_then(hex), raw.get(i + 2).copied().and_then(hex))
        {
            (b'%', Some(hi), Some(lo)) => Some(hi * 16 + lo),
            _ => None,
        };
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The gRPC code for a non-gRPC HTTP response (grpc/grpc doc/http-grpc-status-mapping.md).
pub fn code_for_http_status(status: u16) -> Code {
    match status {
        400 => Code::Internal,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::Unimplemented,
        429 | 502 | 503 | 504 => Code::Unavailable,
        _ => Code::Unknown,
    }
}

/// The outcome of a unary call from its complete HTTP/2 response.
pub fn finish(resp: Response) -> Result<Vec<u8>, Status> {
    let is_grpc = resp.header("content-type").is_some_and(|v| v.starts_with(b"application/grpc"));
    if resp.status != 200 || !is_grpc {
        let code = code_for_http_status(resp.status);
        let what = if is_grpc { "" } else { " (not a gRPC response)" };
        return Err(Status::new(code, format!("unexpected HTTP status {}{what}", resp.status)));
    }
    // Trailers-only responses carry the status in the headers.
    let find = |name: &str| if resp.trailers.is_empty() { resp.header(name) } else { resp.trailer(name) };
    let Some(raw_code) = find("grpc-status") else {
        return Err(Status::new(Code::Unknown, "response has no grpc-status"));
    };
    let code = std::str::from_utf8(raw_code)
        .ok()
        .and_then(|s| s.parse::<i32>().ok())
        .map_or(Code::Unknown, Code::from_i32);
    if code != Code::Ok {
        let message = find("grpc-message").map(percent_decode).unwrap_or_default();
        return Err(Status::new(code, message));
    }
    single_message(&resp.body)
}

/// The status for a call that failed below gRPC (PROTOCOL-HTTP2.md, "Errors").
pub fn status_for(error: &H2Error) -> Status {
    let code = match error {
        H2Error::Connect { .. } | H2Error::Connection(_) | H2Error::Refused(_) => Code::Unavailable,
        H2Error::StreamReset { code, .. } => match code {
            ErrorCode::RefusedStream => Code::Unavailable,
            ErrorCode::Cancel => Code::Cancelled,
            ErrorCode::EnhanceYourCalm => Code::ResourceExhausted,
            ErrorCode::InadequateSecurity => Code::PermissionDenied,
            _ => Code::Internal,
        },
        H2Error::Malformed { .. } | H2Error::HeaderListTooLarge { .. } => Code::Internal,
        H2Error::BodyTooLarge { .. } => Code::ResourceExhausted,
        H2Error::Timeout => Code::DeadlineExceeded,
    };
    Status::new(code, error.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::h2::Header;

    #[test]
    fn messages_are_length_prefixed() {
        assert_eq!(frame_message(b"").unwrap_or_default(), [0, 0, 0, 0, 0]);
        assert_eq!(frame_message(b"ab").unwrap_or_default(), [0, 0, 0, 0, 2, b'a', b'b']);
        assert_eq!(single_message(&[0, 0, 0, 0, 2, b'a', b'b']), Ok(b"ab".to_vec()));
        assert_eq!(single_message(&[0, 0, 0, 0, 0]), Ok(Vec::new()));
    }

    #[test]
    fn bad_bodies_are_internal_errors() {
        for body in [&[][..], &[0, 0, 0], &[0, 0, 0, 0, 3, 1], &[0, 0, 0, 0, 0, 0], &[2, 0, 0, 0, 0]] {
            assert_eq!(single_message(body).map_err(|s| s.code), Err(Code::Internal), "{body:?}");
        }
        let e = single_message(&[1, 0, 0, 0, 1, 9]).unwrap_err();
        assert!(e.message.contains("compressed"), "{e}");
    }

    #[test]
    fn timeouts_use_the_finest_unit_with_8_digits() {
        assert_eq!(encode_timeout(Duration::from_secs(120)), "120000m");
        assert_eq!(encode_timeout(Duration::from_secs(2)), "2000000u");
        assert_eq!(encode_timeout(Duration::from_millis(50)), "50000000n");
        assert_eq!(encode_timeout(Duration::from_nanos(1)), "1n");
        assert_eq!(encode_timeout(Duration::from_secs(100_000)), "100000S");
        assert_eq!(encode_timeout(Duration::from_secs(200_000_000)), "3333334M");
        assert_eq!(encode_timeout(Duration::from_secs(u64::MAX)), "99999999H");
    }

    #[test]
    fn grpc_message_is_percent_decoded() {
        assert_eq!(percent_decode(b"no such container %22abc%22"), "no such container \"abc\"");
        assert_eq!(percent_decode(b"caf%C3%A9 100%"), "café 100%");
        assert_eq!(percent_decode(b"%zz%4"), "%zz%4");
    }

    fn response(status: u16, headers: &[(&str, &str)], body: &[u8], trailers: &[(&str, &str)]) -> Response {
        let h = |l: &[(&str, &str)]| l.iter().map(|(n, v)| Header::new(*n, *v)).collect();
        Response { status, headers: h(headers), body: body.to_vec(), trailers: h(trailers) }
    }

    #[test]
    fn status_comes_from_trailers_or_a_trailers_only_response() {
        let ct = ("content-type", "application/grpc");
        let ok = response(200, &[ct], &[0, 0, 0, 0, 1, 7], &[("grpc-status", "0")]);
        assert_eq!(finish(ok), Ok(vec![7]));
        let nf = response(200, &[ct], b"", &[("grpc-status", "5"), ("grpc-message", "pod%20gone")]);
        assert_eq!(finish(nf), Err(Status::new(Code::NotFound, "pod gone")));
        let only = response(200, &[ct, ("grpc-status", "12"), ("grpc-message", "unknown method")], b"", &[]);
        assert_eq!(finish(only), Err(Status::new(Code::Unimplemented, "unknown method")));
        let none = response(200, &[ct], &[0, 0, 0, 0, 0], &[("x", "y")]);
        assert_eq!(finish(none).map_err(|s| s.code), Err(Code::Unknown));
        let weird = response(200, &[ct], b"", &[("grpc-status", "x")]);
        assert_eq!(finish(weird).map_err(|s| s.code), Err(Code::Unknown));
    }

    #[test]
    fn http_status_without_grpc_maps_per_the_spec() {
        let cases = [
            (400, Code::Internal),
            (401, Code::Unauthenticated),
            (403, Code::PermissionDenied),
            (404, Code::Unimplemented),
            (429, Code::Unavailable),
            (502, Code::Unavailable),
            (503, Code::Unavailable),
            (504, Code::Unavailable),
            (500, Code::Unknown),
        ];
        for (status, code) in cases {
            let r = response(status, &[("content-type", "text/plain")], b"oops", &[]);
            assert_eq!(finish(r).map_err(|s| s.code), Err(code), "{status}");
        }
        let html = response(200, &[("content-type", "text/html")], b"", &[("grpc-status", "0")]);
        assert_eq!(finish(html).map_err(|s| s.code), Err(Code::Unknown));
    }

    #[test]
    fn transport_errors_map_to_codes() {
        use crate::h2::error::Refusal;
        assert_eq!(status_for(&H2Error::Timeout).code, Code::DeadlineExceeded);
        assert_eq!(status_for(&H2Error::Refused(Refusal::NotAccepting)).code, Code::Unavailable);
        let reset = |code| status_for(&H2Error::StreamReset { stream_id: 1, code }).code;
        assert_eq!(reset(ErrorCode::Cancel), Code::Cancelled);
        assert_eq!(reset(ErrorCode::RefusedStream), Code::Unavailable);
        assert_eq!(reset(ErrorCode::EnhanceYourCalm), Code::ResourceExhausted);
        assert_eq!(reset(ErrorCode::Protocol), Code::Internal);
        assert_eq!(
            status_for(&H2Error::BodyTooLarge { stream_id: 1, limit: 1 }).code,
            Code::ResourceExhausted
        );
    }
}
