//! The Swedish calendar day of an instant. Deadlines in the seeds are counted in days as
//! people in Sweden live them: a plan sent at 00:30 on day 16 in Stockholm is late, even
//! though it is still day 15 in UTC.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

/// The date in Sweden (Europe/Stockholm) at `at`: UTC+1, and UTC+2 in summer time,
/// from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of
/// October (the EU rule, in force in Sweden since 1996; earlier instants use it too).
pub fn swedish_date(at: DateTime<Utc>) -> NaiveDate {
    let year = at.year();
    let summer_start = last_sunday(year, 3)
        .and_hms_opt(1, 0, 0)
        .map(|t| t.and_utc());
    let summer_end = last_sunday(year, 10)
        .and_hms_opt(1, 0, 0)
        .map(|t| t.and_utc());
    let summer = matches!((summer_start, summer_end), (Some(s), Some(e)) if at >= s && at < e);
    let offset = if summer { 2 } else { 1 };
    (at + Duration::hours(offset)).date_naive()
}

fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let next_month = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }
    .expect("the first of a month exists");
    let last = next_month.pred_opt().expect("a month has a last day");
    // Days back from the month's last day to its Sunday (0 when it is one).
    let back = last.weekday().num_days_from_sunday();
    last - Duration::days(i64::from(back))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn winter_is_utc_plus_one() {
        assert_eq!(
            swedish_date(utc(2026, 1, 15, 22, 59)),
            NaiveDate::from_ymd_opt(2026, 1, 15).unwrap()
        );
        assert_eq!(
            swedish_date(utc(2026, 1, 15, 23, 0)),
            NaiveDate::from_ymd_opt(2026, 1, 16).unwrap()
        );
    }

    #[test]
    fn summer_is_utc_plus_two() {
        assert_eq!(
            swedish_date(utc(2026, 7, 1, 21, 59)),
            NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()
        );
        assert_eq!(
            swedish_date(utc(2026, 7, 1, 22, 0)),
            NaiveDate::from_ymd_opt(2026, 7, 2).unwrap()
        );
    }

    #[test]
    fn summer_time_starts_and_ends_on_the_last_sundays_of_march_and_october() {
        // 2026: 29 March and 25 October.
        assert_eq!(
            last_sunday(2026, 3),
            NaiveDate::from_ymd_opt(2026, 3, 29).unwrap()
        );
        assert_eq!(
            last_sunday(2026, 10),
            NaiveDate::from_ymd_opt(2026, 10, 25).unwrap()
        );
        assert_eq!(
            last_sunday(2026, 12),
            NaiveDate::from_ymd_opt(2026, 12, 27).unwrap()
        );
        // 22:30 UTC the day before the switch is still winter: 23:30 local.
        assert_eq!(
            swedish_date(utc(2026, 3, 28, 22, 30)),
            NaiveDate::from_ymd_opt(2026, 3, 28).unwrap()
        );
        // After 01:00 UTC on 29 March, 22:30 UTC is 00:30 the next day.
        assert_eq!(
            swedish_date(utc(2026, 3, 29, 22, 30)),
            NaiveDate::from_ymd_opt(2026, 3, 30).unwrap()
        );
        assert_eq!(
            swedish_date(utc(2026, 10, 24, 22, 30)),
            NaiveDate::from_ymd_opt(2026, 10, 25).unwrap()
        );
        assert_eq!(
            swedish_date(utc(2026, 10, 25, 22, 30)),
            NaiveDate::from_ymd_opt(2026, 10, 25).unwrap()
        );
    }
}
