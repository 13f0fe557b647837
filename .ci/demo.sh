#!/usr/bin/env bash
# `make demo`: the main job end to end on the embedded defaults, in a throw-away example monorepo.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
C="$ROOT/.venv/bin/continuous"
DEMO=${CONTINUOUS_DEMO_DIR:-$(mktemp -d)/example-monorepo}
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_PROGRESS_BARS=1

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step continuous init --example "$DEMO"
"$C" init --example "$DEMO"
cd "$DEMO"

step continuous scenarios list
"$C" scenarios list

step continuous facts --type app
"$C" facts --type app

step 'continuous suggest "admin dashboard for managing user preferences"'
"$C" suggest "admin dashboard for managing user preferences"

step 'continuous plan "a table for bookmarks plus a service to manage them" --dry-run --out plan.json'
"$C" plan "a table for bookmarks plus a service to manage them" --dry-run --out "$DEMO/../plan.json"

step continuous run-plan plan.json --yes
"$C" run-plan "$DEMO/../plan.json" --yes

step continuous run-scenario add-page dhg-hub Reports --yes
"$C" run-scenario add-page dhg-hub Reports --yes

step continuous run-scenario create-table bookmark_tags --dry-run --no-diff
"$C" run-scenario create-table bookmark_tags --dry-run --no-diff

step continuous executions list
"$C" executions list

step continuous check
"$C" check || true

step continuous analytics export '&&' continuous analytics trends
"$C" analytics export
COLUMNS=120 "$C" analytics trends --by day

printf '\nDemo repository left at %s\n' "$DEMO"
