//! The `size` of `/new?size=N`: how many members found the cluster.

/// Cluster size when `/new` is asked without one, as on discovery.etcd.io.
pub const DEFAULT_SIZE: u64 = 3;

/// Reads the `size` query value. `None` (no `size` given) means the default.
/// Errors are sentences for a 400 body.
pub fn parse_size(raw: Option<&str>, max: u64) -> Result<u64, String> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_SIZE);
    };
    let text = raw.trim();
    if text.is_empty() {
        return Err(format!(
            "size is empty: give a whole number from 1 to {max}, e.g. /new?size=3"
        ));
    }
    let n: i128 = match text.parse() {
        Ok(n) => n,
        Err(_) => {
            return Err(format!(
                "size {text:?} is not a whole number: give one from 1 to {max}, e.g. /new?size=3"
            ))
        }
    };
    if n < 1 {
        return Err(format!(
            "size {n} is too small: a cluster needs at least 1 member (3 or 5 are usual)"
        ));
    }
    if n > max as i128 {
        return Err(format!(
            "size {n} is too large: this service allows at most {max} members per cluster"
        ));
    }
    Ok(n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_good_sizes() {
        assert_eq!(parse_size(None, 9), Ok(3));
        assert_eq!(parse_size(Some("1"), 9), Ok(1));
        assert_eq!(parse_size(Some("5"), 9), Ok(5));
        assert_eq!(parse_size(Some("9"), 9), Ok(9));
        assert_eq!(parse_size(Some("+7"), 9), Ok(7));
        assert_eq!(parse_size(Some("007"), 9), Ok(7));
    }

    #[test]
    fn bad_sizes_say_why() {
        let cases = [
            ("0", "too small"),
            ("-3", "too small"),
            ("10", "too large"),
            (
                "99999999999999999999999999999999999999999",
                "not a whole number",
            ),
            ("three", "not a whole number"),
            ("3.0", "not a whole number"),
            ("", "empty"),
            ("0x3", "not a whole number"),
        ];
        for (raw, why) in cases {
            let e = parse_size(Some(raw), 9).unwrap_err();
            assert!(e.contains(why), "{raw:?}: {e}");
        }
    }
}
