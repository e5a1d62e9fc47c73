//! Working days in the region's calendar: weekends and public holidays do not count, weekend
//! days worked in exchange for a holiday (调休上班) do.

use chrono::{Datelike, NaiveDate, Weekday};
use menpai_model::hours::DayKind;

/// Whether `date` is a working day, given how the calendar treats it.
pub fn is_working_day(date: NaiveDate, kind: DayKind) -> bool {
    match kind {
        DayKind::Holiday => false,
        DayKind::MakeupWorkday => true,
        DayKind::Normal => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
    }
}

/// The `n`th working day after `from` (which itself does not count).
pub fn add_working_days(
    from: NaiveDate,
    n: u32,
    kind_of: impl Fn(NaiveDate) -> DayKind,
) -> NaiveDate {
    let mut day = from;
    let mut left = n;
    // A year of holidays cannot hold more than a few hundred days off: the bound only guards
    // against a calendar with no working day at all.
    for _ in 0..(n as usize * 7 + 400) {
        if left == 0 {
            break;
        }
        day = day.succ_opt().unwrap_or(day);
        if is_working_day(day, kind_of(day)) {
            left -= 1;
        }
    }
    day
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn plain(_: NaiveDate) -> DayKind {
        DayKind::Normal
    }

    #[test]
    fn weekends_do_not_count() {
        // Friday 2026-11-27 + 1 working day is Monday 30th, + 15 is Friday 18 December.
        assert_eq!(add_working_days(d("2026-11-27"), 1, plain), d("2026-11-30"));
        assert_eq!(
            add_working_days(d("2026-11-27"), 15, plain),
            d("2026-12-18")
        );
        // From a Sunday: Monday is the first working day.
        assert_eq!(add_working_days(d("2026-11-29"), 1, plain), d("2026-11-30"));
        assert_eq!(add_working_days(d("2026-11-29"), 0, plain), d("2026-11-29"));
    }

    #[test]
    fn holidays_do_not_count_and_makeup_saturdays_do() {
        // National Day week 2026: 1–7 October are holidays, Saturday 10 October is worked.
        let calendar = |date: NaiveDate| {
            if (d("2026-10-01")..=d("2026-10-07")).contains(&date) {
                DayKind::Holiday
            } else if date == d("2026-10-10") {
                DayKind::MakeupWorkday
            } else {
                DayKind::Normal
            }
        };
        // Rated Wednesday 30 September: working days are 8, 9, 10 (Sat, worked), 12–16, 19–23,
        // 26, 27 October: the 15th is Tuesday 27 October.
        assert_eq!(
            add_working_days(d("2026-09-30"), 15, calendar),
            d("2026-10-27")
        );
        // Without the calendar it would be 21 October.
        assert_eq!(
            add_working_days(d("2026-09-30"), 15, plain),
            d("2026-10-21")
        );
        assert!(is_working_day(d("2026-10-10"), DayKind::MakeupWorkday));
        assert!(!is_working_day(d("2026-10-01"), DayKind::Holiday));
        assert!(!is_working_day(d("2026-10-11"), DayKind::Normal));
    }

    #[test]
    fn a_calendar_without_working_days_ends() {
        let never = |_: NaiveDate| DayKind::Holiday;
        let end = add_working_days(d("2026-01-01"), 15, never);
        assert!(end > d("2026-01-01"));
    }
}
