# Shared by overhead.sh and sched-overhead.sh (sourced). They define
# `load` (the load, one run) and `settle`, and set $out (a scratch dir).

busy() { # jiffies the CPUs spent running anything (not idle, not stolen by the host)
    awk '/^cpu /{print $2 + $3 + $4 + $7 + $8}' /proc/stat
}

wait_for() { # pattern file...
    local pattern=$1; shift
    for _ in $(seq 300); do grep -qs "$pattern" "$@" && return 0; sleep 0.1; done
    echo "timed out waiting for '$pattern' in $*" >&2; cat "$@" >&2; return 1
}

traced() { # pattern command... : the load under a tracer started in the background
    local pattern=$1; shift
    "$@" >"$out/t.out" 2>"$out/t.err" &
    local p=$!
    wait_for "$pattern" "$out/t.err" "$out/t.out"
    load
    kill -INT $p; wait $p || true
    settle
}
