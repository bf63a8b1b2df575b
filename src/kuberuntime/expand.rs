//! `$(VAR)` expansion in env values, command, args and `subPathExpr`, with upstream's rules:
//!
//! - `$(NAME)` is replaced by the value of `NAME` when it is defined, and left as written
//!   (`$(NAME)`) when it is not;
//! - `$$` is an escaped `$`: `$$(NAME)` gives the literal `$(NAME)`;
//! - a `$` followed by anything else, or at the end, or an unclosed `$(`, is kept as is.
//!
//! Values may be bytes (a Secret's data need not be UTF-8), so [`expand`] returns bytes;
//! [`expand_str`] is the same for text.

/// Expands `$(NAME)` references in `input`; `lookup` gives a name's value, `None` when the
/// name is undefined.
pub fn expand<'v>(input: &str, lookup: impl Fn(&str) -> Option<&'v [u8]>) -> Vec<u8> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut copied = 0; // input[..copied] is already in `out`
    let mut cursor = 0;
    while cursor < bytes.len() {
        if bytes[cursor] != b'$' || cursor + 1 >= bytes.len() {
            cursor += 1;
            continue;
        }
        out.extend_from_slice(&bytes[copied..cursor]);
        let rest = &input[cursor + 1..];
        // How many bytes after the `$` this construct consumes.
        let consumed = match rest.as_bytes()[0] {
            b'$' => {
                out.push(b'$');
                1
            }
            b'(' => match rest.find(')') {
                Some(close) => {
                    let name = &rest[1..close];
                    match lookup(name) {
                        Some(value) => out.extend_from_slice(value),
                        None => out.extend_from_slice(format!("$({name})").as_bytes()),
                    }
                    close + 1
                }
                None => {
                    out.extend_from_slice(b"$(");
                    1
                }
            },
            _ => {
                // `$` and the character after it, copied as they are.
                let width = rest.chars().next().map_or(1, char::len_utf8);
                out.push(b'$');
                out.extend_from_slice(&rest.as_bytes()[..width]);
                width
            }
        };
        cursor += 1 + consumed;
        copied = cursor;
    }
    out.extend_from_slice(&bytes[copied..]);
    out
}

/// [`expand`] for text; a substituted value that is not UTF-8 is converted lossily.
pub fn expand_str<'v>(input: &str, lookup: impl Fn(&str) -> Option<&'v [u8]>) -> String {
    match String::from_utf8(expand(input, lookup)) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn run(input: &str) -> String {
        let vars: HashMap<&str, &[u8]> = [
            ("VAR_A", b"A".as_slice()),
            ("VAR_B", b"B"),
            ("VAR_C", b"C"),
            ("VAR_REF", b"$(VAR_A)"),
            ("VAR_EMPTY", b""),
            ("UNICODE", b"\xe2\x98\x83"),
        ]
        .into_iter()
        .collect();
        expand_str(input, |name| vars.get(name).copied())
    }

    #[test]
    fn upstream_expansion_table() {
        let cases = [
            ("$(VAR_A)", "A"),
            ("___$(VAR_B)___", "___B___"),
            ("$(VAR_A)-$(VAR_A)", "A-A"),
            ("$(VAR_A)$(VAR_B)$(VAR_C)", "ABC"),
            ("$(VAR_REF)", "$(VAR_A)"), // values are not expanded again
            ("$(VAR_EMPTY)", ""),
            ("foo$(VAR_EMPTY)bar", "foobar"),
            ("$(UNDEFINED)", "$(UNDEFINED)"),
            ("$$(VAR_A)", "$(VAR_A)"),
            ("$$$(VAR_A)", "$A"),
            ("$$$$(VAR_A)", "$$(VAR_A)"),
            ("$$", "$"),
            ("$", "$"),
            ("foo$", "foo$"),
            ("$(", "$("),
            ("$(VAR_A", "$(VAR_A"),
            ("$()", "$()"),
            ("$VAR_A", "$VAR_A"),
            ("$$$$", "$$"),
            ("$(VAR_A)$(VAR_A", "A$(VAR_A"),
            ("\u{1F600}$(UNICODE)\u{1F600}", "\u{1F600}\u{2603}\u{1F600}"),
            ("$\u{1F600}(VAR_A)", "$\u{1F600}(VAR_A)"),
            ("$($(VAR_A))", "$($(VAR_A))"), // name is "$(VAR_A", undefined
            ("$$($(VAR_A))", "$(A)"),
        ];
        for (input, want) in cases {
            assert_eq!(run(input), want, "input {input:?}");
        }
    }

    #[test]
    fn bytes_pass_through() {
        let out = expand("x$(BIN)y", |_| Some(b"\xff\x00".as_slice()));
        assert_eq!(out, b"x\xff\x00y");
        assert_eq!(expand_str("$(BIN)", |_| Some(b"\xff".as_slice())), "\u{FFFD}");
    }
}
