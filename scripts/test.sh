#!/usr/bin/env bash
# `npm test`: the whole check, from a fresh clone or a working tree.
#   1-2. scripts/install.sh: Mesa lavapipe (bookworm-backports) and Chromium, then node modules
#   3. typecheck (tsc --noEmit), counted as one test
#   4. build (scripts/build.mjs: Node + browser bundles, .d.ts), counted as one test
#   5. vitest (console reporter + JSON in test-results/vitest.json)
#   6. the kernel cases in headless Chromium (test/browser/run.mjs, JSON in test-results/browser.json)
#   7. the training page in headless Chromium (test/browser/page.mjs, JSON in test-results/page.json)
#   8. examples/ as smoke tests (scripts/run-examples.mjs --smoke, JSON in test-results/examples.json)
# The last line is exactly "N passed, N failed"; the exit status is non-zero if anything failed
# or vitest ran no tests.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RESULTS="$ROOT/test-results"
mkdir -p "$RESULTS"
rm -f "$RESULTS/vitest.json" "$RESULTS/browser.json"

T0=$(date +%s)
passed=0
failed=0
failures=()

stamp() { printf '\n== %s (%ds) ==\n' "$1" "$(( $(date +%s) - T0 ))"; }
pass() { passed=$((passed + $1)); }
fail() { failed=$((failed + $1)); failures+=("$2"); }

stamp "system packages and node modules"
if ! bash scripts/install.sh; then
  fail 1 "install"
fi

stamp "typecheck"
if npx --no-install tsc --noEmit -p tsconfig.json; then
  echo "typecheck passed"
  pass 1
else
  fail 1 "typecheck"
fi

stamp "build"
if node scripts/build.mjs; then
  pass 1
else
  fail 1 "build"
fi

stamp "vitest"
npx --no-install vitest run --reporter=default --reporter=json --outputFile.json="$RESULTS/vitest.json"
vitest_rc=$?
if [ -f "$RESULTS/vitest.json" ]; then
  read -r v_total v_passed v_failed < <(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    // Suites that fail to load show up as failed test files with no tests in them.
    const brokenFiles = (r.testResults ?? []).filter((f) => f.status === "failed" && !(f.assertionResults ?? []).length).length;
    console.log(r.numTotalTests, r.numPassedTests, r.numFailedTests + brokenFiles);
  ' "$RESULTS/vitest.json")
  echo "vitest: $v_passed passed, $v_failed failed of $v_total (exit $vitest_rc)"
  pass "$v_passed"
  [ "$v_failed" -gt 0 ] && fail "$v_failed" "vitest"
  if [ "$v_total" -eq 0 ]; then echo "vitest ran no tests" >&2; fail 1 "vitest ran no tests"; fi
  if [ "$vitest_rc" -ne 0 ] && [ "$v_failed" -eq 0 ]; then fail 1 "vitest exit $vitest_rc"; fi
else
  echo "vitest wrote no report (exit $vitest_rc)" >&2
  fail 1 "vitest"
fi

# A stage that writes {passed, failed} to a JSON file: counts them, and counts one failure when it
# crashed without failing a case or wrote no summary at all.
json_stage() {
  local name=$1 json=$2
  shift 2
  rm -f "$json"
  "$@"
  local rc=$?
  if [ -f "$json" ]; then
    local s_passed s_failed
    read -r s_passed s_failed < <(node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      console.log(r.passed, r.failed);
    ' "$json")
    pass "$s_passed"
    [ "$s_failed" -gt 0 ] && fail "$s_failed" "$name"
    if [ "$rc" -ne 0 ] && [ "$s_failed" -eq 0 ]; then fail 1 "$name exit $rc"; fi
  else
    echo "$name wrote no summary (exit $rc)" >&2
    fail 1 "$name"
  fi
}

stamp "browser suite (headless Chromium)"
json_stage browser "$RESULTS/browser.json" node test/browser/run.mjs --json "$RESULTS/browser.json"

stamp "training page (headless Chromium)"
json_stage page "$RESULTS/page.json" node test/browser/page.mjs --json "$RESULTS/page.json"

stamp "examples (smoke: MOBILEGRAD_SMOKE=1)"
json_stage examples "$RESULTS/examples.json" node scripts/run-examples.mjs --smoke --json "$RESULTS/examples.json"

stamp "done"
if [ "${#failures[@]}" -gt 0 ]; then echo "failed: ${failures[*]}"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
