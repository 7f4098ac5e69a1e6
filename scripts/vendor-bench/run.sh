#!/usr/bin/env bash
# Side-by-side: `govkit vendor verify` vs `sha256sum` over the same files vs
# cargo's own check of a vendored tree, warm and cold page cache.
#
# The tree is govkit's own dependency graph vendored with `cargo vendor`
# (about 250 crates, 16k files, 400 MB including aws-lc-sys' sources).
# cargo's check is timed as `cargo build --offline` stopped at the first
# rustc invocation (a RUSTC_WRAPPER that answers cargo's probes and refuses
# to compile): resolution plus cargo's verification of the crates it would
# build for this target. Cold runs drop the page cache (root only).
#
# usage: scripts/vendor-bench/run.sh [WORKDIR]   (needs hyperfine, network
# for the first `cargo vendor`)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-/tmp/govkit-vendor-bench}
govkit=$repo/target/release/govkit

cargo build --release --locked --manifest-path "$repo/Cargo.toml" -q
if [ ! -d "$work/vendor" ]; then
  rm -rf "$work" && mkdir -p "$work"
  git -C "$repo" archive HEAD | tar -x -C "$work"
  (cd "$work" && cargo vendor --locked --quiet vendor >/dev/null)
  mkdir -p "$work/.cargo"
  printf '[source.crates-io]\nreplace-with = "vendored-sources"\n\n[source.vendored-sources]\ndirectory = "vendor"\n' \
    >"$work/.cargo/config.toml"
fi
cat >"$work/stop-rustc.sh" <<'SH'
#!/bin/sh
prev=""
for a in "$@"; do
  if [ "$prev" = "--crate-name" ] && [ "$a" != "___" ]; then exit 1; fi
  prev="$a"
done
exec "$@"
SH
chmod +x "$work/stop-rustc.sh"
cd "$work"
echo "tree: $(ls vendor | wc -l) crates, $(find vendor -type f | wc -l) files, $(du -sh vendor | cut -f1)"
"$govkit" vendor verify | tail -1

govkit_cmd="$govkit vendor verify"
sha_cmd="find vendor -type f ! -name .cargo-checksum.json -print0 | xargs -0 -P2 -n200 sha256sum >/dev/null"
cargo_cmd="RUSTC_WRAPPER=$work/stop-rustc.sh cargo build --offline --release --workspace -q >/dev/null 2>&1 || true"

hyperfine -N --warmup 2 --runs 10 --export-markdown warm.md \
  -n govkit "$govkit_cmd" -n "sha256sum -P2" "bash -c '$sha_cmd'" -n "cargo build (checks only)" "bash -c '$cargo_cmd'"
if [ "$(id -u)" = 0 ]; then
  hyperfine --runs 5 --prepare 'sync; echo 3 > /proc/sys/vm/drop_caches' --export-markdown cold.md \
    -n govkit "$govkit_cmd" -n "sha256sum -P2" "$sha_cmd" -n "cargo build (checks only)" "$cargo_cmd"
fi
