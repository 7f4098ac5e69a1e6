# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_govkit_global_optspecs
    string join \n config= color= format= q/quiet v/verbose h/help V/version
end

function __fish_govkit_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_govkit_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_govkit_using_subcommand
    set -l cmd (__fish_govkit_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c govkit -n "__fish_govkit_needs_command" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_needs_command" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_needs_command" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_needs_command" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_needs_command" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_needs_command" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_needs_command" -f -a "check" -d 'Run every gate configured in govkit.toml, in order: the CI step'
complete -c govkit -n "__fish_govkit_needs_command" -f -a "lint" -d 'Check Rust code against the organisation\'s lint rules'
complete -c govkit -n "__fish_govkit_needs_command" -f -a "vendor" -d 'Verify vendored dependencies against Cargo.lock, every file checksum and a signature'
complete -c govkit -n "__fish_govkit_needs_command" -f -a "bench" -d 'Run criterion benchmarks with allocation budgets and a regression gate'
complete -c govkit -n "__fish_govkit_needs_command" -f -a "numa" -d 'NUMA topology, where a process\'s threads and memory live, and pinning them to their node'
complete -c govkit -n "__fish_govkit_needs_command" -f -a "trace" -d 'eBPF tracers for live hosts: leaked TCP connections with the stack that opened them'
complete -c govkit -n "__fish_govkit_needs_command" -f -a "init" -d 'Write a commented starter govkit.toml in the current directory'
complete -c govkit -n "__fish_govkit_needs_command" -f -a "hook" -d 'Manage the git pre-commit hook that runs `govkit lint --staged`'
complete -c govkit -n "__fish_govkit_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c govkit -n "__fish_govkit_needs_command" -f -a "man" -d 'Print govkit\'s man page (roff) to stdout'
complete -c govkit -n "__fish_govkit_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c govkit -n "__fish_govkit_using_subcommand check" -l gate -d 'Run only these gates (by name), still in configuration order' -r
complete -c govkit -n "__fish_govkit_using_subcommand check" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand check" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_using_subcommand check" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_using_subcommand check" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_using_subcommand check" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_using_subcommand check" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_using_subcommand lint" -l rule -d 'Run only this rule (repeatable)' -r -f -a "unwrap-used\t'`.unwrap()` panics on `None`/`Err` instead of handling the error'
expect-used\t'`.expect(..)` panics on `None`/`Err` instead of handling the error'
panic\t'`panic!` aborts the request or thread instead of returning an error'
todo\t'`todo!()` panics when reached'
unimplemented\t'`unimplemented!()` panics when reached'
process-exit\t'`process::exit`/`abort` outside `fn main` skips destructors'
let-underscore-result\t'`let _ = call(..)` discards a result that may be an error'
ignored-ok\t'`expr.ok();` as a statement silently drops an error'
empty-err-arm\t'an `Err(_)` branch with an empty body drops the error'
map-err-discard\t'`.map_err(|_| ..)` drops the source error'
print-stdout\t'`print!`/`println!` instead of structured logging'
print-stderr\t'`eprint!`/`eprintln!` instead of structured logging'
dbg-macro\t'`dbg!` left in the code'
undocumented-unsafe\t'`unsafe` block or impl without a `// SAFETY:` comment'
static-mut\t'`static mut` is a data race waiting to happen'
mem-forget\t'`mem::forget` leaks the value\'s resources'
transmute\t'`mem::transmute` reinterprets bits unchecked'
blocking-in-async\t'blocking std call (sleep, fs, net, process) inside async code'
lock-across-await\t'std lock guard held across an `.await`'
detached-spawn\t'spawned thread or task whose handle is dropped'
unbounded-channel\t'unbounded channel: overload becomes memory growth'
allow-without-reason\t'`#[allow(..)]` without `reason = ".."`'
hardcoded-secret\t'credential-looking string literal in source'
disallowed\t'use of a path banned by `[[lint.disallowed]]` in govkit.toml'"
complete -c govkit -n "__fish_govkit_using_subcommand lint" -l explain -d 'Print a rule\'s documentation: what it flags, why, and what to write instead' -r -f -a "unwrap-used\t'`.unwrap()` panics on `None`/`Err` instead of handling the error'
expect-used\t'`.expect(..)` panics on `None`/`Err` instead of handling the error'
panic\t'`panic!` aborts the request or thread instead of returning an error'
todo\t'`todo!()` panics when reached'
unimplemented\t'`unimplemented!()` panics when reached'
process-exit\t'`process::exit`/`abort` outside `fn main` skips destructors'
let-underscore-result\t'`let _ = call(..)` discards a result that may be an error'
ignored-ok\t'`expr.ok();` as a statement silently drops an error'
empty-err-arm\t'an `Err(_)` branch with an empty body drops the error'
map-err-discard\t'`.map_err(|_| ..)` drops the source error'
print-stdout\t'`print!`/`println!` instead of structured logging'
print-stderr\t'`eprint!`/`eprintln!` instead of structured logging'
dbg-macro\t'`dbg!` left in the code'
undocumented-unsafe\t'`unsafe` block or impl without a `// SAFETY:` comment'
static-mut\t'`static mut` is a data race waiting to happen'
mem-forget\t'`mem::forget` leaks the value\'s resources'
transmute\t'`mem::transmute` reinterprets bits unchecked'
blocking-in-async\t'blocking std call (sleep, fs, net, process) inside async code'
lock-across-await\t'std lock guard held across an `.await`'
detached-spawn\t'spawned thread or task whose handle is dropped'
unbounded-channel\t'unbounded channel: overload becomes memory growth'
allow-without-reason\t'`#[allow(..)]` without `reason = ".."`'
hardcoded-secret\t'credential-looking string literal in source'
disallowed\t'use of a path banned by `[[lint.disallowed]]` in govkit.toml'
parse-error\t'The file is not valid Rust syntax and could not be checked'
unused-suppression\t'A `govkit: allow(..)` comment that suppresses nothing'
invalid-suppression\t'A `govkit: allow(..)` comment without a reason or naming an unknown rule'"
complete -c govkit -n "__fish_govkit_using_subcommand lint" -l baseline -d 'Report only findings that are not in this baseline file (see --write-baseline); findings move with their code, not their line' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand lint" -l write-baseline -d 'Record every current finding in FILE and exit 0: adopt govkit on existing code, then gate only new findings with --baseline' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand lint" -l new-from-rev -d 'Report only findings on lines changed since the git revision REV (committed, staged or not, plus untracked files)' -r
complete -c govkit -n "__fish_govkit_using_subcommand lint" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand lint" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_using_subcommand lint" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_using_subcommand lint" -l list-rules -d 'List the rules with their default level and summary'
complete -c govkit -n "__fish_govkit_using_subcommand lint" -l staged -d 'Lint the staged content of staged files (the git index, not the work tree): what the pre-commit hook runs'
complete -c govkit -n "__fish_govkit_using_subcommand lint" -l statistics -d 'After the findings, print how many each rule produced'
complete -c govkit -n "__fish_govkit_using_subcommand lint" -l fix -d 'Apply unambiguous fixes (e.g. remove `dbg!`) to the files, then report what remains'
complete -c govkit -n "__fish_govkit_using_subcommand lint" -l no-cache -d 'Do not read or write the result cache (kept under the workspace\'s target directory, keyed on file content, settings and govkit version)'
complete -c govkit -n "__fish_govkit_using_subcommand lint" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_using_subcommand lint" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_using_subcommand lint" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_using_subcommand lint" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and not __fish_seen_subcommand_from verify manifest sign verify-blob help" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and not __fish_seen_subcommand_from verify manifest sign verify-blob help" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and not __fish_seen_subcommand_from verify manifest sign verify-blob help" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and not __fish_seen_subcommand_from verify manifest sign verify-blob help" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and not __fish_seen_subcommand_from verify manifest sign verify-blob help" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and not __fish_seen_subcommand_from verify manifest sign verify-blob help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and not __fish_seen_subcommand_from verify manifest sign verify-blob help" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and not __fish_seen_subcommand_from verify manifest sign verify-blob help" -f -a "verify" -d 'Check the vendor tree against Cargo.lock and every file\'s sha256, and the signature over its manifest when one is given or configured'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and not __fish_seen_subcommand_from verify manifest sign verify-blob help" -f -a "manifest" -d 'Print the canonical manifest of a verified tree: the bytes that are signed (every crate and the computed sha256 of every file)'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and not __fish_seen_subcommand_from verify manifest sign verify-blob help" -f -a "sign" -d 'Verify the tree, then sign its manifest with an ECDSA P-256 key (cosign `sign-blob --key` compatible: base64 DER over SHA-256)'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and not __fish_seen_subcommand_from verify manifest sign verify-blob help" -f -a "verify-blob" -d 'Verify a signature or sigstore bundle over any file, offline (like `cosign verify-blob`)'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and not __fish_seen_subcommand_from verify manifest sign verify-blob help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify" -l vendor-dir -d 'The vendor directory (default: `[vendor] dir`, else the directory source that `.cargo/config.toml` replaces crates-io with, else `vendor/` next to Cargo.lock)' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify" -l lockfile -d 'The lock file (default: `[vendor] lockfile`, else the workspace\'s Cargo.lock)' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify" -l key -d 'PEM public key: verifies --signature, or a managed-key --bundle' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify" -l signature -d 'Detached signature (base64 as cosign writes it, or DER as openssl does)' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify" -l bundle -d 'Sigstore bundle (JSON) to verify offline' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify" -l trusted-root -d 'Sigstore trusted root (`trusted_root.json`) for --bundle (default: the Sigstore public-good root built into govkit)' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify" -l identity -d 'Signer identity a keyless bundle must carry (certificate SAN, exact)' -r
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify" -l issuer -d 'OIDC issuer of that identity (exact URL)' -r
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify" -l manifest -d 'The signed manifest shipped with the tree (`govkit vendor manifest -o` at signing time): the signature is checked over it, and every difference from the tree is reported by crate and file' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify" -l allow-unlisted -d 'The vendor directory is a mirror shared by several lock files: vendored crates this lock file does not list are no problem (they are counted, and left out of the manifest). Also `[vendor] allow-unlisted = true`'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from manifest" -l vendor-dir -d 'The vendor directory (default: `[vendor] dir`, else the directory source that `.cargo/config.toml` replaces crates-io with, else `vendor/` next to Cargo.lock)' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from manifest" -l lockfile -d 'The lock file (default: `[vendor] lockfile`, else the workspace\'s Cargo.lock)' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from manifest" -s o -l output -d 'Write the manifest to FILE instead of stdout' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from manifest" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from manifest" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from manifest" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from manifest" -l allow-unlisted -d 'The vendor directory is a mirror shared by several lock files: vendored crates this lock file does not list are no problem (they are counted, and left out of the manifest). Also `[vendor] allow-unlisted = true`'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from manifest" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from manifest" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from manifest" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from manifest" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from sign" -l vendor-dir -d 'The vendor directory (default: `[vendor] dir`, else the directory source that `.cargo/config.toml` replaces crates-io with, else `vendor/` next to Cargo.lock)' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from sign" -l lockfile -d 'The lock file (default: `[vendor] lockfile`, else the workspace\'s Cargo.lock)' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from sign" -l key -d 'PEM private key (PKCS#8 or SEC1, ECDSA P-256; mode 600 or stricter)' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from sign" -s o -l output -d 'Write the signature to SIG instead of stdout' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from sign" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from sign" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from sign" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from sign" -l allow-unlisted -d 'The vendor directory is a mirror shared by several lock files: vendored crates this lock file does not list are no problem (they are counted, and left out of the manifest). Also `[vendor] allow-unlisted = true`'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from sign" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from sign" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from sign" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from sign" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify-blob" -l key -d 'PEM public key: verifies --signature, or a managed-key --bundle' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify-blob" -l signature -d 'Detached signature (base64 as cosign writes it, or DER as openssl does)' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify-blob" -l bundle -d 'Sigstore bundle (JSON) to verify offline' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify-blob" -l trusted-root -d 'Sigstore trusted root (`trusted_root.json`) for --bundle (default: the Sigstore public-good root built into govkit)' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify-blob" -l identity -d 'Signer identity a keyless bundle must carry (certificate SAN, exact)' -r
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify-blob" -l issuer -d 'OIDC issuer of that identity (exact URL)' -r
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify-blob" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify-blob" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify-blob" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify-blob" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify-blob" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify-blob" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from verify-blob" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Check the vendor tree against Cargo.lock and every file\'s sha256, and the signature over its manifest when one is given or configured'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from help" -f -a "manifest" -d 'Print the canonical manifest of a verified tree: the bytes that are signed (every crate and the computed sha256 of every file)'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from help" -f -a "sign" -d 'Verify the tree, then sign its manifest with an ECDSA P-256 key (cosign `sign-blob --key` compatible: base64 DER over SHA-256)'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from help" -f -a "verify-blob" -d 'Verify a signature or sigstore bundle over any file, offline (like `cosign verify-blob`)'
complete -c govkit -n "__fish_govkit_using_subcommand vendor; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c govkit -n "__fish_govkit_using_subcommand bench" -s p -l package -d 'Only benchmarks of this package (repeatable)' -r
complete -c govkit -n "__fish_govkit_using_subcommand bench" -l bench -d 'Only this bench target (repeatable)' -r
complete -c govkit -n "__fish_govkit_using_subcommand bench" -l count -d 'Timing runs per benchmark (default: `[bench] count`, else 5); with `--against`, rounds per benchmark (default 10)' -r
complete -c govkit -n "__fish_govkit_using_subcommand bench" -l against -d 'Compare with this git revision (a branch, tag or commit: the pull request\'s base), built in a temporary worktree and run alternately with the work tree\'s build, round by round' -r
complete -c govkit -n "__fish_govkit_using_subcommand bench" -l max-allocs -d 'Allocation budget per operation (default: `[bench] max-allocs`, else 5)' -r
complete -c govkit -n "__fish_govkit_using_subcommand bench" -l baseline -d 'Compare with this baseline file' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand bench" -l save-baseline -d 'Write this run\'s results as a baseline file' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand bench" -l measurement-time -d 'Criterion\'s measurement time per benchmark and run, in seconds' -r
complete -c govkit -n "__fish_govkit_using_subcommand bench" -l warm-up-time -d 'Criterion\'s warm-up time per benchmark and run, in seconds' -r
complete -c govkit -n "__fish_govkit_using_subcommand bench" -l sample-size -d 'Criterion\'s samples per benchmark and run' -r
complete -c govkit -n "__fish_govkit_using_subcommand bench" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand bench" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_using_subcommand bench" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_using_subcommand bench" -l markdown -d 'Print a markdown table (for a pull-request comment) instead of the human table'
complete -c govkit -n "__fish_govkit_using_subcommand bench" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_using_subcommand bench" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_using_subcommand bench" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_using_subcommand bench" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and not __fish_seen_subcommand_from topology inspect plan apply revert exec help" -l sysfs-root -d 'Read the topology from this sysfs root instead of /sys (fixture trees of other hosts). Only the topology: processes, their cgroups and the kernel calls stay this host\'s' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand numa; and not __fish_seen_subcommand_from topology inspect plan apply revert exec help" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand numa; and not __fish_seen_subcommand_from topology inspect plan apply revert exec help" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_using_subcommand numa; and not __fish_seen_subcommand_from topology inspect plan apply revert exec help" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_using_subcommand numa; and not __fish_seen_subcommand_from topology inspect plan apply revert exec help" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and not __fish_seen_subcommand_from topology inspect plan apply revert exec help" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and not __fish_seen_subcommand_from topology inspect plan apply revert exec help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and not __fish_seen_subcommand_from topology inspect plan apply revert exec help" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and not __fish_seen_subcommand_from topology inspect plan apply revert exec help" -f -a "topology" -d 'The host\'s nodes: CPUs, memory, distances, packages and SMT'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and not __fish_seen_subcommand_from topology inspect plan apply revert exec help" -f -a "inspect" -d 'Where each thread of PID runs, its allowed CPUs and cpuset, and the process\'s memory per node, with a locality score'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and not __fish_seen_subcommand_from topology inspect plan apply revert exec help" -f -a "plan" -d 'Which node PID\'s threads should run on, and why'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and not __fish_seen_subcommand_from topology inspect plan apply revert exec help" -f -a "apply" -d 'Pin PID\'s threads to the planned node (never outside their cpuset), recording the old affinities so `revert` can restore them'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and not __fish_seen_subcommand_from topology inspect plan apply revert exec help" -f -a "revert" -d 'Restore the affinities `apply` changed'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and not __fish_seen_subcommand_from topology inspect plan apply revert exec help" -f -a "exec" -d 'Run a command on one node\'s CPUs (and memory with --membind), like `numactl --cpunodebind=N --membind=N`'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and not __fish_seen_subcommand_from topology inspect plan apply revert exec help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from topology" -l sysfs-root -d 'Read the topology from this sysfs root instead of /sys (fixture trees of other hosts). Only the topology: processes, their cgroups and the kernel calls stay this host\'s' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from topology" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from topology" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from topology" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from topology" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from topology" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from topology" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from topology" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from inspect" -l sysfs-root -d 'Read the topology from this sysfs root instead of /sys (fixture trees of other hosts). Only the topology: processes, their cgroups and the kernel calls stay this host\'s' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from inspect" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from inspect" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from inspect" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from inspect" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from inspect" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from inspect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from inspect" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from plan" -l sysfs-root -d 'Read the topology from this sysfs root instead of /sys (fixture trees of other hosts). Only the topology: processes, their cgroups and the kernel calls stay this host\'s' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from plan" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from plan" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from plan" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from plan" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from plan" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from plan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from plan" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from apply" -l state-dir -d 'Where the record of changed affinities is kept' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from apply" -l sysfs-root -d 'Read the topology from this sysfs root instead of /sys (fixture trees of other hosts). Only the topology: processes, their cgroups and the kernel calls stay this host\'s' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from apply" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from apply" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from apply" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from apply" -l dry-run -d 'Show what would change without changing anything'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from apply" -l migrate-memory -d 'Also move the process\'s pages from other nodes to the planned node'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from apply" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from apply" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from apply" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from apply" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from revert" -l state-dir -d 'Where `apply` kept its record' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from revert" -l sysfs-root -d 'Read the topology from this sysfs root instead of /sys (fixture trees of other hosts). Only the topology: processes, their cgroups and the kernel calls stay this host\'s' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from revert" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from revert" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from revert" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from revert" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from revert" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from revert" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from revert" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from exec" -l node -d 'The node whose CPUs the command runs on' -r
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from exec" -l sysfs-root -d 'Read the topology from this sysfs root instead of /sys (fixture trees of other hosts). Only the topology: processes, their cgroups and the kernel calls stay this host\'s' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from exec" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from exec" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from exec" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from exec" -l membind -d 'Also allocate the command\'s memory only on that node'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from exec" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from exec" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from exec" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from exec" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from help" -f -a "topology" -d 'The host\'s nodes: CPUs, memory, distances, packages and SMT'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from help" -f -a "inspect" -d 'Where each thread of PID runs, its allowed CPUs and cpuset, and the process\'s memory per node, with a locality score'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from help" -f -a "plan" -d 'Which node PID\'s threads should run on, and why'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from help" -f -a "apply" -d 'Pin PID\'s threads to the planned node (never outside their cpuset), recording the old affinities so `revert` can restore them'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from help" -f -a "revert" -d 'Restore the affinities `apply` changed'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from help" -f -a "exec" -d 'Run a command on one node\'s CPUs (and memory with --membind), like `numactl --cpunodebind=N --membind=N`'
complete -c govkit -n "__fish_govkit_using_subcommand numa; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and not __fish_seen_subcommand_from connections sched serve help" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand trace; and not __fish_seen_subcommand_from connections sched serve help" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_using_subcommand trace; and not __fish_seen_subcommand_from connections sched serve help" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_using_subcommand trace; and not __fish_seen_subcommand_from connections sched serve help" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and not __fish_seen_subcommand_from connections sched serve help" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and not __fish_seen_subcommand_from connections sched serve help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and not __fish_seen_subcommand_from connections sched serve help" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and not __fish_seen_subcommand_from connections sched serve help" -f -a "connections" -d 'Find leaked TCP connections (CLOSE-WAIT: the peer closed, the owner never did) and the user stack that opened each, until Ctrl-C or --duration. Exit 1 when leaks are found'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and not __fish_seen_subcommand_from connections sched serve help" -f -a "sched" -d 'Scheduler latency per process: run-queue waits (histogram, p50/p99), off-CPU time, context switches, CPU and NUMA-node migrations; until Ctrl-C or --duration'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and not __fish_seen_subcommand_from connections sched serve help" -f -a "serve" -d 'Run the connections and sched tracers together as a long-running Prometheus exporter (what the Kubernetes `DaemonSet` in deploy/ runs). Ends on SIGTERM or Ctrl-C, detaching the programs'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and not __fish_seen_subcommand_from connections sched serve help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from connections" -l pid -d 'Only these processes (repeatable; default: every process)' -r
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from connections" -l min-age -d 'A socket counts as leaked once it has been in CLOSE-WAIT this long' -r
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from connections" -l idle -d 'Also report ESTABLISHED sockets that have carried no data in either direction for this long (costs a map lookup and an endpoint read per connection while tracing)' -r
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from connections" -l hooks -d 'Kernel hooks for accepted sockets: `auto` uses fexit on `inet_csk_accept` where the kernel allows BPF trampolines, else the cgroup getpeername hooks (`cgroup`: they see `accept()` calls that ask for the peer address, as Rust, Go, Java, nginx do; sockets accepted without one are reported with owner but no stack), else the syscall tracepoints (`tracepoints`: every accept, but while they are attached every system call on the host takes the kernel\'s slow path)' -r -f -a "auto\t''
cgroup\t''
tracepoints\t''"
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from connections" -l duration -d 'Stop after this long (default: run until Ctrl-C or SIGTERM)' -r
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from connections" -l interval -d 'How often the live view (on a terminal) is refreshed and state of exited processes is dropped' -r
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from connections" -l captures-per-sec -d 'New call sites unwound in user space per CPU per second; sockets opened from a not-yet-learned site beyond that get a partial stack' -r
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from connections" -l metrics -d 'Also serve Prometheus metrics on this address while tracing' -r
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from connections" -l metrics-top -d 'Workloads with their own series in --metrics (the rest: unit="other")' -r
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from connections" -l web-config -d 'TLS, client certificates and basic authentication for the metrics endpoint: a Prometheus exporter-toolkit web configuration file (default: `web-config` in govkit.toml\'s `[trace]`)' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from connections" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from connections" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from connections" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from connections" -l bpf-stats -d 'Report each eBPF program\'s runs and run time (turns on the kernel\'s BPF statistics, which cost every BPF program on the host two clock reads per run while tracing)'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from connections" -l metrics-per-pid -d '--metrics series per process (pid, comm) instead of per workload'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from connections" -l full-stacks -d 'Show every frame of the opening stacks; by default runs of frames of the standard library, language runtimes, libc and downloaded crates are folded into one line each'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from connections" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from connections" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from connections" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from connections" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from sched" -l pid -d 'Only these processes (repeatable; filtered in the kernel; default: every process)' -r
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from sched" -l comm -d 'Only processes with this command name (repeatable; exact match)' -r
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from sched" -l cgroup -d 'Only processes in this cgroup v2 path or below it (e.g. /system.slice/nginx.service)' -r
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from sched" -l duration -d 'Stop after this long (default: run until Ctrl-C or SIGTERM)' -r
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from sched" -l interval -d 'How often the live view (on a terminal) is refreshed, showing the last interval' -r
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from sched" -l top -d 'Processes shown in the human report (most run-queue wait first); JSON has all' -r
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from sched" -l metrics -d 'Also serve Prometheus metrics on this address while tracing' -r
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from sched" -l metrics-top -d 'Workloads with their own series in --metrics (the rest: unit="other")' -r
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from sched" -l web-config -d 'TLS, client certificates and basic authentication for the metrics endpoint: a Prometheus exporter-toolkit web configuration file (default: `web-config` in govkit.toml\'s `[trace]`)' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from sched" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from sched" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from sched" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from sched" -l per-thread -d 'One entry per thread instead of per process'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from sched" -l bpf-stats -d 'Report each eBPF program\'s runs and run time (turns on the kernel\'s BPF statistics while tracing)'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from sched" -l metrics-per-pid -d '--metrics series per process (pid, comm) instead of per workload'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from sched" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from sched" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from sched" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from sched" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from serve" -l metrics -d 'Address to serve /metrics on, e.g. 0.0.0.0:9464' -r
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from serve" -l web-config -d 'TLS, client certificates and basic authentication for the metrics endpoint: a Prometheus exporter-toolkit web configuration file (default: `web-config` in govkit.toml\'s `[trace]`)' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from serve" -l pid -d 'Only these processes (repeatable; default: every process)' -r
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from serve" -l min-age -d 'A socket counts as leaked once it has been in CLOSE-WAIT this long' -r
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from serve" -l interval -d 'How often the metrics are refreshed from the kernel' -r
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from serve" -l top -d 'Workloads (pods\' containers, systemd units; processes with --per-pid) with their own series per metric; the rest are summed into unit="other"' -r
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from serve" -l captures-per-sec -d 'New call sites unwound in user space per CPU per second' -r
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from serve" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from serve" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from serve" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from serve" -l per-pid -d 'One series per process (labels pid, comm) instead of per workload: on a host with short-lived processes these come and go with them'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from serve" -l bpf-stats -d 'Export each eBPF program\'s run time (turns on the kernel\'s BPF statistics: two clock reads per run of every BPF program on the host)'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from serve" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from serve" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from serve" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from help" -f -a "connections" -d 'Find leaked TCP connections (CLOSE-WAIT: the peer closed, the owner never did) and the user stack that opened each, until Ctrl-C or --duration. Exit 1 when leaks are found'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from help" -f -a "sched" -d 'Scheduler latency per process: run-queue waits (histogram, p50/p99), off-CPU time, context switches, CPU and NUMA-node migrations; until Ctrl-C or --duration'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from help" -f -a "serve" -d 'Run the connections and sched tracers together as a long-running Prometheus exporter (what the Kubernetes `DaemonSet` in deploy/ runs). Ends on SIGTERM or Ctrl-C, detaching the programs'
complete -c govkit -n "__fish_govkit_using_subcommand trace; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c govkit -n "__fish_govkit_using_subcommand init" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand init" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_using_subcommand init" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_using_subcommand init" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_using_subcommand init" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_using_subcommand init" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_using_subcommand hook; and not __fish_seen_subcommand_from install uninstall help" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand hook; and not __fish_seen_subcommand_from install uninstall help" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_using_subcommand hook; and not __fish_seen_subcommand_from install uninstall help" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_using_subcommand hook; and not __fish_seen_subcommand_from install uninstall help" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_using_subcommand hook; and not __fish_seen_subcommand_from install uninstall help" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_using_subcommand hook; and not __fish_seen_subcommand_from install uninstall help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_using_subcommand hook; and not __fish_seen_subcommand_from install uninstall help" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_using_subcommand hook; and not __fish_seen_subcommand_from install uninstall help" -f -a "install" -d 'Write the pre-commit hook into this repository\'s hooks directory (honours core.hooksPath and worktrees)'
complete -c govkit -n "__fish_govkit_using_subcommand hook; and not __fish_seen_subcommand_from install uninstall help" -f -a "uninstall" -d 'Remove the pre-commit hook, if govkit wrote it'
complete -c govkit -n "__fish_govkit_using_subcommand hook; and not __fish_seen_subcommand_from install uninstall help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c govkit -n "__fish_govkit_using_subcommand hook; and __fish_seen_subcommand_from install" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand hook; and __fish_seen_subcommand_from install" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_using_subcommand hook; and __fish_seen_subcommand_from install" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_using_subcommand hook; and __fish_seen_subcommand_from install" -l force -d 'Replace an existing pre-commit hook that govkit did not write'
complete -c govkit -n "__fish_govkit_using_subcommand hook; and __fish_seen_subcommand_from install" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_using_subcommand hook; and __fish_seen_subcommand_from install" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_using_subcommand hook; and __fish_seen_subcommand_from install" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_using_subcommand hook; and __fish_seen_subcommand_from install" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_using_subcommand hook; and __fish_seen_subcommand_from uninstall" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand hook; and __fish_seen_subcommand_from uninstall" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_using_subcommand hook; and __fish_seen_subcommand_from uninstall" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_using_subcommand hook; and __fish_seen_subcommand_from uninstall" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_using_subcommand hook; and __fish_seen_subcommand_from uninstall" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_using_subcommand hook; and __fish_seen_subcommand_from uninstall" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_using_subcommand hook; and __fish_seen_subcommand_from uninstall" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_using_subcommand hook; and __fish_seen_subcommand_from help" -f -a "install" -d 'Write the pre-commit hook into this repository\'s hooks directory (honours core.hooksPath and worktrees)'
complete -c govkit -n "__fish_govkit_using_subcommand hook; and __fish_seen_subcommand_from help" -f -a "uninstall" -d 'Remove the pre-commit hook, if govkit wrote it'
complete -c govkit -n "__fish_govkit_using_subcommand hook; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c govkit -n "__fish_govkit_using_subcommand completions" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand completions" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_using_subcommand completions" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_using_subcommand completions" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_using_subcommand completions" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_using_subcommand completions" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_using_subcommand man" -l config -d 'Configuration file to use instead of searching for govkit.toml (or `[workspace.metadata.govkit]` in Cargo.toml) from the current directory upward' -r -F
complete -c govkit -n "__fish_govkit_using_subcommand man" -l color -d 'When to colour output: `auto` colours when writing to a terminal and `NO_COLOR` is unset' -r -f -a "auto\t'Colour when the output is a terminal and `NO_COLOR` is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c govkit -n "__fish_govkit_using_subcommand man" -l format -d 'Output format. `human` by default; `json` for scripts; `sarif`, `github` and `junit` for CI systems (check, lint, vendor, bench and trace connections; numa and trace sched refuse them)' -r -f -a "human\t'Readable text with code frames'
json\t'One JSON document on stdout'
sarif\t'SARIF 2.1.0, for code-scanning dashboards'
github\t'GitHub Actions annotations'
junit\t'`JUnit` XML, for CI test-report views'"
complete -c govkit -n "__fish_govkit_using_subcommand man" -s q -l quiet -d 'Print less: only errors on stderr (repeat for silence)'
complete -c govkit -n "__fish_govkit_using_subcommand man" -s v -l verbose -d 'Print more on stderr: -v for progress details, -vv for debugging'
complete -c govkit -n "__fish_govkit_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c govkit -n "__fish_govkit_using_subcommand man" -s V -l version -d 'Print version'
complete -c govkit -n "__fish_govkit_using_subcommand help; and not __fish_seen_subcommand_from check lint vendor bench numa trace init hook completions man help" -f -a "check" -d 'Run every gate configured in govkit.toml, in order: the CI step'
complete -c govkit -n "__fish_govkit_using_subcommand help; and not __fish_seen_subcommand_from check lint vendor bench numa trace init hook completions man help" -f -a "lint" -d 'Check Rust code against the organisation\'s lint rules'
complete -c govkit -n "__fish_govkit_using_subcommand help; and not __fish_seen_subcommand_from check lint vendor bench numa trace init hook completions man help" -f -a "vendor" -d 'Verify vendored dependencies against Cargo.lock, every file checksum and a signature'
complete -c govkit -n "__fish_govkit_using_subcommand help; and not __fish_seen_subcommand_from check lint vendor bench numa trace init hook completions man help" -f -a "bench" -d 'Run criterion benchmarks with allocation budgets and a regression gate'
complete -c govkit -n "__fish_govkit_using_subcommand help; and not __fish_seen_subcommand_from check lint vendor bench numa trace init hook completions man help" -f -a "numa" -d 'NUMA topology, where a process\'s threads and memory live, and pinning them to their node'
complete -c govkit -n "__fish_govkit_using_subcommand help; and not __fish_seen_subcommand_from check lint vendor bench numa trace init hook completions man help" -f -a "trace" -d 'eBPF tracers for live hosts: leaked TCP connections with the stack that opened them'
complete -c govkit -n "__fish_govkit_using_subcommand help; and not __fish_seen_subcommand_from check lint vendor bench numa trace init hook completions man help" -f -a "init" -d 'Write a commented starter govkit.toml in the current directory'
complete -c govkit -n "__fish_govkit_using_subcommand help; and not __fish_seen_subcommand_from check lint vendor bench numa trace init hook completions man help" -f -a "hook" -d 'Manage the git pre-commit hook that runs `govkit lint --staged`'
complete -c govkit -n "__fish_govkit_using_subcommand help; and not __fish_seen_subcommand_from check lint vendor bench numa trace init hook completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c govkit -n "__fish_govkit_using_subcommand help; and not __fish_seen_subcommand_from check lint vendor bench numa trace init hook completions man help" -f -a "man" -d 'Print govkit\'s man page (roff) to stdout'
complete -c govkit -n "__fish_govkit_using_subcommand help; and not __fish_seen_subcommand_from check lint vendor bench numa trace init hook completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c govkit -n "__fish_govkit_using_subcommand help; and __fish_seen_subcommand_from vendor" -f -a "verify" -d 'Check the vendor tree against Cargo.lock and every file\'s sha256, and the signature over its manifest when one is given or configured'
complete -c govkit -n "__fish_govkit_using_subcommand help; and __fish_seen_subcommand_from vendor" -f -a "manifest" -d 'Print the canonical manifest of a verified tree: the bytes that are signed (every crate and the computed sha256 of every file)'
complete -c govkit -n "__fish_govkit_using_subcommand help; and __fish_seen_subcommand_from vendor" -f -a "sign" -d 'Verify the tree, then sign its manifest with an ECDSA P-256 key (cosign `sign-blob --key` compatible: base64 DER over SHA-256)'
complete -c govkit -n "__fish_govkit_using_subcommand help; and __fish_seen_subcommand_from vendor" -f -a "verify-blob" -d 'Verify a signature or sigstore bundle over any file, offline (like `cosign verify-blob`)'
complete -c govkit -n "__fish_govkit_using_subcommand help; and __fish_seen_subcommand_from numa" -f -a "topology" -d 'The host\'s nodes: CPUs, memory, distances, packages and SMT'
complete -c govkit -n "__fish_govkit_using_subcommand help; and __fish_seen_subcommand_from numa" -f -a "inspect" -d 'Where each thread of PID runs, its allowed CPUs and cpuset, and the process\'s memory per node, with a locality score'
complete -c govkit -n "__fish_govkit_using_subcommand help; and __fish_seen_subcommand_from numa" -f -a "plan" -d 'Which node PID\'s threads should run on, and why'
complete -c govkit -n "__fish_govkit_using_subcommand help; and __fish_seen_subcommand_from numa" -f -a "apply" -d 'Pin PID\'s threads to the planned node (never outside their cpuset), recording the old affinities so `revert` can restore them'
complete -c govkit -n "__fish_govkit_using_subcommand help; and __fish_seen_subcommand_from numa" -f -a "revert" -d 'Restore the affinities `apply` changed'
complete -c govkit -n "__fish_govkit_using_subcommand help; and __fish_seen_subcommand_from numa" -f -a "exec" -d 'Run a command on one node\'s CPUs (and memory with --membind), like `numactl --cpunodebind=N --membind=N`'
complete -c govkit -n "__fish_govkit_using_subcommand help; and __fish_seen_subcommand_from trace" -f -a "connections" -d 'Find leaked TCP connections (CLOSE-WAIT: the peer closed, the owner never did) and the user stack that opened each, until Ctrl-C or --duration. Exit 1 when leaks are found'
complete -c govkit -n "__fish_govkit_using_subcommand help; and __fish_seen_subcommand_from trace" -f -a "sched" -d 'Scheduler latency per process: run-queue waits (histogram, p50/p99), off-CPU time, context switches, CPU and NUMA-node migrations; until Ctrl-C or --duration'
complete -c govkit -n "__fish_govkit_using_subcommand help; and __fish_seen_subcommand_from trace" -f -a "serve" -d 'Run the connections and sched tracers together as a long-running Prometheus exporter (what the Kubernetes `DaemonSet` in deploy/ runs). Ends on SIGTERM or Ctrl-C, detaching the programs'
complete -c govkit -n "__fish_govkit_using_subcommand help; and __fish_seen_subcommand_from hook" -f -a "install" -d 'Write the pre-commit hook into this repository\'s hooks directory (honours core.hooksPath and worktrees)'
complete -c govkit -n "__fish_govkit_using_subcommand help; and __fish_seen_subcommand_from hook" -f -a "uninstall" -d 'Remove the pre-commit hook, if govkit wrote it'
