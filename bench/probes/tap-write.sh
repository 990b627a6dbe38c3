#!/usr/bin/env bash
# Builds bench/probes/tap-write.c with the addon's uring.c and runs it on a tap whose kernel side lives
# in a wr- namespace made for the run (root). Prints JSON: µs per frame through io_uring and write(2).
#   bash bench/probes/tap-write.sh [FRAMES] [BATCH...]      (defaults: 200000, batches 1 2 4 8 32 256)
set -euo pipefail
cd "$(dirname "$0")"
frames=${1:-200000}
shift || true
batches=${*:-1 2 4 8 32 256}
ns=wr-tw-$$
tap=wr-tw$$
bin=$(mktemp -d)/tap-write
trap 'ip netns del "$ns" 2>/dev/null || true; rm -rf "$(dirname "$bin")"' EXIT
cc -O2 -Wall -o "$bin" tap-write.c ../../host/io/native/uring.c
ip netns add "$ns"
ip -n "$ns" tuntap add dev "$tap" mode tap
ip -n "$ns" link set "$tap" up
ip -n "$ns" addr add 10.99.0.1/24 dev "$tap"
# shellcheck disable=SC2086
timeout 300 ip netns exec "$ns" "$bin" "$tap" "$frames" $batches
