#!/usr/bin/env bash
# google-sync-cli.sh — sync Google Drive folders into the sources tables.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROJECT_ROOT="$(cd "$SCRIPT_DIR/../../.." && pwd)"
PIPELINE_NAME="google_sync"

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
Google sync CLI

USAGE:
  ./scripts/cli-pipeline/google_sync/google-sync-cli.sh <command> [options]

COMMANDS:
  list-files        List the files of a synced Drive folder
  help              Show this help
HELP
}

COMMAND="${1:-help}"
case "$COMMAND" in
  list-files)
    shift
    track_command "list-files" npx tsx "$SCRIPT_DIR/list-files.ts" "$@"
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
