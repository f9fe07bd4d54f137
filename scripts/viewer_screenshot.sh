#!/usr/bin/env bash
# Redraw docs/viewer.png, the README's picture of `python -m harness.view`.
#
# Two real runs of the tests' toy env (tests/harness/toy_env.py, registered as a user's plugin): the
# scripted toy oracle and the `solver` agent, whose back-end is made to fail on one task, side by side.
# Needs chromium (scripts/setup.sh installs it). Usage: bash scripts/viewer_screenshot.sh [OUT.png]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="${1:-docs/viewer.png}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export PROMPTLESS_EXTRA_ENVS="tests.harness.toy_env:AddEnv"
export PROMPTLESS_EXTRA_AGENTS="tests.harness.toy_agents:ToyOracle,tests.harness.toy_agents:Solver"
PY="$ROOT/.venv/bin/python"
"$PY" -m harness.run --agent toy-oracle --env toy --limit 4 --out "$WORK/toy-oracle" >/dev/null 2>&1
TOY_FAIL="add-0002:raise" "$PY" -m harness.run --agent solver --env toy --limit 4 --out "$WORK/solver" \
    --fail-on-error never >/dev/null 2>&1
"$PY" -m harness.view "$WORK/toy-oracle" "$WORK/solver" --out "$WORK/runs.html" >/dev/null
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$WORK/profile" \
    --window-size=1100,860 --screenshot="$WORK/shot.png" "file://$WORK/runs.html#env=toy" 2>/dev/null
# A palette of 64 colours keeps the PNG small enough for git.
"$PY" -c 'import sys; from PIL import Image; Image.open(sys.argv[1]).convert("RGB").quantize(64).save(sys.argv[2], optimize=True)' \
    "$WORK/shot.png" "$OUT"
echo "wrote $OUT"
