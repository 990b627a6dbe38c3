#!/usr/bin/env bash
# Regenerates the simulator plots shown in the README (seed 001's four scenarios), about 20 s each.
set -euo pipefail
cd "$(dirname "$0")/.."
w="node --import tsx host/cli/main.ts simulate --quiet --rate 2000 --duration 3600 --kernel 2.6.39"
$w --scenario steady --rhash-entries 262144 --sysctl net.ipv4.route.gc_elasticity=8 --svg docs/sim/steady-262144-e8.svg
$w --scenario steady --rhash-entries 1048576 --sysctl net.ipv4.route.gc_elasticity=2 --svg docs/sim/steady-1048576-e2.svg
$w --scenario surge --rhash-entries 262144 --sysctl net.ipv4.route.gc_elasticity=8 --svg docs/sim/surge-262144-e8.svg
$w --scenario pause --rhash-entries 262144 --sysctl net.ipv4.route.gc_elasticity=8 --svg docs/sim/pause-262144-e8.svg
