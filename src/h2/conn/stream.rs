//! The calling thread's side of one request: open the stream, send the body within the
//! peer's windows, collect the response, and close or reset the stream.

use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Receiver, RecvTimeoutError};

use super::shared::{Event, Shared, Slot, State};
use super::{RequestOptions, Response};
use crate::h2::error::{ConnectionError, Error, ErrorCode, Malformed, Refusal};
use crate::h2::frame::Frame;
use crate::h2::hpack::{Encoder, Header};

/// DATA sent per write: a few frames at a time keeps the writer lock short.
const MAX_WRITE: usize = 64 * 1024;

/// Sends one request and waits for its complete response.
pub fn request(
    shared: &Arc<Shared>,
    headers: &[Header],
    body: &[u8],
    opts: &RequestOptions,
) -> Result<Response, Error> {
    let mut block = Vec::new();
    Encoder::new().encode(headers, &mut block);
    reserve_concurrency(shared, opts.deadline)?;
    let (stream_id, events, sent) = open(shared, &block, body)?;
    let mut guard = StreamGuard { shared, stream_id, reset_code: ErrorCode::Cancel };
    send_body(shared, stream_id, body, sent, opts.deadline)?;
    let result = receive(&events, stream_id, opts);
    if let Err(Error::Malformed { .. }) = result {
        guard.reset_code = ErrorCode::Protocol;
    }
    result
}

/// Waits until SETTINGS_MAX_CONCURRENT_STREAMS allows one more stream and reserves it.
fn reserve_concurrency(shared: &Shared, deadline: Option<Instant>) -> Result<(), Error> {
    let mut st = shared.state();
    loop {
        if !st.accepts_new_streams() {
            return Err(Error::Refused(Refusal::NotAccepting));
        }
        let active = st.streams.len() + st.reserved;
        if u32::try_from(active).is_ok_and(|n| n < st.peer.max_concurrent_streams) {
            st.reserved += 1;
            return Ok(());
        }
        let (g, in_time) = shared.wait(st, deadline);
        st = g;
        if !in_time {
            return Err(Error::Timeout);
        }
    }
}

/// Allocates the stream id and writes HEADERS (+ CONTINUATION) and as much of the body as the
/// windows allow, in one write. Returns the id, the event receiver and the body bytes sent.
fn open(shared: &Shared, block: &[u8], body: &[u8]) -> Result<(u32, Receiver<Event>, usize), Error> {
    let mut writer = shared.writer();
    let (tx, rx) = crossbeam_channel::unbounded();
    let mut st = shared.state();
    st.reserved = st.reserved.saturating_sub(1);
    if !st.accepts_new_streams() {
        drop(st);
        shared.changed.notify_all();
        return Err(Error::Refused(Refusal::NotAccepting));
    }
    let stream_id = st.next_stream_id;
    st.next_stream_id += 2;
    let max_frame = usize::try_from(st.peer.max_frame_size).unwrap_or(16_384);
    let mut slot = Slot {
        events: tx,
        send_window: i64::from(st.peer.initial_window_size),
        recv_window: i64::from(shared.config.initial_window_size),
        recv_unacked: 0,
        local_closed: false,
        remote_closed: false,
    };
    let first = take_window(&mut st.send_window, &mut slot.send_window, body.len().min(MAX_WRITE));
    slot.local_closed = first == body.len();
    st.streams.insert(stream_id, slot);
    drop(st);

    let mut frames = header_frames(stream_id, block, body.is_empty(), max_frame);
    if !body.is_empty() {
        frames.extend(data_frames(
            stream_id,
            body.get(..first).unwrap_or_default(),
            first == body.len(),
            max_frame,
        ));
    }
    log::trace!("h2: open stream {stream_id}, {} frames", frames.len());
    writer.write(&[], &frames).map_err(|e| Error::Connection(shared.fail(e)))?;
    Ok((stream_id, rx, first))
}

/// Takes up to `want` bytes from both windows; returns how many.
fn take_window(conn: &mut i64, stream: &mut i64, want: usize) -> usize {
    let avail = (*conn).min(*stream).max(0);
    let n = usize::try_from(avail).unwrap_or(0).min(want);
    let n64 = i64::try_from(n).unwrap_or(0);
    *conn -= n64;
    *stream -= n64;
    n
}

fn header_frames(stream_id: u32, block: &[u8], end_stream: bool, max_frame: usize) -> Vec<Frame<'_>> {
    let mut chunks = block.chunks(max_frame.max(1));
    let first = chunks.next().unwrap_or_default();
    let mut frames = vec![Frame::Headers {
        stream_id,
        fragment: first,
        end_stream,
        end_headers: block.len() <= max_frame,
        priority: None,
        padding: None,
    }];
    let rest: Vec<&[u8]> = chunks.collect();
    let last = rest.len();
    for (i, fragment) in rest.into_iter().enumerate() {
        frames.push(Frame::Continuation { stream_id, fragment, end_headers: i + 1 == last });
    }
    frames
}

fn data_frames(stream_id: u32, data: &[u8], end_stream: bool, max_frame: usize) -> Vec<Frame<'_>> {
    if data.is_empty() {
        return vec![Frame::Data { stream_id, data, end_stream, padding: None }];
    }
    let n = data.len().div_ceil(max_frame.max(1));
    data.chunks(max_frame.max(1))
        .enumerate()
        .map(|(i, chunk)| Frame::Data {
            stream_id,
            data: chunk,
            end_stream: end_stream && i + 1 == n,
            padding: None,
        })
        .collect()
}

/// Sends `body[sent..]`, waiting for WINDOW_UPDATEs as needed. Stops early, without error,
/// when the peer closed or reset the stream: the response tells the outcome.
fn send_body(
    shared: &Shared,
    stream_id: u32,
    body: &[u8],
    mut sent: usize,
    deadline: Option<Instant>,
) -> Result<(), Error> {
    while sent < body.len() {
        let mut st = shared.state();
        let (n, end, max_frame) = loop {
            if let Some(e) = &st.closed {
                return Err(Error::Connection(e.clone()));
            }
            let max_frame = usize::try_from(st.peer.max_frame_size).unwrap_or(16_384);
            let State { streams, send_window, .. } = &mut *st;
            let Some(slot) = streams.get_mut(&stream_id).filter(|s| !s.remote_closed) else {
                return Ok(());
            };
            let n = take_window(send_window, &mut slot.send_window, (body.len() - sent).min(MAX_WRITE));
            if n > 0 {
                let end = sent + n == body.len();
                slot.local_closed = end;
                break (n, end, max_frame);
            }
            let (g, in_time) = shared.wait(st, deadline);
            st = g;
            if !in_time {
                return Err(Error::Timeout);
            }
        };
        drop(st);
        let chunk = body.get(sent..sent + n).unwrap_or_default();
        shared.write(&data_frames(stream_id, chunk, end, max_frame)).map_err(Error::Connection)?;
        sent += n;
    }
    Ok(())
}

/// Collects the response: optional 1xx headers, headers, DATA, optional trailers.
fn receive(events: &Receiver<Event>, stream_id: u32, opts: &RequestOptions) -> Result<Response, Error> {
    let malformed = |what| Error::Malformed { stream_id, what };
    let mut response: Option<Response> = None;
    loop {
        let event = match opts.deadline {
            Some(d) => events.recv_deadline(d).map_err(|e| match e {
                RecvTimeoutError::Timeout => Error::Timeout,
                RecvTimeoutError::Disconnected => Error::Connection(Arc::new(ConnectionError::Closed)),
            })?,
            None => events.recv().map_err(|_| Error::Connection(Arc::new(ConnectionError::Closed)))?,
        };
        match (event, response.as_mut()) {
            (Event::Failed(e), _) => return Err(e),
            (Event::Headers { headers, end_stream }, None) => {
                let (status, headers) = split_status(headers).map_err(malformed)?;
                if (100..200).contains(&status) && !end_stream {
                    continue; // informational; the final headers follow
                }
                let r = Response { status, headers, body: Vec::new(), trailers: Vec::new() };
                if end_stream {
                    return Ok(r);
                }
                response = Some(r);
            }
            (Event::Headers { headers, end_stream }, Some(r)) => {
                if !end_stream {
                    return Err(malformed(Malformed::TrailersWithoutEndStream));
                }
                if headers.iter().any(Header::is_pseudo) {
                    return Err(malformed(Malformed::PseudoHeaderInTrailers));
                }
                check_names(&headers).map_err(malformed)?;
                r.trailers = headers;
                return Ok(response.unwrap_or_default());
            }
            (Event::Data { .. }, None) => return Err(malformed(Malformed::DataBeforeHeaders)),
            (Event::Data { data, end_stream }, Some(r)) => {
                if r.body.len() + data.len() > opts.max_body {
                    return Err(Error::BodyTooLarge { stream_id, limit: opts.max_body });
                }
                r.body.extend_from_slice(&data);
                if end_stream {
                    return Ok(response.unwrap_or_default());
                }
            }
        }
    }
}

/// Takes `:status` out of response headers; no other pseudo-header is allowed.
fn split_status(headers: Vec<Header>) -> Result<(u16, Vec<Header>), Malformed> {
    let mut status = None;
    let mut rest = Vec::with_capacity(headers.len());
    for h in headers {
        if h.name == b":status" && status.is_none() && rest.is_empty() {
            let digits = std::str::from_utf8(&h.value).ok().filter(|s| s.len() == 3);
            status = Some(digits.and_then(|s| s.parse::<u16>().ok()).ok_or(Malformed::BadStatus)?);
        } else if h.is_pseudo() {
            return Err(Malformed::BadHeaderName);
        } else {
            rest.push(h);
        }
    }
    check_names(&rest)?;
    Ok((status.ok_or(Malformed::MissingStatus)?, rest))
}

/// Field names must be non-empty and lowercase (RFC 9113 section 8.2.1).
fn check_names(headers: &[Header]) -> Result<(), Malformed> {
    let bad = |h: &Header| h.name.is_empty() || h.name.iter().any(|b| b.is_ascii_uppercase());
    if headers.iter().any(bad) { Err(Malformed::BadHeaderName) } else { Ok(()) }
}

/// Removes the stream's slot when the request ends, however it ends; a stream that is not
/// closed in both directions is reset so the peer stops working on it.
struct StreamGuard<'a> {
    shared: &'a Shared,
    stream_id: u32,
    reset_code: ErrorCode,
}

impl Drop for StreamGuard<'_> {
    fn drop(&mut self) {
        let mut st = self.shared.state();
        let slot = st.streams.remove(&self.stream_id);
        let open = st.closed.is_none();
        drop(st);
        self.shared.changed.notify_all();
        if let Some(slot) = slot
            && open
            && !(slot.local_closed && slot.remote_closed)
        {
            let rst = Frame::RstStream { stream_id: self.stream_id, code: self.reset_code };
            let _ = self.shared.write(&[rst]);
        }
    }
}
