//! What a translated WebSocket session reads from outside: the client's WebSocket frames and
//! the runtime's SPDY frames. Never a panic, never a message over the limit; and what the
//! writers make reads back as it was.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rkubelet::streaming::spdy::{self, Frame};
use rkubelet::streaming::websocket::{self, MAX_MESSAGE, Message, Reader};

fuzz_target!(|data: &[u8]| {
    let mut input = data;
    let mut reader = Reader::default();
    while let Ok(Some(message)) = reader.next(&mut input) {
        match message {
            Message::Binary(p) | Message::Text(p) => assert!(p.len() <= MAX_MESSAGE),
            Message::Ping(p) | Message::Pong(p) | Message::Close(p) => assert!(p.len() <= 125),
        }
    }
    let mut input = data;
    while let Ok(Some(frame)) = spdy::read_frame(&mut input) {
        if let Frame::Data { data, .. } = frame {
            assert!(data.len() <= spdy::MAX_PAYLOAD);
        }
    }
    // Our own frames of the input, read back: a server frame made a client's (zero mask)
    // is the same message; a DATA frame is the same bytes.
    let mut framed = websocket::frame(websocket::OP_BINARY, data);
    let at = framed.len() - data.len();
    framed[1] |= 0x80;
    framed.splice(at..at, [0u8; 4]);
    let mut input = framed.as_slice();
    assert_eq!(Reader::default().next(&mut input).unwrap(), Some(Message::Binary(data.to_vec())));
    let frames = spdy::data_frames(1, data, true);
    let mut input = frames.as_slice();
    let mut back = Vec::new();
    while let Some(Frame::Data { stream_id, data, .. }) = spdy::read_frame(&mut input).unwrap() {
        assert_eq!(stream_id, 1);
        back.extend(data);
    }
    assert_eq!(back, data);
});
