//! Output that bypasses structured logging.

pub(crate) mod dbg_macro;
pub(crate) mod print_stderr;
pub(crate) mod print_stdout;
