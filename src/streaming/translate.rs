//! kubectl's `v5.channel.k8s.io` WebSocket exec and attach, translated to the runtime's SPDY
//! (`v4.channel.k8s.io`), as upstream's kubelet does under `ExtendWebSocketsToKubelet`: the
//! runtime's streaming server (containerd 1.6 here) does not know v5, whose addition is the
//! client's "close this channel" message (stdin EOF).
//!
//! ```text
//!   client ══TLS══ relay ══ socket pair ══┬── up:   WS messages ──► SPDY DATA ──┐
//!   (the server's connection)             └── down: WS messages ◄── SPDY DATA ◄─┴─ runtime
//!
//!   channels: 0 stdin, 1 stdout, 2 stderr, 3 error (the exit status as a JSON Status),
//!             4 resize; v5: [255, ch] closes channel ch (FIN on its SPDY stream)
//! ```
//!
//! Setup runs on the caller's thread: the runtime's SPDY upgrade, one SPDY stream per channel
//! (the runtime expects exactly those of its CRI request), the runtime's reply to each, then
//! the client's `101`. The TLS connection stays with the caller's relay (it cannot be read and
//! written from two threads); two threads translate between a socket pair and the runtime.
//! The session ends when the runtime closes (a close frame goes to the client) or the client
//! goes or closes (the runtime connection is shut).
#![forbid(unsafe_code)]

use std::io::{Cursor, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::sync::Mutex;
use std::time::Instant;

use super::error::StreamError;
use super::head::{RequestHead, RuntimeUrl, parse_response_head};
use super::options::StreamFlags;
use super::proxy::{Proxied, ProxyConfig, connect, read_response, refuse};
use super::relay::Conn;
use super::session::{ToClient, run_session, send_runtime};
use super::spdy::{self, Frame};
use super::websocket::{self, Message};

/// The subprotocol we translate.
pub const V5_PROTOCOL: &str = "v5.channel.k8s.io";
/// The runtime side's protocol.
const V4_PROTOCOL: &str = "v4.channel.k8s.io";
/// v5's message that closes a channel: `[CLOSE_CHANNEL, channel]`.
const CLOSE_CHANNEL: u8 = 255;
const STDIN: u8 = 0;
const RESIZE: u8 = 4;
/// The most of the runtime's output we hold before the client's `101` (it sends none then).
const MAX_EARLY: usize = 1024 * 1024;

/// Upstream's `IsWebSocketRequestWithStreamCloseProtocol`: a WebSocket upgrade offering v5.
pub fn wants_translation(head: &RequestHead) -> bool {
    head.is_websocket()
        && head
            .header_values("Sec-WebSocket-Protocol")
            .flat_map(|v| v.split(','))
            .any(|p| p.trim() == V5_PROTOCOL)
}

/// The SPDY streams of a session, in the order client-go opens them: (channel, stream type).
pub fn stream_plan(flags: StreamFlags) -> Vec<(u8, &'static str)> {
    let wanted = [
        (3, "error", true),
        (STDIN, "stdin", flags.stdin),
        (1, "stdout", flags.stdout),
        (2, "stderr", flags.stderr),
        (RESIZE, "resize", flags.tty),
    ];
    wanted.into_iter().filter(|(_, _, on)| *on).map(|(channel, kind, _)| (channel, kind)).collect()
}

/// Channel numbers and the SPDY stream IDs that carry them (1, 3, 5, ...: a client's are odd).
#[derive(Debug, Clone)]
struct Channels(Vec<(u8, u32)>);

impl Channels {
    fn new(plan: &[(u8, &str)]) -> Channels {
        Channels((1u32..).step_by(2).zip(plan).map(|(id, (channel, _))| (*channel, id)).collect())
    }

    fn stream(&self, channel: u8) -> Option<u32> {
        self.0.iter().find(|(c, _)| *c == channel).map(|(_, id)| *id)
    }

    fn channel(&self, stream: u32) -> Option<u8> {
        self.0.iter().find(|(_, id)| *id == stream).map(|(c, _)| *c)
    }
}

/// Serves one v5 WebSocket request by way of the runtime's SPDY server at `url`, opening the
/// streams `flags` asked the runtime for. Like [`super::proxy_upgrade`]: `Err` means nothing
/// was written to the client.
pub fn translate(
    client: &mut dyn Conn,
    head: &RequestHead,
    url: &str,
    flags: StreamFlags,
    cfg: &ProxyConfig,
) -> Result<Proxied, StreamError> {
    let key = websocket::client_key(head).map_err(|reason| StreamError::WebSocketHandshake { reason })?;
    let url = RuntimeUrl::parse(url).map_err(StreamError::Url)?;
    let mut runtime = connect(&url, cfg.handshake_timeout)?;
    let upgrade = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\
         X-Stream-Protocol-Version: {V4_PROTOCOL}\r\nContent-Length: 0\r\n\r\n",
        url.path_and_query, url.authority
    );
    runtime.write_all(upgrade.as_bytes()).map_err(StreamError::Send)?;
    let (status, buffered, response_len) = read_response(&mut runtime, cfg.handshake_timeout)?;
    if status != 101 {
        return refuse(client, &mut runtime, status, &buffered, response_len);
    }
    let head_len = parse_response_head(&buffered).ok().flatten().map_or(buffered.len(), |h| h.len);
    let leftover = buffered.get(head_len..).unwrap_or_default().to_vec();
    let runtime_read = runtime.try_clone().map_err(StreamError::Send)?;
    let mut from_runtime = Cursor::new(leftover).chain(runtime_read);

    let plan = stream_plan(flags);
    let channels = Channels::new(&plan);
    let mut writer = spdy::Writer::default();
    let mut opening = Vec::new();
    for ((_, kind), (_, id)) in plan.iter().zip(&channels.0) {
        opening.extend(writer.syn_stream(*id, &[("streamType", kind)]));
    }
    runtime.write_all(&opening).map_err(StreamError::Send)?;
    let early = await_replies(&mut from_runtime, &mut runtime, &channels, cfg)?;
    let _ = runtime.set_read_timeout(None);
    let _ = runtime.set_write_timeout(None);

    let switch = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: {V5_PROTOCOL}\r\n\r\n",
        websocket::accept_value(key)
    );
    let mut first = switch.into_bytes();
    for frame in early {
        first.extend(to_client_bytes(&channels, frame).unwrap_or_default());
    }
    if let Err(e) = client.write_all(&first).and_then(|()| client.flush()) {
        let _ = runtime.shutdown(Shutdown::Both);
        return Ok(Proxied::ClientGone(e));
    }
    let up_channels = channels.clone();
    run_session(
        client,
        runtime,
        cfg,
        move |from_client, to_runtime, to_client| {
            client_to_runtime(from_client, &up_channels, to_runtime, to_client)
        },
        move |to_runtime, to_client| runtime_to_client(from_runtime, &channels, to_runtime, to_client),
    )
}

/// Reads until the runtime replied to every stream; returns the data frames that came first.
fn await_replies(
    input: &mut dyn Read,
    runtime: &mut TcpStream,
    channels: &Channels,
    cfg: &ProxyConfig,
) -> Result<Vec<Frame>, StreamError> {
    let setup = |reason: String| StreamError::SpdySetup { reason };
    let deadline = Instant::now() + cfg.handshake_timeout;
    let mut waiting: Vec<u32> = channels.0.iter().map(|(_, id)| *id).collect();
    let mut early = Vec::new();
    let mut early_bytes = 0usize;
    while !waiting.is_empty() {
        if Instant::now() >= deadline {
            return Err(setup(format!("no reply for streams {waiting:?}")));
        }
        let frame = spdy::read_frame(input).map_err(|e| setup(e.to_string()))?;
        match frame {
            None => return Err(setup("the runtime closed the connection".into())),
            Some(Frame::Control { kind: spdy::TYPE_SYN_REPLY, stream_id: Some(id), .. }) => {
                waiting.retain(|w| *w != id);
            }
            Some(Frame::Control { kind: spdy::TYPE_RST_STREAM, stream_id, .. }) => {
                return Err(setup(format!("the runtime reset stream {stream_id:?}")));
            }
            Some(Frame::Control { kind: spdy::TYPE_GOAWAY, .. }) => {
                return Err(setup("the runtime sent GOAWAY".into()));
            }
            Some(Frame::Control { kind: spdy::TYPE_PING, stream_id: Some(id), .. }) => {
                runtime.write_all(&spdy::ping(id)).map_err(StreamError::Send)?;
            }
            Some(Frame::Control { .. }) => {}
            Some(data @ Frame::Data { .. }) => {
                early_bytes = early_bytes.saturating_add(frame_len(&data));
                if early_bytes > MAX_EARLY {
                    return Err(setup("too much output before the streams were set up".into()));
                }
                early.push(data);
            }
        }
    }
    Ok(early)
}

fn frame_len(frame: &Frame) -> usize {
    match frame {
        Frame::Data { data, .. } => data.len(),
        Frame::Control { .. } => 0,
    }
}

/// The WebSocket bytes for a runtime frame: output channels only, non-empty data only.
fn to_client_bytes(channels: &Channels, frame: Frame) -> Option<Vec<u8>> {
    let Frame::Data { stream_id, data, .. } = frame else { return None };
    let channel = channels.channel(stream_id).filter(|c| matches!(c, 1..=3))?;
    if data.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    websocket::write_channel(&mut out, channel, &data).ok()?;
    Some(out)
}

/// The client's messages to the runtime's streams, until the client closes or goes.
fn client_to_runtime(
    mut from_client: UnixStream,
    channels: &Channels,
    to_runtime: &Mutex<TcpStream>,
    to_client: &Mutex<ToClient>,
) {
    let mut reader = websocket::Reader::default();
    let mut finished: Vec<u32> = Vec::new();
    loop {
        let message = match reader.next(&mut from_client) {
            Ok(Some(message)) => message,
            Ok(None) => break,
            Err(e) => {
                log::debug!("websocket session: {e}");
                break;
            }
        };
        let frames = match message {
            Message::Binary(payload) => match payload.split_first() {
                Some((&CLOSE_CHANNEL, rest)) => {
                    let id =
                        rest.first().and_then(|c| channels.stream(*c)).filter(|id| !finished.contains(id));
                    id.map(|id| {
                        finished.push(id);
                        spdy::data_frames(id, &[], true)
                    })
                }
                Some((&channel, data)) if channel == STDIN || channel == RESIZE => channels
                    .stream(channel)
                    .filter(|id| !finished.contains(id) && !data.is_empty())
                    .map(|id| spdy::data_frames(id, data, false)),
                _ => None,
            },
            Message::Ping(payload) => {
                if ToClient::send(to_client, &websocket::frame(websocket::OP_PONG, &payload)).is_err() {
                    break;
                }
                None
            }
            Message::Text(_) | Message::Pong(_) => None,
            Message::Close(_) => {
                ToClient::close(to_client);
                break;
            }
        };
        if let Some(frames) = frames
            && send_runtime(to_runtime, &frames).is_err()
        {
            break;
        }
    }
}

/// The runtime's output to the client's channels, until the runtime closes.
fn runtime_to_client(
    mut from_runtime: impl Read,
    channels: &Channels,
    to_runtime: &Mutex<TcpStream>,
    to_client: &Mutex<ToClient>,
) {
    loop {
        match spdy::read_frame(&mut from_runtime) {
            Ok(Some(Frame::Control { kind: spdy::TYPE_PING, stream_id: Some(id), .. })) => {
                if send_runtime(to_runtime, &spdy::ping(id)).is_err() {
                    break;
                }
            }
            Ok(Some(frame)) => {
                if let Some(bytes) = to_client_bytes(channels, frame)
                    && ToClient::send(to_client, &bytes).is_err()
                {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                log::debug!("websocket session: runtime side: {e}");
                break;
            }
        }
    }
}

#[cfg(test)]
#[path = "translate_tests.rs"]
mod tests;
