#!/usr/bin/env bash
# The README's main command: the whole edgenet cloud on this machine, in
# network namespaces (see docs/lab.md). As root:
#   bash scripts/demo.sh                          # stays up until Ctrl-C, then tears down
#   DEMO_EXIT_AFTER_SECONDS=0 bash scripts/demo.sh  # tears down right after printing
# It installs what is missing (scripts/setup.sh), then runs `edgenet lab demo`:
# lab up (dual stack: cluster PARTI00 also has 2001:db8:10::/64) → two security
# groups with IPv4 and IPv6 rules → instances on both nodes (each an instance
# namespace with its address from dhcpd and its global IPv6 address by SLAAC)
# → a public address → waits until every node converged → prints `edgenet
# status`, the connectivity matrix with IPv4 and IPv6 side by side (expected
# from the groups vs. observed with packets, and why), the public address and
# web1's global IPv6 address reached from the client, metadata over both
# families, and the lab tenant's security groups listed by /usr/bin/aws through
# the CLC's EC2 endpoint (docs/lab.md). DEMO_IPV4_ONLY=1 runs the IPv4-only lab. Ctrl-C (INT/TERM) tears everything
# down: no namespace, process, rule or file is left. Exit code 0 when every
# probe matched the groups.
set -uo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
  echo "edgenet demo: run as root (it creates network namespaces)" >&2
  exit 1
fi
bash scripts/setup.sh || exit 1

name=${DEMO_LAB_NAME:-demo}
# Everything the demo writes lives here and is deleted on exit (nothing under /var/lib or /etc/edgenet).
dir=${TMPDIR:-/tmp}/edgenet-lab-$name
child=
cleanup() {
  # The demo tears down by itself on INT/TERM; this is the safety net if it died.
  if [[ -n $child ]] && kill -0 "$child" 2>/dev/null; then
    kill -TERM "$child" 2>/dev/null
    wait "$child" 2>/dev/null
  fi
  node bin/edgenet.mjs lab down --name "$name" --dir "$dir" >/dev/null 2>&1 || true
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

extra=()
[[ -n ${DEMO_IPV4_ONLY:-} ]] && extra+=(--ipv4-only)
node bin/edgenet.mjs lab demo --name "$name" --dir "$dir" "${extra[@]}" &
child=$!
wait "$child"
status=$?
# `wait` returns early when a trapped signal arrives; the trap handled that case.
child=
node bin/edgenet.mjs lab down --name "$name" --dir "$dir" >/dev/null 2>&1 || true
exit $status
