"""Standards: the example monorepo seeded with one violation of each built-in standard."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from continuous.common.errors import DslError
from continuous.dsl.loader import load_rule_base
from continuous.dsl.parser import parse_text
from continuous.ops.standards import _name_problem, evaluate

BUILTIN_STANDARDS = {
    "table-prefix",
    "table-registered",
    "migration-name",
    "types-fresh",
    "service-index",
    "service-class-file",
    "cli-wrapper",
    "cli-tracking",
    "port-unique",
    "port-registered",
    "no-loose-files",
}

# path -> content; each seed breaks exactly one standard (types-fresh is broken by the new migrations).
SEEDS: dict[str, str] = {
    "supabase/migrations/20250301100000_create_bookmarks.sql": (
        "CREATE TABLE IF NOT EXISTS bookmarks (\n  id UUID PRIMARY KEY\n);\n"
        "INSERT INTO sys_table_definitions (table_name, description) VALUES ('bookmarks', 'x');\n"
    ),
    "supabase/migrations/20250301110000_create_doc_notes.sql": (
        "-- notes\nCREATE TABLE IF NOT EXISTS doc_notes (\n  id UUID PRIMARY KEY\n);\n"
    ),
    "supabase/migrations/20251301000000_bad_month.sql": "-- a month that does not exist\nSELECT 1;\n",
    "packages/shared/services/bookmark-service/bookmark-service.ts": "export class BookmarkService {}\n",
    "packages/shared/services/audit-service/index.ts": "export * from './audit';\n",
    "scripts/cli-pipeline/media_processing/transcode.ts": "console.log('transcode');\n",
    "scripts/cli-pipeline/auth/auth-cli.sh": '#!/usr/bin/env bash\ncase "$1" in\n  *) echo auth ;;\nesac\n',
    "apps/dhg-hub/server.js": (
        "const port = process.env.HUB_PORT || 3001;\nrequire('http').createServer().listen(port);\n"
    ),
    "scripts/cli-pipeline/viewers/log-server.js": "const PORT = process.env.LOG_PORT || 3055;\n",
    "scripts/cleanup.sh": "#!/usr/bin/env bash\nrm -rf dist\n",
}

EXPECTED_LOCATIONS = {
    "table-prefix": "supabase/migrations/20250301100000_create_bookmarks.sql:1",
    "table-registered": "supabase/migrations/20250301110000_create_doc_notes.sql:2",
    "migration-name": "supabase/migrations/20251301000000_bad_month.sql:1",
    "types-fresh": "supabase/types.ts:1",
    "service-index": "packages/shared/services/bookmark-service/bookmark-service.ts:1",
    "service-class-file": "packages/shared/services/audit-service/index.ts:1",
    "cli-wrapper": "scripts/cli-pipeline/media_processing/transcode.ts:1",
    "cli-tracking": "scripts/cli-pipeline/auth/auth-cli.sh:1",
    "port-unique": "scripts/cli-pipeline/viewers/md-server.ts:5",
    "port-registered": "scripts/cli-pipeline/viewers/log-server.js:1",
    "no-loose-files": "scripts/cleanup.sh:1",
}


def seed(repo: Path) -> None:
    for rel, text in SEEDS.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_builtin_standards_are_the_monorepo_conventions() -> None:
    rb = load_rule_base()
    assert set(rb.standards) >= BUILTIN_STANDARDS
    assert rb.standards["service-index"].fix is not None
    types_fix = rb.standards["types-fresh"].fix
    assert types_fix is not None and types_fix.scenario in rb.scenarios
    assert rb.standards["service-index"].fix.scenario in rb.scenarios


def test_example_monorepo_meets_its_own_standards(example_repo: Path) -> None:
    found = evaluate(load_rule_base(), example_repo, only=sorted(BUILTIN_STANDARDS))
    assert [v.location + " " + v.standard for v in found] == []


def test_check_finds_exactly_one_violation_per_seeded_standard(example_repo: Path, commit, invoke) -> None:
    rb = load_rule_base()
    baseline = {v.dedup_key for v in evaluate(rb, example_repo, only=sorted(BUILTIN_STANDARDS))}
    seed(example_repo)
    commit(example_repo, "seed violations")
    found = [v for v in evaluate(rb, example_repo, only=sorted(BUILTIN_STANDARDS)) if v.dedup_key not in baseline]
    assert Counter(v.standard for v in found) == Counter(BUILTIN_STANDARDS)
    assert {v.standard: v.location for v in found} == EXPECTED_LOCATIONS
    by_id = {v.standard: v for v in found}
    assert "bookmarks" in by_id["table-prefix"].message
    assert "not a real date" in by_id["migration-name"].variables["problem"]
    assert by_id["port-unique"].variables["first"] == "apps/dhg-hub/server.js:1"
    assert "3001" in by_id["port-unique"].message
    assert by_id["service-index"].fix_params == {"service": "bookmark-service"}

    code, out = invoke("check", "--json", "-C", str(example_repo))
    assert code == 1
    data = json.loads(out)
    assert {v["standard"] for v in data["violations"]} >= BUILTIN_STANDARDS
    assert all(v["location"] for v in data["violations"])

    code, out = invoke("check", "-s", "cli-tracking", "-C", str(example_repo))
    assert code == 1
    assert "scripts/cli-pipeline/auth/auth-cli.sh:1: error: cli-tracking:" in out
    assert "table-prefix" not in out


def test_check_is_clean_and_exits_zero_on_a_clean_standard(example_repo: Path, invoke) -> None:
    code, out = invoke("check", "-s", "cli-tracking", "-s", "port-unique", "-C", str(example_repo))
    assert code == 0, out
    assert "no violations" in out


def test_check_as_a_subprocess_is_a_ci_gate(example_repo: Path, run_cli) -> None:
    (example_repo / "scripts" / "cleanup.sh").write_text("echo\n")
    proc = run_cli(example_repo, "check", "--standard", "no-loose-files")
    assert proc.returncode == 0  # a warning is reported; it fails the gate only under --strict
    assert proc.stdout.splitlines()[0].startswith("scripts/cleanup.sh:1: warning: no-loose-files:")
    proc = run_cli(example_repo, "check", "--standard", "no-loose-files", "--strict")
    assert proc.returncode == 1
    proc = run_cli(example_repo, "check", "--standard", "nope")
    assert proc.returncode == 2
    assert "unknown standard" in proc.stderr and "Traceback" not in proc.stderr


def test_types_fresh_follows_git_history(example_repo: Path, commit) -> None:
    rb = load_rule_base()
    assert evaluate(rb, example_repo, only=["types-fresh"]) == []
    mig = example_repo / "supabase/migrations/20250401000000_add_doc_notes_title.sql"
    mig.write_text("ALTER TABLE doc_files ADD COLUMN title2 TEXT;\n")
    assert [v.location for v in evaluate(rb, example_repo, only=["types-fresh"])] == ["supabase/types.ts:1"]
    commit(example_repo, "migration")
    assert len(evaluate(rb, example_repo, only=["types-fresh"])) == 1
    types = example_repo / "supabase/types.ts"
    types.write_text(types.read_text() + "// regenerated\n")
    commit(example_repo, "types")
    assert evaluate(rb, example_repo, only=["types-fresh"]) == []


def test_migration_timestamps_must_be_real_and_past() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    pattern = r"(?P<timestamp>[0-9]{14})_[a-z0-9_]+\.sql"
    assert _name_problem(pattern, "20250101120000_ok.sql", now) is None
    assert "future" in (_name_problem(pattern, "20990101120000_later.sql", now) or "")
    assert "real" in (_name_problem(pattern, "20250132120000_day32.sql", now) or "")
    assert "does not match" in (_name_problem(pattern, "[timestamp]_x.sql", now) or "")
    assert "does not match" in (_name_problem(pattern, "20250101_short.sql", now) or "")


def test_standard_statements_parse_and_report_errors_with_locations(tmp_path: Path) -> None:
    text = (
        'standard a-b {\n  files "x/*"\n  exclude "x/y"\n  exclude "x/z"\n  lacking "foo"\n}\n'
        "standard c-d {\n  unique std_port port\n}\n"
        'standard e-f {\n  newer "t.ts" than "m/*.sql"\n}\n'
    )
    items = parse_text(text, "t.scn")
    a, c, e = items
    assert a.excludes == ("x/y", "x/z") and a.lacking == "foo"
    assert c.unique == ("std_port", "port")
    assert e.newer == ("t.ts", "m/*.sql")
    with pytest.raises(DslError) as err:
        parse_text('standard g-h {\n  lacking "x"\n}\n', "bad.scn")
    assert "bad.scn:1:" in str(err.value) and "without 'files'" in str(err.value)
    with pytest.raises(DslError) as err:
        parse_text('standard g-h {\n  files "x"\n  named "(unclosed"\n}\n', "bad.scn")
    assert "bad.scn:3:" in str(err.value) and "invalid regular expression" in str(err.value)
