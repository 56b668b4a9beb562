//! The service's limits, with defaults the Worker may override from `wrangler.toml` vars.

/// What one deployment allows. Every limit answers a clear error when crossed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest cluster size `/new?size=N` accepts (`MAX_SIZE`).
    pub max_size: u64,
    /// Member keys one token may hold, founders and late comers together (`MAX_MEMBERS`).
    pub max_members: usize,
    /// Bytes of one member's value (`MAX_VALUE_BYTES`).
    pub max_value_bytes: usize,
    /// Writes one token may record; its whole history is kept, so this bounds it (`MAX_EVENTS`).
    pub max_events: u64,
    /// Seconds from minting until a token and its registry are deleted (`TOKEN_LIFETIME_SECONDS`).
    pub token_lifetime_secs: u64,
    /// Seconds an idle wait is held before it ends with an empty 200 (`WAIT_TIMEOUT_SECONDS`).
    pub wait_timeout_secs: u64,
    /// Waits one token holds parked at once (`MAX_WAITS`); more get 429.
    pub max_waits: usize,
    /// Tokens one client address may mint per minute (`MINTS_PER_MINUTE`); more get 429.
    pub mints_per_minute: u64,
    /// Reads one client address may have relayed per minute (`RELAYS_PER_MINUTE`); more get 429.
    pub relays_per_minute: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_size: 9,
            max_members: 64,
            max_value_bytes: 4096,
            max_events: 4096,
            token_lifetime_secs: 7 * 24 * 3600,
            wait_timeout_secs: 60,
            max_waits: 256,
            mints_per_minute: 60,
            relays_per_minute: 120,
        }
    }
}

impl Limits {
    /// Overrides defaults from named settings; `lookup` returns a setting's text if it is set.
    /// A setting that is not a positive whole number is an error naming it.
    pub fn from_settings(lookup: impl Fn(&str) -> Option<String>) -> Result<Limits, String> {
        let mut l = Limits::default();
        let read = |name: &str, into: &mut u64| -> Result<(), String> {
            if let Some(text) = lookup(name) {
                let text = text.trim();
                if text.is_empty() {
                    return Ok(());
                }
                match text.parse::<u64>() {
                    Ok(v) if v > 0 => *into = v,
                    _ => {
                        return Err(format!(
                            "setting {name}={text:?} must be a positive whole number"
                        ))
                    }
                }
            }
            Ok(())
        };
        let mut members = l.max_members as u64;
        let mut value = l.max_value_bytes as u64;
        read("MAX_SIZE", &mut l.max_size)?;
        read("MAX_MEMBERS", &mut members)?;
        read("MAX_VALUE_BYTES", &mut value)?;
        read("MAX_EVENTS", &mut l.max_events)?;
        read("TOKEN_LIFETIME_SECONDS", &mut l.token_lifetime_secs)?;
        read("WAIT_TIMEOUT_SECONDS", &mut l.wait_timeout_secs)?;
        let mut waits = l.max_waits as u64;
        read("MAX_WAITS", &mut waits)?;
        l.max_waits = usize::try_from(waits).unwrap_or(usize::MAX);
        read("MINTS_PER_MINUTE", &mut l.mints_per_minute)?;
        read("RELAYS_PER_MINUTE", &mut l.relays_per_minute)?;
        l.max_members = usize::try_from(members).unwrap_or(usize::MAX);
        l.max_value_bytes = usize::try_from(value).unwrap_or(usize::MAX);
        if (l.max_members as u64) < l.max_size {
            return Err(format!(
                "MAX_MEMBERS ({}) must be at least MAX_SIZE ({})",
                l.max_members, l.max_size
            ));
        }
        Ok(l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_override_defaults() {
        let l = Limits::from_settings(|k| match k {
            "MAX_SIZE" => Some("5".into()),
            "WAIT_TIMEOUT_SECONDS" => Some(" 2 ".into()),
            "MAX_EVENTS" => Some("".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(l.max_size, 5);
        assert_eq!(l.wait_timeout_secs, 2);
        assert_eq!(l.max_events, Limits::default().max_events);
        assert_eq!(l.max_members, 64);
    }

    #[test]
    fn bad_settings_are_named() {
        let e = Limits::from_settings(|k| (k == "MAX_MEMBERS").then(|| "lots".into())).unwrap_err();
        assert!(e.contains("MAX_MEMBERS"), "{e}");
        let e = Limits::from_settings(|k| (k == "MAX_SIZE").then(|| "0".into())).unwrap_err();
        assert!(e.contains("MAX_SIZE"), "{e}");
        let e = Limits::from_settings(|k| (k == "MAX_SIZE").then(|| "100".into())).unwrap_err();
        assert!(e.contains("at least MAX_SIZE"), "{e}");
    }
}
