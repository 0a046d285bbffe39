//! Wall-clock time arithmetic: seconds since 1970-01-01 00:00 local time, calendar days, clock
//! hours. No time zones here: columns are moved to their wall clock when they are read.

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number: (year, month, day).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Calendar day of a wall-clock second.
#[inline]
pub fn day_of(t: i64) -> i64 {
    t.div_euclid(DAY)
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]` or `YYYY-MM-DDTHH:MM[:SS]` (years 1–9999) into
/// wall-clock seconds.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = match s.find([' ', 'T']) {
        Some(i) => (s.get(..i)?, Some(s.get(i + 1..)?)),
        None => (s, None),
    };
    let mut dp = date.split('-');
    let y: i64 = dp.next()?.parse().ok()?;
    let m: u32 = dp.next()?.parse().ok()?;
    let d: u32 = dp.next()?.parse().ok()?;
    if dp.next().is_some() || !(1..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    let mut secs = days_from_civil(y, m, d) * DAY;
    if let Some(t) = time {
        let mut tp = t.split(':');
        let h: i64 = tp.next()?.parse().ok()?;
        let mi: i64 = tp.next()?.parse().ok()?;
        let se: i64 = match tp.next() {
            Some(x) => x.parse().ok()?,
            None => 0,
        };
        if tp.next().is_some() || h > 23 || mi > 59 || se > 59 || h < 0 || mi < 0 || se < 0 {
            return None;
        }
        secs += h * 3600 + mi * 60 + se;
    }
    Some(secs)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Formats wall-clock seconds as `YYYY-MM-DD HH:MM:SS`.
pub fn format_datetime(t: i64) -> String {
    let (y, m, d) = civil_from_days(day_of(t));
    let s = t.rem_euclid(DAY);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// Completed years of age on wall-clock second `at` for a birth at `birth`.
pub fn age_years(birth: i64, at: i64) -> i64 {
    let (by, bm, bd) = civil_from_days(day_of(birth));
    let (y, m, d) = civil_from_days(day_of(at));
    let mut age = y - by;
    if (m, d) < (bm, bd) {
        age -= 1;
    }
    age
}

/// Days of age on `at` (0 on the day of birth).
pub fn age_days(birth: i64, at: i64) -> i64 {
    day_of(at).saturating_sub(day_of(birth))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn round_trips_and_ages() {
        let t = parse_datetime("2026-02-28 13:05:09").unwrap();
        assert_eq!(format_datetime(t), "2026-02-28 13:05:09");
        assert_eq!(parse_datetime("2026-02-29"), None);
        assert_eq!(parse_datetime("2024-02-29").map(format_datetime).as_deref(), Some("2024-02-29 00:00:00"));
        assert_eq!(parse_datetime("1969-12-31"), Some(-DAY));
        assert_eq!(parse_datetime("99999999999-01-01"), None);
        let b = parse_datetime("2000-03-01").unwrap();
        assert_eq!(age_years(b, parse_datetime("2018-02-28").unwrap()), 17);
        assert_eq!(age_years(b, parse_datetime("2018-03-01").unwrap()), 18);
        assert_eq!(age_days(b, parse_datetime("2000-03-29 23:00").unwrap()), 28);
    }
}
