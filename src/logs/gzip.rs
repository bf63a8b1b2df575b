//! A small gzip writer (RFC 1951/1952) for rotated container logs, which upstream compresses.
//!
//! Deflate with the fixed Huffman code and a greedy LZ77 matcher over a 32 KiB window; a
//! block that would not shrink is written stored instead. It compresses log text to roughly a
//! fifth to a tenth of its size (dynamic Huffman codes would gain a little more, at several
//! times the code). Output is standard gzip: `zcat`, `gzip -d` and log shippers read it.
//!
//! ```text
//!  write() ──► pending input ──(64 KiB)──► tokens (literal | length+distance) ──► fixed or stored block
//!  finish() ─► last block, empty final block, CRC-32 and size trailer
//! ```

#![forbid(unsafe_code)]

use std::io::{self, Write};

const WINDOW: usize = 32 * 1024;
/// New input per block; stored blocks hold at most 65,535 bytes.
const BLOCK: usize = 64 * 1024 - 1;
const MIN_MATCH: usize = 3;
const MAX_MATCH: usize = 258;
const HASH_BITS: u32 = 15;
/// How many earlier positions with the same hash are tried per match.
const MAX_CHAIN: usize = 32;

const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195,
    227, 258,
];
const LENGTH_EXTRA: [u8; 29] =
    [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
    4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] =
    [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const END_OF_BLOCK: u16 = 256;

const CRC_TABLE: [u32; 256] = crc_table();

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
}

/// CRC-32 (IEEE), continued from `crc` (0 to start).
pub fn crc32(crc: u32, data: &[u8]) -> u32 {
    let mut c = !crc;
    for &b in data {
        c = CRC_TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

/// Bits in deflate order (least significant first) into bytes.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u32, count: u32) {
        self.acc |= u64::from(value) << self.n;
        self.n += count;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code, which deflate stores most significant bit first.
    fn code(&mut self, code: u32, len: u32) {
        self.put(code.reverse_bits() >> (32 - len), len);
    }

    fn align(&mut self) {
        if self.n > 0 {
            self.put(0, 8 - self.n);
        }
    }
}

/// The fixed Huffman code of a literal/length symbol: (code, bit length).
fn fixed_litlen(sym: u16) -> (u32, u32) {
    let s = u32::from(sym);
    match sym {
        0..=143 => (0x30 + s, 8),
        144..=255 => (0x190 + s - 144, 9),
        256..=279 => (s - 256, 7),
        _ => (0xC0 + s - 280, 8),
    }
}

/// Index into the length or distance tables: the last base not above `value`.
fn bucket(bases: &[u16], value: u16) -> usize {
    bases.iter().rposition(|&b| b <= value).unwrap_or(0)
}

#[derive(Clone, Copy)]
enum Token {
    Literal(u8),
    Match { len: u16, dist: u16 },
}

fn token_bits(t: Token) -> u32 {
    match t {
        Token::Literal(b) => fixed_litlen(u16::from(b)).1,
        Token::Match { len, dist } => {
            let l = bucket(&LENGTH_BASE, len);
            let d = bucket(&DIST_BASE, dist);
            fixed_litlen(257 + l as u16).1 + u32::from(LENGTH_EXTRA[l]) + 5 + u32::from(DIST_EXTRA[d])
        }
    }
}

fn put_token(bits: &mut Bits, t: Token) {
    match t {
        Token::Literal(b) => {
            let (c, n) = fixed_litlen(u16::from(b));
            bits.code(c, n);
        }
        Token::Match { len, dist } => {
            let l = bucket(&LENGTH_BASE, len);
            let (c, n) = fixed_litlen(257 + l as u16);
            bits.code(c, n);
            bits.put(u32::from(len - LENGTH_BASE[l]), u32::from(LENGTH_EXTRA[l]));
            let d = bucket(&DIST_BASE, dist);
            bits.code(d as u32, 5);
            bits.put(u32::from(dist - DIST_BASE[d]), u32::from(DIST_EXTRA[d]));
        }
    }
}

fn hash(b: &[u8]) -> usize {
    match b {
        [a, b, c, ..] => {
            ((usize::from(*a) << 10) ^ (usize::from(*b) << 5) ^ usize::from(*c)) & ((1 << HASH_BITS) - 1)
        }
        _ => 0,
    }
}

/// A gzip stream over `W`. Call [`GzipWriter::finish`] at the end: dropping it without
/// leaves a truncated stream.
pub struct GzipWriter<W: Write> {
    out: W,
    bits: Bits,
    /// The last [`WINDOW`] bytes already compressed, then the pending input.
    buf: Vec<u8>,
    /// Where the pending input starts in `buf`.
    pending: usize,
    /// Absolute stream offset of `buf[0]`.
    base: usize,
    /// Per hash: the newest absolute position + 1 (0 = none).
    head: Vec<usize>,
    /// Per position modulo the window: the previous absolute position + 1 with the same hash.
    prev: Vec<usize>,
    crc: u32,
    size: u64,
}

impl<W: Write> GzipWriter<W> {
    pub fn new(mut out: W) -> io::Result<GzipWriter<W>> {
        // No name, no modification time, OS unknown (255), as Go's gzip writer.
        out.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])?;
        Ok(GzipWriter {
            out,
            bits: Bits::default(),
            buf: Vec::with_capacity(WINDOW + BLOCK),
            pending: 0,
            base: 0,
            head: vec![0; 1 << HASH_BITS],
            prev: vec![0; WINDOW],
            crc: 0,
            size: 0,
        })
    }

    /// Ends the stream and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.block()?;
        // An empty final block: fixed type, end of block only.
        self.bits.put(1, 1);
        self.bits.put(1, 2);
        let (c, n) = fixed_litlen(END_OF_BLOCK);
        self.bits.code(c, n);
        self.bits.align();
        self.bits.out.extend_from_slice(&self.crc.to_le_bytes());
        self.bits.out.extend_from_slice(&(self.size as u32).to_le_bytes());
        self.out.write_all(&self.bits.out)?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn insert(&mut self, at: usize) {
        let h = hash(&self.buf[at..]);
        let abs = self.base + at;
        self.prev[abs % WINDOW] = self.head[h];
        self.head[h] = abs + 1;
    }

    /// The longest earlier match for the bytes at `at` (relative to `buf`), before inserting
    /// `at` into the hash chains.
    fn longest_match(&self, at: usize) -> Option<(usize, usize)> {
        let end = self.buf.len();
        let max = (end - at).min(MAX_MATCH);
        if max < MIN_MATCH {
            return None;
        }
        let abs = self.base + at;
        let mut best: Option<(usize, usize)> = None;
        let mut cand = self.head[hash(&self.buf[at..])];
        for _ in 0..MAX_CHAIN {
            if cand == 0 {
                break;
            }
            let pos = cand - 1;
            if pos < self.base || abs - pos > WINDOW || pos >= abs {
                break;
            }
            let p = pos - self.base;
            // Only a candidate that matches one byte further than the best so far can win.
            let best_len = best.map_or(MIN_MATCH - 1, |(l, _)| l);
            if self.buf[p + best_len] != self.buf[at + best_len] {
                cand = self.prev[pos % WINDOW];
                continue;
            }
            let (a, b) = (&self.buf[p..p + max], &self.buf[at..at + max]);
            let len = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(max);
            if len > best_len {
                best = Some((len, abs - pos));
                if len == max {
                    break;
                }
            }
            cand = self.prev[pos % WINDOW];
        }
        best
    }

    /// Compresses the pending input into one block (none when there is none).
    fn block(&mut self) -> io::Result<()> {
        let (start, end) = (self.pending, self.buf.len());
        if start == end {
            return Ok(());
        }
        let mut tokens = Vec::with_capacity(end - start);
        let mut at = start;
        while at < end {
            match self.longest_match(at) {
                Some((len, dist)) => {
                    tokens.push(Token::Match { len: len as u16, dist: dist as u16 });
                    for i in at..at + len {
                        if end - i >= MIN_MATCH {
                            self.insert(i);
                        }
                    }
                    at += len;
                }
                None => {
                    tokens.push(Token::Literal(self.buf[at]));
                    if end - at >= MIN_MATCH {
                        self.insert(at);
                    }
                    at += 1;
                }
            }
        }
        let fixed: u64 = 3 + tokens.iter().map(|&t| u64::from(token_bits(t))).sum::<u64>() + 7;
        let stored = 3 + 7 + 32 + 8 * (end - start) as u64;
        if fixed <= stored {
            self.bits.put(0, 1);
            self.bits.put(1, 2);
            for t in tokens {
                put_token(&mut self.bits, t);
            }
            let (c, n) = fixed_litlen(END_OF_BLOCK);
            self.bits.code(c, n);
        } else {
            self.bits.put(0, 1);
            self.bits.put(0, 2);
            self.bits.align();
            let len = (end - start) as u16;
            self.bits.out.extend_from_slice(&len.to_le_bytes());
            self.bits.out.extend_from_slice(&(!len).to_le_bytes());
            self.bits.out.extend_from_slice(&self.buf[start..end]);
        }
        self.out.write_all(&self.bits.out)?;
        self.bits.out.clear();
        // Keep the last window as history for the next block.
        let drop = self.buf.len().saturating_sub(WINDOW);
        self.buf.drain(..drop);
        self.base += drop;
        self.pending = self.buf.len();
        Ok(())
    }
}

impl<W: Write> Write for GzipWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = BLOCK - (self.buf.len() - self.pending);
        let n = data.len().min(room);
        self.buf.extend_from_slice(&data[..n]);
        self.crc = crc32(self.crc, &data[..n]);
        self.size += n as u64;
        if self.buf.len() - self.pending == BLOCK {
            self.block()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut w = GzipWriter::new(Vec::new()).expect("header");
        w.write_all(data).expect("write");
        w.finish().expect("finish")
    }

    /// Decompresses with the system's gzip; `None` (after saying so) when there is none.
    fn gunzip(data: &[u8]) -> Option<Vec<u8>> {
        let child = Command::new("gzip").arg("-dc").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn();
        let Ok(mut child) = child else {
            println!("SKIPPED: no gzip binary to check the output with");
            return None;
        };
        let mut stdin = child.stdin.take().expect("stdin");
        let input = data.to_vec();
        let writer = std::thread::spawn(move || stdin.write_all(&input));
        let out = child.wait_with_output().expect("gzip");
        writer.join().expect("writer").expect("write to gzip");
        assert!(out.status.success(), "gzip -d failed: {}", String::from_utf8_lossy(&out.stderr));
        Some(out.stdout)
    }

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(0, b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(crc32(0, b"12345"), b"6789"), 0xCBF4_3926);
        assert_eq!(crc32(0, b""), 0);
    }

    #[test]
    fn empty_input_is_a_valid_stream() {
        let z = gzip(b"");
        assert_eq!(&z[..3], &[0x1f, 0x8b, 8]);
        assert_eq!(&z[z.len() - 8..], &[0; 8]);
        if let Some(out) = gunzip(&z) {
            assert!(out.is_empty());
        }
    }

    #[test]
    fn log_text_shrinks_and_round_trips() {
        let mut log = Vec::new();
        for i in 0..20_000 {
            log.extend_from_slice(
                format!(
                    "2024-05-01T10:00:{:02}.{i:09}Z stdout F request {i} served in {}ms\n",
                    i % 60,
                    i % 97
                )
                .as_bytes(),
            );
        }
        let z = gzip(&log);
        assert!(z.len() * 4 < log.len(), "{} bytes from {}", z.len(), log.len());
        if let Some(out) = gunzip(&z) {
            assert!(out == log, "round trip differs");
        }
    }

    #[test]
    fn random_bytes_fall_back_to_stored_blocks() {
        // xorshift: incompressible, reproducible.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let data: Vec<u8> = (0..200_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        let z = gzip(&data);
        assert!(z.len() < data.len() + 100, "{} bytes from {}", z.len(), data.len());
        if let Some(out) = gunzip(&z) {
            assert!(out == data, "round trip differs");
        }
    }

    #[test]
    fn long_runs_and_odd_write_sizes() {
        let mut data = vec![b'a'; 100_000];
        data.extend((0..70_000u32).map(|i| (i % 251) as u8));
        data.extend_from_slice(b"xy");
        let mut w = GzipWriter::new(Vec::new()).expect("header");
        for chunk in data.chunks(7777) {
            w.write_all(chunk).expect("write");
        }
        let z = w.finish().expect("finish");
        if let Some(out) = gunzip(&z) {
            assert!(out == data, "round trip differs");
        }
    }
}
