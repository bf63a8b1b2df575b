//! kubectl's port-forward over WebSocket: SPDY tunnelled inside a WebSocket whose subprotocol
//! is `SPDY/3.1+portforward.k8s.io`, as upstream's kubelet serves it under
//! `ExtendWebSocketsToKubelet` (apiserver's `TunnelingHandler`).
//!
//! The runtime gets a plain SPDY upgrade (the client's request without its WebSocket fields,
//! `POST`, `Upgrade: SPDY/3.1`, the tunnelled protocols without their `SPDY/3.1+` prefix);
//! once it switched, the client gets a WebSocket `101` naming the protocol the runtime chose,
//! and from then on each binary message from the client is SPDY bytes for the runtime, and the
//! runtime's bytes go back as binary messages. We never look inside the SPDY.
#![forbid(unsafe_code)]

use std::io::{Cursor, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::sync::Mutex;

use super::error::StreamError;
use super::head::{RequestHead, RuntimeUrl, parse_response_head};
use super::proxy::{Proxied, ProxyConfig, connect, read_response};
use super::relay::Conn;
use super::session::{ToClient, run_session, send_runtime};
use super::proxy::refuse;
use super::websocket::{self, Message};

/// The prefix of a tunnelling WebSocket subprotocol.
const TUNNEL_PREFIX: &str = "SPDY/3.1+";
/// How much of the runtime's output goes into one message.
const CHUNK: usize = 32 * 1024;

/// The SPDY protocols a tunnelling request offers, prefix removed (upstream's
/// `spdyProtocolsFromWebsocketProtocols`).
pub fn tunnelled_protocols(head: &RequestHead) -> Vec<String> {
    head.header_values("Sec-WebSocket-Protocol")
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| p.ends_with(".k8s.io"))
        .filter_map(|p| p.strip_prefix(TUNNEL_PREFIX))
        .map(str::to_string)
        .collect()
}

/// The SPDY upgrade request for the runtime, made from the client's WebSocket request.
pub fn spdy_request(head: &RequestHead, protocols: &[String], url: &RuntimeUrl) -> Vec<u8> {
    let websocket_fields =
        ["Sec-WebSocket-Protocol", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Upgrade"];
    let mut spdy = head.clone();
    spdy.method = "POST".into();
    spdy.headers.retain(|(name, _)| {
        !websocket_fields.iter().chain(&["X-Stream-Protocol-Version"]).any(|f| name.eq_ignore_ascii_case(f))
    });
    spdy.headers.push(("Upgrade".into(), "SPDY/3.1".into()));
    for protocol in protocols {
        spdy.headers.push(("X-Stream-Protocol-Version".into(), protocol.clone()));
    }
    spdy.backend_request(url)
}

/// The first value of a response head's field.
fn response_field<'a>(head: &'a [u8], name: &str) -> Option<&'a str> {
    let text = std::str::from_utf8(head).ok()?;
    text.split("\r\n")
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

/// Serves one tunnelling port-forward request by way of the runtime's SPDY server at `url`.
/// Like [`super::proxy_upgrade`]: `Err` means nothing was written to the client.
pub fn tunnel(
    client: &mut dyn Conn,
    head: &RequestHead,
    url: &str,
    cfg: &ProxyConfig,
) -> Result<Proxied, StreamError> {
    let handshake = |reason| StreamError::WebSocketHandshake { reason };
    let key = websocket::client_key(head).map_err(handshake)?;
    let protocols = tunnelled_protocols(head);
    if protocols.is_empty() {
        return Err(handshake("no tunneling spdy protocols provided"));
    }
    let url = RuntimeUrl::parse(url).map_err(StreamError::Url)?;
    let mut runtime = connect(&url, cfg.handshake_timeout)?;
    runtime.write_all(&spdy_request(head, &protocols, &url)).map_err(StreamError::Send)?;
    let (status, buffered, response_len) = read_response(&mut runtime, cfg.handshake_timeout)?;
    if status != 101 {
        return refuse(client, &mut runtime, status, &buffered, response_len);
    }
    let head_len = parse_response_head(&buffered).ok().flatten().map_or(buffered.len(), |h| h.len);
    let (runtime_head, leftover) = buffered.split_at(head_len.min(buffered.len()));
    let chosen = response_field(runtime_head, "X-Stream-Protocol-Version").unwrap_or_default();
    let protocol_field = if chosen.is_empty() {
        String::new()
    } else {
        format!("Sec-WebSocket-Protocol: {TUNNEL_PREFIX}{chosen}\r\n")
    };
    let _ = runtime.set_read_timeout(None);
    let _ = runtime.set_write_timeout(None);
    let switch = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n{protocol_field}\r\n",
        websocket::accept_value(key)
    );
    if let Err(e) = client.write_all(switch.as_bytes()).and_then(|()| client.flush()) {
        let _ = runtime.shutdown(std::net::Shutdown::Both);
        return Ok(Proxied::ClientGone(e));
    }
    let from_runtime = Cursor::new(leftover.to_vec()).chain(runtime.try_clone().map_err(StreamError::Send)?);
    run_session(client, runtime, cfg, client_to_runtime, move |_, to_client| {
        runtime_to_client(from_runtime, to_client)
    })
}

/// Binary messages are the tunnel's bytes; anything else ends it.
fn client_to_runtime(
    mut from_client: UnixStream,
    to_runtime: &Mutex<TcpStream>,
    to_client: &Mutex<ToClient>,
) {
    let mut reader = websocket::Reader::default();
    loop {
        match reader.next(&mut from_client) {
            Ok(Some(Message::Binary(bytes))) => {
                if send_runtime(to_runtime, &bytes).is_err() {
                    break;
                }
            }
            Ok(Some(Message::Ping(payload))) => {
                if ToClient::send(to_client, &websocket::frame(websocket::OP_PONG, &payload)).is_err() {
                    break;
                }
            }
            Ok(Some(Message::Pong(_))) => {}
            Ok(Some(Message::Close(_) | Message::Text(_))) => {
                ToClient::close(to_client);
                break;
            }
            Ok(None) => break,
            Err(e) => {
                log::debug!("port-forward tunnel: {e}");
                break;
            }
        }
    }
}

fn runtime_to_client(mut from_runtime: impl Read, to_client: &Mutex<ToClient>) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match from_runtime.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let message = websocket::frame(websocket::OP_BINARY, buf.get(..n).unwrap_or_default());
        if ToClient::send(to_client, &message).is_err() {
            break;
        }
    }
}

#[cfg(test)]
#[path = "tunnel_tests.rs"]
mod tests;
