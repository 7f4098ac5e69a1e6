//! The `govkit` binary: all logic lives in the library.

// syn's parse trees are many small allocations; mimalloc measured faster
// than glibc malloc on the lint benchmark (scripts/lint-bench).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    govkit::main()
}
