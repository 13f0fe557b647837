"""Built-in structural readers a `discover` block may name with `parse "NAME"`.

Some facts cannot be read with a regular expression: the database a folder of migrations leaves behind (renames,
drops, a registry table's unique key, every row of a multi-row insert) depends on all the files in order, the
generated `Database` type is a nested structure, and which commands a shell wrapper dispatches depends on its
structure (a `case` arm, a run of `if` tests, an `elif` chain, nesting, here-documents). A reader yields one record
of named values per fact, like a regex's named groups. The DSL only knows the names and what they yield (for
`continuous validate`); the engine implements them (continuous.engine.extractors; a test keeps both lists equal).
"""

from __future__ import annotations

READERS: dict[str, tuple[str, ...]] = {
    "database.tables": ("name", "schema", "origin", "migration"),
    # every table the migrations create and leave behind, even one the generated type lacks
    "database.history": ("name", "schema", "migration", "columns", "required"),
    "database.views": ("name", "schema", "origin"),
    "database.functions": ("name", "schema", "origin"),
    "database.enums": ("name", "schema", "values", "origin"),
    "database.columns": ("table", "schema", "name", "type", "origin"),
    "database.keys": ("table", "schema", "columns", "primary"),
    "database.policies": ("table", "schema", "name", "command", "roles", "using", "check", "owner_column"),
    "database.access": ("table", "schema", "access", "owner_column"),
    "database.rls": ("table", "schema"),
    "database.rows": ("table", "schema", "values"),
    # each table a migration renamed: its old name and the name it has now
    "database.renames": ("old", "new", "schema"),
    # each row of a Markdown table of renames (a header with an "old" and a "new" column, engine/data/markdown.toml)
    "markdown.renames": ("old", "new"),
    # each command a shell CLI wrapper dispatches: `case` labels, `if`/`elif` tests of "$1" or a variable set from it
    "shell.commands": ("command",),
}
