#!/usr/bin/env bash
# Builds bench/probes/wake-pair.c and runs it: the round trip of one wake-up each way between two processes,
# on one CPU, across CPUs, and across CPUs that are kept from halting. Prints JSON (µs).
#   bash bench/probes/wake-pair.sh [ECHOES] [ROUNDS] [GAP_US...]      (defaults: 200, 3, gaps 10000 2000 100)
set -euo pipefail
cd "$(dirname "$0")"
echoes=${1:-200}
rounds=${2:-3}
shift 2 || shift $# || true
gaps=${*:-10000 2000 100}
bin=$(mktemp -d)/wake-pair
trap 'rm -rf "$(dirname "$bin")"' EXIT
cc -O2 -Wall -o "$bin" wake-pair.c
# shellcheck disable=SC2086
timeout 600 "$bin" "$echoes" "$rounds" $gaps
