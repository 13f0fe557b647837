"""The JSON Schema of scenario parameters accepts exactly what the engine accepts (dsl.params.check_value)."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from continuous.dsl.loader import BUILTIN_LIBRARY, build_rule_base, library_files
from continuous.dsl.model import Param
from continuous.dsl.param_schema import param_schema, params_schema
from continuous.dsl.params import check_value
from hypothesis import given, settings
from hypothesis import strategies as st

RULE_BASE = build_rule_base(library_files(BUILTIN_LIBRARY))
PARAMS = sorted(
    {(s.id, p.name): p for s in RULE_BASE.scenarios.values() for p in s.params}.items(), key=lambda kv: kv[0]
)
TEXT_PARAMS = [p for _, p in PARAMS if p.type not in ("int", "bool")]

TRICKY = [
    "",
    "a",
    "user_preferences",
    "User",
    "_x",
    "x-y",
    "x--y",
    "-x",
    "a_b-c",
    "dhg-hub",
    "bookmarks2",
    "apps/dhg-hub/src",
    "/etc/passwd",
    "\\abs",
    "../up",
    "a/../b",
    "a/..",
    "..",
    "a/..b",
    "a\\..\\b",
    "a//b",
    "a b",
    "a;rm -rf ~",
    "tab\there",
    "line\nbreak",
    "bell\x07",
    "x" * 501,
    "sync:drive",
    "1.2.3",
    "^18.2.0",
    "light",
    "now()",
    "text:title,integer:n",
    "title:text,n:integer",
    "[id].tsx",
    "@scope/pkg",
    "C:/x",
    "a/..\n",
    "x\n",
]


def agrees(param: Param, value: Any) -> None:
    engine_ok = check_value(param, value) is None
    validator = jsonschema.Draft202012Validator(param_schema(param))
    schema_ok = validator.is_valid(value)
    assert schema_ok == engine_ok, (param.name, param.type, param.pattern, value, check_value(param, value))


@pytest.mark.parametrize("param", [p for _, p in PARAMS], ids=[f"{sid}.{name}" for (sid, name), _ in PARAMS])
def test_tricky_values(param: Param) -> None:
    for value in [*TRICKY, *param.choices, 0, 7, -3, True, False]:
        agrees(param, value)


@settings(max_examples=300, deadline=None)
@given(
    index=st.integers(min_value=0, max_value=len(TEXT_PARAMS) - 1),
    value=st.text(alphabet=st.sampled_from("ab_-z09/\\.:@[] \t\nAZ;'\"#,"), max_size=24),
)
def test_random_text(index: int, value: str) -> None:
    agrees(TEXT_PARAMS[index], value)


def test_every_builtin_schema_is_valid_json_schema() -> None:
    for scenario in RULE_BASE.scenarios.values():
        schema = params_schema(scenario)
        jsonschema.Draft202012Validator.check_schema(schema)
        assert set(schema["properties"]) == {p.name for p in scenario.params}
        for p in scenario.params:
            validator = jsonschema.Draft202012Validator(schema["properties"][p.name])
            if p.default is not None:
                assert schema["properties"][p.name]["default"] == p.default
                assert check_value(p, p.default) is None and validator.is_valid(p.default)
            assert schema["properties"][p.name].get("examples", []) == list(p.examples)
            assert all(validator.is_valid(e) for e in p.examples)


def test_required_and_types() -> None:
    table = RULE_BASE.scenarios["create-table"]
    schema = params_schema(table)
    assert schema["required"] == ["name"]
    assert schema["additionalProperties"] is False
    name = schema["properties"]["name"]
    assert name["type"] == "string" and "table name" in name["description"]
    assert name["examples"] == ["user_preferences", "email_bookmarks"]  # `example` in the DSL
    assert schema["properties"]["access"]["enum"][0] == "owner"
    assert schema["properties"]["access"]["default"] == "authenticated_read"
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"name": "user_preferences"})
    assert not validator.is_valid({})
    assert not validator.is_valid({"name": "user_preferences", "nmae": "x"})
    assert not validator.is_valid({"name": "x"})  # the declared pattern wants 2-63 characters
