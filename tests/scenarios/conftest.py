"""Helpers for the built-in library tests: apply a scenario's file steps to a repository with the engine's own
step functions (the executor's semantics, templates seeing the repository's facts), run the few local programs
the library's run steps use, and check file validations.
"""

from __future__ import annotations

import glob as globlib
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
from continuous.dsl.templating import render_string

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


def apply_scenario(
    root: Path,
    scenario: m.Scenario,
    params: Mapping[str, Any],
    now: datetime,
    rule_base: m.RuleBase | None = None,
) -> Applied:
    """Apply the steps of one scenario with the engine's own file steps (templates and structural edits see the
    repository's facts, discovered with the rule base, and its conventions); run steps only for local programs."""
    from continuous.common.config import conventions_of

    with conventions_of(root):
        return _apply_scenario(root, scenario, params, now, rule_base)


def _apply_scenario(
    root: Path,
    scenario: m.Scenario,
    params: Mapping[str, Any],
    now: datetime,
    rule_base: m.RuleBase | None,
) -> Applied:
    from continuous.engine import steps as st
    from continuous.engine.discovery import discover
    from continuous.engine.facts import FactQuery, FactSet

    rules = rule_base if rule_base is not None else load_rule_base()
    facts = FactQuery(lambda: FactSet(discover(rules, root)))
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
        if st.unmet_conditions(step, sctx, st.VirtualFS(root)):
            out.skipped_steps.append(step.name)
            continue
        if st.is_file_step(step):
            try:
                changes = st.file_changes(step, sctx, st.VirtualFS(root))
            except st.StepError as exc:
                raise StepFailed(f"{scenario.id}: {exc.message}") from None
            st.write_changes(root, changes)
            out.files.extend(ch.path for ch in changes if ch.after is not None)
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
        if v.when:
            continue
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
    from ..conftest import init_repo

    dest = tmp_path / "mono"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("node_modules"))
    return init_repo(dest, "example")


@pytest.fixture
def apply(rule_base: m.RuleBase) -> Callable[..., Applied]:
    """apply(root, scenario_id, now, **params): bind the parameters as the CLI does, then apply the steps."""

    def run(root: Path, scenario_id: str, now: datetime, **params: Any) -> Applied:
        scenario = rule_base.scenario(scenario_id)
        assert scenario is not None, scenario_id
        bound = bind_params(scenario, named=params)
        return apply_scenario(root, scenario, bound, now, rule_base)

    return run


def clock(start: datetime | None = None) -> Callable[[], datetime]:
    """A clock that advances one second per call, so migrations of one plan get ordered timestamps."""
    current = [start or datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)]

    def tick() -> datetime:
        current[0] += timedelta(seconds=1)
        return current[0]

    return tick
