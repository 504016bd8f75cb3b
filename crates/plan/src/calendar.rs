//! Swedish days and times, from the IANA time-zone database (Europe/Stockholm).
//!
//! Deadlines in the seeds are counted in days as people in Sweden live them: a plan sent
//! at 00:30 on day 16 in Stockholm is late, even though it is still day 15 in UTC. "As of
//! a date" means the end of that day in Sweden, and a time shown to a person is Swedish
//! local time with its offset. This module is the one place that knows the time zone;
//! everything else asks it, so that the day a deadline counts, the cutoff of an as-of
//! query and the time a report prints cannot disagree.
//!
//! The rules come from the time-zone database (`chrono-tz`) rather than a hand-coded
//! summer-time rule: the database also knows the years before the EU rule (Sweden had
//! no summer time 1950-1979, and other switch dates 1980-1995) and will follow a change
//! of the rule without a change here.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Stockholm;
use chrono_tz::Tz;

/// The date in Sweden (Europe/Stockholm) at `at`: CET (UTC+1), CEST (UTC+2) in summer.
pub fn swedish_date(at: DateTime<Utc>) -> NaiveDate {
    swedish_time(at).date_naive()
}

/// `at` in Swedish local time, with its offset: for showing a time to a person.
pub fn swedish_time(at: DateTime<Utc>) -> DateTime<Tz> {
    at.with_timezone(&Stockholm)
}

/// `at` as a person in Sweden reads it, with the offset so that it stays unambiguous
/// (the hour repeated when summer time ends): `2026-03-03 00:30 +01:00`.
pub fn format_local(at: DateTime<Utc>) -> String {
    swedish_time(at).format("%Y-%m-%d %H:%M %:z").to_string()
}

/// The first instant of `date` in Sweden: local midnight.
pub fn start_of_swedish_day(date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    // Sweden switches at 02:00/03:00, so midnight always exists once; were a zone ever
    // to skip midnight, the day would start at the first local time that exists.
    (0..=24)
        .find_map(|h| {
            Stockholm
                .from_local_datetime(&(midnight + Duration::hours(h)))
                .earliest()
        })
        .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
}

/// The last microsecond of `date` in Sweden (22:59:59.999999 UTC in winter,
/// 21:59:59.999999 UTC in summer time): the cutoff of "as of this day", so that what
/// was recorded by the end of the Swedish day counts and nothing later does.
pub fn end_of_swedish_day(date: NaiveDate) -> DateTime<Utc> {
    match date.succ_opt() {
        Some(next) => start_of_swedish_day(next) - Duration::microseconds(1),
        None => DateTime::<Utc>::MAX_UTC,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn winter_is_utc_plus_one() {
        assert_eq!(swedish_date(utc(2026, 1, 15, 22, 59)), day(2026, 1, 15));
        assert_eq!(swedish_date(utc(2026, 1, 15, 23, 0)), day(2026, 1, 16));
        assert_eq!(
            format_local(utc(2026, 3, 2, 23, 30)),
            "2026-03-03 00:30 +01:00"
        );
    }

    #[test]
    fn summer_is_utc_plus_two() {
        assert_eq!(swedish_date(utc(2026, 7, 1, 21, 59)), day(2026, 7, 1));
        assert_eq!(swedish_date(utc(2026, 7, 1, 22, 0)), day(2026, 7, 2));
        assert_eq!(
            format_local(utc(2026, 7, 2, 22, 30)),
            "2026-07-03 00:30 +02:00"
        );
    }

    #[test]
    fn summer_time_starts_and_ends_on_the_last_sundays_of_march_and_october() {
        // 2026: 29 March and 25 October, at 01:00 UTC.
        // 22:30 UTC the day before the switch is still winter: 23:30 local.
        assert_eq!(swedish_date(utc(2026, 3, 28, 22, 30)), day(2026, 3, 28));
        // After 01:00 UTC on 29 March, 22:30 UTC is 00:30 the next day.
        assert_eq!(swedish_date(utc(2026, 3, 29, 22, 30)), day(2026, 3, 30));
        assert_eq!(
            format_local(utc(2026, 3, 29, 0, 59)),
            "2026-03-29 01:59 +01:00"
        );
        assert_eq!(
            format_local(utc(2026, 3, 29, 1, 0)),
            "2026-03-29 03:00 +02:00"
        );
        assert_eq!(swedish_date(utc(2026, 10, 24, 22, 30)), day(2026, 10, 25));
        assert_eq!(swedish_date(utc(2026, 10, 25, 22, 30)), day(2026, 10, 25));
        // The hour repeated when summer time ends reads apart by its offset.
        assert_eq!(
            format_local(utc(2026, 10, 25, 0, 30)),
            "2026-10-25 02:30 +02:00"
        );
        assert_eq!(
            format_local(utc(2026, 10, 25, 1, 30)),
            "2026-10-25 02:30 +01:00"
        );
    }

    #[test]
    fn a_day_ends_at_swedish_midnight_in_winter_and_in_summer_time() {
        let winter = end_of_swedish_day(day(2026, 3, 2));
        assert_eq!(winter.to_rfc3339(), "2026-03-02T22:59:59.999999+00:00");
        let summer = end_of_swedish_day(day(2026, 7, 2));
        assert_eq!(summer.to_rfc3339(), "2026-07-02T21:59:59.999999+00:00");
        for t in [winter, summer] {
            let next = t + Duration::microseconds(1);
            assert_eq!(swedish_date(next), swedish_date(t).succ_opt().unwrap());
            assert_eq!(start_of_swedish_day(swedish_date(next)), next);
        }
    }

    #[test]
    fn the_switch_days_are_23_and_25_hours_long() {
        let length =
            |d| end_of_swedish_day(d) - start_of_swedish_day(d) + Duration::microseconds(1);
        assert_eq!(length(day(2026, 3, 29)), Duration::hours(23));
        assert_eq!(length(day(2026, 10, 25)), Duration::hours(25));
        assert_eq!(length(day(2026, 6, 1)), Duration::hours(24));
        assert_eq!(
            start_of_swedish_day(day(2026, 3, 29)).to_rfc3339(),
            "2026-03-28T23:00:00+00:00"
        );
        assert_eq!(
            end_of_swedish_day(day(2026, 10, 25)).to_rfc3339(),
            "2026-10-25T22:59:59.999999+00:00"
        );
    }

    #[test]
    fn the_database_knows_the_years_before_the_eu_rule() {
        // 1985: summer time ended on the last Sunday of September (29 Sep), not October.
        assert_eq!(
            format_local(utc(1985, 10, 10, 12, 0)),
            "1985-10-10 13:00 +01:00"
        );
        // 1975: no summer time at all in Sweden.
        assert_eq!(
            format_local(utc(1975, 7, 1, 12, 0)),
            "1975-07-01 13:00 +01:00"
        );
    }

    #[test]
    fn the_last_day_of_the_calendar_ends_at_the_end_of_time() {
        assert_eq!(end_of_swedish_day(NaiveDate::MAX), DateTime::<Utc>::MAX_UTC);
    }
}
