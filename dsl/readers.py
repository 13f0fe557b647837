"""Built-in structural readers a `discover` block may name with `parse "NAME"`.

Some facts cannot be read with one regular expression: which commands a shell wrapper dispatches depends on its
structure (a `case` arm, a run of `if` tests, a chain of `elif`s, nesting, here-documents). A reader parses the file
and yields one row of named values per fact, like a regex's named groups. The DSL only knows the names and what they
yield (for `continuous validate`); the engine implements them.
"""

from __future__ import annotations

READERS: dict[str, tuple[str, ...]] = {
    # each command a shell CLI wrapper dispatches: `case` labels, `if`/`elif` tests of "$1" or a variable set from it
    "shell.commands": ("command", "line"),
}
