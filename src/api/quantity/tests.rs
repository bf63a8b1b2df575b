use super::*;

fn q(s: &str) -> Quantity {
    match Quantity::parse(s) {
        Ok(q) => q,
        Err(e) => panic!("{s}: {e}"),
    }
}

#[test]
fn decimal_si_suffixes_in_millis() {
    let cases = [
        ("0", 0),
        ("1", 1000),
        ("100m", 100),
        ("1500m", 1500),
        ("1.5", 1500),
        ("0.1", 100),
        (".5", 500),
        ("2.", 2000),
        ("+3", 3000),
        ("-2", -2000),
        ("1k", 1_000_000),
        ("1M", 1_000_000_000),
        ("1G", 1_000_000_000_000),
        ("1T", 1_000_000_000_000_000),
        ("1P", 1_000_000_000_000_000_000),
        ("500u", 1),
        ("1n", 1),
        ("1000000n", 1),
        ("1000001n", 2),
    ];
    for (s, millis) in cases {
        assert_eq!(q(s).milli_value(), Some(millis), "{s}");
    }
}

#[test]
fn integer_values_and_bytes() {
    let cases = [
        ("128974848", 128_974_848),
        ("129e6", 129_000_000),
        ("129E6", 129_000_000),
        ("129M", 129_000_000),
        ("123Mi", 128_974_848),
        ("1Ki", 1024),
        ("1Mi", 1 << 20),
        ("1Gi", 1 << 30),
        ("1Ti", 1 << 40),
        ("1Pi", 1 << 50),
        ("1Ei", 1 << 60),
        ("1.5Gi", 1_610_612_736),
        ("1E", 1_000_000_000_000_000_000),
        ("1e3", 1000),
        ("1e-3", 1),
        ("1e+3", 1000),
        ("100m", 1),
        ("0.1", 1),
        ("-0.1", -1),
        ("1.G", 1_000_000_000),
    ];
    for (s, v) in cases {
        assert_eq!(q(s).value(), Some(v), "{s}");
    }
}

#[test]
fn overflow_is_reported_not_wrapped() {
    assert_eq!(q("10E").value(), None);
    assert_eq!(q("8Ei").value(), None);
    assert_eq!(q("1E").milli_value(), None);
    assert_eq!(q("9223372036854775807").value(), Some(i64::MAX));
    assert_eq!(q("1e1000").value(), None);
}

#[test]
fn garbage_is_refused() {
    for s in [
        "", "abc", "1x", "1K", "1Kb", "1.2.3", "1e", "1e+", "1ee3", "1 ", " 1", "1i", "--1",
        "1e1001", "1Mi5",
    ] {
        assert!(Quantity::parse(s).is_err(), "{s:?} accepted");
    }
    assert!(matches!(
        Quantity::parse(""),
        Err(QuantityError::Empty { .. })
    ));
    assert!(matches!(
        Quantity::parse("1Q"),
        Err(QuantityError::Suffix { .. })
    ));
    assert!(matches!(
        Quantity::parse("1.2.3"),
        Err(QuantityError::Number { .. })
    ));
    let too_many_digits = "1".repeat(40);
    assert!(matches!(
        Quantity::parse(&too_many_digits),
        Err(QuantityError::TooLarge { .. })
    ));
}

#[test]
fn sub_nano_rounds_up_to_one_nano() {
    assert_eq!(q("0.1n"), q("1n"));
    assert_eq!(q("1e-30"), q("1n"));
    assert_eq!(q("-0.1n"), q("-1n"));
    assert!(!q("1e-30").is_zero());
}

#[test]
fn equality_and_order_are_by_value() {
    assert_eq!(q("1Ki"), q("1024"));
    assert_eq!(q("0.5"), q("500m"));
    assert_eq!(q("1e3"), q("1k"));
    assert_eq!(q("0"), q("0m"));
    assert_eq!(q("-0"), q("0"));
    assert_ne!(q("1"), q("1001m"));
    assert!(q("1Mi") > q("1M"));
    assert!(q("999m") < q("1"));
    assert!(q("-1") < q("0"));
    assert!(q("-2") < q("-1"));
    assert!(q("1E") > q("999P"));
    assert!(q("1n") < q("1u"));
    assert_eq!(q("1.5Gi").cmp(&q("1536Mi")), Ordering::Equal);
}

#[test]
fn keeps_the_original_string() {
    let x = q("1.50Gi");
    assert_eq!(x.as_str(), "1.50Gi");
    assert_eq!(x.to_string(), "1.50Gi");
    assert_eq!(x.format(), Format::BinarySI);
    assert_eq!(q("12e6").format(), Format::DecimalExponent);
}

#[test]
fn canonical_forms_match_upstream() {
    let cases = [
        ("1.5", "1500m"),
        ("1.5Gi", "1536Mi"),
        ("1000", "1k"),
        ("1200000", "1200k"),
        ("0.5Gi", "512Mi"),
        ("1024", "1024"),
        ("2048Ki", "2Mi"),
        ("1000Mi", "1000Mi"),
        ("100Ki", "100Ki"),
        ("0.5Ki", "512"),
        ("12e6", "12e6"),
        ("1.5e3", "1500"),
        ("0", "0"),
        ("0Mi", "0"),
        ("-1500m", "-1500m"),
        ("1u", "1u"),
        ("1.1Ki", "1126400m"),
    ];
    for (s, want) in cases {
        assert_eq!(q(s).canonical(), want, "{s}");
    }
}

#[test]
fn constructors_are_canonical() {
    assert_eq!(Quantity::from_milli(250).as_str(), "250m");
    assert_eq!(Quantity::from_milli(2000).as_str(), "2");
    assert_eq!(Quantity::from_milli(0).as_str(), "0");
    assert_eq!(Quantity::from_decimal(110).as_str(), "110");
    assert_eq!(Quantity::from_decimal(5000).as_str(), "5k");
    assert_eq!(Quantity::from_bytes(2 << 30).as_str(), "2Gi");
    assert_eq!(
        Quantity::from_bytes(25_125_584 * 1024).as_str(),
        "25125584Ki"
    );
    // Below 1024 upstream falls back to decimal suffixes.
    assert_eq!(Quantity::from_bytes(1000).as_str(), "1k");
    assert_eq!(Quantity::from_bytes(1025).as_str(), "1025");
    assert_eq!(Quantity::from_bytes(i64::MAX).value(), Some(i64::MAX));
    assert_eq!(Quantity::default(), q("0"));
}

#[test]
fn serde_accepts_strings_and_numbers() {
    let v: Quantity = serde_json::from_str("\"250m\"").unwrap_or_default();
    assert_eq!(v.as_str(), "250m");
    let v: Quantity = serde_json::from_str("2").unwrap_or_default();
    assert_eq!(v.milli_value(), Some(2000));
    let v: Quantity = serde_json::from_str("0.5").unwrap_or_default();
    assert_eq!(v.milli_value(), Some(500));
    let v: Quantity = serde_json::from_str("\" 1Gi \"").unwrap_or_default();
    assert_eq!(v.value(), Some(1 << 30));
    assert!(serde_json::from_str::<Quantity>("\"lots\"").is_err());
    assert!(serde_json::from_str::<Quantity>("true").is_err());
    assert_eq!(
        serde_json::to_string(&q("1.50Gi")).ok().as_deref(),
        Some("\"1.50Gi\"")
    );
}
