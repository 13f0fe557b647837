"""The shared install hoists the same versions on every machine (see pin_hoisting in .ci/realrepo-deps.py).

pnpm took the workspace projects in a different order from one install to the next, so the root `node_modules`
exposed `@types/react` 18 in one and 19 in another, and a new app's type check passed or failed with it.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from .measure import pin_hoisting


def _first_listing_importer(installed: Path) -> dict[str, str]:
    lock = yaml.safe_load((installed / "pnpm-lock.yaml").read_text())
    importers = lock["importers"]
    own = {
        n
        for data in [importers.get(".", {})]
        for section in data.values()
        if isinstance(section, dict)
        for n in section
    }
    first: dict[str, str] = {}
    for importer in sorted(i for i in importers if i != "."):
        for section in ("dependencies", "devDependencies", "optionalDependencies"):
            for name in importers[importer].get(section) or {}:
                if name not in own:
                    first.setdefault(name, importer)
    return first


def test_every_hoisted_name_is_the_version_of_the_first_importer_that_lists_it(installed_deps: Path) -> None:
    checked, wrong = [], []
    for name, importer in _first_listing_importer(installed_deps).items():
        root_link = installed_deps / "node_modules" / name
        own_link = installed_deps / importer / "node_modules" / name
        if not (root_link.is_symlink() and own_link.is_symlink()):
            continue
        checked.append(name)
        if root_link.resolve() != own_link.resolve():
            wrong.append(
                f"{name}: {os.readlink(root_link)} (wanted {importer}'s {own_link.resolve().parent.parent.name})"
            )
    assert "@types/react" in checked and len(checked) > 50
    assert not wrong, "\n".join(wrong)


def test_pinning_is_idempotent_on_the_shared_install(installed_deps: Path) -> None:
    assert pin_hoisting(installed_deps) == []
