//! Errors that are silently dropped.

pub(crate) mod empty_err_arm;
pub(crate) mod ignored_ok;
pub(crate) mod let_underscore_result;
pub(crate) mod map_err_discard;
