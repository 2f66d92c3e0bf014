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
#            SOAP over HTTP, SQLite): one file at a time. Without root they skip
#            loudly; with CI=true that is a failure.
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

if (($#)); then
  run_phase selected 1 "$@"
else
  mapfile -t fast < <(find test/unit test/golden -name '*.test.ts' 2>/dev/null | sort)
  mapfile -t slow < <(find test/integration test/e2e -name '*.test.ts' 2>/dev/null | sort)
  run_phase unit 2 "${fast[@]}"
  mapfile -t stored < <(store_tests $(find test/unit -name '*.test.ts'))
  run_postgres_phase "${stored[@]}"
  run_phase integration 1 "${slow[@]}"
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
