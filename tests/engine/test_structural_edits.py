"""Structural edits on small inputs of each form they must understand (the real-repository tier runs them on the
snapshot's files): shell wrapper dispatch and help, registry entries, Markdown table rows, routes, imports,
endpoints, forwarding, and moving a module."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from continuous.engine import jsedit, mdtable, shellwrap
from continuous.engine.shellwrap import NewCommand, ShellFormError, add_command, commands_of

CMD = NewCommand("export-csv", "commands/export-csv.ts", "Export rows as CSV")

CASE_QUOTED = """#!/bin/bash
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
track_command() {
  local name="$1"
  shift
  eval "$@"
}
show_help() {
  echo "COMMANDS:"
  echo "  * list        List things (12 uses)"
  echo "    show        Show one thing"
  echo "    help        This help"
}
case "$1" in
  "list")
    track_command "list" "ts-node $SCRIPT_DIR/list.ts ${@:2}"
    ;;

  "show"|"get")
    track_command "show" "ts-node $SCRIPT_DIR/show.ts ${@:2}"
    ;;

  "help"|"--help"|"-h")
    show_help
    ;;
  *)
    echo "unknown"
    ;;
esac
"""

SHIFTED_MAIN = """#!/bin/bash
SCRIPT_DIR="$( cd "$( dirname "${BASH_SOURCE[0]}" )" && pwd )"
track_command() {
    echo "tracking $1" >/dev/null
}
show_help() {
    cat <<EOF
Commands:
    sync          Sync
    stats         Stats
EOF
}
main() {
    local command=${1:-help}
    shift || true
    while [ $# -gt 0 ]; do
        case $1 in
            --limit=*) LIMIT=1 ;;
        esac
        shift
    done
    case $command in
        sync)
            npx ts-node "$SCRIPT_DIR/sync.ts"
            ;;
        stats)
            npx ts-node "$SCRIPT_DIR/stats.ts"
            ;;
        help|--help|-h)
            show_help
            ;;
    esac
}
main "$@\""""

IF_BLOCKS = """#!/bin/bash
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
track_command() { shift; "$@"; }
if [ "$1" = "count" ]; then
  shift
  track_command "count" ts-node "$SCRIPT_DIR/count.ts" "$@"
  exit $?
fi

if [ "$1" = "help" ] || [ "$1" = "--help" ]; then
  echo "COMMANDS:"
  echo "  count       Count things"
  exit 0
fi

if [ "$1" = "fix" ] || [ "$1" = "repair" ]; then
  shift
  track_command "fix" ts-node "$SCRIPT_DIR/fix.ts" "$@"
  exit $?
fi
"""

ELIF_CHAIN = """#!/bin/bash
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
COMMAND="${1:-main}"
if [[ "$COMMAND" == "help" ]]; then
  echo "help"
elif [[ "$COMMAND" == "template" ]]; then
  shift
  ./template.sh "$@"
else
  # everything else goes to the program
  npx tsx "$SCRIPT_DIR/cli.ts" "$@"
fi
"""


def _bash_ok(tmp_path: Path, text: str) -> None:
    script = tmp_path / "w.sh"
    script.write_text(text)
    proc = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_case_arm_follows_label_quoting_blank_lines_shift_and_the_eval_convention(tmp_path: Path) -> None:
    out = add_command(CASE_QUOTED, CMD)
    assert out is not None
    _bash_ok(tmp_path, out)
    assert (
        '\n\n  "export-csv")\n    shift\n'
        '    track_command "export-csv" "ts-node \\"$SCRIPT_DIR/commands/export-csv.ts\\" $*"\n'
        '    ;;\n\n  "help"' in out
    )
    # the help line is unmarked, in the listing's columns, after the last listed command
    assert '  echo "    show        Show one thing"\n  echo "    export-csv  Export rows as CSV"\n' in out
    assert [n for n, _ in commands_of(out)] == ["list", "show", "get", "export-csv"]
    assert add_command(out, CMD) is None


def test_case_on_a_shifted_variable_inside_main_and_a_heredoc_help(tmp_path: Path) -> None:
    out = add_command(SHIFTED_MAIN, CMD)
    assert out is not None
    _bash_ok(tmp_path, out)
    # `command` was shifted off "$@" already; track_command only records, so the arm runs the script itself
    assert (
        '        export-csv)\n            track_command "export-csv"\n'
        '            npx ts-node "$SCRIPT_DIR/commands/export-csv.ts" "$@"\n            ;;\n' in out
    )
    assert "    stats         Stats\n    export-csv    Export rows as CSV\nEOF" in out
    assert "--limit" not in [n for n, _ in commands_of(out)]


def test_a_run_of_if_blocks_gets_another_block_with_exit(tmp_path: Path) -> None:
    assert [n for n, _ in commands_of(IF_BLOCKS)] == ["count", "fix", "repair"]
    out = add_command(IF_BLOCKS, CMD)
    assert out is not None
    _bash_ok(tmp_path, out)
    assert out.endswith(
        'fi\n\nif [ "$1" = "export-csv" ]; then\n  shift\n'
        '  track_command "export-csv" ts-node "$SCRIPT_DIR/commands/export-csv.ts" "$@"\n  exit $?\nfi\n'
    )


def test_an_elif_chain_gets_a_branch_before_its_else_and_its_comment(tmp_path: Path) -> None:
    out = add_command(ELIF_CHAIN, CMD)
    assert out is not None
    _bash_ok(tmp_path, out)
    assert 'npx tsx "$SCRIPT_DIR/commands/export-csv.ts" "$@"\nelse\n  # everything else' in out
    assert '  ./template.sh "$@"\nelif [[ "$COMMAND" == "export-csv" ]]; then\n' in out
    assert out.index('elif [[ "$COMMAND" == "export-csv" ]]') < out.index("# everything else")


def test_a_wrapper_without_a_dispatch_is_refused_with_what_was_expected() -> None:
    with pytest.raises(ShellFormError, match=r"x-cli.sh: no command dispatch found; expected a `case`"):
        add_command("#!/bin/bash\necho hello\n", CMD, "x-cli.sh")


def test_shell_lexer_is_not_fooled_by_quotes_heredocs_and_comments() -> None:
    text = """#!/bin/bash
# case "$1" in  (a comment)
cat <<'EOF'
case "$1" in
  fake)
EOF
MSG="if [ \\"$1\\" = \\"fake2\\" ]; then"
case "$1" in
  real) echo ok ;;
esac
"""
    assert [n for n, _ in commands_of(text)] == ["real"]
    script = shellwrap.parse_script(text)
    assert len(script.cases) == 1


REGISTRY_MULTI = """const SERVERS = [
  {
    name: 'Viewer',
    port: 3001,
    command: 'node',
    args: ['scripts/viewers/viewer.js'],
    cwd: process.cwd(),
    description: 'Views'
  },
  {
    name: 'App Server',
    port: 3002,
    command: 'node',
    args: ['server.js'],
    cwd: path.join(process.cwd(), 'apps/web'),
    env: { PORT: '3002' },
    description: 'The app'
  }
];
"""


def test_a_registry_entry_takes_the_keys_and_layout_of_its_nearest_neighbour() -> None:
    values = {
        "name": "Api Proxy",
        "port": "3003",
        "script": "scripts/proxies/api-server.js",
        "args": '["scripts/proxies/api-server.js"]',
        "env": '{"API_PORT": "3003"}',
        "description": "API",
        "health": "/health",
    }
    out = jsedit.add_entry(REGISTRY_MULTI, "SERVERS", values)
    assert out is not None
    assert (
        "  },\n  {\n    name: 'Api Proxy',\n    port: 3003,\n    command: 'node',\n"
        "    args: ['scripts/proxies/api-server.js'],\n    cwd: process.cwd(),\n    env: { API_PORT: '3003' },\n"
        "    description: 'API'\n  }\n];\n" in out
    )
    assert jsedit.add_entry(out, "SERVERS", values) is None
    single = "const SERVERS = [\n  { name: 'md', script: 'scripts/md.ts', port: 3001, health: '/health' },\n];\n"
    out = jsedit.add_entry(single, "SERVERS", values)
    assert out is not None and out.endswith(
        "  { name: 'Api Proxy', script: 'scripts/proxies/api-server.js', port: 3003, health: '/health' },\n];\n"
    )
    with pytest.raises(jsedit.JsEditError, match="no array named SERVERS"):
        jsedit.add_entry("const OTHER = [];\n", "SERVERS", values)


DOC = """# Notes

| Old | New |
|-----|-----|
| a | b |

```
| not | a table |
|-----|---------|
```

| Port | Service | Location |
|------|---------|----------|
| 3001 | Viewer | `scripts/viewer.js` |
| 3005 | Git | `apps/git.js` |
"""


def test_a_table_row_goes_into_the_table_whose_header_fits_sorted_and_backticked() -> None:
    out = mdtable.add_row(DOC, {"port": "3003", "service": "Api", "location": "scripts/api.js", "name": "api"})
    assert out is not None
    assert "| 3001 | Viewer | `scripts/viewer.js` |\n| 3003 | Api | `scripts/api.js` |\n| 3005 |" in out
    assert out.replace("| 3003 | Api | `scripts/api.js` |\n", "") == DOC
    with pytest.raises(mdtable.TableError, match="no table has columns for"):
        mdtable.add_row(DOC, {"color": "red"})


APP = """import { Routes, Route, Navigate } from 'react-router-dom';
import {
  Home,
} from './pages/Home';
import { Admin } from './pages/Admin';
import { Guard } from './components/Guard';

export function App() {
  return (
    <Routes>
      <Route path="/login" element={<Home />} />
      <Route
        path="/admin"
        element={
          <Guard role="admin">
            <Admin />
          </Guard>
        }
      />
      <Route path="*" element={<Navigate to="/" replace />} />
    </Routes>
  );
}
"""


def test_a_route_goes_before_the_catch_all_inside_the_guard_its_siblings_use() -> None:
    out = jsedit.add_route(APP, "/reports", "ReportsPage")
    assert out is not None
    assert (
        '      <Route\n        path="/reports"\n        element={\n          <Guard role="admin">\n'
        "            <ReportsPage />\n          </Guard>\n        }\n      />\n"
        '      <Route path="*"' in out
    )
    out = jsedit.add_import(out, "{ ReportsPage }", "./pages/ReportsPage")
    assert out is not None
    assert "import { Guard } from './components/Guard';\nimport { ReportsPage } from './pages/ReportsPage';\n" in out
    assert jsedit.add_route(out, "/reports", "ReportsPage") is None
    nested = (
        '<Routes>\n  <Route path="/" element={<Layout />}>\n    <Route index element={<Home />} />\n'
        '    <Route path="about" element={<About />} />\n  </Route>\n</Routes>\n'
    )
    out = jsedit.add_route(nested, "/reports", "ReportsPage")
    assert out is not None and '    <Route path="reports" element={<ReportsPage />} />\n  </Route>' in out
    with pytest.raises(jsedit.JsEditError, match="no <Routes> element"):
        jsedit.add_route("export const x = 1;\n", "/a", "APage")


def test_endpoints_go_into_a_route_table_or_after_express_routes() -> None:
    table = "const routes: Route[] = [\n  {\n    method: 'GET',\n    path: '/health',\n    handle: h,\n  },\n];\n"
    out = jsedit.add_endpoint(table, "POST", "/api/x/:id")
    assert out is not None and "  {\n    method: 'POST',\n    path: '/api/x/:id',\n" in out
    assert jsedit.add_endpoint(out, "POST", "/api/x/:id") is None
    express = "const app = express();\napp.get('/a', (req, res) => {\n  res.json({});\n});\n\napp.listen(1);\n"
    out = jsedit.add_endpoint(express, "GET", "/b")
    assert out is not None and out.index("app.get('/b'") < out.index("app.listen")
    with pytest.raises(jsedit.JsEditError, match="no route table"):
        jsedit.add_endpoint("http.createServer(() => {});\n", "GET", "/b")


HTTP_SERVER = """import http from 'http';

const server = http.createServer(async (req, res) => {
  if (req.url === '/a') {
    if (!ok) {
      send(res, 404, {});
    } else {
      send(res, 200, {});
    }
  }
  else {
    send(res, 404, { error: 'Endpoint not found' });
  }
});
server.listen(3001);
"""


def test_forwarding_replaces_the_final_404_of_a_plain_handler_and_keeps_module_style(tmp_path: Path) -> None:
    out = jsedit.add_forward(HTTP_SERVER, "3002", "OLD_PORT")
    assert out is not None
    assert "import http from 'http';\nimport { request as forwardRequest } from 'http';\n" in out
    assert "  else {\n    // Requests no route above" in out
    assert "forwardTo(req, res, process.env.OLD_PORT || 3002);\n  }\n});" in out
    assert "send(res, 404, {});" in out  # the inner 404 is left alone
    assert jsedit.add_forward(out, "3002", "OLD_PORT") is None
    if shutil.which("node"):
        (tmp_path / "s.mjs").write_text(out)
        assert subprocess.run(["node", "--check", str(tmp_path / "s.mjs")], capture_output=True).returncode == 0
    cjs = "const express = require('express');\nconst app = express();\napp.get('/a', h);\napp.listen(1);\n"
    out = jsedit.add_forward(cjs, "3002", "OLD_PORT")
    assert out is not None
    assert "const { request: forwardRequest } = require('http');\n" in out
    assert "app.use((req, res) => forwardTo(req, res, process.env.OLD_PORT || 3002));" in out


def test_a_moved_module_keeps_its_relative_imports() -> None:
    text = (
        "import { a } from './a';\nimport b from '../lib/b';\nconst c = require('./c.js');\n"
        "export * from './d';\nimport x from 'react';\nconst e = await import('./e');\n"
    )
    out = jsedit.move_module(text, "packages/shared/services/s.ts", "packages/shared/services/s/s.ts")
    assert out == (
        "import { a } from '../a';\nimport b from '../../lib/b';\nconst c = require('../c.js');\n"
        "export * from '../d';\nimport x from 'react';\nconst e = await import('../e');\n"
    )
