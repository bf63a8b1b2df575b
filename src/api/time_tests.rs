use super::*;

#[test]
fn formats_upstream_layouts() {
    assert_eq!(Time::from_unix(0).to_string(), "1970-01-01T00:00:00Z");
    assert_eq!(
        Time::from_unix(1_199_149_261).to_string(),
        "2008-01-01T01:01:01Z"
    );
    assert_eq!(
        MicroTime::from_unix_micros(1_199_149_261_000_042).to_string(),
        "2008-01-01T01:01:01.000042Z"
    );
    assert_eq!(
        MicroTime::from_unix_micros(-1).to_string(),
        "1969-12-31T23:59:59.999999Z"
    );
    assert_eq!(
        Time::from_unix(951_782_400).to_string(),
        "2000-02-29T00:00:00Z"
    );
    assert_eq!(
        Time::from_unix(MAX_UNIX).to_string(),
        "9999-12-31T23:59:59Z"
    );
    assert_eq!(
        Time::from_unix(MIN_UNIX).to_string(),
        "0000-01-01T00:00:00Z"
    );
    assert_eq!(Time::from_unix(i64::MAX), Time::from_unix(MAX_UNIX));
}

#[test]
fn parses_offsets_and_fractions() {
    let t = |s: &str| Time::parse(s).map(Time::unix_seconds);
    assert_eq!(t("2008-01-01T01:01:01Z"), Ok(1_199_149_261));
    assert_eq!(t("2008-01-01t01:01:01z"), Ok(1_199_149_261));
    assert_eq!(t("2008-01-01T02:01:01+01:00"), Ok(1_199_149_261));
    assert_eq!(t("2007-12-31T23:31:01-01:30"), Ok(1_199_149_261));
    assert_eq!(t("2008-01-01T01:01:01.999999999Z"), Ok(1_199_149_261));
    assert_eq!(t("1969-12-31T23:59:59Z"), Ok(-1));
    let m = |s: &str| MicroTime::parse(s).map(MicroTime::unix_micros);
    assert_eq!(m("2008-01-01T01:01:01.5Z"), Ok(1_199_149_261_500_000));
    assert_eq!(
        m("2008-01-01T01:01:01.123456789Z"),
        Ok(1_199_149_261_123_456)
    );
    assert_eq!(m("2008-01-01T01:01:01Z"), Ok(1_199_149_261_000_000));
}

#[test]
fn refuses_malformed() {
    for s in [
        "",
        "2008-01-01",
        "2008-01-01 01:01:01Z",
        "2008-01-01T01:01:01",
        "2008-01-01T01:01:01.Z",
        "2008-13-01T01:01:01Z",
        "2007-02-29T01:01:01Z",
        "2008-01-01T24:00:00Z",
        "2008-01-01T01:01:60Z",
        "2008-01-01T01:01:01+0100",
        "2008-01-01T01:01:01+01:00x",
        "2008-01-01T01:01:01ZZ",
        "+008-01-01T01:01:01Z",
        "2008-01-01T01:01:01+24:00",
        "0000-01-01T00:00:00+00:01",
    ] {
        assert!(Time::parse(s).is_err(), "{s:?} accepted");
    }
}

#[test]
fn every_day_round_trips() {
    // Every day from 1900 to 2100 (and leap days) formats and parses back.
    for day in -25_567..47_482 {
        let t = Time::from_unix(day * 86_400 + 3_723);
        assert_eq!(Time::parse(&t.to_string()), Ok(t));
    }
}

#[test]
fn system_time_conversions() {
    let st = UNIX_EPOCH + Duration::from_micros(1_500_000);
    assert_eq!(MicroTime::from(st).unix_micros(), 1_500_000);
    assert_eq!(Time::from(st).unix_seconds(), 1);
    let before = UNIX_EPOCH - Duration::from_micros(1_500_000);
    assert_eq!(Time::from(before).unix_seconds(), -2);
    assert_eq!(
        SystemTime::from(MicroTime::from_unix_micros(-1_500_000)),
        before
    );
    assert!(Time::now().unix_seconds() > 1_700_000_000);
}

#[test]
fn serde_strings() {
    let t: Option<Time> = serde_json::from_str("\"2004-01-01T01:01:01Z\"").ok();
    assert_eq!(
        t.map(|t| t.to_string()).as_deref(),
        Some("2004-01-01T01:01:01Z")
    );
    assert!(serde_json::from_str::<Time>("12").is_err());
    assert!(serde_json::from_str::<Time>("\"yesterday\"").is_err());
    let none: Option<Time> = serde_json::from_str("null").unwrap_or(Some(Time::default()));
    assert_eq!(none, None);
    let mt = MicroTime::from_unix_micros(7);
    assert_eq!(
        serde_json::to_string(&mt).ok().as_deref(),
        Some("\"1970-01-01T00:00:00.000007Z\"")
    );
}
