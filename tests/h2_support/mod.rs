//! A small scripted HTTP/2 server for testing our client: tests drive it frame by frame,
//! using our own frame codec and HPACK (their own unit tests pin them to the RFCs).

#![allow(dead_code, clippy::unwrap_used)]

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::thread;
use std::time::{Duration, Instant};

use rkubelet::h2::frame::{self, Frame, MAX_FRAME_SIZE_LIMIT, Setting};
use rkubelet::h2::hpack::{Decoder, Encoder, Header};
use rkubelet::h2::{Config, Connection, Error, ErrorCode, RequestOptions, Response};

pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// What the client sent, with header blocks reassembled and decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Got {
    Headers {
        stream_id: u32,
        headers: Vec<Header>,
        end_stream: bool,
    },
    Data {
        stream_id: u32,
        data: Vec<u8>,
        end_stream: bool,
    },
    Settings {
        ack: bool,
        params: Vec<Setting>,
    },
    Ping {
        ack: bool,
        data: [u8; 8],
    },
    WindowUpdate {
        stream_id: u32,
        increment: u32,
    },
    RstStream {
        stream_id: u32,
        code: ErrorCode,
    },
    GoAway {
        last_stream_id: u32,
        code: ErrorCode,
    },
    /// The client closed the socket (or it broke).
    Closed,
    /// Nothing arrived within the read timeout.
    Quiet,
}

/// One complete request.
#[derive(Debug, Clone)]
pub struct Request {
    pub stream_id: u32,
    pub headers: Vec<Header>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|h| h.name == name.as_bytes())
            .map(|h| String::from_utf8_lossy(&h.value).into_owned())
    }
}

pub struct Peer {
    pub sock: UnixStream,
    buf: Vec<u8>,
    decoder: Decoder,
    /// Events `recv_request` skipped over, for tests that check them afterwards.
    pub skipped: Vec<Got>,
    /// Requests whose END_STREAM has not arrived yet.
    partial: Vec<Request>,
}

pub fn h(list: &[(&str, &str)]) -> Vec<Header> {
    list.iter().map(|(n, v)| Header::new(*n, *v)).collect()
}

impl Peer {
    /// A client connection and the peer on the other end of a socket pair.
    pub fn pair(config: Config) -> (Connection, Peer) {
        let (a, b) = UnixStream::pair().unwrap();
        let conn = Connection::start(a, config).unwrap();
        (conn, Peer::new(b))
    }

    pub fn accept(listener: &UnixListener) -> Peer {
        Peer::new(listener.accept().unwrap().0)
    }

    pub fn new(sock: UnixStream) -> Peer {
        sock.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Peer {
            sock,
            buf: Vec::new(),
            decoder: Decoder::new(4096, 1 << 20),
            skipped: Vec::new(),
            partial: Vec::new(),
        }
    }

    pub fn set_read_timeout(&self, t: Duration) {
        self.sock.set_read_timeout(Some(t)).unwrap();
    }

    /// Reads the preface and the client's SETTINGS and connection WINDOW_UPDATE, sends ours
    /// and acks theirs. Returns the client's SETTINGS parameters.
    pub fn handshake(&mut self, settings: Vec<Setting>) -> Vec<Setting> {
        self.read_preface();
        let Got::Settings { ack: false, params } = self.recv() else { panic!("expected SETTINGS") };
        self.send(&Frame::Settings { ack: false, params: settings });
        self.send(&Frame::Settings { ack: true, params: vec![] });
        params
    }

    pub fn read_preface(&mut self) {
        let mut preface = [0u8; 24];
        self.sock.read_exact(&mut preface).unwrap();
        assert_eq!(preface, PREFACE);
    }

    pub fn send(&mut self, f: &Frame<'_>) {
        let mut out = Vec::new();
        f.encode(&mut out).unwrap();
        self.send_raw(&out);
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.sock.write_all(bytes).unwrap();
    }

    /// HEADERS, split into CONTINUATIONs of `fragment` bytes when given.
    pub fn send_headers(
        &mut self,
        stream_id: u32,
        headers: &[(&str, &str)],
        end_stream: bool,
        fragment: Option<usize>,
    ) {
        let mut block = Vec::new();
        Encoder::new().encode(&h(headers), &mut block);
        let size = fragment.unwrap_or(block.len()).max(1);
        let chunks: Vec<&[u8]> = block.chunks(size).collect();
        let n = chunks.len();
        for (i, chunk) in chunks.into_iter().enumerate() {
            let end_headers = i + 1 == n;
            let f = if i == 0 {
                Frame::Headers {
                    stream_id,
                    fragment: chunk,
                    end_stream,
                    end_headers,
                    priority: None,
                    padding: None,
                }
            } else {
                Frame::Continuation { stream_id, fragment: chunk, end_headers }
            };
            self.send(&f);
        }
    }

    pub fn send_data(&mut self, stream_id: u32, data: &[u8], end_stream: bool) {
        self.send(&Frame::Data { stream_id, data, end_stream, padding: None });
    }

    /// A complete gRPC-style response: headers, one DATA frame, trailers.
    pub fn respond(&mut self, stream_id: u32, body: &[u8]) {
        self.send_headers(
            stream_id,
            &[(":status", "200"), ("content-type", "application/grpc")],
            false,
            None,
        );
        self.send_data(stream_id, body, false);
        self.send_headers(stream_id, &[("grpc-status", "0")], true, None);
    }

    /// The next frame from the client, decoded.
    pub fn recv(&mut self) -> Got {
        let mut pending: Option<(u32, bool, Vec<u8>)> = None;
        loop {
            let decoded = frame::decode(&self.buf, MAX_FRAME_SIZE_LIMIT).unwrap();
            let Some((f, used)) = decoded else {
                let mut chunk = [0u8; 65536];
                match self.sock.read(&mut chunk) {
                    Ok(0) => return Got::Closed,
                    Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                        return Got::Quiet;
                    }
                    Err(_) => return Got::Closed,
                }
                continue;
            };
            let got = match f {
                Frame::Headers { stream_id, fragment, end_stream, end_headers, .. } => {
                    pending = Some((stream_id, end_stream, fragment.to_vec()));
                    if end_headers { self.finish_block(&mut pending) } else { None }
                }
                Frame::Continuation { fragment, end_headers, .. } => {
                    pending.as_mut().expect("CONTINUATION without HEADERS").2.extend_from_slice(fragment);
                    if end_headers { self.finish_block(&mut pending) } else { None }
                }
                Frame::Data { stream_id, data, end_stream, .. } => {
                    Some(Got::Data { stream_id, data: data.to_vec(), end_stream })
                }
                Frame::Settings { ack, params } => Some(Got::Settings { ack, params }),
                Frame::Ping { ack, data } => Some(Got::Ping { ack, data }),
                Frame::WindowUpdate { stream_id, increment } => {
                    Some(Got::WindowUpdate { stream_id, increment })
                }
                Frame::RstStream { stream_id, code } => Some(Got::RstStream { stream_id, code }),
                Frame::GoAway { last_stream_id, code, .. } => Some(Got::GoAway { last_stream_id, code }),
                other => panic!("client sent an unexpected frame: {other:?}"),
            };
            self.buf.drain(..used);
            if let Some(got) = got {
                return got;
            }
        }
    }

    fn finish_block(&mut self, pending: &mut Option<(u32, bool, Vec<u8>)>) -> Option<Got> {
        let (stream_id, end_stream, block) = pending.take()?;
        let headers = self.decoder.decode(&block).unwrap();
        Some(Got::Headers { stream_id, headers, end_stream })
    }

    /// The next complete request (requests may interleave); `None` when the client went
    /// quiet for the read timeout. Other events go to `skipped`.
    pub fn next_request(&mut self) -> Option<Request> {
        loop {
            match self.recv() {
                Got::Headers { stream_id, headers, end_stream } => {
                    if let Some(i) = self.partial.iter().position(|r| r.stream_id == stream_id) {
                        // Trailers on a request: ends it.
                        assert!(end_stream, "request trailers without END_STREAM");
                        return Some(self.partial.remove(i));
                    }
                    let r = Request { stream_id, headers, body: Vec::new() };
                    if end_stream {
                        return Some(r);
                    }
                    self.partial.push(r);
                }
                Got::Data { stream_id, data, end_stream } => {
                    let i = self
                        .partial
                        .iter()
                        .position(|r| r.stream_id == stream_id)
                        .expect("DATA before HEADERS");
                    self.partial[i].body.extend_from_slice(&data);
                    if end_stream {
                        return Some(self.partial.remove(i));
                    }
                }
                Got::Quiet => return None,
                Got::Closed => panic!("connection closed while waiting for a request"),
                other => self.skipped.push(other),
            }
        }
    }

    pub fn recv_request(&mut self) -> Request {
        self.next_request().expect("client went quiet before a request completed")
    }

    /// Reads until `n` requests are complete, in completion order.
    pub fn recv_requests(&mut self, n: usize) -> Vec<Request> {
        (0..n).map(|_| self.recv_request()).collect()
    }
}

pub fn opts() -> RequestOptions {
    RequestOptions { deadline: Some(Instant::now() + Duration::from_secs(10)), max_body: 64 << 20 }
}

pub fn req_headers(path: &str) -> Vec<Header> {
    h(&[(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "localhost")])
}

/// Runs one request on its own thread.
pub fn spawn_request(
    conn: &Connection,
    path: &str,
    body: Vec<u8>,
) -> thread::JoinHandle<Result<Response, Error>> {
    let conn = conn.clone();
    let headers = req_headers(path);
    thread::spawn(move || conn.request(&headers, &body, &opts()))
}

/// A handshaken connection whose client has applied (acked) the peer's SETTINGS.
pub fn connected(settings: Vec<Setting>) -> (Connection, Peer) {
    let (conn, mut peer) = Peer::pair(Config::default());
    peer.handshake(settings);
    loop {
        match peer.recv() {
            Got::Settings { ack: true, .. } => break,
            Got::WindowUpdate { stream_id: 0, .. } => {}
            other => panic!("unexpected {other:?} before the SETTINGS ack"),
        }
    }
    (conn, peer)
}
