//! A symbolized stack frame, and whose code it is: the user's own, or a
//! library's that a report folds away (the standard library, a language
//! runtime, libc and other system libraries, well-known async runtimes and
//! the crates cargo downloaded). The first frame of the user's own code,
//! innermost first, is the leak's *culprit*: the line an SRE opens first.

use std::fmt;
use std::path::Path;

use serde::Serialize;

/// One frame of a symbolized user stack.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Frame {
    /// The function, demangled; `None` when no name can be known (no
    /// symbol's extent holds the address).
    pub function: Option<String>,
    /// Source file and line, from DWARF.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// The binary or shared library the frame is in.
    pub object: String,
    /// For frames without a name: the offset in `object`'s file, and its
    /// build id, enough to symbolize it later against an unstripped build.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_id: Option<String>,
    /// The library the frame belongs to when it is not the user's own code
    /// (`std`, `libc`, `Go runtime`, a crate's name, …): folded in reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub library: Option<String>,
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.function, &self.file, self.line) {
            (Some(name), Some(file), Some(line)) => write!(f, "{name} ({file}:{line})"),
            (Some(name), _, _) if self.object.is_empty() => f.write_str(name),
            (Some(name), _, _) => write!(f, "{name} ({})", self.object),
            (None, _, _) => {
                let offset = self.offset.unwrap_or_default();
                if self.object.is_empty() {
                    write!(f, "[unknown] {offset:#x}")
                } else {
                    write!(f, "[unknown] {}+{offset:#x}", self.object)?;
                    match &self.build_id {
                        Some(id) => write!(f, " (build-id {id})"),
                        None => Ok(()),
                    }
                }
            }
        }
    }
}

impl Frame {
    /// A frame no name can be given: `offset` in `object` (a pc when
    /// `object` is empty: outside every mapping).
    #[must_use]
    pub fn unknown(object: &Path, offset: u64, build_id: Option<String>) -> Self {
        Frame {
            function: None,
            file: None,
            line: None,
            object: object.display().to_string(),
            offset: Some(offset),
            build_id,
            library: system_library(object),
        }
    }

    /// A named frame of `object`, a `program` of that kind.
    #[must_use]
    pub fn named(
        function: String,
        location: Option<(String, u32)>,
        object: &Path,
        program: Program<'_>,
    ) -> Self {
        let (file, line) = location.map_or((None, None), |(f, l)| (Some(f), Some(l)));
        let library = system_library(object).or_else(|| match program {
            Program::Go { main_module } => go_library(&function, main_module),
            Program::Native => file
                .as_deref()
                .and_then(rust_library_by_file)
                .or_else(|| by_function_name(&function)),
        });
        Frame {
            function: Some(function),
            file,
            line,
            object: object.display().to_string(),
            offset: None,
            build_id: None,
            library,
        }
    }

    /// Whether the frame is where a Go goroutine (`runtime.goexit`) or
    /// thread (`runtime.mstart`, `runtime.rt0_go`) starts: the bottom of
    /// every Go stack.
    #[must_use]
    pub fn is_go_start(&self) -> bool {
        let Some(name) = self.function.as_deref() else {
            return false;
        };
        let name = name.strip_suffix(".abi0").unwrap_or(name);
        matches!(name, "runtime.goexit" | "runtime.mstart" | "runtime.rt0_go")
    }
}

/// What kind of program a frame's binary is, for telling the user's code
/// from libraries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Program<'a> {
    /// C, C++, Rust and the like.
    Native,
    /// A Go program, with its main module's path when its build info has
    /// one (`gopclntab::main_module`).
    Go { main_module: Option<&'a str> },
}

/// The first frame, innermost first, that is not a library's: the user's
/// own code, or a frame no name can be given (which may be the user's: a
/// named frame further out would be a guess).
#[must_use]
pub fn culprit(frames: &[Frame]) -> Option<usize> {
    frames.iter().position(|f| f.library.is_none())
}

/// Shared libraries installed by the system (libc, libssl, libstdc++, …):
/// their short name.
fn system_library(object: &Path) -> Option<String> {
    let s = object.to_str()?;
    let system = [
        "/lib/",
        "/lib64/",
        "/usr/lib/",
        "/usr/lib64/",
        "/usr/local/lib/",
    ]
    .iter()
    .any(|d| s.starts_with(d));
    let name = object.file_name()?.to_str()?;
    if !system || !name.contains(".so") {
        return None;
    }
    let stem = name.split(".so").next().unwrap_or(name);
    let stem = stem.split('-').next().unwrap_or(stem);
    Some(
        match stem {
            "libc" | "libpthread" | "libm" | "libdl" | "librt" | "ld" => "libc",
            other => other,
        }
        .to_owned(),
    )
}

/// Rust code whose source path says it is not the user's: the standard
/// library (`/rustc/<hash>/library/…`, or rust-src) and crates cargo
/// downloaded (`~/.cargo/registry/src/<index>/<crate>-<version>/…`, git
/// checkouts).
fn rust_library_by_file(file: &str) -> Option<String> {
    if file.starts_with("/rustc/") || file.contains("/lib/rustlib/src/rust/library/") {
        return Some("std".to_owned());
    }
    for marker in ["/.cargo/registry/src/", "/.cargo/git/checkouts/"] {
        if let Some((_, rest)) = file.split_once(marker) {
            // <index or repo>/<crate>-<version or rev>/…
            let dir = rest.split('/').nth(1)?;
            let name = dir
                .rsplit_once('-')
                .map_or(dir, |(name, _)| name)
                .replace('-', "_");
            return Some(name);
        }
    }
    None
}

/// Crates whose frames are a runtime's, not the caller's, when only the
/// function's name is known (no DWARF): the standard library, and async
/// runtimes and networking crates that sit between a server's code and
/// its sockets.
const RUNTIME_CRATES: &[&str] = &[
    "std",
    "core",
    "alloc",
    "tokio",
    "mio",
    "socket2",
    "futures_util",
    "futures_core",
    "futures_executor",
    "async_std",
    "async_io",
    "smol",
    "hyper",
    "hyper_util",
    "h2",
    "tower",
    "axum",
    "tonic",
    "reqwest",
];

/// The library of a frame known only by its name: a Rust runtime crate's
/// path (`tokio::net::…`, `<std::net::TcpListener as …>::…`), or libc's
/// own entry points linked into a static binary.
fn by_function_name(function: &str) -> Option<String> {
    if function.starts_with("__libc_") || function == "_start" {
        return Some("libc".to_owned());
    }
    if function.starts_with("__rust") {
        return Some("std".to_owned());
    }
    let path = function.trim_start_matches(['<', '&', '*']);
    let path = path.strip_prefix("mut ").unwrap_or(path);
    let krate = path.split("::").next()?;
    if !path.contains("::") {
        return None;
    }
    RUNTIME_CRATES.contains(&krate).then(|| match krate {
        "core" | "alloc" => "std".to_owned(),
        k => k.to_owned(),
    })
}

/// Go's standard library and runtime: packages whose import path has no
/// dot in its first element (`runtime`, `net/http`, `internal/poll`),
/// other than `main`. With the binary's main module known, packages of
/// other modules are dependencies, named by their import path; without
/// it (GOPATH builds), they are taken as the user's.
fn go_library(function: &str, main_module: Option<&str>) -> Option<String> {
    // "net/http.(*Server).Serve": the package is up to the first dot after
    // the last slash.
    let (dir, last) = function.rsplit_once('/').unwrap_or(("", function));
    let package_tail = last.split('.').next().unwrap_or(last);
    let package = &function[..function.len() - last.len() + package_tail.len()];
    let first = if dir.is_empty() {
        package_tail
    } else {
        dir.split('/').next().unwrap_or(dir)
    };
    if package == "main" {
        return None;
    }
    if !first.contains('.') {
        return Some(if matches!(first, "runtime" | "internal" | "syscall") {
            "Go runtime".to_owned()
        } else {
            "Go std".to_owned()
        });
    }
    let main_module = main_module?;
    let own = package == main_module
        || package
            .strip_prefix(main_module)
            .is_some_and(|rest| rest.starts_with('/'));
    (!own).then(|| package.to_owned())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{Frame, Program, culprit};

    fn rust(name: &str, file: Option<&str>) -> Frame {
        Frame::named(
            name.to_owned(),
            file.map(|f| (f.to_owned(), 7)),
            Path::new("/srv/api"),
            Program::Native,
        )
    }

    #[test]
    fn the_culprit_is_the_first_frame_of_the_users_code() {
        let frames = vec![
            Frame::unknown(
                Path::new("/usr/lib/x86_64-linux-gnu/libc.so.6"),
                0x1234,
                None,
            ),
            rust(
                "std::net::tcp::TcpListener::accept",
                Some("/rustc/abc/library/std/src/net/tcp.rs"),
            ),
            rust(
                "tokio::net::tcp::listener::TcpListener::accept::{{closure}}",
                Some(
                    "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/tokio-1.48.0/src/net/tcp/listener.rs",
                ),
            ),
            rust(
                "<tokio::runtime::task::Task as core::future::Future>::poll",
                None,
            ),
            rust("api::serve::{{closure}}", Some("/src/api/src/serve.rs")),
            rust("api::main", Some("/src/api/src/main.rs")),
        ];
        let libs: Vec<_> = frames.iter().map(|f| f.library.as_deref()).collect();
        assert_eq!(
            libs,
            [
                Some("libc"),
                Some("std"),
                Some("tokio"),
                Some("tokio"),
                None,
                None
            ]
        );
        assert_eq!(culprit(&frames), Some(4));
    }

    #[test]
    fn an_unnamed_frame_before_the_users_code_is_the_culprit_not_a_guess() {
        let frames = vec![
            Frame::unknown(Path::new("/lib/x86_64-linux-gnu/libc.so.6"), 0x10, None),
            Frame::unknown(Path::new("/srv/cserver"), 0x1180, Some("ab12".to_owned())),
            Frame::named(
                "main".to_owned(),
                None,
                Path::new("/srv/cserver"),
                Program::Native,
            ),
        ];
        assert_eq!(culprit(&frames), Some(1));
        assert_eq!(
            frames[1].to_string(),
            "[unknown] /srv/cserver+0x1180 (build-id ab12)"
        );
    }

    #[test]
    fn go_packages_of_the_standard_library_and_runtime_fold() {
        let gopath = Program::Go { main_module: None };
        let module = Program::Go {
            main_module: Some("github.com/acme/api"),
        };
        let lib = |name: &str, program| {
            Frame::named(name.to_owned(), None, Path::new("/srv/gosrv"), program).library
        };
        for program in [gopath, module] {
            let lib = |name: &str| lib(name, program);
            assert_eq!(
                lib("internal/poll.(*FD).Accept").as_deref(),
                Some("Go runtime")
            );
            assert_eq!(lib("net.(*TCPListener).Accept").as_deref(), Some("Go std"));
            assert_eq!(lib("net/http.(*Server).Serve").as_deref(), Some("Go std"));
            assert_eq!(lib("runtime.goexit").as_deref(), Some("Go runtime"));
            assert_eq!(lib("main.acceptAndMaybeLeak"), None);
            assert_eq!(lib("github.com/acme/api/server.(*S).accept"), None);
            assert_eq!(lib("github.com/acme/api.Serve"), None);
        }
        // With the main module known, other modules are dependencies.
        assert_eq!(
            lib("github.com/jackc/pgx/v5/pgxpool.(*Pool).Acquire", module).as_deref(),
            Some("github.com/jackc/pgx/v5/pgxpool")
        );
        assert_eq!(
            lib("github.com/acme/api-client.Dial", module).as_deref(),
            Some("github.com/acme/api-client")
        );
        assert_eq!(lib("github.com/jackc/pgx/v5/pgxpool.New", gopath), None);
        let go = |name: &str| Frame::named(name.to_owned(), None, Path::new("/srv/gosrv"), gopath);
        assert!(go("runtime.goexit.abi0").is_go_start());
        assert!(!go("runtime.goexit0").is_go_start());
    }

    #[test]
    fn frames_print_as_before() {
        assert_eq!(
            rust("api::main", Some("/src/api/src/main.rs")).to_string(),
            "api::main (/src/api/src/main.rs:7)"
        );
        assert_eq!(rust("api::main", None).to_string(), "api::main (/srv/api)");
        assert_eq!(
            Frame::unknown(Path::new(""), 0xdead, None).to_string(),
            "[unknown] 0xdead"
        );
    }
}
