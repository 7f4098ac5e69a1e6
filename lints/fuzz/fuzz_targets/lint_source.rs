//! Arbitrary text through the whole engine (parse, macro expansion, every
//! rule, suppressions, fixes): it must never panic. Run with
//! `cargo +nightly fuzz run --no-cfg-fuzzing lint_source` (without
//! `--no-cfg-fuzzing`, proc-macro2 disables span locations and the
//! location code would go untested).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lints::{Disallowed, FileKind, Linter, Settings};

fn linter() -> &'static Linter {
    static LINTER: OnceLock<Linter> = OnceLock::new();
    LINTER.get_or_init(|| {
        let settings = Settings {
            disallowed: Disallowed::new("std::env::set_var", "fuzz").into_iter().collect(),
            ..Settings::default()
        };
        match Linter::new(&settings) {
            Ok(l) => l,
            Err(e) => panic!("default settings are valid: {e}"),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(source) = std::str::from_utf8(data) {
        let findings = linter().lint_source("src/lib.rs", source, FileKind::Library);
        std::hint::black_box(findings);
        let fixed = linter().fix_source("tests/t.rs", source, FileKind::Test);
        std::hint::black_box(fixed);
    }
});
