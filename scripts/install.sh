#!/usr/bin/env bash
# Installs what mobilegrad needs on a fresh Debian machine with Node: the system pieces
# (scripts/setup-system.sh: Mesa's lavapipe from bookworm-backports, Chromium) and the node
# modules. Used by `npm test` and `npm run demo`; quick when everything is already there.
set -uo pipefail
cd "$(dirname "$0")/.."
LOG=$(mktemp)
# onnxruntime-node (a devDependency for the ONNX tests) must not download GPU binaries from a host
# this machine cannot reach; npm 11 skips dependency install scripts anyway, this is belt and braces.
export ONNXRUNTIME_NODE_INSTALL=skip
if ! bash scripts/setup-system.sh; then
  echo "scripts/setup-system.sh failed: Mesa 25 (bookworm-backports) and chromium are needed" >&2
  exit 1
fi

# Stale when a declared dependency is missing or package-lock.json changed after the last install
# (npm writes node_modules/.package-lock.json on every install).
deps_ok() {
  [ -f node_modules/.package-lock.json ] || return 1
  [ package-lock.json -nt node_modules/.package-lock.json ] && return 1
  node -e '
    const fs = require("fs");
    const p = JSON.parse(fs.readFileSync("package.json", "utf8"));
    const names = Object.keys({ ...p.dependencies, ...p.devDependencies });
    const missing = names.filter((n) => !fs.existsSync(`node_modules/${n}/package.json`));
    if (missing.length) { console.log(`missing: ${missing.join(", ")}`); process.exit(1); }
  '
}
if deps_ok; then
  echo "node_modules is up to date"
else
  # npm 11 runs no dependency install scripts unless approved; none is needed here (esbuild's
  # binary comes from its optional @esbuild/* package, webgpu ships dawn.node for Linux).
  if npm ci --no-audit --no-fund >"$LOG" 2>&1; then
    grep -v '^npm warn install-scripts' "$LOG" | tail -n 3
  else
    head -n 6 "$LOG" | grep -v '^npm error *$' >&2
    # `npm ci` refuses a lock file that lacks an entry for an optional, other-platform dependency
    # the registry cannot serve (vite's win32-only napi-windows-process-start-time answers 404 on
    # some mirrors). `npm install --no-save` installs the same locked versions without rewriting
    # package-lock.json.
    echo "npm ci failed; retrying with npm install --no-save (the locked versions, lock file untouched)" >&2
    if ! npm install --no-save --no-audit --no-fund; then
      echo "npm install failed" >&2
      exit 1
    fi
  fi
fi

exit 0
