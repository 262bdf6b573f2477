#!/bin/sh
# PEM parse rate: ondeck's parser (criterion, benches/certs.rs) against `openssl x509 -noout
# -enddate` run once per file on the same number of certificates.
# Usage: benches/certs_parse.sh [N]   (default 1000 files)
set -eu
N=${1:-1000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/k.pem" \
    -out "$dir/c.pem" -days 90 -subj "/CN=bench.example.com" 2>/dev/null
i=0
while [ "$i" -lt "$N" ]; do cp "$dir/c.pem" "$dir/c$i.crt"; i=$((i + 1)); done
start=$(date +%s.%N)
for f in "$dir"/c*.crt; do openssl x509 -noout -enddate -in "$f" >/dev/null; done
end=$(date +%s.%N)
echo "openssl x509 -noout -enddate, one process per file: $N files in $(echo "$end - $start" | bc) s ($(echo "$N / ($end - $start)" | bc) certs/s)"
echo "ondeck (criterion, 1000 certificates per iteration):"
cargo bench --bench certs -- --noplot 2>/dev/null | grep -E "time:|thrpt:"
