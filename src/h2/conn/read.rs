//! The reader thread: owns the read half, decodes frames and dispatches them to streams.

use std::io::Read;
use std::sync::Arc;

use super::shared::{Event, Shared};
use super::socket::Socket;
use crate::h2::error::{ConnectionError, Error, ErrorCode, ProtocolError, Refusal};
use crate::h2::frame::{self, DEFAULT_MAX_FRAME_SIZE, Frame, MAX_WINDOW, Setting};
use crate::h2::hpack::{DecodeError, Decoder};

/// A header block waiting for its CONTINUATION frames.
struct PendingBlock {
    stream_id: u32,
    end_stream: bool,
    block: Vec<u8>,
}

/// Connection-level state that only the reader thread touches.
struct Dispatch {
    shared: Arc<Shared>,
    decoder: Decoder,
    pending: Option<PendingBlock>,
    seen_settings: bool,
    /// Our connection receive window and what we consumed without a WINDOW_UPDATE yet.
    recv_window: i64,
    recv_unacked: u32,
    /// The error code of a GOAWAY that ended the connection with an error.
    goaway_error: Option<(ErrorCode, String)>,
}

/// The thread body: runs until the socket fails or the peer breaks the protocol.
pub fn run(shared: Arc<Shared>, mut sock: Socket) {
    let mut d = Dispatch {
        decoder: Decoder::new(
            usize::try_from(shared.config.header_table_size).unwrap_or(4096),
            shared.config.max_header_list_size(),
        ),
        recv_window: i64::from(shared.config.connection_window),
        shared,
        pending: None,
        seen_settings: false,
        recv_unacked: 0,
        goaway_error: None,
    };
    let error = d.read_loop(&mut sock);
    let error = match (error, d.goaway_error.take()) {
        (ConnectionError::Closed, Some((code, debug))) => ConnectionError::GoAway { code, debug },
        (e, _) => e,
    };
    log::debug!("h2: connection ended: {error}");
    if let ConnectionError::Protocol(e) = &error {
        // Tell the peer why. This thread holds no lock here, so waiting for the writer is
        // safe; a writer blocked on a full socket gives up after the write timeout.
        let debug = e.to_string();
        let goaway = Frame::GoAway { last_stream_id: 0, code: e.code(), debug: debug.as_bytes() };
        let _ = d.shared.writer().write(&[], &[goaway]);
    }
    d.shared.fail(error);
}

impl Dispatch {
    fn read_loop(&mut self, sock: &mut Socket) -> ConnectionError {
        let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let mut used = 0;
            loop {
                let rest = buf.get(used..).unwrap_or_default();
                match frame::decode(rest, DEFAULT_MAX_FRAME_SIZE) {
                    Ok(Some((f, n))) => {
                        log::trace!("h2: recv {f:?}");
                        if let Err(e) = self.handle(f) {
                            return e;
                        }
                        used += n;
                    }
                    Ok(None) => break,
                    Err(e) => return ConnectionError::Protocol(ProtocolError::Frame(e)),
                }
            }
            buf.drain(..used);
            match sock.read(&mut chunk) {
                Ok(0) => return ConnectionError::Closed,
                Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(source) => return ConnectionError::Io { op: "read", source },
            }
        }
    }

    fn handle(&mut self, f: Frame<'_>) -> Result<(), ConnectionError> {
        if !self.seen_settings && !matches!(f, Frame::Settings { ack: false, .. }) {
            // The server preface is a SETTINGS frame (RFC 9113 section 3.4).
            return Err(protocol(ProtocolError::MissingPreface));
        }
        if let Some(p) = &self.pending
            && !matches!(f, Frame::Continuation { stream_id, .. } if stream_id == p.stream_id)
        {
            return Err(protocol(ProtocolError::ExpectedContinuation { stream_id: p.stream_id }));
        }
        match f {
            Frame::Data { stream_id, data, end_stream, padding } => {
                let flow_len = data.len() + padding.map_or(0, |p| usize::from(p) + 1);
                self.on_data(stream_id, data, end_stream, flow_len)
            }
            Frame::Headers { stream_id, fragment, end_stream, end_headers, .. } => {
                self.check_not_idle(stream_id)?;
                self.pending = Some(PendingBlock { stream_id, end_stream, block: Vec::new() });
                self.on_fragment(stream_id, fragment, end_headers)
            }
            Frame::Continuation { stream_id, fragment, end_headers } => {
                if self.pending.is_none() {
                    return Err(protocol(ProtocolError::UnexpectedContinuation { stream_id }));
                }
                self.on_fragment(stream_id, fragment, end_headers)
            }
            Frame::RstStream { stream_id, code } => self.on_reset(stream_id, code),
            Frame::Settings { ack: false, params } => self.on_settings(&params),
            Frame::PushPromise { stream_id, .. } => Err(protocol(ProtocolError::PushPromise { stream_id })),
            Frame::Ping { ack: false, data } => self.write(&[Frame::Ping { ack: true, data }]),
            Frame::GoAway { last_stream_id, code, debug } => {
                self.on_goaway(last_stream_id, code, debug);
                Ok(())
            }
            Frame::WindowUpdate { stream_id, increment } => self.on_window_update(stream_id, increment),
            // Allowed in any stream state, even idle; RFC 9113 deprecates priorities.
            Frame::Priority { .. } => Ok(()),
            // Acks of our SETTINGS and PINGs, and unknown frame types, need nothing.
            Frame::Settings { ack: true, .. } | Frame::Ping { ack: true, .. } | Frame::Unknown { .. } => {
                Ok(())
            }
        }
    }

    fn check_not_idle(&self, stream_id: u32) -> Result<(), ConnectionError> {
        if self.shared.state().is_idle(stream_id) {
            return Err(protocol(ProtocolError::IdleStream { stream_id }));
        }
        Ok(())
    }

    fn write(&self, frames: &[Frame<'_>]) -> Result<(), ConnectionError> {
        self.shared.writer().write(&[], frames)
    }

    fn on_data(
        &mut self,
        stream_id: u32,
        data: &[u8],
        end_stream: bool,
        flow_len: usize,
    ) -> Result<(), ConnectionError> {
        let flow = u32::try_from(flow_len).unwrap_or(u32::MAX);
        self.recv_window -= i64::from(flow);
        if self.recv_window < 0 {
            return Err(protocol(ProtocolError::RecvWindowExceeded { stream_id: 0 }));
        }
        self.recv_unacked = self.recv_unacked.saturating_add(flow);
        let mut updates = Vec::new();
        let conn_window = self.shared.config.connection_window;
        if self.recv_unacked >= conn_window / 2 {
            updates.push(Frame::WindowUpdate { stream_id: 0, increment: self.recv_unacked });
            self.recv_window += i64::from(self.recv_unacked);
            self.recv_unacked = 0;
        }
        {
            let mut st = self.shared.state();
            if st.is_idle(stream_id) {
                return Err(protocol(ProtocolError::IdleStream { stream_id }));
            }
            let stream_window = self.shared.config.initial_window_size;
            // A stream we already closed: its data still counted for the connection above.
            if let Some(slot) = st.streams.get_mut(&stream_id).filter(|s| !s.remote_closed) {
                slot.recv_window -= i64::from(flow);
                if slot.recv_window < 0 {
                    return Err(protocol(ProtocolError::RecvWindowExceeded { stream_id }));
                }
                let _ = slot.events.send(Event::Data { data: data.to_vec(), end_stream });
                slot.remote_closed = end_stream;
                slot.recv_unacked = slot.recv_unacked.saturating_add(flow);
                if !end_stream && slot.recv_unacked >= stream_window / 2 {
                    updates.push(Frame::WindowUpdate { stream_id, increment: slot.recv_unacked });
                    slot.recv_window += i64::from(slot.recv_unacked);
                    slot.recv_unacked = 0;
                }
            }
        }
        if end_stream {
            self.shared.changed.notify_all();
        }
        if updates.is_empty() { Ok(()) } else { self.write(&updates) }
    }

    fn on_fragment(
        &mut self,
        stream_id: u32,
        fragment: &[u8],
        end_headers: bool,
    ) -> Result<(), ConnectionError> {
        let limit = self.shared.config.max_header_block();
        let Some(p) = self.pending.as_mut() else {
            return Err(protocol(ProtocolError::UnexpectedContinuation { stream_id }));
        };
        if p.block.len() + fragment.len() > limit {
            return Err(protocol(ProtocolError::HeaderBlockTooLarge { stream_id, limit }));
        }
        p.block.extend_from_slice(fragment);
        if !end_headers {
            return Ok(());
        }
        let Some(p) = self.pending.take() else { return Ok(()) };
        // Decode even for streams we closed: the dynamic table must stay in sync.
        let event = match self.decoder.decode(&p.block) {
            Ok(headers) => Event::Headers { headers, end_stream: p.end_stream },
            Err(DecodeError::HeaderListTooLarge { limit }) => {
                Event::Failed(Error::HeaderListTooLarge { stream_id, limit })
            }
            Err(e) => return Err(protocol(ProtocolError::Compression(e))),
        };
        let mut st = self.shared.state();
        if let Some(slot) = st.streams.get_mut(&stream_id).filter(|s| !s.remote_closed) {
            slot.remote_closed = p.end_stream || matches!(event, Event::Failed(_));
            let _ = slot.events.send(event);
        }
        drop(st);
        if p.end_stream {
            self.shared.changed.notify_all();
        }
        Ok(())
    }

    fn on_reset(&mut self, stream_id: u32, code: ErrorCode) -> Result<(), ConnectionError> {
        let mut st = self.shared.state();
        if st.is_idle(stream_id) {
            return Err(protocol(ProtocolError::IdleStream { stream_id }));
        }
        if let Some(slot) = st.streams.get_mut(&stream_id) {
            slot.remote_closed = true;
            slot.local_closed = true;
            let error = match code {
                ErrorCode::RefusedStream => Error::Refused(Refusal::RefusedStream { stream_id }),
                code => Error::StreamReset { stream_id, code },
            };
            let _ = slot.events.send(Event::Failed(error));
        }
        drop(st);
        self.shared.changed.notify_all();
        Ok(())
    }

    fn on_settings(&mut self, params: &[Setting]) -> Result<(), ConnectionError> {
        self.seen_settings = true;
        {
            let mut st = self.shared.state();
            for &p in params {
                match p {
                    Setting::EnablePush(true) => return Err(protocol(ProtocolError::ServerEnabledPush)),
                    Setting::MaxConcurrentStreams(n) => st.peer.max_concurrent_streams = n,
                    Setting::MaxFrameSize(n) => st.peer.max_frame_size = n,
                    Setting::InitialWindowSize(n) => {
                        let delta = i64::from(n) - i64::from(st.peer.initial_window_size);
                        st.peer.initial_window_size = n;
                        for (&stream_id, slot) in st.streams.iter_mut() {
                            slot.send_window += delta;
                            if slot.send_window > i64::from(MAX_WINDOW) {
                                return Err(protocol(ProtocolError::WindowOverflow { stream_id }));
                            }
                        }
                    }
                    // Our encoder never uses the dynamic table, and we never push.
                    Setting::HeaderTableSize(_)
                    | Setting::EnablePush(false)
                    | Setting::MaxHeaderListSize(_)
                    | Setting::Unknown { .. } => {}
                }
            }
        }
        self.shared.changed.notify_all();
        self.write(&[Frame::Settings { ack: true, params: Vec::new() }])
    }

    fn on_goaway(&mut self, last_stream_id: u32, code: ErrorCode, debug: &[u8]) {
        let debug = String::from_utf8_lossy(debug).into_owned();
        log::debug!("h2: GOAWAY last stream {last_stream_id} {code} {debug:?}");
        if code != ErrorCode::NoError {
            self.goaway_error = Some((code, debug));
        }
        let mut st = self.shared.state();
        let last = st.going_away.map_or(last_stream_id, |l| l.min(last_stream_id));
        st.going_away = Some(last);
        // Streams above last-stream-id were not processed: fail them as retriable.
        st.streams.retain(|&stream_id, slot| {
            if stream_id <= last {
                return true;
            }
            let refusal = Refusal::GoAway { stream_id, last_stream_id: last };
            let _ = slot.events.send(Event::Failed(Error::Refused(refusal)));
            false
        });
        drop(st);
        self.shared.changed.notify_all();
    }

    fn on_window_update(&mut self, stream_id: u32, increment: u32) -> Result<(), ConnectionError> {
        let mut st = self.shared.state();
        let window = if stream_id == 0 {
            Some(&mut st.send_window)
        } else if st.is_idle(stream_id) {
            return Err(protocol(ProtocolError::IdleStream { stream_id }));
        } else {
            st.streams.get_mut(&stream_id).map(|s| &mut s.send_window)
        };
        if let Some(w) = window {
            *w += i64::from(increment);
            if *w > i64::from(MAX_WINDOW) {
                return Err(protocol(ProtocolError::WindowOverflow { stream_id }));
            }
        }
        drop(st);
        self.shared.changed.notify_all();
        Ok(())
    }
}

fn protocol(e: ProtocolError) -> ConnectionError {
    ConnectionError::Protocol(e)
}
