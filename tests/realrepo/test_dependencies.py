"""Defect 7: update-dependencies validates in the package it updated and rolls back in the right order.

The snapshot has no TypeScript at its root, so the validation runs `tsc` in the filtered package with that
package's own tsconfig (tsconfig.app.json where an app splits its config the Vite way). A failed update restores
package.json and pnpm-lock.yaml first and only then reinstalls from them (`rollback finally`). Without pnpm on
PATH the dry-run says so and the run refuses before changing anything.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from continuous.dsl import model as m
from continuous.engine.executor import Executor, Request
from continuous.engine.facts import FactQuery, FactSet
from continuous.engine.steps import StepContext, VirtualFS, render_argv, unmet_conditions

from .conftest import cli


def _path_without_pnpm() -> str:
    dirs = {str(Path(p).parent) for p in (shutil.which("git"), shutil.which("bash")) if p}
    return os.pathsep.join(sorted(dirs))


def test_without_pnpm_the_dry_run_says_so_and_the_run_changes_nothing(real_repo: Path) -> None:
    env = {"PATH": _path_without_pnpm()}
    dry = cli(
        real_repo, "run-scenario", "update-dependencies", "react", "18.3.1", "dhg-admin-code", "--dry-run", env=env
    )
    assert dry.returncode == 1, dry.stderr  # a dry-run that predicts a failure says so in its exit code
    assert "program 'pnpm' is not on PATH" in dry.stdout
    proc = cli(real_repo, "run-scenario", "update-dependencies", "react", "18.3.1", "dhg-admin-code", "--yes", env=env)
    assert proc.returncode == 2
    assert "program 'pnpm' is not on PATH" in proc.stderr
    status = subprocess.run(["git", "status", "--porcelain"], cwd=real_repo, capture_output=True, text=True).stdout
    assert status == ""


@pytest.mark.parametrize(
    ("filter_", "argv"),
    [
        (
            "dhg-admin-code",
            ["pnpm", "--filter", "dhg-admin-code", "exec", "tsc", "--noEmit", "-p", "tsconfig.app.json"],
        ),
        ("@dhg/shared", ["pnpm", "--filter", "@dhg/shared", "exec", "tsc", "--noEmit", "-p", "."]),
        ("./apps/dhg-hub", ["pnpm", "--filter", "./apps/dhg-hub", "exec", "tsc", "--noEmit", "-p", "."]),
        ("root", None),
    ],
)
def test_the_validation_type_checks_the_filtered_package_with_its_own_tsconfig(
    real_repo: Path, filter_: str, argv: list[str] | None
) -> None:
    ex = Executor(real_repo)
    plan = ex.build_plan([Request("update-dependencies", ("dotenv", "16.6.1", filter_))])
    item = plan.items[0]
    sc = ex.scenario(item.scenario)
    facts = FactQuery(lambda: FactSet(ex.facts()))
    ctx = StepContext(real_repo, sc, item.params, facts=facts)
    checks = [v for v in sc.validations if isinstance(v, m.CommandSucceeds)]
    applicable = [v for v in checks if not unmet_conditions(v, ctx, VirtualFS(real_repo))]
    if argv is None:
        assert applicable == []  # nothing to type-check at a root without TypeScript; `pnpm add` resolved it
    else:
        assert [render_argv(v.argv, ctx) for v in applicable] == [argv]
    assert [s.argv for s in sc.rollback_finally if isinstance(s, m.RunStep)] == [
        ("pnpm", "install", "--frozen-lockfile")
    ]
    assert sc.rollback == ()  # nothing runs before the manifests and the lockfile are restored


ORDER_CHECK = """
scenario lockfile-order-check {
  object infra
  summary "Changes the manifests like pnpm add, then fails its validation"
  param seen: string required position 1
  step "update" run ["cp", "package.json", "pnpm-lock.yaml"]
  rollback finally step "reinstall" run ["cp", "pnpm-lock.yaml", "{{ seen }}/lock-at-reinstall.yaml"]
  validate file "pnpm-lock.yaml" contains "lockfileVersion"
}
"""


def test_the_reinstall_of_a_failed_update_sees_the_restored_lockfile(real_repo: Path, tmp_path: Path) -> None:
    lib = tmp_path / "extra"
    lib.mkdir()
    (lib / "order.scn").write_text(ORDER_CHECK)
    (real_repo / ".continuous.toml").write_text(f'scenario_paths = ["{lib}"]\n')
    subprocess.run(["git", "add", ".continuous.toml"], cwd=real_repo, check=True)
    subprocess.run(
        ["git", "-c", "user.email=d@e.f", "-c", "user.name=D", "commit", "-qm", "cfg"], cwd=real_repo, check=True
    )
    original = (real_repo / "pnpm-lock.yaml").read_bytes()
    seen = tmp_path / "seen"
    seen.mkdir()
    proc = cli(real_repo, "run-scenario", "lockfile-order-check", str(seen), "--yes")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (seen / "lock-at-reinstall.yaml").read_bytes() == original
    assert (real_repo / "pnpm-lock.yaml").read_bytes() == original
