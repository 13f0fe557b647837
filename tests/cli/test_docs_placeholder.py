"""The generated catalogue shows DSL templates as a reader understands them, never raw Jinja."""

from __future__ import annotations

import pytest
from continuous.cli.docs_gen import placeholder, render_pages


@pytest.mark.parametrize(
    ("template", "shown"),
    [
        ("{{ conventions.apps_dir }}/{{ app }}/src", "<apps_dir>/<app>/src"),
        ("{{ name | kebab }}-cli.sh", "<name>-cli.sh"),
        ("{{- name -}}.ts", "<name>.ts"),
        (
            "{{ conventions.pipelines_dir }}/{{ pipeline }}/{{ wrapper | default((facts.first('pipeline', "
            "name=pipeline) or {}).get('wrapper') or (pipeline | kebab) ~ '-cli.sh') }}",
            "<pipelines_dir>/<pipeline>/<wrapper>",
        ),
        ("x/{{ 'commands/' if facts.has('dir', p=p) else '' }}<n>.ts", "x/[commands/]<n>.ts"),
        ("{{ (facts.first('pipeline', name='m') or {}).get('wrapper') or 'm-cli.sh' }}", "<wrapper>"),
        ("{{ conventions.app_prefix | re_escape }}[a-z0-9]+", "<app_prefix>[a-z0-9]+"),
        ("plain/path.ts", "plain/path.ts"),
    ],
)
def test_placeholder(template: str, shown: str) -> None:
    assert placeholder(template) == shown


def test_no_generated_page_shows_jinja() -> None:
    for path, text in render_pages().items():
        assert "{{" not in text and "{%" not in text, path


@pytest.mark.parametrize(
    ("template", "shown"),
    [
        ("{% if kind == 'page' %}a/{{ x }}{% elif k %}b{% else %}c{% endif %}", "a/<x> or b or c"),
        ("{% set c = facts.first('svc', name=name) %}{{ c.path }}", "<path>"),
        ("{{ c.file if c else (conventions.services_dir ~ '/') ~ name }}", "<file>"),
        (
            "s.{% set ns = namespace(key=1) %}{% for s in facts.all('x') %}{% if y %}{% set ns.key = 2 %}"
            "{% endif %}{% endfor %}{{ ns.key }}",
            "s.<key>",
        ),
    ],
)
def test_placeholder_of_blocks(template: str, shown: str) -> None:
    assert placeholder(template) == shown
