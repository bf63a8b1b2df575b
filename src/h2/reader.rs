//! The one bounds-checked reader every HTTP/2 and HPACK decoder goes through.
//!
//! Every accessor returns `None` when the input is too short, so decoders never index or
//! unwrap peer bytes; the caller turns `None` into "need more" or a protocol error.

#![forbid(unsafe_code)]

/// A cursor over borrowed peer bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { rest: bytes }
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next byte without consuming it.
    pub fn peek(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    pub fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.rest.split_first()?;
        self.rest = rest;
        Some(b)
    }

    pub fn u16(&mut self) -> Option<u16> {
        self.array::<2>().map(u16::from_be_bytes)
    }

    /// A 24-bit big-endian integer (the frame length field).
    pub fn u24(&mut self) -> Option<u32> {
        let [a, b, c] = self.array::<3>()?;
        Some(u32::from_be_bytes([0, a, b, c]))
    }

    pub fn u32(&mut self) -> Option<u32> {
        self.array::<4>().map(u32::from_be_bytes)
    }

    pub fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let bytes = self.take(N)?;
        <[u8; N]>::try_from(bytes).ok()
    }

    /// The next `n` bytes, or `None` (consuming nothing) when fewer remain.
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.rest.len() {
            return None;
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Some(head)
    }

    /// Everything that is left.
    pub fn take_rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_input_yields_none_and_consumes_nothing() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u32(), None);
        assert_eq!(r.remaining(), 3);
        assert_eq!(r.u24(), Some(0x010203));
        assert_eq!(r.u8(), None);
        assert_eq!(r.take(0), Some(&[][..]));
    }

    #[test]
    fn reads_big_endian() {
        let mut r = Reader::new(&[0xab, 0xcd, 0, 0, 0, 7, 9]);
        assert_eq!(r.peek(), Some(0xab));
        assert_eq!(r.u16(), Some(0xabcd));
        assert_eq!(r.u32(), Some(7));
        assert_eq!(r.take_rest(), &[9]);
        assert!(r.is_empty());
    }
}
