"""What a plan touches and how risky it is, for dry-run reports.

Systems come from two places that check each other: the facts the plan's scenarios provide (table, service,
app, port, pipeline facts) and the paths of the files it writes, read with the monorepo's layout conventions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from continuous.engine.facts import Fact
from continuous.engine.results import FileEffect, PlannedStep, Risk, Systems

_CREATE_TABLE = re.compile(r"create\s+table\s+(?:if\s+not\s+exists\s+)?(?:\"?[\w]+\"?\.)?\"?(\w+)\"?", re.I)
_ALTER_TABLE = re.compile(r"alter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?(?:\"?[\w]+\"?\.)?\"?(\w+)\"?", re.I)


def systems_affected(
    provided: Iterable[Fact],
    effects: Iterable[tuple[FileEffect, bytes | None]],
    params: Iterable[dict[str, Any]],
) -> Systems:
    apps: set[str] = set()
    services: set[str] = set()
    tables: set[str] = set()
    ports: set[int] = set()
    pipelines: set[str] = set()
    for fact in provided:
        t = fact.type
        name = fact.fields.get("name") or fact.fields.get("app") or fact.fields.get("domain")
        for key in ("port", "number") if t == "port" else ("port",):
            if str(fact.fields.get(key, "")).isdigit():
                ports.add(int(fact.fields[key]))
        if name is None:
            continue
        if "table" in t or t == "view":
            tables.add(str(name))
        elif "service" in t:
            services.add(str(name))
        elif t in ("app", "page", "component") or t.startswith("app"):
            apps.add(str(fact.fields.get("app") or name))
        elif "pipeline" in t or t in ("cli", "command"):
            pipelines.add(str(fact.fields.get("pipeline") or fact.fields.get("domain") or name))
    for effect, content in effects:
        parts = effect.path.split("/")
        if parts[0] == "apps" and len(parts) > 2 and not parts[1].startswith("."):
            apps.add(parts[1])
        elif parts[:3] == ["packages", "shared", "services"] and len(parts) > 3:
            service = parts[3] if len(parts) > 4 else Path(parts[3]).stem
            if service != "index":
                services.add(service.removesuffix("-service"))
        elif parts[:2] == ["scripts", "cli-pipeline"] and len(parts) > 3:
            pipelines.add(parts[2])
        if effect.path.endswith(".sql") and content:
            text = content.decode("utf-8", "replace")
            tables.update(m.group(1) for m in _CREATE_TABLE.finditer(text))
            tables.update(m.group(1) for m in _ALTER_TABLE.finditer(text))
    for p in params:
        for key, value in p.items():
            if (key == "port" or key.endswith("_port")) and str(value).isdigit():
                ports.add(int(value))
    return Systems(
        apps=sorted(apps),
        services=sorted(services),
        tables=sorted(tables),
        ports=sorted(ports),
        pipelines=sorted(pipelines),
    )


def assess_risk(
    steps: list[PlannedStep],
    files: list[FileEffect],
    *,
    sql_apply: int,
    scenarios_without_rollback: list[str],
    failure_rates: dict[str, float],
    problems: list[str],
    dirty_overlap: list[str],
    systems: Systems,
) -> Risk:
    score = 0
    reasons: list[str] = []
    if problems:
        score += 3
        reasons.append(f"{len(problems)} step(s) are predicted to fail: {problems[0]}")
    if sql_apply:
        score += 2
        reasons.append(f"applies {sql_apply} SQL migration(s) to the database (not undone by a file rollback)")
        if scenarios_without_rollback:
            score += 1
            reasons.append("no rollback steps for a database change in: " + ", ".join(scenarios_without_rollback))
    commands = [s for s in steps if s.kind == "run"]
    if commands:
        score += 1
        reasons.append(f"runs {len(commands)} command(s) whose file changes cannot be predicted")
    modified = [f for f in files if f.change == "modified"]
    deleted = [f for f in files if f.change == "deleted"]
    if deleted:
        score += 2
        reasons.append(f"deletes {len(deleted)} file(s)")
    if modified:
        score += 1
        shared = [f.path for f in modified if f.path.startswith("packages/") or "/" not in f.path]
        reasons.append(
            f"modifies {len(modified)} existing file(s)"
            + (f", including shared/root files: {', '.join(shared[:3])}" if shared else "")
        )
    if len(files) > 15:
        score += 1
        reasons.append(f"touches {len(files)} files")
    if len(systems.apps) + len(systems.services) > 3:
        score += 1
        reasons.append(f"spans {len(systems.apps)} app(s) and {len(systems.services)} service(s)")
    for scenario, rate in sorted(failure_rates.items()):
        if rate >= 0.2:
            score += 1
            reasons.append(f"{scenario} failed in {rate:.0%} of its past executions")
    if dirty_overlap:
        score += 3
        reasons.append("uncommitted changes in files it would overwrite: " + ", ".join(dirty_overlap[:5]))
    if not reasons:
        reasons.append("only creates new files; every change is checkpointed and reversible")
    level = "low" if score == 0 else "medium" if score <= 2 else "high"
    return Risk(level=level, reasons=reasons)
