"""The documentation: generated pages match the code, every relative link resolves, the README stays a README."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from continuous.cli import docs_gen
from continuous.dsl.loader import load_rule_base

ROOT = docs_gen.project_root()
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_CODE_SPAN = re.compile(r"`[^`\n]*`")


def test_generated_pages_are_current() -> None:
    stale = docs_gen.stale_pages(ROOT)
    assert not stale, f"{', '.join(map(str, stale))} differ from the code: run `make docs` and commit the result"


def test_drift_check_names_a_stale_page_and_says_how_to_fix_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for rel in docs_gen.render_pages(ROOT):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / rel, tmp_path / rel)
    assert docs_gen.main(["--check", "--root", str(tmp_path)]) == 0
    page = tmp_path / docs_gen.SCENARIOS
    page.write_text(page.read_text(encoding="utf-8").replace("create-table", "create-tabel", 1), encoding="utf-8")
    assert docs_gen.main(["--check", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"stale: {docs_gen.SCENARIOS}" in err and "run `make docs`" in err
    assert docs_gen.main(["--root", str(tmp_path)]) == 0
    assert docs_gen.stale_pages(tmp_path) == []


def test_cli_reference_documents_every_command() -> None:
    import typer.main
    from continuous.cli.main import app

    text = (ROOT / docs_gen.CLI_REFERENCE).read_text(encoding="utf-8")
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    for name, command in group.commands.items():
        assert f"## `continuous {name}`" in text, name
        for sub in getattr(command, "commands", {}):
            assert f"### `continuous {name} {sub}`" in text, (name, sub)


def test_needs_are_read_from_the_scenario_declarations(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "w.ts.j2").write_text(
        "{% if facts.has('widget_registry') %}registered{% endif %}\n", encoding="utf-8"
    )
    (tmp_path / "widgets.scn").write_text(
        """
discover widget_registry {
  glob "config/widgets.json"
}

scenario add-widget {
  object ui
  summary "Add a widget"
  param app: kebab required
  param name: kebab required
  precondition exists "apps/{{ app }}/widgets"
  precondition missing "apps/{{ app }}/widgets/{{ name }}.ts"
  step "write" render "w.ts.j2" to "apps/{{ app }}/widgets/{{ name }}.ts"
  step "register" insert "  '{{ name }}'," into "apps/{{ app }}/widgets/index.ts" after "export const widgets = ["
  step "edit new file" insert "x" into "apps/{{ app }}/widgets/{{ name }}.ts" after "registered"
  step "migrate" sql test "supabase/migrations/1_widgets.sql"
  step "install" run ["yarn", "install"] in "apps/{{ app }}"
}
""",
        encoding="utf-8",
    )
    rule_base = load_rule_base([tmp_path / "widgets.scn"], include_builtin=False)
    sc = rule_base.scenarios["add-widget"]
    needs = docs_gen.scenario_needs(sc, rule_base)
    assert needs.paths == ["apps/<app>/widgets", "apps/<app>/widgets/index.ts", "apps/<app>"]
    assert needs.free == ["apps/<app>/widgets/<name>.ts"]
    assert needs.programs == ["yarn"]
    assert needs.adapts_to == ["widget_registry"]
    assert any("scratch PostgreSQL" in o for o in needs.optional)
    cell = docs_gen.needs_cell(needs)
    assert "`apps/<app>/widgets/index.ts`" in cell and "`yarn` on PATH" in cell and "optional:" in cell
    section = "\n".join(docs_gen.scenario_section(sc, rule_base))
    assert "`widget_registry` (from `config/widgets.json`)" in section
    assert "apps `<app>`" in section  # the dry-run's own reading of the paths it writes


def test_readme_is_a_readme() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) < 250
    contents = text.split("## Contents", 1)[1].split("\n## ", 1)[0]
    assert contents.count("\n- [") >= 4, "the Contents section lists the sections"
    rule_base = load_rule_base()
    table = text.split(docs_gen.LIBRARY_BEGIN, 1)[1].split(docs_gen.LIBRARY_END, 1)[0]
    for sid in rule_base.scenarios:
        assert f"[`{sid}`](docs/scenarios.md#" in table, sid


def _slug(heading: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    anchors: set[str] = set()
    fence = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
            continue
        match = re.match(r"#{1,6} (.*)", line)
        if fence or not match:
            continue
        slug = _slug(match.group(1))
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


def _links(path: Path) -> list[str]:
    links: list[str] = []
    fence = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
            continue
        if not fence:
            links += _LINK.findall(_CODE_SPAN.sub("", line))
    return links


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for link in _links(page):
        if re.match(r"[a-z][a-z0-9+.-]*:", link):
            continue  # http:, https:, mailto:
        target, _, anchor = link.partition("#")
        path = (page.parent / target).resolve() if target else page
        if not path.exists():
            broken.append(f"{link}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
            broken.append(f"{link}: no heading with that anchor in {path.name}")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)
