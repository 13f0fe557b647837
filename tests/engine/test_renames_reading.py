"""Old names of tables: a migration that renamed a table, or a document's table of renames (the only record of
renames made in the live database). Each reader yields (old, new); grounding reads the old name as the table."""

from __future__ import annotations

from continuous.engine.extractors import EXTRACTORS


def records(section: str, inputs: list[tuple[str, str]]) -> list[dict[str, object]]:
    return [r for _, _, r in EXTRACTORS[section](inputs)]


DOC = """# Notes for agents

## Renamed tables

| Old Table Name | New Table Name | Purpose |
|----------------|----------------|---------|
| `invoices` | `billing_invoices` | What customers owe |
| customer_notes | crm_customer_notes | Notes |
| see below | crm_accounts | not a name |
| orders | orders | unchanged |

## Ports

| Port | Service | Location |
|------|---------|----------|
| 3001 | api | apps/api |

```
| Old Name | New Name |
|----------|----------|
| inside_a_fence | not_a_table |
```
"""


def test_a_documents_table_of_renames_gives_each_rows_old_and_new_name() -> None:
    assert records("markdown.renames", [("AGENTS.md", DOC)]) == [
        {"old": "invoices", "new": "billing_invoices"},
        {"old": "customer_notes", "new": "crm_customer_notes"},
    ]


def test_the_header_words_may_differ_and_other_tables_give_nothing() -> None:
    doc = "| Before | After |\n|---|---|\n| shop_items | catalog_items |\n"
    assert records("markdown.renames", [("docs/renames.md", doc)]) == [{"old": "shop_items", "new": "catalog_items"}]
    ports = "| Port | Service |\n|---|---|\n| 3001 | api |\n"
    both_new = "| New table | New owner |\n|---|---|\n| a_b | c_d |\n"
    assert records("markdown.renames", [("README.md", ports), ("README2.md", both_new)]) == []


def test_a_chain_of_migration_renames_ends_at_the_newest_name() -> None:
    migrations = [
        ("supabase/migrations/20250101000000_a.sql", "CREATE TABLE shop_items (id uuid primary key);"),
        ("supabase/migrations/20250201000000_b.sql", "ALTER TABLE shop_items RENAME TO store_items;"),
        ("supabase/migrations/20250301000000_c.sql", "ALTER TABLE public.store_items RENAME TO catalog_items;"),
    ]
    got = {(r["old"], r["new"]) for r in records("database.renames", migrations)}
    assert got == {("shop_items", "catalog_items"), ("store_items", "catalog_items")}
