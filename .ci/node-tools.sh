#!/usr/bin/env bash
# TypeScript and the type packages that the generated-code tests type-check with (from the npm registry).
# Re-installs when the package list below changes (its text is stored in .complete).
set -euo pipefail
DIR=${1:-.cache/node-tools}
PACKAGES="typescript@5 @types/react@18 @types/react-dom@18 @types/node@20 react@18 react-dom@18 react-router-dom@6
@supabase/supabase-js@2 vite@5 @vitejs/plugin-react@4 vitest@1 commander@11"
mkdir -p "$DIR"
if [ -x "$DIR/node_modules/.bin/tsc" ] && [ -f "$DIR/.complete" ] && [ "$(cat "$DIR/.complete")" = "$PACKAGES" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "node-tools: npm not found; generated-code type checks will fail" >&2
  exit 0
fi
cd "$DIR"
[ -f package.json ] || echo '{"name":"continuous-node-tools","private":true}' > package.json
# shellcheck disable=SC2086
npm install --silent --no-audit --no-fund $PACKAGES >/dev/null
printf '%s' "$PACKAGES" > .complete
