//! Times as etcd writes them: RFC 3339 in UTC with nanoseconds, from Unix milliseconds.

/// Formats Unix milliseconds like Go's `time.Time` JSON (`RFC3339Nano`, trailing zeros dropped).
pub fn rfc3339(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let ms = unix_ms % 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (rem / 3600, rem / 60 % 60, rem % 60);
    let frac = if ms == 0 {
        String::new()
    } else {
        format!(".{ms:03}").trim_end_matches('0').to_string()
    };
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}{frac}Z")
}

/// Formats Unix milliseconds as HTTP's `Date` writes them (IMF-fixdate, RFC 9110 5.6.7):
/// `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(unix_ms: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = unix_ms / 1000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(i64::try_from(days).unwrap_or(0));
    let weekday = DAYS[usize::try_from(days % 7).unwrap_or(0)];
    let month = MONTHS[usize::try_from(m - 1).unwrap_or(0)];
    let (hh, mm, ss) = (rem / 3600, rem / 60 % 60, rem % 60);
    format!("{weekday}, {d:02} {month} {y:04} {hh:02}:{mm:02}:{ss:02} GMT")
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day), by the eras method:
/// 400-year eras of 146097 days, years counted from March so the leap day falls last.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Reads an RFC 3339 time (`2014-08-17T16:21:37.426001686Z`, or with `+hh:mm`) as Unix ms.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut ms = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let frac = s.get(start..i)?;
        let first3: String = frac.chars().chain("000".chars()).take(3).collect();
        ms = first3.parse().ok()?;
    }
    let offset_min = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        b'+' | b'-' if i + 6 == b.len() => {
            let sign = if b[i] == b'-' { -1 } else { 1 };
            sign * (num(i + 1..i + 3)? * 60 + num(i + 4..i + 6)?)
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo as u32, d as u32);
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60;
    Some(secs * 1000 + ms)
}

/// The inverse of `civil_from_days`.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Whole seconds left until `deadline_ms`, rounded up as etcd does for a node's `ttl`.
pub fn ttl_secs(deadline_ms: u64, now_ms: u64) -> i64 {
    if deadline_ms <= now_ms {
        return 0;
    }
    (deadline_ms - now_ms).div_ceil(1000) as i64
}

/// A span as people write it: "350 ms", "2.1 s", "42 s", "4 min", "3 h", "6 days", "12 years".
pub fn human(ms: u64) -> String {
    const MIN: u64 = 60_000;
    const HOUR: u64 = 60 * MIN;
    const DAY: u64 = 24 * HOUR;
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match ms {
        ms if ms < 1_000 => format!("{ms} ms"),
        ms if ms < 10_000 => format!("{}.{} s", ms / 1000, ms % 1000 / 100),
        ms if ms < MIN => format!("{} s", ms / 1000),
        ms if ms < HOUR => format!("{} min", ms / MIN),
        ms if ms < 2 * DAY => format!("{} h", ms / HOUR),
        ms if ms < 730 * DAY => plural(ms / DAY, "day"),
        ms => plural(ms / (365 * DAY + DAY / 4), "year"),
    }
}

/// When something ends, from the time left (negative: past): "in 6 days", "12 years ago".
pub fn human_until(left_ms: i64) -> String {
    if left_ms >= 0 {
        format!("in {}", human(left_ms.unsigned_abs()))
    } else {
        format!("{} ago", human(left_ms.unsigned_abs()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_are_imf_fixdates() {
        assert_eq!(http_date(784_111_777_000), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(951_782_400_999), "Tue, 29 Feb 2000 00:00:00 GMT");
    }

    #[test]
    fn spans_read_as_people_write_them() {
        assert_eq!(human(0), "0 ms");
        assert_eq!(human(350), "350 ms");
        assert_eq!(human(2_149), "2.1 s");
        assert_eq!(human(42_000), "42 s");
        assert_eq!(human(4 * 60_000 + 59_000), "4 min");
        assert_eq!(human(3 * 3_600_000), "3 h");
        assert_eq!(human(6 * 86_400_000 + 5), "6 days");
        assert_eq!(human(86_400_000 * 2), "2 days");
        assert_eq!(human(387_736_290_000), "12 years");
        assert_eq!(human(u64::MAX), "584542046 years");
        assert_eq!(human_until(6 * 86_400_000), "in 6 days");
        assert_eq!(human_until(-387_736_290_000), "12 years ago");
        assert_eq!(human_until(i64::MIN), "292271023 years ago");
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339(1_700_000_000_500), "2023-11-14T22:13:20.5Z");
        assert_eq!(rfc3339(4_102_444_799_000), "2099-12-31T23:59:59Z");
        assert_eq!(rfc3339(1_798_761_600_000), "2027-01-01T00:00:00Z");
    }

    #[test]
    fn parses_what_it_writes_and_what_etcd_wrote() {
        for ms in [0u64, 951_782_400_000, 1_700_000_000_123, 4_102_444_799_000] {
            assert_eq!(parse_rfc3339(&rfc3339(ms)), Some(ms as i64));
        }
        assert_eq!(
            parse_rfc3339("2014-08-17T16:21:37.426001686Z"),
            Some(1_408_292_497_426)
        );
        assert_eq!(
            parse_rfc3339("2014-08-17T18:21:37+02:00"),
            Some(1_408_292_497_000)
        );
        for bad in [
            "",
            "2014-08-17",
            "2014-13-01T00:00:00Z",
            "2014-08-17T16:21:37",
            "yesterday",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn ttl_rounds_up_and_stops_at_zero() {
        assert_eq!(ttl_secs(10_000, 0), 10);
        assert_eq!(ttl_secs(10_001, 0), 11);
        assert_eq!(ttl_secs(10_000, 9_999), 1);
        assert_eq!(ttl_secs(10_000, 10_000), 0);
        assert_eq!(ttl_secs(10_000, 20_000), 0);
    }
}
