//! Weekly opening hours with holidays and make-up working days (调休).

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// Opening hours per weekday as `HH:MM-HH:MM` spans; an empty day is closed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct WeeklyHours {
    #[serde(default)]
    pub mon: Vec<String>,
    #[serde(default)]
    pub tue: Vec<String>,
    #[serde(default)]
    pub wed: Vec<String>,
    #[serde(default)]
    pub thu: Vec<String>,
    #[serde(default)]
    pub fri: Vec<String>,
    #[serde(default)]
    pub sat: Vec<String>,
    #[serde(default)]
    pub sun: Vec<String>,
    /// Closed on public holidays (most halls); machines in banks often stay open.
    #[serde(default = "yes")]
    pub closed_on_holidays: bool,
    /// Plain note shown under the hours, e.g. 周六上午仅办理社保业务.
    #[serde(default)]
    pub note: Option<String>,
}

fn yes() -> bool {
    true
}

/// What a day looks like in the region's calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    /// An ordinary day: the weekday's hours apply.
    Normal,
    /// A public holiday (法定节假日).
    Holiday,
    /// A weekend day worked in exchange for a holiday (调休上班): Monday's hours apply.
    MakeupWorkday,
}

impl WeeklyHours {
    /// The spans configured for a weekday.
    pub fn day(&self, weekday: Weekday) -> &[String] {
        match weekday {
            Weekday::Mon => &self.mon,
            Weekday::Tue => &self.tue,
            Weekday::Wed => &self.wed,
            Weekday::Thu => &self.thu,
            Weekday::Fri => &self.fri,
            Weekday::Sat => &self.sat,
            Weekday::Sun => &self.sun,
        }
    }

    /// The spans in force on a date, as minutes after midnight.
    pub fn spans_on(&self, date: NaiveDate, kind: DayKind) -> Vec<(u16, u16)> {
        let weekday = match kind {
            DayKind::Holiday if self.closed_on_holidays => return Vec::new(),
            DayKind::MakeupWorkday => Weekday::Mon,
            _ => date.weekday(),
        };
        self.day(weekday)
            .iter()
            .filter_map(|s| parse_span(s))
            .collect()
    }

    /// Whether the outlet is open at `minute` (after midnight) on `date`.
    pub fn is_open(&self, date: NaiveDate, minute: u16, kind: DayKind) -> bool {
        self.spans_on(date, kind)
            .iter()
            .any(|&(from, to)| from <= minute && minute < to)
    }

    /// Plain wording of a date's hours, e.g. `08:30-12:00 13:30-17:30` or `今日休息`.
    pub fn label_on(&self, date: NaiveDate, kind: DayKind) -> String {
        let spans = self.spans_on(date, kind);
        if spans.is_empty() {
            return "今日休息".to_owned();
        }
        spans
            .iter()
            .map(|&(a, b)| format!("{}-{}", hhmm(a), hhmm(b)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Every malformed span, with the weekday field it sits in.
    pub fn malformed(&self) -> Vec<(&'static str, String)> {
        let days = [
            ("hours.mon", &self.mon),
            ("hours.tue", &self.tue),
            ("hours.wed", &self.wed),
            ("hours.thu", &self.thu),
            ("hours.fri", &self.fri),
            ("hours.sat", &self.sat),
            ("hours.sun", &self.sun),
        ];
        days.into_iter()
            .flat_map(|(field, spans)| {
                spans
                    .iter()
                    .filter(|s| parse_span(s).is_none())
                    .map(move |s| (field, s.clone()))
            })
            .collect()
    }
}

/// Parses `HH:MM-HH:MM` into minutes after midnight; `24:00` ends a day.
pub fn parse_span(s: &str) -> Option<(u16, u16)> {
    let (a, b) = s.split_once('-')?;
    let (from, to) = (parse_hhmm(a.trim())?, parse_hhmm(b.trim())?);
    (from < to).then_some((from, to))
}

fn parse_hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

fn hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hall() -> WeeklyHours {
        let weekday = vec!["08:30-12:00".to_owned(), "13:30-17:30".to_owned()];
        WeeklyHours {
            mon: weekday.clone(),
            tue: weekday.clone(),
            wed: weekday.clone(),
            thu: weekday.clone(),
            fri: weekday,
            sat: vec!["09:00-12:00".to_owned()],
            ..WeeklyHours::default()
        }
        .with_holidays_closed()
    }

    impl WeeklyHours {
        fn with_holidays_closed(mut self) -> Self {
            self.closed_on_holidays = true;
            self
        }
    }

    #[test]
    fn open_in_a_span_closed_at_lunch_and_on_sunday() {
        let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let sunday = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let h = hall();
        assert!(h.is_open(monday, 9 * 60, DayKind::Normal));
        assert!(!h.is_open(monday, 12 * 60 + 30, DayKind::Normal));
        assert!(!h.is_open(sunday, 10 * 60, DayKind::Normal));
        assert_eq!(h.label_on(sunday, DayKind::Normal), "今日休息");
        assert_eq!(
            h.label_on(monday, DayKind::Normal),
            "08:30-12:00 13:30-17:30"
        );
    }

    #[test]
    fn holidays_close_and_makeup_days_open() {
        let sunday = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let h = hall();
        assert!(!h.is_open(sunday, 9 * 60, DayKind::Holiday));
        assert!(h.is_open(sunday, 9 * 60, DayKind::MakeupWorkday));
    }

    #[test]
    fn malformed_spans_are_named() {
        let mut h = hall();
        h.tue = vec!["8点半-12:00".to_owned()];
        assert_eq!(h.malformed(), vec![("hours.tue", "8点半-12:00".to_owned())]);
        assert_eq!(parse_span("00:00-24:00"), Some((0, 1440)));
        assert_eq!(parse_span("12:00-09:00"), None);
    }
}
