#!/usr/bin/env bash
# notes-cli.sh — Notes pipeline.
# Commands live in commands/<command>.ts and are registered in cli.ts; every run is recorded by track_command.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROJECT_ROOT="$(cd "$SCRIPT_DIR/../../.." && pwd)"
PIPELINE_NAME="notes"

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
Notes CLI

USAGE:
  ./scripts/cli-pipeline/notes/notes-cli.sh <command> [options]

COMMANDS:
  health-check      Check that the pipeline is installed correctly
  list-notes        List notes
  help              Show this help
HELP
}

COMMAND="${1:-help}"
case "$COMMAND" in
  health-check)
    track_command "health-check" bash "$SCRIPT_DIR/health-check.sh"
    ;;
  list-notes)
    shift
    track_command "list-notes" npx tsx "$SCRIPT_DIR/cli.ts" list-notes "$@"
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
