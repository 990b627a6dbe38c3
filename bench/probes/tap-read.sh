#!/usr/bin/env bash
# Builds bench/probes/tap-read.c with the addon's tap_mshot.c and runs it on two taps whose kernel sides
# live in a wr- namespace made for the run (root). Prints JSON: µs per frame to drain a tap's queue with
# the addon's multishot read and with read(2).
#   bash bench/probes/tap-read.sh [FRAMES] [BATCH...]      (defaults: 200000, batches 1 4 16 64 256 1024)
set -euo pipefail
cd "$(dirname "$0")"
frames=${1:-200000}
shift || true
batches=${*:-1 4 16 64 256 1024}
ns=wr-tr-$$
taps=(wr-tm$$ wr-tr$$)
bin=$(mktemp -d)/tap-read
trap 'ip netns del "$ns" 2>/dev/null || true; rm -rf "$(dirname "$bin")"' EXIT
cc -O2 -Wall -o "$bin" tap-read.c ../../host/io/native/tap_mshot.c
ip netns add "$ns"
# nothing but the probe's datagrams on the taps: no IPv6 (router solicitations, MLD reports)
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
net=99
for tap in "${taps[@]}"; do
  ip -n "$ns" tuntap add dev "$tap" mode tap
  # the tap's queue holds a whole batch (its ring is sized from txqueuelen when the probe attaches)
  ip -n "$ns" link set "$tap" txqueuelen 2048 up
  ip -n "$ns" addr add "10.$net.0.1/24" dev "$tap"
  ip -n "$ns" neigh replace "10.$net.0.2" lladdr 02:00:00:00:00:02 dev "$tap" nud permanent
  net=98
done
# shellcheck disable=SC2086
timeout 300 ip netns exec "$ns" "$bin" "${taps[0]}" "${taps[1]}" "$frames" $batches
