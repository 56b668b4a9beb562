//! A config butane embeds whole (`ignition.config.merge`/`replace` with `inline`), checked as
//! butane checks it (`ValidateIgnitionConfig`): it must be Ignition JSON; one of another
//! spec version gets a warning and no further checks; otherwise Ignition's own checks run
//! on it, with paths inside it (butane places them on the outer config's lines, as is).

use super::read::{self, Context, FromJson, JsonDecoder};
use super::types::{Config, Spec};
use super::validate::{duplicates, parse_semver, validate as validate_config};
use crate::path::Path;
use crate::report::Report;
use crate::shape::HasShape;

pub const ERR_UNKNOWN_VERSION: &str =
    "skipping validation for the merge/replace ignition config due to an unkown version";

/// Findings for the config embedded at `at`, and whether it could be read at all.
pub fn validate(at: &Path, raw: &[u8], spec: Spec) -> (Report, bool) {
    let mut r = Report::default();
    let (config, node) = match read_config(raw, spec) {
        Ok(read) => read,
        Err(message) => {
            r.error(Path::json(), message);
            return (r, false);
        }
    };
    if parse_semver(&config.ignition.version).is_some_and(|v| v != spec.version()) {
        r.warning(at.field("version"), ERR_UNKNOWN_VERSION);
        return (r, true);
    }
    r.merge(validate_config(&config, spec));
    r.merge(duplicates(&config));
    let fields = Config::FIELDS.expect("a struct");
    crate::shape::unused(Some(&node), &Path::json(), fields, spec.minor(), &mut r);
    (r, true)
}

/// Ignition JSON typed as Go types it, with its node tree; or Go's error.
pub fn read_config(raw: &[u8], spec: Spec) -> Result<(Config, crate::yaml::Node), String> {
    let node = read::parse(raw)?;
    let mut d = JsonDecoder { spec, error: None };
    let config = Config::from_json(&node, &mut d, &Context::default()).unwrap_or_default();
    match d.error {
        Some(e) => Err(e),
        None => Ok((config, node)),
    }
}
