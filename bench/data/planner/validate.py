"""Check labelled request rows without running the planner.

    .venv/bin/python bench/data/planner/validate.py [FILE.jsonl ...]     (default: tune.jsonl)

Every row must be in the README's format: its id is the hash of its request, every label names a scenario of
the built-in library and parameters that scenario declares, every labelled value is one the parameter accepts,
`first` agrees with `no_match` and `kind`, and the source says where the text came from. Exit 0 when all rows
pass, 1 with one line per problem otherwise. It reads only the files it is given.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from split import request_id  # noqa: E402

KEYS = ("id", "request", "first", "required_in_order", "params", "no_match", "kind", "names_existing", "source")
OPTIONAL = ("forbid", "required_unordered")
SOURCE_KEYS = {
    "commit": ("repo", "commit", "subject"),
    "issue": ("repo", "number", "url", "title"),
    "pr": ("repo", "number", "url", "title"),
    "migration": ("repo", "path"),
    "doc": ("repo", "path"),
}


def _ids(value: Any) -> list[str]:
    """Scenario ids of a `required_in_order` element (a name, or a list meaning "any one of these")."""
    return [value] if isinstance(value, str) else list(value)


def check_row(row: dict[str, Any], rule_base: Any) -> list[str]:
    from continuous.dsl.params import check_value

    out: list[str] = []
    missing = [k for k in KEYS if k not in row]
    extra = [k for k in row if k not in KEYS + OPTIONAL]
    if missing or extra:
        return [f"missing keys {missing}" if missing else f"unknown keys {extra}"]
    if row["id"] != request_id(row["request"]):
        out.append(f"id {row['id']} is not the hash of the request ({request_id(row['request'])})")
    if row["request"] != row["request"].strip() or not row["request"]:
        out.append("request is empty or has surrounding spaces")
    scenarios = rule_base.scenarios
    named = list(row["first"]) + [s for r in row["required_in_order"] for s in _ids(r)]
    named += list(row.get("required_unordered", [])) + list(row["params"]) + list(row.get("forbid", {}))
    out += [f"unknown scenario {s}" for s in dict.fromkeys(named) if s not in scenarios]
    if row["no_match"]:
        if row["first"] or row["required_in_order"] or row["params"] or row["kind"] != "no_match":
            out.append("a no-match row has labels or a kind other than no_match")
    else:
        if not row["first"]:
            out.append("a matching row has an empty `first`")
        if row["kind"] not in ("single", "multi"):
            out.append(f"kind {row['kind']!r} is not single or multi")
        wanted = {s for r in row["required_in_order"] for s in _ids(r)} | set(row.get("required_unordered", []))
        if not wanted:
            out.append("a matching row requires no scenario")
        elif not set(row["first"]) & wanted:
            out.append("no scenario of `first` is required")
    for sid, params in row["params"].items():
        sc = scenarios.get(sid)
        if sc is None:
            continue
        for name, values in params.items():
            param = sc.param(name)
            if param is None:
                out.append(f"{sid} has no parameter {name}")
                continue
            if not isinstance(values, list) or not values:
                out.append(f"{sid}.{name}: values must be a non-empty list")
                continue
            for value in values:
                problem = check_value(param, value)
                if problem:
                    out.append(f"{sid}.{name}: {problem}")
    for sid, rule in row.get("forbid", {}).items():
        if rule == "*":
            continue
        sc = scenarios.get(sid)
        for name in rule:
            if sc is not None and sc.param(name) is None:
                out.append(f"forbid: {sid} has no parameter {name}")
    values = {str(v) for ps in row["params"].values() for vs in ps.values() for v in vs}
    values |= {str(v) for rule in row.get("forbid", {}).values() if rule != "*" for vs in rule.values() for v in vs}
    out += [f"names_existing {n!r} is not a labelled value" for n in row["names_existing"] if n not in values]
    src = row["source"]
    keys = SOURCE_KEYS.get(src.get("kind"))
    if keys is None:
        out.append(f"source kind {src.get('kind')!r} is not one of {', '.join(SOURCE_KEYS)}")
    else:
        out += [f"source lacks {k}" for k in keys if not src.get(k)]
    return out


def main(argv: list[str]) -> int:
    from continuous.dsl.loader import load_rule_base

    rule_base = load_rule_base()
    paths = [Path(a) for a in argv] or [HERE / "tune.jsonl"]
    problems = 0
    for path in paths:
        seen: dict[str, int] = {}
        lines = path.read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                print(f"{path.name}:{n}: not JSON ({exc.msg})")
                problems += 1
                continue
            found = check_row(row, rule_base)
            if row.get("id") in seen:
                found.append(f"duplicate of line {seen[row['id']]}")
            seen.setdefault(row.get("id", ""), n)
            for p in found:
                print(f"{path.name}:{n}: {row.get('request', '')[:60]!r}: {p}")
            problems += len(found)
        print(f"{path.name}: {len(seen)} rows, {problems} problems", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
