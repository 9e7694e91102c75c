//! Small text helpers for the terminal: durations, offsets, UTC times, cut strings.

/// A duration in seconds, short: `0.25s`, `12.5s`, `2m05s`, `3h07m`, `2d04h`.
pub fn duration(seconds: f64) -> String {
    if !seconds.is_finite() {
        return String::new();
    }
    let seconds = seconds.max(0.0);
    if seconds < 60.0 {
        let text = format!("{seconds:.2}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        return format!("{text}s");
    }
    // Whole seconds from here on; the float is finite, non-negative and below u64::MAX here.
    let whole = seconds.min(1e15) as u64;
    let (days, hours, minutes, secs) = (whole / 86_400, whole / 3600 % 24, whole / 60 % 60, whole % 60);
    if days > 0 {
        format!("{days}d{hours:02}h")
    } else if hours > 0 {
        format!("{hours}h{minutes:02}m")
    } else {
        format!("{minutes}m{secs:02}s")
    }
}

/// An offset from the execution's start: `+0s`, `+1.5s`, `+2m05s`.
pub fn offset(seconds: f64) -> String {
    if !seconds.is_finite() {
        return String::new();
    }
    if seconds < 0.0 {
        return format!("-{}", duration(-seconds));
    }
    format!("+{}", duration(seconds))
}

/// Epoch seconds as a UTC time, `2026-01-31 12:00:05Z` (empty for a time out of range).
pub fn utc(epoch_seconds: f64) -> String {
    if !epoch_seconds.is_finite() || !(0.0..=253_402_300_799.0).contains(&epoch_seconds) {
        return String::new();
    }
    let secs = epoch_seconds as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = durable_runtime::protocol::civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}Z", rest / 3600, rest / 60 % 60, rest % 60)
}

/// `text` cut to `width` characters, ending in `…` when cut.
pub fn ellipsize(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut cut: String = text.chars().take(width - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_short() {
        assert_eq!(duration(0.0), "0s");
        assert_eq!(duration(0.25), "0.25s");
        assert_eq!(duration(1.5), "1.5s");
        assert_eq!(duration(125.0), "2m05s");
        assert_eq!(duration(3.0 * 3600.0 + 420.0), "3h07m");
        assert_eq!(duration(2.0 * 86_400.0 + 4.0 * 3600.0), "2d04h");
        assert_eq!(duration(f64::NAN), "");
        assert_eq!(duration(f64::MAX), duration(1e15));
        assert_eq!(offset(-1.0), "-1s");
    }

    #[test]
    fn utc_times() {
        assert_eq!(utc(0.0), "1970-01-01 00:00:00Z");
        assert_eq!(utc(1_767_225_600.12), "2026-01-01 00:00:00Z");
        assert_eq!(utc(951_782_400.0), "2000-02-29 00:00:00Z");
        assert_eq!(utc(-1.0), "");
        assert_eq!(utc(f64::INFINITY), "");
    }

    #[test]
    fn cut_strings_keep_characters_whole() {
        assert_eq!(ellipsize("abc", 3), "abc");
        assert_eq!(ellipsize("ünïcode", 4), "ünï…");
        assert_eq!(ellipsize("abc", 0), "");
    }
}
