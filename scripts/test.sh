#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is missing, type-checks, then
# runs every test with node:test through tsx.
#   phase 1: unit and golden tests (no root needed, run in parallel)
#   phase 1b, unit-postgres: the store's and services' unit tests again on a real
#            PostgreSQL server (EDGENET_TEST_DB=postgres; one throwaway server for
#            the phase, test/helpers/with-postgres.ts): the files that import the
#            CLC fixture, the EC2 actions harness, the import fixtures or the
#            Store. Needs root and the postgresql package; without them it is
#            SKIPPED loudly, and with CI=true that is a failure.
#   phase 2: integration and end-to-end tests (real namespaces, iptables, dhcpd,
#            BIRD, SOAP over HTTP, SQLite): in two lanes that run side by side,
#            one file at a time each — the labs, the end-to-end tests and the
#            production path in one, everything else in the other. Every file
#            names its namespaces, processes and directories uniquely (by its
#            own prefix or a random lab name), so the lanes share nothing but
#            the CPU; each lane's report is printed when it ends. Without root
#            they skip loudly; with CI=true that is a failure.
# Arguments, if any, are test files to run instead of the whole suite.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1

echo "== typecheck"
npx --no-install tsc -p tsconfig.json --noEmit || exit 1

outdir=$(mktemp -d /tmp/edgenet-test.XXXXXX)
trap 'rm -rf "$outdir"' EXIT
status=0
run_phase() { # name concurrency files...
  local name=$1 conc=$2; shift 2
  (($#)) || return 0
  echo "== $name: $# files"
  node --import tsx --test --test-concurrency="$conc" \
       --test-reporter=spec --test-reporter-destination=stdout \
       --test-reporter=tap --test-reporter-destination="$outdir/$name.tap" "$@" || status=1
}

# The unit tests that open a Store (directly or through the fixtures): run again on PostgreSQL.
store_tests() {
  grep -lE "^import .* from '[^']*/(fixture|fixtures|actions-harness|db/store)\.ts';" "$@" 2>/dev/null | sort
}

run_postgres_phase() { # files...
  (($#)) || return 0
  local why
  why=$(node --import tsx -e "import('./test/helpers/postgres.ts').then((m) => process.stdout.write(m.postgresUnavailable() ?? ''))")
  if [[ -n $why ]]; then
    echo "!!! SKIPPED: unit-postgres ($# store/services test files on PostgreSQL) NOT run: $why"
    [[ ${CI:-} == true ]] && { echo "!!! CI=true makes a skipped unit-postgres phase a failure"; status=1; }
    return 0
  fi
  echo "== unit-postgres: $# files (EDGENET_TEST_DB=postgres)"
  local start=$SECONDS
  EDGENET_TEST_DB=postgres node --import tsx test/helpers/with-postgres.ts -- \
    node --import tsx --test --test-concurrency=2 \
       --test-reporter=spec --test-reporter-destination=stdout \
       --test-reporter=tap --test-reporter-destination="$outdir/unit-postgres.tap" "$@" || status=1
  echo "== unit-postgres: $((SECONDS - start)) s"
}

# Integration in two lanes (see the header): each lane is its own node --test run with its
# own TAP file; the spec output goes to a file per lane and is printed when the lane ends,
# so the two reports do not interleave.
run_integration() { # files...
  (($#)) || return 0
  local heavy=() rest=() f
  for f in "$@"; do
    case $f in
      test/integration/lab-*|test/e2e/*|test/integration/production-path.test.ts) heavy+=("$f") ;;
      *) rest+=("$f") ;;
    esac
  done
  echo "== integration: $# files in two lanes (${#heavy[@]} labs/end-to-end, ${#rest[@]} others)"
  local start=$SECONDS pids=() lane
  lane() { # name files...
    local name=$1; shift
    (($#)) || return 0
    node --import tsx --test --test-concurrency=1 \
         --test-reporter=spec --test-reporter-destination="$outdir/$name.out" \
         --test-reporter=tap --test-reporter-destination="$outdir/$name.tap" "$@"
  }
  lane integration-labs "${heavy[@]}" & pids+=($!)
  lane integration-rest "${rest[@]}" & pids+=($!)
  local rc=0 p
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  for lane in integration-labs integration-rest; do
    [[ -f $outdir/$lane.out ]] || continue
    echo "== $lane"
    cat "$outdir/$lane.out"
  done
  ((rc == 0)) || status=1
  echo "== integration: $((SECONDS - start)) s"
}

if (($#)); then
  run_phase selected 1 "$@"
else
  mapfile -t fast < <(find test/unit test/golden -name '*.test.ts' 2>/dev/null | sort)
  mapfile -t slow < <(find test/integration test/e2e -name '*.test.ts' 2>/dev/null | sort)
  run_phase unit 2 "${fast[@]}"
  mapfile -t stored < <(store_tests $(find test/unit -name '*.test.ts'))
  run_postgres_phase "${stored[@]}"
  run_integration "${slow[@]}"
fi

pass=0; fail=0; skip=0
for f in "$outdir"/*.tap; do
  [[ -f $f ]] || continue
  p=$(grep -E '^# pass ' "$f" | tail -1 | awk '{print $3}'); pass=$((pass + ${p:-0}))
  x=$(grep -E '^# fail ' "$f" | tail -1 | awk '{print $3}'); fail=$((fail + ${x:-0}))
  s=$(grep -E '^# skipped ' "$f" | tail -1 | awk '{print $3}'); skip=$((skip + ${s:-0}))
done
((fail > 0)) && status=1
echo "edgenet tests: ${pass} passed, ${fail} failed, ${skip} skipped"
exit $status
