#!/usr/bin/env bash
# database-cli.sh — schema tools: generated types and migration checks.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROJECT_ROOT="$(cd "$SCRIPT_DIR/../../.." && pwd)"
PIPELINE_NAME="database"

if [ -f "$PROJECT_ROOT/.env.development" ]; then
  set -a
  # shellcheck disable=SC1091
  source "$PROJECT_ROOT/.env.development"
  set +a
fi

TRACKER="$PROJECT_ROOT/packages/shared/services/tracking-service/shell-command-tracker.ts"
TSX="$PROJECT_ROOT/node_modules/.bin/tsx"

# track_command NAME ARGV...: run a command and record it in command_tracking (untracked until tsx is installed).
track_command() {
  local command_name="$1"
  shift
  if [ -f "$TRACKER" ] && [ -x "$TSX" ]; then
    "$TSX" "$TRACKER" "$PIPELINE_NAME" "$command_name" "$@"
  else
    "$@"
  fi
}

show_help() {
  cat <<'HELP'
Database CLI

USAGE:
  ./scripts/cli-pipeline/database/database-cli.sh <command> [options]

COMMANDS:
  types             Regenerate supabase/types.ts from the migrations
  types-check       Fail when supabase/types.ts is out of date
  help              Show this help
HELP
}

COMMAND="${1:-help}"
case "$COMMAND" in
  types)
    track_command "types" node "$SCRIPT_DIR/generate-types.mjs" --root "$PROJECT_ROOT"
    ;;
  types-check)
    track_command "types-check" node "$SCRIPT_DIR/generate-types.mjs" --root "$PROJECT_ROOT" --check
    ;;
  help|--help|-h)
    show_help
    ;;
  *)
    echo "Unknown command: $COMMAND" >&2
    show_help
    exit 1
    ;;
esac
