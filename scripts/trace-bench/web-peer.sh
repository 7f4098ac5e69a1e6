#!/usr/bin/env bash
# One web configuration file, two exporters: Debian's node_exporter (the
# Prometheus exporter-toolkit's reference implementation) and
# `govkit trace serve --web-config`. Prints what each answers to the same
# clients (no password, wrong, right, plain HTTP to the TLS port, TLS 1.2
# against min_version TLS13 when MINTLS13=1) and the median time of N
# requests over a new TLS connection each (handshake + basic auth + the
# response), side by side. Needs root (the tracer), openssl, curl,
# python3 with bcrypt, prometheus-node-exporter.
#
#   scripts/trace-bench/web-peer.sh            # N=50
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-50}
cargo build --release --locked -q --bin govkit
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$dir"' EXIT
cd "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=peer -keyout key.pem -out cert.pem -addext subjectAltName=IP:127.0.0.1 2>/dev/null
hash=$(python3 -c "import bcrypt; print(bcrypt.hashpw(b'pw', bcrypt.gensalt(rounds=10)).decode())")
printf 'tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\nbasic_auth_users:\n  prom: %s\n' "$hash" > web.yml

prometheus-node-exporter --web.config.file=web.yml --web.listen-address=127.0.0.1:19100 \
    --collector.disable-defaults --collector.loadavg >/dev/null 2>&1 &
"$OLDPWD/target/release/govkit" trace serve --metrics 127.0.0.1:19464 --web-config web.yml -q >/dev/null 2>&1 &
for _ in $(seq 50); do
    curl -s -o /dev/null --cacert cert.pem https://127.0.0.1:19100/ && \
    curl -s -o /dev/null --cacert cert.pem https://127.0.0.1:19464/ && break
    sleep 0.2
done

code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" || true; }
printf '%-32s %-14s %-14s\n' "client" "node_exporter" "govkit"
row() {
    local what=$1; shift
    printf '%-32s %-14s %-14s\n' "$what" \
        "$(code "$@" "${URL_NE}")" "$(code "$@" "${URL_GK}")"
}
URL_NE=https://127.0.0.1:19100/metrics URL_GK=https://127.0.0.1:19464/metrics
row "no password" --cacert cert.pem
row "wrong password" --cacert cert.pem -u prom:wrong
row "unknown user" --cacert cert.pem -u nobody:pw
row "right password" --cacert cert.pem -u prom:pw
row "untrusted server certificate" -u prom:pw
URL_NE=http://127.0.0.1:19100/metrics URL_GK=http://127.0.0.1:19464/metrics
row "plain HTTP to the TLS port" -u prom:pw

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_of() {
    for _ in $(seq "$N"); do
        curl -s -o /dev/null -w '%{time_total}\n' --cacert cert.pem "$@"
    done | median
}
echo
printf '%-32s %-14s %-14s\n' "median of $N (s), new connection" "node_exporter" "govkit"
for creds in prom:wrong prom:pw; do
    printf '%-32s %-14s %-14s\n' "-u $creds, /metrics" \
        "$(time_of -u "$creds" https://127.0.0.1:19100/metrics)" \
        "$(time_of -u "$creds" https://127.0.0.1:19464/metrics)"
done
