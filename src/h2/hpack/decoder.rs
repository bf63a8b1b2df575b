//! The HPACK decoder (RFC 7541 sections 3, 4 and 6).

#![forbid(unsafe_code)]

use super::primitive::{decode_int, decode_string};
use super::table::{DynamicTable, STATIC};
use super::{DecodeError, Header};
use crate::h2::reader::Reader;

/// Decodes header blocks of one connection; owns that connection's dynamic table.
#[derive(Debug, Clone)]
pub struct Decoder {
    table: DynamicTable,
    /// Our SETTINGS_HEADER_TABLE_SIZE: the most the peer's encoder may use.
    max_allowed: usize,
    /// We lowered the limit below the table's size: the next block must shrink the table.
    update_required: bool,
    max_list_size: usize,
}

impl Decoder {
    /// `max_table_size` is the SETTINGS_HEADER_TABLE_SIZE we advertise (4096 by default) and
    /// `max_list_size` our SETTINGS_MAX_HEADER_LIST_SIZE.
    pub fn new(max_table_size: usize, max_list_size: usize) -> Decoder {
        Decoder {
            table: DynamicTable::new(max_table_size),
            max_allowed: max_table_size,
            update_required: false,
            max_list_size,
        }
    }

    pub fn table(&self) -> &DynamicTable {
        &self.table
    }

    /// Applies a new SETTINGS_HEADER_TABLE_SIZE once the peer acknowledged it.
    pub fn set_max_allowed_table_size(&mut self, max: usize) {
        if max < self.table.max_size() {
            self.update_required = true;
        }
        self.max_allowed = max;
    }

    /// Decodes one complete header block (HEADERS plus its CONTINUATIONs).
    pub fn decode(&mut self, block: &[u8]) -> Result<Vec<Header>, DecodeError> {
        let mut r = Reader::new(block);
        let mut headers = Vec::new();
        let mut list_size = 0usize;
        let mut too_large = false;
        let mut at_start = true;
        while let Some(first) = r.u8() {
            let header = if first & 0x80 != 0 {
                let (name, value) = self.lookup(decode_int(first, 7, &mut r)?)?;
                Header::new(name, value)
            } else if first & 0x40 != 0 {
                let header = self.literal(first, 6, &mut r)?;
                self.table.insert(header.name.clone(), header.value.clone());
                header
            } else if first & 0x20 != 0 {
                if !at_start {
                    return Err(DecodeError::SizeUpdateNotAtStart);
                }
                let size = decode_int(first, 5, &mut r)?;
                if size > self.max_allowed {
                    return Err(DecodeError::SizeUpdateTooLarge { size, max: self.max_allowed });
                }
                self.table.set_max_size(size);
                self.update_required = false;
                continue;
            } else {
                // Without indexing (0000) and never indexed (0001): both a 4-bit prefix.
                self.literal(first, 4, &mut r)?
            };
            if at_start && self.update_required {
                return Err(DecodeError::SizeUpdateMissing);
            }
            at_start = false;
            // Keep decoding past the limit so the dynamic table stays in sync.
            list_size = list_size.saturating_add(header.list_size());
            if list_size > self.max_list_size {
                too_large = true;
                headers.clear();
            }
            if !too_large {
                headers.push(header);
            }
        }
        if at_start && self.update_required {
            return Err(DecodeError::SizeUpdateMissing);
        }
        if too_large {
            return Err(DecodeError::HeaderListTooLarge { limit: self.max_list_size });
        }
        Ok(headers)
    }

    /// A literal field: indexed or literal name, then a literal value.
    fn literal(&self, first: u8, prefix: u8, r: &mut Reader<'_>) -> Result<Header, DecodeError> {
        let index = decode_int(first, prefix, r)?;
        let mut name = Vec::new();
        if index == 0 {
            decode_string(r, &mut name)?;
        } else {
            name.extend_from_slice(self.lookup(index)?.0);
        }
        let mut value = Vec::new();
        decode_string(r, &mut value)?;
        Ok(Header { name, value })
    }

    /// Index space: 1..=61 static, then the dynamic table newest first.
    fn lookup(&self, index: usize) -> Result<(&[u8], &[u8]), DecodeError> {
        let found = match index.checked_sub(1) {
            None => None,
            Some(i) if i < STATIC.len() => STATIC.get(i).map(|(n, v)| (n.as_bytes(), v.as_bytes())),
            Some(i) => self.table.get(i - STATIC.len()),
        };
        found.ok_or(DecodeError::BadIndex(index))
    }
}
