"""Check a labelled request file against the row format of README.md and the rule base, without planning.

    .venv/bin/python bench/data/planner/check_rows.py [FILE.jsonl ...]     (default: all nine splits)

Every row must load, carry the README's fields with the right types, name real scenarios and real parameters
(in `first`, `required_in_order`, `required_unordered`, `params` and `forbid`), give parameter values that the
parameter accepts, and be consistent (`no_match` iff `first` is empty, and iff `kind` is no_match). Ids must be
unique and equal to `split.request_id(request)`. Requests of FILE that also appear in another split are reported by
id only: this script never prints a row of another file. The fresh3, fresh4, fresh5, fresh6 and fresh7 splits must
also share no request with the planner's training text (every line of `planner/data/offtopic.txt` and
`planner/data/requests.txt`, every scenario's `examples`). The held-out splits are never shown row by row: the test
split's problems as a count, the fresh3, fresh4, fresh5, fresh6 and fresh7 splits' problems as ids with a count each
(never a label or a value). The fresh and fresh2 splits were retired from blind evaluation in session 9 and are
trained on (`retired_to_training.py` turns their rows into lines of requests.txt): their problems are shown like
tune's. Nothing here runs the planner.

The planner's training text files are checked too (`planner/data/requests.txt`, the labelled real requests, and
`planner/data/offtopic.txt`): every label of requests.txt must name a scenario of the library or `none`, and no
training line may be a request of any split but the retired ones (fresh, fresh2); overlaps are reported as counts
per split only (never a line).

Exit status: 0 when every row is valid, 1 otherwise (the problems are printed one a line, by id).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
SPLITS = (
    "tune.jsonl",
    "test.jsonl",
    "fresh.jsonl",
    "fresh2.jsonl",
    "fresh3.jsonl",
    "fresh4.jsonl",
    "fresh5.jsonl",
    "fresh6.jsonl",
    "fresh7.jsonl",
)
OFFTOPIC = HERE.parents[2] / "planner" / "data" / "offtopic.txt"
REQUESTS = HERE.parents[2] / "planner" / "data" / "requests.txt"
# held out from tuning: their problems are reported without a label or a value (test: as a count only)
BY_ID_ONLY = ("fresh3.jsonl", "fresh4.jsonl", "fresh5.jsonl", "fresh6.jsonl", "fresh7.jsonl")
# splits that must share no request with the planner's training text (off-topic lines, scenario examples)
UNTRAINED = ("fresh3.jsonl", "fresh4.jsonl", "fresh5.jsonl", "fresh6.jsonl", "fresh7.jsonl")
# retired from blind evaluation in session 9 and trained on: requests.txt may hold their requests
RETIRED = ("fresh.jsonl", "fresh2.jsonl")

from split import request_id  # noqa: E402

KINDS = ("single", "multi", "no_match")
SOURCE_KINDS = {
    "commit": ("repo", "commit", "subject"),
    "issue": ("repo", "url"),
    "pr": ("repo", "url"),
    "migration": ("repo", "path"),
    "doc": ("repo", "path"),
}
# Page, component and test-target names are compared loosely by the bench (case, - and _ ignored), so a labelled
# kebab-case or PascalCase spelling is checked against the pattern only after that normalisation.
LOOSE_PARAMS = {("add-page", "name"), ("add-shared-component", "name"), ("add-tests", "target")}


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def _value_problem(rule_base: Any, sid: str, name: str, value: Any) -> str | None:
    from continuous.dsl.params import check_value, coerce

    param = rule_base.scenarios[sid].param(name)
    try:
        typed = coerce(param, value)
    except Exception as exc:  # any refusal is a labelling problem to report
        return f"{sid}.{name}={value!r}: {exc}"
    problem = check_value(param, typed)
    if problem and (sid, name) in LOOSE_PARAMS and isinstance(value, str):
        # PascalCase the loose spelling the way the scenarios do, then check again
        pascal = "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_ ]+", value) if part)
        problem = check_value(param, pascal)
    return f"{sid}.{name}={value!r}: {problem}" if problem else None


def row_problems(row: dict[str, Any], rule_base: Any) -> list[str]:
    out: list[str] = []
    scenarios = rule_base.scenarios

    def known(sid: Any, where: str) -> bool:
        if not isinstance(sid, str) or sid not in scenarios:
            out.append(f"{where}: unknown scenario {sid!r}")
            return False
        return True

    for key, typ in (("request", str), ("first", list), ("required_in_order", list), ("params", dict),
                     ("no_match", bool), ("kind", str), ("source", dict)):  # fmt: skip
        if not isinstance(row.get(key), typ):
            out.append(f"field {key} missing or not a {typ.__name__}")
    if out:
        return out
    if not row["request"].strip() or row["request"] != row["request"].strip():
        out.append("request is empty or has surrounding blanks")
    for sid in row["first"]:
        known(sid, "first")
    required: list[list[str]] = []
    for step in row["required_in_order"]:
        alts = step if isinstance(step, list) else [step]
        if not alts:
            out.append("required_in_order holds an empty alternative")
        required.append([a for a in alts if known(a, "required_in_order")])
    for sid in row.get("required_unordered", []):
        if known(sid, "required_unordered"):
            required.append([sid])
    for sid, params in row["params"].items():
        if not known(sid, "params") or not isinstance(params, dict):
            continue
        for name, values in params.items():
            if scenarios[sid].param(name) is None:
                out.append(f"params: {sid} has no parameter {name}")
                continue
            if not isinstance(values, list) or not values:
                out.append(f"params: {sid}.{name} must be a non-empty list of acceptable values")
                continue
            out += [p for v in values if (p := _value_problem(rule_base, sid, name, v))]
        if not any(sid in alts for alts in required):
            out.append(f"params: {sid} is labelled but not required by the plan")
    for sid, spec in row.get("forbid", {}).items():
        if not known(sid, "forbid"):
            continue
        if spec == "*":
            if any(alts == [sid] for alts in required):
                out.append(f"forbid: {sid} is both required and forbidden")
            continue
        if not isinstance(spec, dict):
            out.append(f"forbid: {sid} must be '*' or parameter -> values")
            continue
        for name, values in spec.items():
            if scenarios[sid].param(name) is None:
                out.append(f"forbid: {sid} has no parameter {name}")
            elif not isinstance(values, list) or not values:
                out.append(f"forbid: {sid}.{name} must be a non-empty list")
    nm = row["no_match"]
    if nm != (not row["first"]) or nm != (not required):
        out.append("no_match must hold exactly when first and required_in_order are empty")
    if row["first"] and required and not any(f in alts for f in row["first"] for alts in required):
        out.append("no scenario of first is required by the plan")
    # `kind` is descriptive: the test and tuning splits count the request's intents, fresh.jsonl the plan's
    # required scenarios, so only its agreement with `no_match` is checked
    if row["kind"] not in KINDS or (row["kind"] == "no_match") != bool(nm):
        out.append(f"kind is {row['kind']!r}, but no_match is {bool(nm)}")
    labelled = {v for ps in row["params"].values() for vs in ps.values() for v in vs}
    for name in row.get("names_existing", []):
        if name not in labelled and not any(
            name in vs for spec in row.get("forbid", {}).values() if isinstance(spec, dict) for vs in spec.values()
        ):
            out.append(f"names_existing: {name!r} is not a labelled value")
    src = row["source"]
    need = SOURCE_KINDS.get(src.get("kind"))
    if need is None:
        out.append(f"source: unknown kind {src.get('kind')!r}")
    else:
        out += [f"source: {src['kind']} without {k}" for k in need if not src.get(k)]
    return out


def _training_texts(rule_base: Any) -> dict[str, str]:
    """Normalised text -> where the planner trains on it: every line of offtopic.txt and requests.txt (the labelled
    real requests) and every scenario example."""
    out: dict[str, str] = {}
    if OFFTOPIC.is_file():
        for line in OFFTOPIC.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                out.setdefault(_norm(line), "planner/data/offtopic.txt")
    if REQUESTS.is_file():
        for line in REQUESTS.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                out.setdefault(_norm(line.partition("\t")[2]), "planner/data/requests.txt")
    for sid, scenario in rule_base.scenarios.items():
        for example in getattr(scenario, "examples", ()):
            out.setdefault(_norm(str(example)), f"the examples of scenario {sid}")
    return out


def check_file(path: Path, rule_base: Any) -> list[str]:
    problems: list[str] = []
    seen_ids: set[str] = set()
    seen_requests: dict[str, str] = {}
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path.name}:{n}: not JSON ({exc.msg})")
            continue
        rid = row.get("id", f"line {n}")
        rows.append(row)
        if rid in seen_ids:
            problems.append(f"{rid}: duplicate id")
        seen_ids.add(rid)
        if isinstance(row.get("request"), str):
            if rid != request_id(row["request"]):
                problems.append(f"{rid}: id is not split.request_id(request)")
            key = _norm(row["request"])
            if key in seen_requests:
                problems.append(f"{rid}: same request as {seen_requests[key]}")
            seen_requests[key] = rid
        problems += [f"{rid}: {p}" for p in row_problems(row, rule_base)]
    # requests shared with the other splits: reported by this file's id only
    for other in SPLITS:
        other_path = HERE / other
        if other_path.resolve() == path.resolve() or not other_path.exists():
            continue
        texts = {
            _norm(json.loads(line)["request"])
            for line in other_path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        }
        problems += [f"{rid}: request also in {other}" for key, rid in seen_requests.items() if key in texts]
    if path.name in UNTRAINED:
        trained = _training_texts(rule_base)
        problems += [f"{rid}: request also in {trained[key]}" for key, rid in seen_requests.items() if key in trained]
    print(f"{path.name}: {len(rows)} rows, {sum(bool(r.get('no_match')) for r in rows)} no-match", file=sys.stderr)
    return problems


def training_problems(rule_base: Any) -> list[str]:
    """Problems of the planner's training text files: unknown labels in requests.txt (by line number), and lines
    of requests.txt or offtopic.txt that are requests of a split (a count per split, never the lines)."""
    problems: list[str] = []
    split_texts = {
        name: {
            _norm(json.loads(line)["request"])
            for line in (HERE / name).read_text(encoding="utf-8").splitlines()
            if line.strip()
        }
        for name in SPLITS
        if (HERE / name).exists()
    }
    for fname in ("requests.txt", "offtopic.txt"):
        path = OFFTOPIC.parent / fname
        if not path.exists():
            continue
        texts: list[str] = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            if fname == "requests.txt":
                label, tab, text = line.partition("\t")
                if not tab or not text.strip():
                    problems.append(f"{fname}:{n}: not LABEL<TAB>REQUEST")
                    continue
                if label != "none" and label not in rule_base.scenarios:
                    problems.append(f"{fname}:{n}: unknown scenario {label!r}")
                texts.append(text.strip())
            else:
                texts.append(line.strip())
        keys = [_norm(t) for t in texts]
        for name, other in split_texts.items():
            if fname == "requests.txt" and name in RETIRED:  # trained on since their retirement
                continue
            shared = sum(k in other for k in keys)
            if shared:
                problems.append(f"{fname}: {shared} line(s) are requests of {name}")
        print(f"{fname}: {len(texts)} training lines", file=sys.stderr)
    return problems


def main(argv: list[str]) -> int:
    from continuous.dsl.loader import load_rule_base

    rule_base = load_rule_base()
    paths = [Path(a) for a in argv] or [HERE / f for f in SPLITS]
    problems: list[str] = []
    for path in paths:
        if not path.is_file():
            print(f"{path}: no such file; give a .jsonl file of labelled requests", file=sys.stderr)
            return 2
        found = check_file(path, rule_base)
        if path.name == "test.jsonl":  # the test split is never shown row by row, not even its ids' problems
            found = [f"test.jsonl: {len(found)} problem(s)"] if found else []
        elif path.name in BY_ID_ONLY:  # ids and counts only: a problem's text may quote a label or a value
            per_id: dict[str, int] = {}
            for p in found:
                rid = p.split(":", 1)[0]
                per_id[rid] = per_id.get(rid, 0) + 1
            found = [f"{path.name}: {rid}: {n} problem(s)" for rid, n in per_id.items()]
        problems += found
    if not argv:
        problems += training_problems(rule_base)
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
