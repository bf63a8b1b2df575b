//! Writing frames: the inverse of [`super::decode`].

use super::{Frame, FrameError, HEADER_LEN, MAX_FRAME_SIZE_LIMIT, Priority, Setting, flags, kind};

impl Frame<'_> {
    /// Appends the frame to `out`. Fails only when the payload exceeds 2^24-1 bytes; callers
    /// split payloads by the peer's SETTINGS_MAX_FRAME_SIZE before building frames.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), FrameError> {
        let start = out.len();
        out.extend_from_slice(&[0; HEADER_LEN]);
        let (kind, flags, stream_id) = self.encode_payload(out);
        let len = out.len() - start - HEADER_LEN;
        let len32 = match u32::try_from(len) {
            Ok(n) if n <= MAX_FRAME_SIZE_LIMIT => n,
            _ => {
                out.truncate(start);
                let len = u32::try_from(len).unwrap_or(u32::MAX);
                return Err(FrameError::TooLarge { kind, len, max: MAX_FRAME_SIZE_LIMIT });
            }
        };
        let [_, a, b, c] = len32.to_be_bytes();
        let [d, e, f, g] = stream_id.to_be_bytes();
        let header = [a, b, c, kind, flags, d, e, f, g];
        if let Some(slot) = out.get_mut(start..start + HEADER_LEN) {
            slot.copy_from_slice(&header);
        }
        Ok(())
    }

    /// Writes the payload after the header placeholder; returns (type, flags, stream id).
    fn encode_payload(&self, out: &mut Vec<u8>) -> (u8, u8, u32) {
        let flag = |on: bool, f: u8| if on { f } else { 0 };
        match *self {
            Frame::Data { stream_id, data, end_stream, padding } => {
                let padded = padded(out, padding, |out| out.extend_from_slice(data));
                (kind::DATA, flag(end_stream, flags::END_STREAM) | padded, stream_id)
            }
            Frame::Headers { stream_id, fragment, end_stream, end_headers, priority, padding } => {
                let padded = padded(out, padding, |out| {
                    if let Some(p) = priority {
                        put_priority(out, p);
                    }
                    out.extend_from_slice(fragment);
                });
                let f = flag(end_stream, flags::END_STREAM)
                    | flag(end_headers, flags::END_HEADERS)
                    | flag(priority.is_some(), flags::PRIORITY)
                    | padded;
                (kind::HEADERS, f, stream_id)
            }
            Frame::Priority { stream_id, priority } => {
                put_priority(out, priority);
                (kind::PRIORITY, 0, stream_id)
            }
            Frame::RstStream { stream_id, code } => {
                out.extend_from_slice(&code.to_u32().to_be_bytes());
                (kind::RST_STREAM, 0, stream_id)
            }
            Frame::Settings { ack, ref params } => {
                for &p in params {
                    let (id, value) = setting_pair(p);
                    out.extend_from_slice(&id.to_be_bytes());
                    out.extend_from_slice(&value.to_be_bytes());
                }
                (kind::SETTINGS, flag(ack, flags::ACK), 0)
            }
            Frame::PushPromise { stream_id, promised_id, fragment, end_headers, padding } => {
                let padded = padded(out, padding, |out| {
                    out.extend_from_slice(&promised_id.to_be_bytes());
                    out.extend_from_slice(fragment);
                });
                (kind::PUSH_PROMISE, flag(end_headers, flags::END_HEADERS) | padded, stream_id)
            }
            Frame::Ping { ack, data } => {
                out.extend_from_slice(&data);
                (kind::PING, flag(ack, flags::ACK), 0)
            }
            Frame::GoAway { last_stream_id, code, debug } => {
                out.extend_from_slice(&last_stream_id.to_be_bytes());
                out.extend_from_slice(&code.to_u32().to_be_bytes());
                out.extend_from_slice(debug);
                (kind::GOAWAY, 0, 0)
            }
            Frame::WindowUpdate { stream_id, increment } => {
                out.extend_from_slice(&increment.to_be_bytes());
                (kind::WINDOW_UPDATE, 0, stream_id)
            }
            Frame::Continuation { stream_id, fragment, end_headers } => {
                out.extend_from_slice(fragment);
                (kind::CONTINUATION, flag(end_headers, flags::END_HEADERS), stream_id)
            }
            Frame::Unknown { kind, flags, stream_id, payload } => {
                out.extend_from_slice(payload);
                (kind, flags, stream_id)
            }
        }
    }
}

/// Writes the pad length, the body and zero padding; returns the PADDED flag if used.
fn padded(out: &mut Vec<u8>, padding: Option<u8>, body: impl FnOnce(&mut Vec<u8>)) -> u8 {
    match padding {
        None => {
            body(out);
            0
        }
        Some(pad) => {
            out.push(pad);
            body(out);
            out.resize(out.len() + usize::from(pad), 0);
            flags::PADDED
        }
    }
}

fn put_priority(out: &mut Vec<u8>, p: Priority) {
    let raw = p.dependency | if p.exclusive { 0x8000_0000 } else { 0 };
    out.extend_from_slice(&raw.to_be_bytes());
    out.push(p.weight);
}

fn setting_pair(s: Setting) -> (u16, u32) {
    match s {
        Setting::HeaderTableSize(v) => (0x1, v),
        Setting::EnablePush(v) => (0x2, u32::from(v)),
        Setting::MaxConcurrentStreams(v) => (0x3, v),
        Setting::InitialWindowSize(v) => (0x4, v),
        Setting::MaxFrameSize(v) => (0x5, v),
        Setting::MaxHeaderListSize(v) => (0x6, v),
        Setting::Unknown { id, value } => (id, value),
    }
}
