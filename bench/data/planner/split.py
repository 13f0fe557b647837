"""Split the labelled real-source requests into the tuning and the never-tuned test split (40 / 60).

    .venv/bin/python bench/data/planner/split.py [POOL.jsonl]

Without POOL the union of tune.jsonl and test.jsonl is re-split, which reproduces both files exactly. The
split is stratified: requests are ordered by first scenario (no-match last), then by source group, then by a
seeded hash, and every 5th, 3rd... position of a systematic 2-in-5 sample goes to tuning. Near-duplicate
requests (same labels and most words in common) stay together, so the test split never holds a twin of a
tuning request.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SEED = "planner-eval-2025"
TUNE_SHARE = 0.4


def request_id(request: str) -> str:
    return "r" + hashlib.sha1(request.encode("utf-8")).hexdigest()[:8]


def source_group(row: dict[str, Any]) -> str:
    src = row["source"]
    if src["kind"] in ("migration", "doc"):
        return f"fixture-{src['kind']}"
    if src["kind"] in ("issue", "pr"):
        return "issues"
    return str(src["repo"])


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2}


def _label_key(row: dict[str, Any]) -> str:
    return json.dumps([row["first"], row["required_in_order"], row["params"]], sort_keys=True)


def groups(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Near-duplicates (same labels, Jaccard of words >= 0.5) form one group."""
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    words = [_words(r["request"]) for r in rows]
    for i in range(len(rows)):
        for j in range(i + 1, len(rows)):
            if _label_key(rows[i]) != _label_key(rows[j]) or not rows[i]["first"]:
                continue
            union = words[i] | words[j]
            if union and len(words[i] & words[j]) / len(union) >= 0.5:
                parent[find(i)] = find(j)
    out: dict[int, list[dict[str, Any]]] = {}
    for i, r in enumerate(rows):
        out.setdefault(find(i), []).append(r)
    return list(out.values())


def split(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    for r in rows:
        r["id"] = request_id(r["request"])
    rows = sorted(rows, key=lambda r: r["id"])

    def order(group: list[dict[str, Any]]) -> tuple[int, str, str, str]:
        head = group[0]
        first = head["first"][0] if head["first"] else "~no-match"
        digest = hashlib.sha1((SEED + head["id"]).encode()).hexdigest()
        return (0 if head["first"] else 1, first, source_group(head), digest)

    tune: list[dict[str, Any]] = []
    test: list[dict[str, Any]] = []
    taken = 0.0
    for group in sorted(groups(rows), key=order):
        taken += TUNE_SHARE * len(group)
        target = tune if len(tune) + len(group) <= round(taken) else test
        target.extend(group)
    return tune, test


def main(argv: list[str]) -> int:
    if argv:
        rows = [json.loads(line) for line in Path(argv[0]).read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        rows = []
        for name in ("tune.jsonl", "test.jsonl"):
            path = HERE / name
            rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    tune, test = split(rows)
    for name, part in (("tune.jsonl", tune), ("test.jsonl", test)):
        part = sorted(part, key=lambda r: r["id"])
        text = "".join(json.dumps({"id": r["id"], **{k: v for k, v in r.items() if k != "id"}}) + "\n" for r in part)
        (HERE / name).write_text(text, encoding="utf-8")
    nm = [sum(r["no_match"] for r in p) for p in (tune, test)]
    print(f"tune {len(tune)} ({nm[0]} no-match), test {len(test)} ({nm[1]} no-match)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
