//! The halls' clock: China Standard Time whatever the machine's time zone, on the model's
//! `china_now`, so nothing here adds eight hours by hand.

use chrono::NaiveDateTime;

/// The hall's local time now (China Standard Time).
pub fn local_now() -> NaiveDateTime {
    menpai_model::queue::china_now()
}

/// A local time as stored: `YYYY-MM-DD HH:MM:SS.mmm`.
pub fn stamp(now: NaiveDateTime) -> String {
    now.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

/// A local day as stored: `YYYY-MM-DD`.
pub fn day(now: NaiveDateTime) -> String {
    now.format("%Y-%m-%d").to_string()
}
