//! Organisation policy.

pub(crate) mod allow_without_reason;
pub(crate) mod disallowed;
pub(crate) mod hardcoded_secret;
