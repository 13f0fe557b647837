#!/usr/bin/env bash
# TypeScript and the type packages that the generated-code tests type-check with (from the npm registry).
set -euo pipefail
DIR=${1:-.cache/node-tools}
mkdir -p "$DIR"
if [ -x "$DIR/node_modules/.bin/tsc" ] && [ -f "$DIR/.complete" ]; then exit 0; fi
if ! command -v npm >/dev/null 2>&1; then
  echo "node-tools: npm not found; generated-code type checks will fail" >&2
  exit 0
fi
cd "$DIR"
[ -f package.json ] || echo '{"name":"continuous-node-tools","private":true}' > package.json
npm install --silent --no-audit --no-fund typescript@5 @types/react@18 @types/react-dom@18 @types/node@20 \
  react@18 react-dom@18 react-router-dom@6 @supabase/supabase-js@2 vite@5 @vitejs/plugin-react@4 vitest@1 >/dev/null
touch .complete
