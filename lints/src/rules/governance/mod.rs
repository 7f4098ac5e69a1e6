//! Organisation policy.

pub(crate) mod allow_without_reason;
