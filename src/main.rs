//! The `govkit` binary: all logic lives in the library.

fn main() -> std::process::ExitCode {
    govkit::main()
}
