#!/usr/bin/env bash
# The pre-commit framework's `govkit-lint` hook (.pre-commit-hooks.yaml).
#
# pre-commit hands over the files to check: at commit time the staged ones
# (with unstaged changes stashed, so the work tree is what is committed); in
# CI (`pre-commit run --all-files`, `--from-ref/--to-ref`) all or the
# changed ones. They are linted as given.
#
# The first run of a hook revision builds the linter alone
# (`--no-default-features`: no tracer, sigstore or criterion) with cargo, in
# a cache shared by every repository on the machine; later runs reuse it.
# GOVKIT_HOOK_CACHE moves the cache (default ~/.cache/govkit-hook).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${GOVKIT_HOOK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/govkit-hook}
# The source tree's hash: the same sources are built once, whichever clone.
tree=$(git -C "$repo" rev-parse 'HEAD^{tree}' 2>/dev/null || echo unversioned)
bin="$cache/$tree/bin/govkit"
if [ ! -x "$bin" ]; then
    if ! command -v cargo >/dev/null; then
        echo "govkit-lint: building govkit needs cargo (https://rustup.rs), or use the govkit-lint-system hook with an installed govkit" >&2
        exit 2
    fi
    echo "govkit-lint: building the linter for this hook revision, once (about a minute on 2 cores)" >&2
    mkdir -p "$cache"
    staging=$(mktemp -d "$cache/.build.XXXXXX")
    trap 'rm -rf "$staging"' EXIT
    CARGO_TARGET_DIR="$cache/target" cargo install --quiet --locked --no-default-features \
        --profile hook --path "$repo" --root "$staging" >&2
    # Another hook process may have finished first; either copy is the same.
    mv -T "$staging" "$cache/$tree" 2>/dev/null || true
fi
exec "$bin" lint "$@"
