//! Checks that the Rust messages, our `vendor-proto/cri/v1/api.proto` and upstream's CRI
//! definition agree: same messages, field numbers, names, kinds, enum values and RPCs.
//!
//! A small `.proto` reader (messages, nested enums, maps, services; enough for CRI) turns each
//! file into a [`Schema`]; the Rust side is walked from the RPC table through each field's
//! [`Nested`] reference.

use std::collections::{BTreeMap, BTreeSet};

use super::client::RPCS;
use crate::proto::{EnumInfo, MessageInfo, Nested};

const OURS: &str = include_str!("../../vendor-proto/cri/v1/api.proto");
/// Upstream's definition, from the shared reference data (outside the repository).
const UPSTREAM_PATH: &str = "/work/shared/reference/cri/api.proto";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Label {
    Singular,
    Repeated,
    Map(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Field {
    label: Label,
    ty: String,
    name: String,
}

#[derive(Debug, Default)]
struct Schema {
    /// message -> field number -> field
    messages: BTreeMap<String, BTreeMap<u32, Field>>,
    /// enum -> value number -> value name
    enums: BTreeMap<String, BTreeMap<i32, String>>,
    /// (service, method) -> (request, response)
    rpcs: BTreeMap<(String, String), (String, String)>,
}

fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                chars.by_ref().find(|&c| c == '\n');
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            '"' => {
                let s: String = chars.by_ref().take_while(|&c| c != '"').collect();
                tokens.push(format!("\"{s}\""));
            }
            c if c.is_alphanumeric() || c == '_' || c == '.' => {
                let mut word = c.to_string();
                while let Some(&n) = chars.peek().filter(|n| n.is_alphanumeric() || **n == '_' || **n == '.') {
                    word.push(n);
                    chars.next();
                }
                tokens.push(word);
            }
            c if c.is_whitespace() => {}
            c => tokens.push(c.to_string()),
        }
    }
    tokens
}

struct Parser {
    tokens: Vec<String>,
    at: usize,
    schema: Schema,
}

impl Parser {
    fn next(&mut self) -> String {
        let t = self.tokens.get(self.at).cloned().unwrap_or_else(|| panic!("unexpected end of .proto"));
        self.at += 1;
        t
    }

    fn expect(&mut self, want: &str) {
        let got = self.next();
        assert_eq!(got, want, "near token {}", self.at);
    }

    fn skip_past(&mut self, end: &str) {
        while self.next() != end {}
    }

    fn number<T: std::str::FromStr>(&mut self) -> T {
        let t = self.next();
        let t = if t == "-" { format!("-{}", self.next()) } else { t };
        t.parse().unwrap_or_else(|_| panic!("not a number: {t}"))
    }

    /// `= N [options] ;`
    fn tail<T: std::str::FromStr>(&mut self) -> T {
        self.expect("=");
        let n = self.number();
        if self.next() == "[" {
            self.skip_past("]");
            self.expect(";");
        }
        n
    }

    fn file(mut self) -> Schema {
        while self.at < self.tokens.len() {
            match self.next().as_str() {
                "syntax" | "package" | "option" | "import" => self.skip_past(";"),
                "service" => self.service(),
                "message" => self.message(),
                "enum" => self.enumeration(),
                other => panic!("unexpected {other}"),
            }
        }
        self.schema
    }

    fn service(&mut self) {
        let service = self.next();
        self.expect("{");
        loop {
            match self.next().as_str() {
                "}" => return,
                "option" => self.skip_past(";"),
                "rpc" => {
                    let method = self.next();
                    let mut types = Vec::new();
                    for _ in 0..2 {
                        self.skip_past("(");
                        let mut t = self.next();
                        if t == "stream" {
                            t = self.next();
                        }
                        types.push(t);
                        self.expect(")");
                    }
                    if self.next() == "{" {
                        self.expect("}");
                    }
                    self.schema.rpcs.insert((service.clone(), method), (types[0].clone(), types[1].clone()));
                }
                other => panic!("unexpected {other} in service {service}"),
            }
        }
    }

    fn message(&mut self) {
        let name = self.next();
        self.expect("{");
        let mut fields = BTreeMap::new();
        loop {
            let t = self.next();
            let (label, ty) = match t.as_str() {
                "}" => break,
                "message" => {
                    self.message();
                    continue;
                }
                "enum" => {
                    self.enumeration();
                    continue;
                }
                "option" | "reserved" => {
                    self.skip_past(";");
                    continue;
                }
                "map" => {
                    self.expect("<");
                    let key = self.next();
                    self.expect(",");
                    let value = self.next();
                    self.expect(">");
                    (Label::Map(key), value)
                }
                "repeated" => (Label::Repeated, self.next()),
                _ => (Label::Singular, t),
            };
            let field_name = self.next();
            let number = self.tail();
            let old = fields.insert(number, Field { label, ty, name: field_name });
            assert!(old.is_none(), "{name}: field number {number} used twice");
        }
        assert!(self.schema.messages.insert(name.clone(), fields).is_none(), "message {name} twice");
    }

    fn enumeration(&mut self) {
        let name = self.next();
        self.expect("{");
        let mut values = BTreeMap::new();
        loop {
            match self.next().as_str() {
                "}" => break,
                "option" | "reserved" => self.skip_past(";"),
                value => {
                    let value = value.to_string();
                    let number = self.tail();
                    values.insert(number, value);
                }
            }
        }
        assert!(self.schema.enums.insert(name.clone(), values).is_none(), "enum {name} twice");
    }
}

fn parse(text: &str) -> Schema {
    Parser { tokens: tokenize(text), at: 0, schema: Schema::default() }.file()
}

/// Names compared across conventions: `uidMappings` = `uid_mappings`, `r#type` = `type`.
fn norm(name: &str) -> String {
    name.trim_start_matches("r#").replace('_', "").to_lowercase()
}

/// The Rust schema, reached from the RPC table.
#[derive(Default)]
struct RustSide {
    messages: BTreeMap<&'static str, &'static MessageInfo>,
    enums: BTreeMap<&'static str, &'static EnumInfo>,
}

impl RustSide {
    fn walk(&mut self, info: &'static MessageInfo) {
        if self.messages.insert(info.name, info).is_some() {
            return;
        }
        for f in info.fields {
            match (f.nested)() {
                Nested::Message(m) => self.walk(m),
                Nested::Enum(e) => {
                    self.enums.insert(e.name, e);
                }
                Nested::None => {}
            }
        }
    }
}

/// A Rust field's kind (as written in `message!`) in `.proto` terms.
fn rust_field(f: &crate::proto::FieldInfo) -> Field {
    let kind: String = f.kind.chars().filter(|c| !c.is_whitespace()).collect();
    let (label, inner) = if let Some(inner) = kind.strip_prefix("repeated(").and_then(|k| k.strip_suffix(')')) {
        (Label::Repeated, inner.to_string())
    } else if let Some(rest) = kind.strip_prefix("map(").and_then(|k| k.strip_suffix(')')) {
        let (key, value) = rest.split_once(',').unwrap_or_else(|| panic!("bad map kind {kind}"));
        (Label::Map(key.to_string()), value.to_string())
    } else {
        (Label::Singular, kind.clone())
    };
    let ty = match (f.nested)() {
        Nested::Message(m) => m.name.to_string(),
        Nested::Enum(e) => e.name.to_string(),
        Nested::None if inner == "secret" => "string".to_string(),
        Nested::None => inner,
    };
    Field { label, ty, name: f.name.to_string() }
}

#[test]
fn rust_messages_match_our_proto() {
    let ours = parse(OURS);
    let mut rust = RustSide::default();
    let mut rust_rpcs = BTreeMap::new();
    for rpc in RPCS {
        rust.walk(rpc.request);
        rust.walk(rpc.response);
        let key = (rpc.service.to_string(), rpc.method.to_string());
        rust_rpcs.insert(key, (rpc.request.name.to_string(), rpc.response.name.to_string()));
    }
    assert_eq!(rust_rpcs, ours.rpcs, "RPCs: Rust vs api.proto");
    let rust_names: BTreeSet<&str> = rust.messages.keys().copied().collect();
    let proto_names: BTreeSet<&str> = ours.messages.keys().map(String::as_str).collect();
    assert_eq!(rust_names, proto_names, "messages: Rust vs api.proto");

    for (name, info) in &rust.messages {
        let proto = &ours.messages[*name];
        // Declared in number order, so that we write fields in the order Go does.
        let declared: Vec<u32> = info.fields.iter().map(|f| f.number).collect();
        assert!(declared.windows(2).all(|w| w[0] < w[1]), "{name}: fields out of number order");
        let numbers: BTreeSet<u32> = declared.into_iter().collect();
        assert_eq!(numbers, proto.keys().copied().collect(), "{name}: field numbers");
        for f in info.fields {
            let (want, got) = (&proto[&f.number], rust_field(f));
            assert_eq!(norm(&got.name), norm(&want.name), "{name}.{}: name", f.number);
            assert_eq!((&got.label, &got.ty), (&want.label, &want.ty), "{name}.{}: kind", want.name);
        }
    }

    let enum_names: BTreeSet<&str> = ours.enums.keys().map(String::as_str).collect();
    assert_eq!(rust.enums.keys().copied().collect::<BTreeSet<_>>(), enum_names, "enums");
    for (name, info) in &rust.enums {
        let proto = &ours.enums[*name];
        assert_eq!(info.values.len(), proto.len(), "{name}: number of values");
        for (value, number) in info.values {
            let want = proto.get(number).unwrap_or_else(|| panic!("{name}: no value {number}"));
            assert!(norm(want).ends_with(&norm(value)), "{name}: {value} = {number} is {want} in api.proto");
        }
    }
}

#[test]
fn our_proto_is_a_subset_of_upstream() {
    let Ok(text) = std::fs::read_to_string(UPSTREAM_PATH) else {
        println!("SKIPPED: upstream CRI definition not found at {UPSTREAM_PATH}");
        return;
    };
    let (ours, upstream) = (parse(OURS), parse(&text));
    for (key, types) in &ours.rpcs {
        assert_eq!(upstream.rpcs.get(key), Some(types), "rpc {key:?}");
    }
    let mut left_out = Vec::new();
    for (name, fields) in &ours.messages {
        let theirs = upstream.messages.get(name).unwrap_or_else(|| panic!("no message {name} upstream"));
        for (number, field) in fields {
            assert_eq!(theirs.get(number), Some(field), "{name} field {number}");
        }
        left_out
            .extend(theirs.iter().filter(|(n, _)| !fields.contains_key(n)).map(|(_, f)| format!("{name}.{}", f.name)));
    }
    for (name, values) in &ours.enums {
        assert_eq!(upstream.enums.get(name), Some(values), "enum {name}");
    }
    println!("fields of our messages left out: {}", left_out.join(", "));
    assert!(upstream.messages.len() > ours.messages.len());
}

#[test]
fn the_proto_reader_understands_what_it_checks() {
    let s = parse(
        "syntax = \"proto3\"; /* c */ package p;\nservice S { rpc M(A) returns (stream B) {} }\n\
         message A { enum E { X = 0; Y = -1; } // c\n map<string, bytes> m = 3; repeated E e = 2 [packed=true]; }",
    );
    assert_eq!(s.rpcs[&("S".into(), "M".into())], ("A".into(), "B".into()));
    assert_eq!(s.messages["A"][&3], Field { label: Label::Map("string".into()), ty: "bytes".into(), name: "m".into() });
    assert_eq!(s.messages["A"][&2].label, Label::Repeated);
    assert_eq!(s.enums["E"][&-1], "Y");
}
