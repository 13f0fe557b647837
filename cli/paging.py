"""Long reports on a terminal: colour, and a pager (rich's pager, running the user's pager program).

Only on a terminal: piped output and --json stay plain text, with no pager and no escape codes. The pager is the
command in CONTINUOUS_PAGER, else PAGER, else `less -FRX` (quits at once when the text fits on the screen, keeps
colours); CONTINUOUS_PAGER set to an empty value, `0`, `off`, `never` or `cat` — or `--no-pager` — turns it off.
NO_COLOR turns colours off (rich reads it). Imported only by commands that print reports, never for `--help`.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from typing import Any

from rich.pager import Pager

PAGER_ENV = "CONTINUOUS_PAGER"
_OFF = {"", "0", "off", "never", "no", "false", "cat"}


def pager_command() -> list[str] | None:
    """The pager's argument list (run without a shell), or None when paging is off or no pager is installed."""
    if PAGER_ENV in os.environ:
        chosen = os.environ[PAGER_ENV].strip()
    else:
        chosen = os.environ.get("PAGER", "").strip() or "less -FRX"
    if chosen.lower() in _OFF:
        return None
    try:
        argv = shlex.split(chosen)
    except ValueError:
        return None
    if not argv or shutil.which(argv[0]) is None:
        return None
    return argv


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def show(text: str, *, style: str = "dry_run", pager: bool = True) -> None:
    """Print a rendered report: plain when stdout is not a terminal; on a terminal in colour, through the pager
    unless `pager` is false."""
    if not _stdout_is_terminal():
        sys.stdout.write(text)
        return
    from rich.console import Console

    con = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)
    styled = STYLES[style](text)
    argv = pager_command() if pager else None
    if argv is None:
        con.print(styled, end="")
        return
    with con.pager(pager=_CommandPager(argv), styles=True):
        con.print(styled, end="")


class _CommandPager(Pager):
    """rich's pager protocol, piping the text to a program's stdin, never through a shell (rich's own SystemPager
    goes through pydoc, which asks a shell whether `less` exists)."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv

    def show(self, content: str) -> None:
        env = dict(os.environ)
        env.setdefault("LESS", "FRX")  # as git does: a `PAGER=less` without -R would print the escape codes
        sys.stdout.flush()
        try:
            subprocess.run(self.argv, input=content.encode("utf-8", "replace"), env=env, check=False)
        except OSError:
            sys.stdout.write(content)
        except KeyboardInterrupt:  # quitting the pager with Ctrl-C is a way to close it, not an error
            pass


# ---------------------------------------------------------------- styles

_HEADINGS = (
    "Plan:",
    "Steps:",
    "Files (",
    "Conventions used,",
    "Systems affected:",
    "Estimated time:",
    "Risk:",
    "Predicted problems:",
    "Diffs:",
    "Dry run on ",
)
_RISK = {"low": "green", "medium": "yellow", "high": "bold red"}
_CHANGE = {"created": "green", "modified": "yellow", "deleted": "red", "removed": "red"}


def style_dry_run(text: str) -> Any:
    """The dry-run report (engine.report.render_dry_run) with its headings, file changes, risk, problems and
    unified diffs coloured. Styling follows the report's line layout; text is never changed."""
    from rich.text import Text

    out = Text()
    in_diffs = False
    for line in text.splitlines(keepends=True):
        bare = line.rstrip("\n")
        style = ""
        if in_diffs:
            if bare.startswith(("+++", "---")):
                style = "bold"
            elif bare.startswith("@@"):
                style = "cyan"
            elif bare.startswith("+"):
                style = "green"
            elif bare.startswith("-"):
                style = "red"
        elif bare.startswith("Risk:"):
            level = bare.split(":", 1)[1].strip()
            out.append("Risk: ", "bold")
            out.append(level + line[len(bare) :], _RISK.get(level, "bold"))
            continue
        elif bare.startswith(_HEADINGS):
            style = "bold"
            in_diffs = bare == "Diffs:"
        elif bare == "Nothing has been changed.":
            style = "dim"
        elif bare.startswith("  ! "):
            style = "red"
        elif bare.startswith("  - skip "):
            style = "dim"
        else:
            word = bare[2:].split(" ", 1)[0] if bare.startswith("  ") else ""
            if word in _CHANGE:
                out.append(line[: 2 + len(word)], _CHANGE[word])
                out.append(line[2 + len(word) :])
                continue
        out.append(line, style)
    return out


STYLES = {"dry_run": style_dry_run}
