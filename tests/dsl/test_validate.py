"""Static validation: one test (at least) per check of `continuous.dsl.validate`."""

from __future__ import annotations

from pathlib import Path

import pytest
from continuous.common.errors import Diagnostic
from continuous.dsl import model as m
from continuous.dsl.loader import BUILTIN_LIBRARY, library_files
from continuous.dsl.parser import parse_text
from continuous.dsl.validate import check_files, template_info, validate_rule_base

BASE = """
scenario create-table {
  object database
  summary "Table"
  param name: snake required position 1
  provides table(name: "{{ name }}")
}
"""


def check(
    tmp_path: Path, text: str, *, templates: dict[str, str] | None = None, extra: dict[str, str] | None = None
) -> list[Diagnostic]:
    main = tmp_path / "main.scn"
    main.write_text(text, encoding="utf-8")
    files = [main]
    for name, body in (extra or {}).items():
        (tmp_path / name).write_text(body, encoding="utf-8")
        files.append(tmp_path / name)
    for name, body in (templates or {}).items():
        path = tmp_path / "templates" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    _, diagnostics = check_files(files)
    return diagnostics


def messages(diagnostics: list[Diagnostic]) -> list[str]:
    return [d.message for d in diagnostics]


def test_builtin_library_is_valid() -> None:
    rule_base, diagnostics = check_files(library_files(BUILTIN_LIBRARY))
    assert rule_base is not None
    assert diagnostics == [], "\n".join(d.render() for d in diagnostics)


def test_sound_rule_base_has_no_diagnostics(tmp_path: Path) -> None:
    text = (
        BASE
        + """
alias new-table = create-table
scenario create-service {
  object service
  summary "Service"
  param name: kebab required
  param table: snake default "prefs"
  requires new-table(name: "{{ table }}") unless table(name: "{{ name | snake }}")
  step "note" doc "docs/{{ year }}.md" append "{{ name }} at {{ timestamp }}"
  step "where" doc "docs/x.md" append "in {{ worktree_name }} by {{ scenario_id }}"
  step "loop" doc "docs/x.md" append "{% for part in name.split('-') %}{{ part | upper }}{% endfor %}"
  step "expr" doc "docs/y.md" append "{{ table or (name | title) }}"
}
rule tables-need-services {
  when table(name: ?t) then run create-service(name: "svc", table: ?t) and task "{{ t }}"
}
"""
    )
    assert check(tmp_path, text) == []


def test_duplicate_ids_within_and_across_files(tmp_path: Path) -> None:
    diagnostics = check(tmp_path, BASE + BASE.replace("Table", "Again"), extra={"other.scn": BASE})
    found = messages(diagnostics)
    assert len([msg for msg in found if msg.startswith("duplicate scenario id 'create-table'")]) == 2
    assert all("first defined at" in msg for msg in found)


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        (
            'scenario a-b {\n object ui\n summary "x"\n requires create-tabel\n}',
            "scenario a-b requires unknown scenario 'create-tabel'",
        ),
        (
            "rule r { when table(name: ?v) then run create-tabel(name: ?v) }",
            "rule r runs unknown scenario 'create-tabel'",
        ),
        (
            "standard s { when table(name: ?v) fix create-tabel(name: ?v) }",
            "standard s fixes with unknown scenario 'create-tabel'",
        ),
        (
            'schedule nightly { cron "0 3 * * *" run create-tabel }',
            "schedule nightly runs unknown scenario 'create-tabel'",
        ),
        ("alias new-table = create-tabel", "alias new-table points to unknown scenario 'create-tabel'"),
    ],
)
def test_unknown_scenario_references_suggest_the_nearest(tmp_path: Path, snippet: str, expected: str) -> None:
    diagnostics = check(tmp_path, BASE + snippet)
    assert messages(diagnostics) == [expected]
    assert diagnostics[0].hint == "did you mean create-table?"
    assert "create-tabel" in diagnostics[0].source_line


def test_binding_of_unknown_parameter(tmp_path: Path) -> None:
    text = BASE + 'scenario a-b {\n object ui\n summary "x"\n requires create-table(nmae: "x")\n}'
    (d,) = check(tmp_path, text)
    assert d.message == "create-table has no parameter 'nmae' (its parameters: name)"
    assert d.hint == "did you mean 'name'?"
    assert d.line == 11 and d.source_line[d.column - 1 : d.column - 1 + d.width] == "nmae"


def test_binding_constant_of_wrong_type(tmp_path: Path) -> None:
    text = """
scenario server { object proxy summary "x" param port: int default 3000 }
scenario user { object proxy summary "y" requires server(port: "http") }
"""
    (d,) = check(tmp_path, text)
    assert d.message == "value for server(port) is wrong: expected a whole number, got 'http'"


def test_dependency_cycles_are_printed(tmp_path: Path) -> None:
    text = """
scenario a { object ui summary "a" requires b }
scenario b { object ui summary "b" requires c }
scenario c { object ui summary "c" requires a }
scenario d { object ui summary "d" requires d }
scenario e { object ui summary "e" requires a }
"""
    found = messages(check(tmp_path, text))
    assert found == ["dependency cycle: a -> b -> c -> a", "dependency cycle: d -> d"]


def test_diamond_is_not_a_cycle(tmp_path: Path) -> None:
    text = """
scenario top { object ui summary "t" requires left requires right }
scenario left { object ui summary "l" requires base }
scenario right { object ui summary "r" requires base }
scenario base { object ui summary "b" }
"""
    assert check(tmp_path, text) == []


@pytest.mark.parametrize(
    ("statement", "what"),
    [
        ('step "s" render "t.j2" to "out/{{ nmae }}.ts"', "target path of step 's'"),
        ('step "s" run ["echo", "{{ nmae }}"]', "argument of step 's'"),
        ('step "s" edit json "package.json" set "scripts.{{ nmae }}" = "x"', "key of step 's'"),
        ('step "s" sql apply "m/{{ nmae }}.sql"', "file of step 's'"),
        ('step "s" insert "x" into "f.ts" after "{{ nmae }}"', "anchor of step 's'"),
        ('rollback step "s" doc "d.md" append "{{ nmae }}"', "text of step 's'"),
        ('provides table(name: "{{ nmae }}")', "fact table field 'name'"),
        ('unless table(name: "{{ nmae }}")', "fact table field 'name'"),
        ('precondition exists "{{ nmae }}"', "precondition path"),
        ('precondition not table(name: "{{ nmae }}")', "precondition field 'name'"),
        ('validate file "{{ nmae }}" contains "x"', "validate file"),
        ('validate run ["test", "{{ nmae }}"]', "validate command"),
        ('validate fact table(name: "{{ nmae }}")', "validate fact field 'name'"),
    ],
)
def test_template_variables_in_dsl_strings(tmp_path: Path, statement: str, what: str) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "t.j2").write_text("{{ name }}")
    text = f'scenario s-one {{\n  object ui\n  summary "x"\n  param name: kebab required\n  {statement}\n}}\n'
    text += 'scenario tables { object database summary "t" provides table(name: "t") }\n'
    (d,) = check(tmp_path, text)
    assert d.message == f"template variable 'nmae' in {what} is not a parameter"
    assert d.hint == "did you mean 'name'?"
    assert d.line == 5 and d.source_line.strip() == statement
    assert d.source_line[d.column - 1 : d.column - 1 + d.width] == "nmae"


def test_dependency_unless_may_use_the_target_parameters(tmp_path: Path) -> None:
    text = (
        BASE
        + """
scenario svc { object service summary "s" param table: snake required
  requires create-table(name: "{{ table }}") unless table(name: "{{ name }}") }
scenario bad { object service summary "s" param table: snake required
  requires create-table(name: "{{ table }}") unless table(name: "{{ tabel }}") }
"""
    )
    found = messages(check(tmp_path, text))
    assert found == ["template variable 'tabel' in unless of requires create-table field 'name' is not a parameter"]


def test_unknown_filter(tmp_path: Path) -> None:
    text = 'scenario s-one { object ui summary "x" param name: kebab required\n'
    text += ' validate file "{{ name | snak }}" exists }'
    (d,) = check(tmp_path, text)
    assert d.message == "unknown template filter 'snak' in validate file"
    assert d.hint == "did you mean 'snake'?"


def test_invalid_template_expression(tmp_path: Path) -> None:
    text = 'scenario s-one { object ui summary "x" param name: kebab required\n'
    text += ' validate file "{{ name | }}" exists }'
    (d,) = check(tmp_path, text)
    assert d.message.startswith("invalid template in validate file:")


def test_missing_template_file(tmp_path: Path) -> None:
    text = 'scenario s-one { object ui summary "x" step "w" render "pages/page.tsx.j2" to "x.tsx" }'
    (d,) = check(tmp_path, text, templates={"pages/Page.tsx.j2": "x"})
    assert d.message.startswith("template file 'pages/page.tsx.j2' of step 'w' does not exist (looked in ")
    assert d.hint == "did you mean 'pages/Page.tsx.j2'?"


def test_template_file_variables(tmp_path: Path) -> None:
    body = """{% set dir = name ~ '-x' %}
{% if kind == 'a' %}{% set row = name | pascal %}{{ row }}{% endif %}
{{ dir }} {{ titel }} {{ year }}
{% for item in items %}{{ item | kebab }}{% endfor %}
{{ name | shout }}
"""
    text = (
        'scenario s-one { object ui summary "x" param name: kebab required param kind: string default "a"\n'
        '  step "w" render "t.j2" to "x.tsx" }'
    )
    diagnostics = check(tmp_path, text, templates={"t.j2": body})
    found = {(Path(d.file).name, d.line, d.message.split(" (")[0]) for d in diagnostics}
    assert found == {
        ("t.j2", 3, "template variable 'titel' is not a parameter of scenario s-one"),
        ("t.j2", 4, "template variable 'items' is not a parameter of scenario s-one"),
        ("t.j2", 5, "unknown template filter 'shout'"),
    }


def test_template_file_syntax_error(tmp_path: Path) -> None:
    text = 'scenario s-one { object ui summary "x" step "w" render "t.j2" to "x.tsx" }'
    (d,) = check(tmp_path, text, templates={"t.j2": "line one\n{% if x %}\nno end\n"})
    assert d.message.startswith("template syntax error:")
    assert Path(d.file).name == "t.j2"


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ('param n: int default "3"', "default of parameter n is wrong: expected a whole number, got '3'"),
        ('param n: bool default "yes"', "default of parameter n is wrong: expected true or false, got 'yes'"),
        (
            'param n: kebab default "Not_Kebab"',
            "default of parameter n is wrong: 'Not_Kebab' is not a kebab-case identifier (lowercase letters "
            "and "
            "digits joined by -)",
        ),
        ('param n: enum(a, b) default "c"', "default of parameter n is wrong: 'c' is not one of: a, b"),
        (
            'param n: string pattern "[a-z]+" default "ABC"',
            "default of parameter n is wrong: 'ABC' does not match the pattern [a-z]+",
        ),
    ],
)
def test_defaults_of_the_wrong_type(tmp_path: Path, param: str, message: str) -> None:
    (d,) = check(tmp_path, f'scenario s-one {{ object ui summary "x" {param} }}')
    assert d.message == message


def test_validate_checks_defaults_of_programmatic_models() -> None:
    scenario = m.Scenario(
        id="s",
        object_type="ui",
        summary="x",
        params=(m.Param(name="kind", type="enum", choices=("a", "b"), default="c"),),
    )
    (d,) = validate_rule_base(m.RuleBase(scenarios={"s": scenario}))
    assert d.message == "default of parameter kind is wrong: 'c' is not one of: a, b"


def test_discover_fields_use_regex_groups(tmp_path: Path) -> None:
    text = 'discover table { glob "m/*.sql" regex "create table (?P<table>\\\\w+)" field name = "{{ tabel }}" }'
    (d,) = check(tmp_path, text)
    assert "uses 'tabel', which is neither a named group of its regex nor a path variable" in d.message
    assert d.hint == "did you mean 'table'?"


def test_rule_templates_use_rule_variables(tmp_path: Path) -> None:
    text = BASE + 'rule r { when table(name: ?t) then task "types for {{ tt }}" }'
    (d,) = check(tmp_path, text)
    assert d.message == "template variable 'tt' in task of rule r is not a parameter"


def test_syntax_error_suppresses_bogus_reference_errors(tmp_path: Path) -> None:
    diagnostics = check(
        tmp_path,
        'scenario a { object ui summary "x" requires create-table }',
        extra={"broken.scn": "scenario create-table {"},
    )
    assert len(diagnostics) == 1 and diagnostics[0].message.startswith("unexpected end of file")


def test_semantic_parse_errors_and_validation_are_reported_together(tmp_path: Path) -> None:
    diagnostics = check(tmp_path, 'scenario a { object servce summary "x" requires create-tabel }' + BASE)
    assert messages(diagnostics) == [
        "unknown object type 'servce'; expected one of: service, cli, database, ui, proxy, infra",
        "scenario a requires unknown scenario 'create-tabel'",
    ]


def test_every_diagnostic_is_located_with_a_caret(tmp_path: Path) -> None:
    text = BASE + 'scenario a {\n object ui\n summary "x"\n requires create-tabel\n requires a\n}\n'
    for d in check(tmp_path, text):
        rendered = d.render()
        assert rendered.startswith(f"{d.file}:{d.line}:{d.column}: ")
        assert d.source_line and "^" in rendered


def test_template_info_fast_path_agrees_with_jinja() -> None:
    from continuous.dsl.validate import _jinja_info

    for text in [
        "{{ a }}",
        "x {{ a | snake }}/{{ b|kebab|upper }}",
        "{{a}}{{ b }}",
        "no template",
        "{{ a.b }}",
        "{{ a ~ b }}",
    ]:
        fast, slow = template_info(text), _jinja_info(text)
        assert (fast.variables, fast.filters) == (slow.variables, slow.filters), text


def test_parse_text_sample_is_valid() -> None:
    items = parse_text(BASE)
    rule_base = m.RuleBase(scenarios={i.id: i for i in items})
    assert validate_rule_base(rule_base) == []


def test_facts_nobody_produces(tmp_path: Path) -> None:
    text = (
        BASE
        + """
discover app { glob "apps/*/package.json" }
scenario s-two { object ui summary "x" param table: snake required
  unless tabel(name: "{{ table }}")
  precondition table(nme: "{{ table }}")
  precondition not nothing_makes_this(name: "{{ table }}")
  precondition app(anything: "x")
}
rule r { when page(name: ?p) and not tested(page: ?p) then task "test {{ p }}" }
"""
    )
    found = messages(check(tmp_path, text))
    assert found == [
        "scenario s-two uses fact 'tabel', which no discover, provides or assert produces",
        "scenario s-two matches field 'nme' of fact 'table', which its producers never set (fields: name)",
        "rule r uses fact 'page', which no discover, provides or assert produces",
    ]
