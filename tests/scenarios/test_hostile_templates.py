"""Every built-in template, rendered with hostile values, still means what it says (issue 12 §3).

Each free-text parameter (one whose validation lets hostile characters through: a description, a title, a reason,
an example, a command) gets the most hostile value it accepts: a string that ends comments, closes strings and tags,
opens JSX expressions, template literals and shell substitutions, and quotes SQL. Every other parameter gets a
valid sample. The rendered file is then read by a real parser of its language, which must accept it and find the
payload's markers only as data (a comment, a string, text) — never as code:

- TypeScript, TSX, JavaScript: TypeScript's own parser (no syntax error, no identifier or tag named `injected*`);
- SQL: a lexer that drops comments, literals and quoted identifiers before looking for the markers;
- HTML: html.parser (no `injectedtag` element, no `injectedattr` attribute);
- JSON, TOML, YAML: their parsers (no `injected` key); shell: `bash -n` and a quoting-aware scan;
- Markdown: no raw `<injectedtag>`.

The text of `doc` and `insert` steps is checked in the whole file it lands in: each scenario (with its
dependencies) is simulated by the engine itself on the example monorepo, and every file it would write is read
whole.
"""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from collections.abc import Iterator
from html.parser import HTMLParser
from itertools import product
from pathlib import Path
from typing import Any

import pytest
import yaml
from continuous.common.errors import UserError
from continuous.dsl import model as m
from continuous.dsl.loader import BUILTIN_LIBRARY, load_rule_base
from continuous.dsl.params import check_value
from continuous.dsl.templating import builtin_context, render_string, render_template
from continuous.engine.facts import FactQuery

from .conftest import node_tools

HOSTILE = (
    "x */ injected_ts(); /* <!-- --> '; DROP TABLE injected_sql; -- \" injectedattr=\"1 ' injectedattr='1 "
    "</title><injectedtag>{injected_jsx}</injectedtag> ${injected_tpl} `injectedcmd` $(injectedcmd) ; injectedcmd "
    '# \\ ", "injected": "1 \\u0041 %s'
)
DANGEROUS = set("\"'`<>{}$;*/\\")
SAMPLES = ["notes", "doc_notes", "dhg-notes", "Notes", "NoteCard", "/api/notes", "notes-cli.sh",
           "scripts/root/notes.ts", "NOTES_API_KEY", "notes-proxy", "title:text,done:boolean", "id, title"]
TS_LIKE = {".ts", ".tsx", ".js", ".mjs", ".cjs", ".jsx"}
SIMULATED: set[str] = set()  # scenarios the engine simulated with hostile values at least once


def _accepts(param: m.Param, value: Any) -> bool:
    return check_value(param, value) is None


def hostile_value(param: m.Param) -> str | None:
    """The hostile string cut down (character by character) to what the parameter accepts, if it still holds a
    dangerous character: then the parameter is free text."""
    if param.type != "string":
        return None
    kept = ""
    for ch in HOSTILE:
        if _accepts(param, kept + ch):
            kept += ch
    if not _accepts(param, kept):
        return None
    return kept if set(kept) & DANGEROUS else None


def sample(param: m.Param, scenario: m.Scenario) -> Any:
    if param.default is not None and param.default != "" and _accepts(param, param.default):
        return param.default
    if param.type in ("int", "port"):
        low, high = param.bounds()
        return min(max(3021 if "port" in param.name or param.type == "port" else 3, low), high)
    if param.type == "bool":
        return True
    if param.type == "enum":
        return param.choices[0]
    for candidate in SAMPLES:
        if _accepts(param, candidate):
            return candidate
    from hypothesis import find
    from hypothesis import strategies as st

    assert param.pattern, (scenario.id, param.name)
    return find(st.from_regex(param.pattern, fullmatch=True), lambda v: _accepts(param, v))


def variants(scenario: m.Scenario) -> Iterator[dict[str, Any]]:
    """Hostile free text everywhere, with every choice of each enum and bool (one at a time), and optional
    parameters both left out and given."""
    base: dict[str, Any] = {}
    optional: dict[str, Any] = {}
    for p in scenario.params:
        value = hostile_value(p)
        if value is not None:
            base[p.name] = value
        elif p.required or p.default is not None:
            base[p.name] = sample(p, scenario)
        else:
            optional[p.name] = sample(p, scenario)
    seen: list[dict[str, Any]] = []
    choices = [(p.name, list(p.choices) if p.type == "enum" else [True, False])
               for p in scenario.params if p.type in ("enum", "bool")]
    for extra, (name, values) in product((False, True), choices or [(None, [None])]):
        for choice in values:
            params = {**base, **(optional if extra else {})}
            if name is not None:
                params[name] = choice
            if params not in seen:
                seen.append(params)
                yield params


def rendered_templates(scenario: m.Scenario) -> Iterator[tuple[str, str, str]]:
    """(what, target path, text) for each template file of each variant, and for the text of each `doc` or
    `insert` step into Markdown (which reads the same alone as in its file). A variant without the optional
    parameters may leave a branch's variable undefined; only variants with every parameter must render."""
    for params in variants(scenario):
        complete = all(p.name in params for p in scenario.params)
        context = {**builtin_context(), "scenario_id": scenario.id, "worktree_name": "wt",
                   "facts": FactQuery(), "note": lambda text: "", **params}
        for step in (*scenario.steps, *scenario.rollback):
            what = f"{scenario.id} › {step.name} ({_describe(params)})"
            try:
                if isinstance(step, m.RenderStep):
                    yield what, render_string(step.to, context), render_template(scenario, step.template, context)
                elif isinstance(step, m.DocStep | m.InsertStep) and render_string(step.file, context).endswith(
                    ".md"
                ):
                    yield what, render_string(step.file, context), render_string(step.text, context)
            except UserError as exc:
                # without its optional parameters a template may stop on purpose with fail("...") (the repository
                # lacks what it needs, say a port only the registry or the parameter can give)
                stopped = "is undefined" in exc.message or "cannot render" not in exc.message
                if complete or not stopped:
                    raise AssertionError(f"{what}: does not render: {exc.render()}") from None


def _describe(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in params.items())[:200]


def simulated_files(scenario: m.Scenario, root: Path, facts: list[Any]) -> Iterator[tuple[str, str, str]]:
    """(what, path, whole new content) of every file the engine's own simulation of the scenario (with its
    dependencies) writes in the example monorepo: `doc` and `insert` text is checked in the file it lands in."""
    from continuous.engine.executor import Executor, Request, fixed_now

    ex = Executor(root, rule_base=load_rule_base())
    try:
        for params in variants(scenario):
            try:
                plan = ex.build_plan([Request(scenario.id, params=params)], facts=facts)
                sim = ex.simulate(plan, fixed_now())
            except UserError as exc:
                if all(p.name in params for p in scenario.params) and "is undefined" in exc.message:
                    raise
                continue  # this variant's values do not fit the example repository (a precondition, a fact)
            SIMULATED.add(scenario.id)
            for path, after in sim.after.items():
                if after is not None and after != sim.before.get(path):
                    yield f"{scenario.id} ({_describe(params)})", path, after.decode("utf-8", "replace")
    finally:
        ex.close()


def builtin_scenarios() -> list[m.Scenario]:
    rule_base = load_rule_base()
    return [s for s in rule_base.scenarios.values() if Path(s.source).parent == BUILTIN_LIBRARY
            and any(isinstance(st, m.RenderStep | m.DocStep | m.InsertStep) for st in (*s.steps, *s.rollback))]


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from continuous.common.example_repo import create_example

    root = tmp_path_factory.mktemp("hostile") / "mono"
    create_example(root)
    return root


# ---------------------------------------------------------------- language checks


def sql_code(text: str) -> str:
    """SQL with comments, string literals (plain, E'', dollar-quoted) and quoted identifiers removed."""
    pattern = re.compile(
        r"--[^\n]*|/\*.*?\*/|[Ee]'(?:[^'\\]|\\.|'')*'|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|(\$[A-Za-z_]*\$).*?\1",
        re.S,
    )
    return pattern.sub(" ", text)


def shell_live(text: str) -> str:
    """The parts of a shell script that the shell runs or expands: outside quotes and comments, and inside
    double quotes, unquoted here-documents, `$( )` and backticks."""
    live: list[str] = []
    lines = text.split("\n")
    i = 0
    heredoc: tuple[str, bool] | None = None
    while i < len(lines):
        line = lines[i]
        i += 1
        if heredoc is not None:
            if line.strip() == heredoc[0]:
                heredoc = None
            elif heredoc[1]:
                live.extend(re.findall(r"\$\([^)]*\)|`[^`]*`|\$\{[^}]*\}", line))
            continue
        doc = re.search(r"<<-?\s*(['\"]?)([A-Za-z_]+)\1", line)
        if doc:
            heredoc = (doc.group(2), doc.group(1) == "")
        j, quote = 0, None
        while j < len(line):
            ch = line[j]
            if quote == "'":
                if ch == "'":
                    quote = None
            elif quote == '"':
                if ch == "\\":
                    j += 1
                elif ch == '"':
                    quote = None
                elif line.startswith("$(", j) or ch == "`" or line.startswith("${", j):
                    end = line.find(")" if line.startswith("$(", j) else ("`" if ch == "`" else "}"), j + 2)
                    live.append(line[j : end + 1 if end >= 0 else len(line)])
            elif ch == "\\":
                j += 1
            elif ch in "'\"":
                quote = ch
            elif ch == "#" and (j == 0 or line[j - 1] in " \t;"):
                break
            else:
                live.append(ch)
            j += 1
        live.append("\n")
    return "".join(live)


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [tag] + [a for a, _ in attrs]


def _keys(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for k, v in data.items():
            yield str(k)
            yield from _keys(v)
    elif isinstance(data, list):
        for v in data:
            yield from _keys(v)


def problems_of(path: str, text: str, whole: bool) -> list[str]:
    """What is wrong with `text` as (part of) the file `path`; TS-like files are checked in bulk elsewhere."""
    name = Path(path).name
    suffix = Path(path).suffix
    out: list[str] = []
    if suffix == ".sql":
        if "injected" in sql_code(text).lower():
            out.append("SQL injection: a marker is live SQL")
    elif suffix == ".html":
        parser = _Html()
        parser.feed(text)
        out += [f"HTML injection: <{t}>" for t in parser.found if "injected" in t]
    elif suffix == ".json" and whole:
        try:
            out += [f"JSON injection: key {k!r}" for k in _keys(json.loads(text)) if "injected" in k]
        except ValueError as exc:
            out.append(f"not valid JSON: {exc}")
    elif suffix == ".toml" and whole:
        try:
            out += [f"TOML injection: key {k!r}" for k in _keys(tomllib.loads(text)) if "injected" in k]
        except tomllib.TOMLDecodeError as exc:
            out.append(f"not valid TOML: {exc}")
    elif suffix in (".yaml", ".yml") and whole:
        try:
            out += [f"YAML injection: key {k!r}" for k in _keys(yaml.safe_load(text)) if "injected" in k]
        except yaml.YAMLError as exc:
            out.append(f"not valid YAML: {exc}")
    elif suffix == ".sh" or name.startswith(".env"):
        if "injected" in shell_live(text):
            out.append("shell injection: a marker is live shell code")
        if whole:
            syntax = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True)
            if syntax.returncode != 0:
                out.append(f"not valid bash: {syntax.stderr.strip()}")
    elif suffix == ".md":
        # code spans show their text as it is, and `\<` is a literal `<`
        if re.search(r"(?<!\\)<injectedtag", re.sub(r"(`+)[^`\n]*?\1", "", text)):
            out.append("Markdown carries raw HTML")
    elif suffix not in TS_LIKE and "injected" in text:
        out.append(f"free text reaches a {suffix or name} file, which has no escaping check")
    return out


TS_CHECK = r"""
const ts = require(process.argv[1]);
const items = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = [];
for (const it of items) {
  const kind = it.path.endsWith('.tsx') || it.path.endsWith('.jsx') || !it.whole ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(it.path, it.text, ts.ScriptTarget.Latest, true, kind);
  const problems = [];
  const text = (d) => ts.flattenDiagnosticMessageText(d.messageText, ' ');
  if (it.whole) for (const d of sf.parseDiagnostics) problems.push('syntax: ' + text(d));
  const visit = (n) => {
    if ((ts.isIdentifier(n) || ts.isPrivateIdentifier(n)) && /injected/i.test(n.text)) problems.push('code: ' + n.text);
    if (ts.isTemplateExpression(n) && /injected/i.test(n.getText(sf))) problems.push('template literal expression');
    ts.forEachChild(n, visit);
  };
  visit(sf);
  out.push(problems);
}
process.stdout.write(JSON.stringify(out));
"""


def ts_problems(items: list[tuple[str, str, bool]]) -> list[list[str]]:
    typescript = node_tools() / "node_modules" / "typescript"
    if not typescript.exists():
        pytest.fail("TypeScript is not installed: run .ci/node-tools.sh (make test does)")
    payload = json.dumps([{"path": p, "text": t, "whole": w} for p, t, w in items])
    proc = subprocess.run(["node", "-e", TS_CHECK, str(typescript)], input=payload, capture_output=True,
                          text=True, timeout=300, check=True)
    result: list[list[str]] = json.loads(proc.stdout)
    return result


# ---------------------------------------------------------------- the tests


@pytest.mark.slow  # the TypeScript checks run node and the typescript package
def test_the_checks_catch_injection() -> None:
    """The language checks are not vacuous: raw hostile text fails each of them."""
    assert problems_of("a.sql", f"SELECT '{HOSTILE}';", True)
    assert problems_of("a.html", f"<title>{HOSTILE}</title>", True)
    assert problems_of("a.json", f'{{"d": "{HOSTILE}"}}', True)
    assert problems_of("a.toml", f'd = "{HOSTILE}"', True)
    assert problems_of("a.sh", f"# ok\necho \"{HOSTILE}\"\n", True)
    assert problems_of("a.md", f"- {HOSTILE}", True)
    assert not problems_of("a.md", "- `<injectedtag>`", True)
    assert not problems_of("a.md", "- \\<injectedtag\\>", True)
    assert problems_of("a.css", f"/* {HOSTILE} */", True)
    ts = ts_problems([("a.ts", f"/** {HOSTILE} */\nexport {{}};\n", True),
                      ("b.tsx", f"export const A = () => <p>{HOSTILE}</p>;\n", True),
                      ("c.ts", f"export const s = '{HOSTILE}';\n", True),
                      ("d.ts", "/** a safe comment */\nexport const s = 'x';\n", True)])
    assert ts[0] and ts[1] and ts[2] and not ts[3]


@pytest.mark.slow  # the TypeScript checks run node and the typescript package
def test_every_builtin_template_is_safe_with_hostile_values(example: Path, monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path) -> None:
    from continuous.engine.discovery import discover

    monkeypatch.setenv("CONTINUOUS_DATABASE_URL", f"sqlite:///{tmp_path}/t.db")
    monkeypatch.setenv("CONTINUOUS_NOW", "2026-03-01T12:00:00+00:00")
    failures: list[str] = []
    ts_items: list[tuple[str, str, bool]] = []
    ts_whats: list[str] = []
    checked = 0
    free_text = set()
    facts = discover(load_rule_base(), example)
    for scenario in builtin_scenarios():
        free_text |= {f"{scenario.id}.{p.name}" for p in scenario.params if hostile_value(p) is not None}
        files = [*rendered_templates(scenario), *simulated_files(scenario, example, facts)]
        for what, path, text in files:
            checked += 1
            if Path(path).suffix in TS_LIKE:
                ts_items.append((path, text, True))
                ts_whats.append(f"{what} → {path}")
            else:
                failures += [f"{what} → {path}: {p}" for p in problems_of(path, text, True)]
    for what, problems in zip(ts_whats, ts_problems(ts_items), strict=True):
        failures += [f"{what}: {p}" for p in problems]
    assert checked > 100 and len(free_text) >= 8, (checked, sorted(free_text))
    with_text = {s.id for s in builtin_scenarios() if any(isinstance(st, m.DocStep | m.InsertStep) for st in s.steps)}
    assert len(SIMULATED & with_text) >= 0.8 * len(with_text), sorted(with_text - SIMULATED)
    assert not failures, f"{len(failures)} unsafe renderings:\n" + "\n".join(sorted(set(failures))[:60])
