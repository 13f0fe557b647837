"""A new row in the right Markdown table of a document, in that table's layout.

A document such as CLAUDE.md holds several tables (renamed tables, reserved ports, app ports). A row goes into the
table whose header names the most of the row's fields (`| Port | Service | Location |` for a server), in the column
order of that header, with the table's cell padding and its habit of wrapping a column in backticks, and at the
place that keeps a sorted first column sorted (else at the end).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class TableError(ValueError):
    """No table fits the row; the message names the tables seen and the fields given."""


@dataclass
class Table:
    header: int  # 0-based line of the header row
    rows: list[int]  # 0-based lines of the body rows
    columns: list[str]


def row_cells(line: str) -> list[str]:
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|"):
        body = body[:-1]
    return [c.strip() for c in re.split(r"(?<!\\)\|", body)]


_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def tables(lines: list[str]) -> list[Table]:
    out: list[Table] = []
    fenced = False
    k = 0
    while k < len(lines):
        line = lines[k]
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            k += 1
            continue
        if not fenced and "|" in line and k + 1 < len(lines) and _SEPARATOR.match(lines[k + 1]):
            table = Table(k, [], row_cells(line))
            j = k + 2
            while j < len(lines) and lines[j].strip().startswith("|"):
                table.rows.append(j)
                j += 1
            out.append(table)
            k = j
            continue
        k += 1
    return out


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _matches(column: str, key: str) -> bool:
    col, k = _norm(column), _norm(key)
    return col == k or col.rstrip("s") == k.rstrip("s")


def _sort_key(cell: str) -> tuple[int, float | str]:
    bare = cell.strip("` ")
    try:
        return (0, float(bare))
    except ValueError:
        return (1, bare.lower())


def add_row(text: str, values: dict[str, str]) -> str | None:
    """`text` with a row in the best-fitting table; None when the table has that row already."""
    lines = text.splitlines(keepends=True)
    found = tables([ln.rstrip("\n") for ln in lines])
    if not found:
        raise TableError("no Markdown table (a `| header |` row followed by `|---|`)")
    scored = []
    for t in found:
        matched = [c for c in t.columns if any(_matches(c, k) for k in values)]
        scored.append((len(matched), len(matched) == len(t.columns), t))
    best_count, _, table = max(scored, key=lambda s: (s[0], s[1]))
    if best_count == 0 or best_count * 2 < len(table.columns):
        heads = "; ".join(" | ".join(t.columns) for t in found)
        raise TableError(f"no table has columns for {', '.join(values)} (tables: {heads})")
    cells = []
    for column in table.columns:
        key = next((k for k in values if _matches(column, k)), None)
        cells.append(values[key] if key is not None else "-")
    body = [row_cells(lines[r]) for r in table.rows]
    for c in range(len(table.columns)):
        column_cells = [row[c] for row in body if c < len(row) and row[c] not in ("-", "")]
        ticked = sum(1 for v in column_cells if v.startswith("`") and v.endswith("`"))
        if column_cells and ticked * 2 > len(column_cells) and not cells[c].startswith("`") and cells[c] != "-":
            cells[c] = f"`{cells[c]}`"
    for row in body:
        if [x.strip() for x in row] == cells:
            return None
    model_line = lines[table.rows[-1]] if table.rows else lines[table.header]
    widths = {tuple(len(c) for c in _raw_cells(lines[r])) for r in [table.header, *table.rows]}
    new = _layout(model_line, cells, aligned=len(widths) == 1)
    position = table.rows[-1] + 1 if table.rows else table.header + 2
    if len(body) > 1:
        keys = [_sort_key(row[0]) for row in body if row]
        if keys == sorted(keys):
            mine = _sort_key(cells[0])
            for r, sort_key in zip(table.rows, keys, strict=False):
                if sort_key > mine:
                    position = r
                    break
    if position == len(lines) and lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
        new = new.rstrip("\n")
    lines.insert(position, new)
    return "".join(lines)


def _raw_cells(line: str) -> list[str]:
    body = line.rstrip("\n").strip()
    parts = re.split(r"(?<!\\)\|", body)
    return parts[1 if body.startswith("|") else 0 : len(parts) - 1 if body.endswith("|") else len(parts)]


def _layout(model: str, cells: list[str], *, aligned: bool) -> str:
    """A row laid out like `model`: the same pipes, and the same column widths when the table is aligned."""
    raw = model.rstrip("\n")
    lead = raw[: len(raw) - len(raw.lstrip())]
    body = raw.strip()
    leading_pipe = body.startswith("|")
    trailing_pipe = body.endswith("|")
    inner = _raw_cells(raw)
    out = []
    for k, cell in enumerate(cells):
        width = len(inner[k]) - 2 if aligned and k < len(inner) else len(cell)
        out.append(" " + cell.ljust(width) + " ")
    text = "|".join(out)
    return lead + ("|" if leading_pipe else "") + text + ("|" if trailing_pipe else "") + "\n"
