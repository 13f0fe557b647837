"""One error root for the whole tool.

The CLI has a single handler (see `continuous.cli.main`) that prints any `ContinuousError` plainly and exits with
its `exit_code`; everything else is a bug and gets a traceback only under `--debug`.
Exit codes: 2 = bad input (the user can fix the command, the DSL or the repository state), 1 = a run failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class ContinuousError(Exception):
    """Root of every error this tool raises on purpose."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class UserError(ContinuousError):
    """Bad input: a wrong argument, parameter, file or repository state. Exit code 2."""

    exit_code = 2


class RunFailed(ContinuousError):
    """A scenario run (or a database operation) failed after it started. Exit code 1."""

    exit_code = 1


@dataclass(frozen=True)
class Diagnostic:
    """One located DSL problem: `file:line:col: message`, the source line, a caret, and an optional hint."""

    file: str
    line: int
    column: int
    message: str
    source_line: str = ""
    hint: str | None = None
    width: int = 1

    def render(self) -> str:
        out = [f"{self.file}:{self.line}:{self.column}: {self.message}"]
        if self.source_line:
            out.append(f"    {self.source_line.rstrip()}")
            out.append("    " + " " * max(self.column - 1, 0) + "^" * max(self.width, 1))
        if self.hint:
            out.append(f"  hint: {self.hint}")
        return "\n".join(out)


@dataclass
class DslError(UserError):
    """One or more DSL diagnostics; semantic checks collect all of them before raising."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __post_init__(self) -> None:
        UserError.__init__(self, self.render())

    def __str__(self) -> str:
        return self.render()

    def render(self) -> str:
        parts = [d.render() for d in self.diagnostics]
        if len(self.diagnostics) > 1:
            parts.append(f"{len(self.diagnostics)} errors")
        return "\n".join(parts)


def mask_url(url: str) -> str:
    """Hide the password of a database URL so it can be printed in any message."""
    import re

    return re.sub(r"(?P<pre>://[^:/@\s]*:)(?P<pw>[^@\s]*)@", r"\g<pre>***@", url)
