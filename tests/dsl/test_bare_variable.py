"""A bare `{{ name }}` renders without Jinja (the resolver renders thousands per batch): the result must be what
Jinja prints, and everything else still goes through the sandbox."""

from __future__ import annotations

import pytest
from continuous.common.errors import UserError
from continuous.dsl import templating
from continuous.dsl.templating import render_string


def jinja(template: str, context: dict[str, object]) -> str:
    """The sandboxed Jinja rendering itself, without the shortcut."""
    return "".join(templating._compiled(template).generate(**templating.with_conventions(context)))


@pytest.mark.parametrize(
    ("template", "context"),
    [
        ("{{ name }}", {"name": "user_preferences"}),
        ("{{name}}", {"name": "dhg-hub"}),
        ("{{  port  }}", {"port": 3000}),
        ("{{ name }}", {"name": ""}),
        ("{{ flag }}", {"flag": True}),
        ("{{ name }}_{{ access }}", {"name": "notes", "access": "read"}),
        ("{{ true }}", {"true": "shadowed"}),
        ("{{ none }}", {}),
        ("{{ name }}", {"name": None}),
    ],
)
def test_same_text_as_jinja(template: str, context: dict[str, object]) -> None:
    assert render_string(template, context) == jinja(template, context)


def test_a_missing_variable_is_still_an_error() -> None:
    with pytest.raises(UserError, match="name"):
        render_string("{{ name }}", {"other": "x"})
