"""One error root for the whole tool.

The CLI has a single handler (see `continuous.cli.main`) that prints any `ContinuousError` plainly and exits with
its `exit_code`; everything else is a bug and gets a traceback only under `--debug`.
Exit codes: 2 = bad input (the user can fix the command, the DSL or the repository state), 1 = a run failed.
"""

from __future__ import annotations

import re
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


_SCHEME = re.compile(r"(?<![\w+.\-:/@])[A-Za-z][A-Za-z0-9+.\-]*://")
_USER = re.compile(r"[^:/@\s]*")
# libpq keywords in a query string or a key=value connection string: password=..., sslpassword='a b'
_KEYWORD = re.compile(
    r"(?i)(?<![A-Za-z0-9_])([A-Za-z_]*(?:password|passwd|pwd))(\s*=\s*)('(?:[^'\\]|\\.)*'?|\"(?:[^\"\\]|\\.)*\"?|[^&\s;,]*)"
)


def mask_url(url: str) -> str:
    """Hide every password of a database URL (or of a message quoting one) so it can be printed anywhere.

    Covers `user:password@host` even with an unencoded `@` or a space in the password (the password runs to the
    last `@` of the URL), `?password=...` and `&password=...` in the query, and libpq's `password=...` keywords.
    Masking too much is the safe side: it only ever hides text, never shows more."""
    out: list[str] = []
    pos = 0
    schemes = list(_SCHEME.finditer(url))
    for n, match in enumerate(schemes):
        start = match.end()
        end = schemes[n + 1].start() if n + 1 < len(schemes) else len(url)
        user = _USER.match(url, start)
        colon = user.end() if user else start
        at = url.rfind("@", colon, end)
        if colon < len(url) and url[colon] == ":" and at > colon:
            out.append(url[pos : colon + 1])
            out.append("***")
            pos = at
    out.append(url[pos:])
    return _KEYWORD.sub(lambda m: f"{m.group(1)}{m.group(2)}***", "".join(out))
