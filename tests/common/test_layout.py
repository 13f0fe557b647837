"""What `init` reads from a repository's files: where several files could be the record, the right one."""

from __future__ import annotations

import subprocess
from pathlib import Path

from continuous.common.layout import detect

TYPES = "export type Database = { public: { Tables: {} } }\n"


def _repo(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    return root


def _found(root: Path) -> dict[str, object]:
    return {f.key: f.value for f in detect(root)}


def test_the_types_file_beside_the_migrations_wins_over_an_apps_copy(tmp_path: Path) -> None:
    root = _repo(
        tmp_path,
        {
            "apps/aaa-web/src/integrations/supabase/types.ts": TYPES,
            "db/migrations/20250101000000_create_x.sql": "create table team_x (id int);\n",
            "db/types.ts": TYPES,
        },
    )
    assert _found(root)["types_file"] == "db/types.ts"


def test_without_migrations_the_shallowest_types_file_wins(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"apps/web/src/lib/types.ts": TYPES, "src/types.ts": TYPES})
    assert _found(root)["types_file"] == "src/types.ts"


def test_a_types_file_that_declares_no_database_is_not_taken(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"src/types.ts": "export type User = {}\n"})
    found = next(f for f in detect(root) if f.key == "types_file")
    assert "not found" in found.evidence


def _tables(*names: str) -> str:
    return "".join(f"create table {n} (id int);\n" for n in names)


def _types(*names: str) -> str:
    rows = "".join(f"      {n}: {{\n        Row: {{\n          id: number\n        }}\n      }}\n" for n in names)
    views = "    Views: {\n      v_x: {\n      }\n    }\n"
    return f"export type Database = {{\n  public: {{\n    Tables: {{\n{rows}    }}\n{views}  }}\n}}\n"


def test_a_domain_is_a_prefix_several_tables_share(tmp_path: Path) -> None:
    root = _repo(
        tmp_path,
        {
            "supabase/migrations/20250101000000_a.sql": _tables(
                "shop_orders", "shop_items", "auth_users", "auth_roles", "audit_log"
            ),
        },
    )
    # "audit" starts one table only: part of its name, not a domain
    assert _found(root)["table_domains"] == ["auth", "shop"]


def test_prefixes_covering_few_tables_are_no_convention(tmp_path: Path) -> None:
    root = _repo(
        tmp_path,
        {
            "supabase/migrations/20250101000000_a.sql": _tables(
                "user_profiles", "user_roles", "orders", "bookings", "event_types", "payments"
            ),
        },
    )
    found = next(f for f in detect(root) if f.key == "table_domains")
    assert found.value == [] and found.source == "detected" and "no prefix" in found.evidence


def test_the_migrations_replay_renames_and_drops_and_skips_comments(tmp_path: Path) -> None:
    root = _repo(
        tmp_path,
        {
            "supabase/migrations/20250101000000_a.sql": _tables("old_a", "old_b", "shop_a")
            + "-- create table for the shop\n/* create table to be */\n",
            "supabase/migrations/20250102000000_b.sql": "alter table old_a rename to shop_b;\ndrop table old_b;\n",
        },
    )
    assert _found(root)["table_domains"] == ["shop"]


def test_the_migrations_are_read_by_the_engines_replay(tmp_path: Path) -> None:
    # the reader discovery uses: a drop of several tables drops each, a schema-qualified name is the table's
    root = _repo(
        tmp_path,
        {
            "supabase/migrations/20250101000000_a.sql": _tables("shop_a", "shop_b", "old_a", "old_b", "old_c")
            + "create table archive.shop_c (id int);\n",
            "supabase/migrations/20250102000000_b.sql": 'drop table old_a, public.old_b, "old_c";\n',
        },
    )
    found = next(f for f in detect(root) if f.key == "table_domains")
    assert found.value == ["shop"] and "covering 3 of the 3 tables" in found.evidence


def test_the_types_file_is_the_record_of_the_tables(tmp_path: Path) -> None:
    # a migration's table renamed outside the migrations survives a replay; the generated types know
    root = _repo(
        tmp_path,
        {
            "supabase/migrations/20250101000000_a.sql": _tables("tmp_a", "tmp_b", "tmp_c", "shop_a"),
            "supabase/types.ts": _types("shop_a", "shop_b", "crm_a", "crm_b"),
        },
    )
    found = next(f for f in detect(root) if f.key == "table_domains")
    assert found.value == ["crm", "shop"] and "supabase/types.ts" in found.evidence


def _pkg(runner: str) -> str:
    return f'{{"name": "x", "scripts": {{"test": "{runner}"}}, "devDependencies": {{"{runner}": "1"}}}}'


def test_the_apps_choose_the_test_runner_over_libraries(tmp_path: Path) -> None:
    app = {"index.html": "<html></html>", "vite.config.ts": "export default {}"}
    files = {f"apps/web/{k}": v for k, v in app.items()} | {"apps/web/package.json": _pkg("vitest")}
    files |= {f"packages/lib{i}/package.json": _pkg("jest") for i in range(3)}
    found = next(f for f in detect(_repo(tmp_path, files)) if f.key == "test_runner")
    assert found.value == "vitest" and "apps" in found.evidence


def test_without_an_app_runner_the_packages_vote(tmp_path: Path) -> None:
    files = {"apps/web/index.html": "", "apps/web/package.json": '{"name": "web"}'}
    files |= {f"packages/lib{i}/package.json": _pkg("jest") for i in range(2)}
    found = next(f for f in detect(_repo(tmp_path, files)) if f.key == "test_runner")
    assert found.value == "jest" and "no app" in found.evidence


def test_nothing_found_keeps_the_neutral_default_and_says_so(tmp_path: Path) -> None:
    found = {f.key: f for f in detect(_repo(tmp_path, {"README.md": "# x\n"}))}
    assert all(f.source == "default" for f in found.values())
    assert found["app_prefix"].value == "" and found["table_domains"].value == []


def test_detection_is_cached_until_the_files_change(tmp_path: Path, monkeypatch) -> None:
    from continuous.common import layout

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = _repo(tmp_path / "r", {"apps/acme-web/index.html": "", "apps/acme-web/package.json": "{}"})
    calls: list[Path] = []
    real = layout.detect

    def counting(r: Path) -> list[layout.Finding]:
        calls.append(r)
        return real(r)

    monkeypatch.setattr(layout, "detect", counting)
    first = {f.key: f.value for f in layout.detect_cached(root)}
    again = {f.key: f.value for f in layout.detect_cached(root)}
    assert first == again and first["app_prefix"] == "acme-" and len(calls) == 1
    for name in ("shop", "blog"):
        (root / "apps" / f"team-{name}").mkdir(parents=True)
        (root / "apps" / f"team-{name}" / "index.html").write_text("")
        (root / "apps" / f"team-{name}" / "package.json").write_text("{}")
    changed = {f.key: f.value for f in layout.detect_cached(root)}
    assert len(calls) == 2 and changed["app_prefix"] == "team-"


def test_an_apps_copy_of_the_types_is_not_the_record(tmp_path: Path) -> None:
    app = {"apps/web/index.html": "", "apps/web/package.json": "{}", "apps/web/src/supabase/types.ts": TYPES}
    root = _repo(tmp_path, {**app, "supabase/migrations/20250101000000_a.sql": _tables("x_a")})
    found = next(f for f in detect(root) if f.key == "types_file")
    assert found.source == "default"  # the repository keeps no types of its own


def test_an_app_that_owns_the_database_holds_the_record(tmp_path: Path) -> None:
    app = {"apps/web/index.html": "", "apps/web/package.json": "{}", "apps/web/lib/database.types.ts": TYPES}
    root = _repo(tmp_path, {**app, "apps/web/supabase/migrations/20250101000000_a.sql": _tables("x_a")})
    assert _found(root)["types_file"] == "apps/web/lib/database.types.ts"


def test_expo_and_react_native_apps_are_apps(tmp_path: Path) -> None:
    # an Expo app is known by its manifest (app.json, app.config.*) or by depending on expo; it has no index.html
    expo = '{"name": "acme-phone", "main": "expo-router/entry", "dependencies": {"expo": "~51.0.0"}}'
    root = _repo(
        tmp_path,
        {
            "mobile/acme-phone/package.json": expo,
            "mobile/acme-phone/App.tsx": "export default function App() { return null }\n",
            "mobile/acme-tablet/package.json": '{"name": "acme-tablet"}',
            "mobile/acme-tablet/app.json": '{"expo": {"name": "acme-tablet", "slug": "acme-tablet"}}',
            "mobile/acme-watch/package.json": '{"name": "acme-watch"}',
            "mobile/acme-watch/app.config.ts": "export default { name: 'acme-watch' }\n",
            # a library built for React Native declares it as a peer: not an app
            "packages/ui-native/package.json": '{"name": "ui-native", "peerDependencies": {"expo": "*"}}',
            "packages/ui-native/index.ts": "export {}\n",
        },
    )
    found = {f.key: f for f in detect(root)}
    assert found["apps_dir"].value == "mobile" and found["apps_dir"].source == "detected"
    assert "3 app(s)" in found["apps_dir"].evidence
    assert found["app_prefix"].value == "acme-"
