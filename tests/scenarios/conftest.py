"""Helpers for the built-in library tests: apply a scenario's file steps to a repository with the DSL's own
template rendering (the same semantics as the executor's steps: idempotent insert and doc, dotted JSON keys),
run the few local programs the library's run steps use, and check file validations.
"""

from __future__ import annotations

import glob as globlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from continuous.dsl import model as m
from continuous.dsl.loader import load_rule_base
from continuous.dsl.params import bind_params
from continuous.dsl.templating import builtin_context, render_file, render_string, template_path

LIBRARY = Path(__file__).resolve().parents[2] / "scenarios"
EXAMPLE = LIBRARY / "example-monorepo"
DEFAULT_NODE_TOOLS = Path(__file__).resolve().parents[2] / ".cache" / "node-tools"
LOCAL_PROGRAMS = {"node", "git", "chmod", "mkdir", "bash"}


def node_tools() -> Path:
    return Path(os.environ.get("CONTINUOUS_TEST_NODE_TOOLS", str(DEFAULT_NODE_TOOLS)))


def tsc_path() -> Path | None:
    tsc = node_tools() / "node_modules" / ".bin" / "tsc"
    return tsc if tsc.exists() else None


@dataclass
class Applied:
    scenario: str
    params: dict[str, Any]
    files: list[str] = field(default_factory=list)
    skipped_steps: list[str] = field(default_factory=list)


class StepFailed(AssertionError):
    pass


def _inside(root: Path, rel: str) -> Path:
    target = (root / rel).resolve()
    if root.resolve() not in target.parents and target != root.resolve():
        raise StepFailed(f"path {rel!r} leaves the repository")
    return target


def _split_key(key: str) -> list[str]:
    return [p.replace("\\.", ".") for p in re.split(r"(?<!\\)\.", key) if p]


def apply_scenario(root: Path, scenario: m.Scenario, params: Mapping[str, Any], now: datetime) -> Applied:
    """Apply the steps of one scenario; render, insert, edit and doc always, run only for local programs.

    Templates see the repository's facts (`facts`, `note`) as the executor gives them; `sql types` merges with
    the engine's own step."""
    from continuous.engine import steps as st
    from continuous.engine.discovery import discover
    from continuous.engine.facts import FactQuery, FactSet

    facts = FactQuery(lambda: FactSet(discover(load_rule_base(), root)))
    sctx = st.StepContext(root, scenario, params, now=now, facts=facts)
    ctx = sctx.variables
    out = Applied(scenario.id, dict(params))

    def r(text: str) -> str:
        return render_string(text, ctx, where=scenario.id)

    for pre in scenario.preconditions:
        if pre.kind == "exists" and pre.path and not (root / r(pre.path)).exists():
            raise StepFailed(f"{scenario.id}: precondition exists {r(pre.path)} does not hold")
        if pre.kind == "missing" and pre.path and (root / r(pre.path)).exists():
            raise StepFailed(f"{scenario.id}: precondition missing {r(pre.path)} does not hold")
    for step in scenario.steps:
        if isinstance(step, m.RenderStep):
            rel = r(step.to)
            target = _inside(root, rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(render_file(template_path(scenario, step.template), ctx), encoding="utf-8")
            out.files.append(rel)
        elif isinstance(step, m.InsertStep):
            rel = r(step.file)
            target = _inside(root, rel)
            text, anchor = r(step.text), r(step.anchor)
            before = target.read_text(encoding="utf-8")
            if text.strip() in before:
                continue
            if not text.endswith("\n"):
                text += "\n"
            lines = before.splitlines(keepends=True)
            for i, line in enumerate(lines):
                if anchor in line:
                    lines.insert(i if step.where == "before" else i + 1, text)
                    break
            else:
                raise StepFailed(f"{scenario.id}: step {step.name!r}: anchor {anchor!r} not found in {rel}")
            target.write_text("".join(lines), encoding="utf-8")
            out.files.append(rel)
        elif isinstance(step, m.DocStep):
            rel = r(step.file)
            target = _inside(root, rel)
            text = r(step.text)
            body = target.read_text(encoding="utf-8") if target.exists() else ""
            if text.strip() and text.strip() in body:
                continue
            if body and not body.endswith("\n"):
                body += "\n"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body + text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
            out.files.append(rel)
        elif isinstance(step, m.EditStep):
            rel = r(step.file)
            target = _inside(root, rel)
            assert step.format == "json", "the library only edits JSON"
            data = json.loads(target.read_text(encoding="utf-8"))
            keys = _split_key(r(step.key))
            node = data
            for key in keys[:-1]:
                node = node.setdefault(key, {})
            value = r(step.value) if isinstance(step.value, str) else step.value
            if step.op == "set":
                node[keys[-1]] = value
            elif step.op == "append":
                node.setdefault(keys[-1], []).append(value)
            else:
                node.pop(keys[-1], None)
            target.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            out.files.append(rel)
        elif isinstance(step, m.SqlStep) and st.is_file_step(step):
            for change in st.file_changes(step, sctx, st.VirtualFS(root)):
                st.write_changes(root, [change])
                out.files.append(change.path)
        elif isinstance(step, m.RunStep):
            argv = [r(a) for a in step.argv]
            if argv[0] not in LOCAL_PROGRAMS:
                out.skipped_steps.append(step.name)
                continue
            cwd = _inside(root, r(step.cwd)) if step.cwd else root
            proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
            if proc.returncode != 0:
                raise StepFailed(
                    f"{scenario.id}: step {step.name!r} ({' '.join(argv)}) failed:\n"
                    f"{proc.stdout}{proc.stderr}"
                )
        else:
            out.skipped_steps.append(step.name)
    check_validations(root, scenario, ctx)
    return out


def check_validations(root: Path, scenario: m.Scenario, ctx: Mapping[str, Any]) -> None:
    for v in scenario.validations:
        if isinstance(v, m.FileExists | m.FileContains):
            pattern = render_string(v.glob, ctx)
            matches = globlib.glob(str(root / pattern))
            if not matches:
                raise StepFailed(f"{scenario.id}: validation: no file matches {pattern}")
            if isinstance(v, m.FileContains):
                text = render_string(v.text, ctx)
                found = any(text in Path(p).read_text(encoding="utf-8") for p in matches)
                if found == v.negated:
                    word = "has" if v.negated else "lacks"
                    raise StepFailed(f"{scenario.id}: validation: {pattern} {word} {text!r}")
        elif isinstance(v, m.CommandSucceeds):
            argv = [render_string(a, ctx) for a in v.argv]
            if argv[0] in LOCAL_PROGRAMS:
                proc = subprocess.run(
                    argv, cwd=root, capture_output=True, text=True, timeout=120, check=False
                )
                if proc.returncode != 0:
                    raise StepFailed(
                        f"{scenario.id}: validation {' '.join(argv)} failed: {proc.stdout}{proc.stderr}"
                    )


@pytest.fixture(scope="session")
def rule_base() -> m.RuleBase:
    return load_rule_base()


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    """A fresh copy of the example monorepo as a git repository with one commit."""
    dest = tmp_path / "mono"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("node_modules"))
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "example"],
    ):
        subprocess.run(["git", *args], cwd=dest, check=True, capture_output=True)
    return dest


@pytest.fixture
def apply(rule_base: m.RuleBase) -> Callable[..., Applied]:
    """apply(root, scenario_id, now, **params): bind the parameters as the CLI does, then apply the steps."""

    def run(root: Path, scenario_id: str, now: datetime, **params: Any) -> Applied:
        scenario = rule_base.scenario(scenario_id)
        assert scenario is not None, scenario_id
        bound = bind_params(scenario, named=params)
        return apply_scenario(root, scenario, bound, now)

    return run


def clock(start: datetime | None = None) -> Callable[[], datetime]:
    """A clock that advances one second per call, so migrations of one plan get ordered timestamps."""
    current = [start or datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)]

    def tick() -> datetime:
        current[0] += timedelta(seconds=1)
        return current[0]

    return tick
