"""Property tests: the parser and the validator raise nothing but DslError/UserError, on any text and on
mutated valid DSL (the mutation strategies of issue 12's 6,000-file campaign, at a bounded count:
CONTINUOUS_FUZZ_EXAMPLES, 150 by default).

They also check that the fast LALR driver (`continuous.dsl._lalr_driver`) and lark's own parser agree exactly:
the same inputs accepted, the same models (with locations) built, and that the formatter keeps whatever parses stable.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from continuous.common.errors import DslError, UserError
from continuous.dsl import _lalr_driver as fastparse
from continuous.dsl.format import format_text
from continuous.dsl.loader import BUILTIN_LIBRARY, library_files
from continuous.dsl.parser import BadEscape, _Builder, parse_text, parse_tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HERE = Path(__file__).resolve().parent
SEEDS = [
    p.read_text(encoding="utf-8")
    for p in [*library_files(BUILTIN_LIBRARY), *sorted((HERE / "fixtures" / "format").glob("*.scn"))]
]
VOCABULARY = [
    "scenario",
    "rule",
    "when",
    "then",
    "and",
    "not",
    "step",
    "run",
    "render",
    "to",
    "param",
    "requires",
    "unless",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "=",
    '"x"',
    '"""\nx\n"""',
    "{{ name }}",
    "?v",
    "12",
    "-3",
    "5m",
    "1h30m",
    "enum",
    "default",
    "required",
    "# comment\n",
    "\n",
    " ",
    "'",
    "\\",
    '"\\N"',
    "create-table",
    "x_y",
    "before",
    "after",
    "\x00",
    "é",
]
SETTINGS = settings(
    max_examples=int(os.environ.get("CONTINUOUS_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def parse_only_dsl_errors(text: str) -> list[Any] | None:
    try:
        return parse_text(text, "fuzz.scn")
    except DslError as exc:
        assert exc.diagnostics, "a DslError always carries at least one diagnostic"
        for d in exc.diagnostics:
            assert d.file == "fuzz.scn" and d.line >= 1 and d.column >= 1 and d.message
            d.render()
        return None


def fast_and_lark_agree(text: str) -> None:
    try:
        reference = parse_tree(text, "f.scn", _Builder("f.scn", text))
        lark_ok = True
    except (DslError, BadEscape):
        lark_ok = False
    try:
        fast = fastparse.parse(text, _Builder("f.scn", text))
        fast_ok = True
    except fastparse.Miss:
        fast_ok = False
    except BadEscape:
        fast_ok = lark_ok  # both reach the same bad string literal
        fast = reference if lark_ok else None
    # The fast driver may give up on odd input that lark accepts (lark's contextual lexer splits `andnot` into
    # two keywords): parse_text then falls back to lark. It must never accept what lark rejects.
    assert lark_ok or not fast_ok, f"fast parser accepts what lark rejects: {text!r}"
    if fast_ok:
        assert fast == reference


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["delete", "insert", "duplicate", "char"]))
        if action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 30)) :]
        elif action == "insert":
            text = text[:at] + " " + draw(st.sampled_from(VOCABULARY)) + " " + text[at:]
        elif action == "duplicate":
            end = min(len(text), at + draw(st.integers(1, 40)))
            text = text[:end] + text[at:end] + text[end:]
        else:
            text = text[:at] + draw(st.characters()) + text[at:]
    return text


@SETTINGS
@given(st.text())
def test_arbitrary_text_raises_only_dsl_errors(text: str) -> None:
    parse_only_dsl_errors(text)


@SETTINGS
@given(st.lists(st.sampled_from(VOCABULARY), max_size=40).map(" ".join))
def test_token_soup_raises_only_dsl_errors(text: str) -> None:
    parse_only_dsl_errors(text)
    fast_and_lark_agree(text)


@SETTINGS
@given(mutated())
def test_mutated_dsl_raises_only_dsl_errors_and_parsers_agree(text: str) -> None:
    items = parse_only_dsl_errors(text)
    fast_and_lark_agree(text)
    if items is not None:
        formatted = format_text(text)
        assert format_text(formatted) == formatted


@lru_cache(maxsize=1)
def _fuzz_dir() -> Path:
    """A folder with a copy of the built-in templates, so the validator's template checks run on fuzzed files."""
    base = Path(tempfile.mkdtemp(prefix="continuous-fuzz-"))
    shutil.copytree(BUILTIN_LIBRARY / "templates", base / "templates")
    return base


def load_and_validate(text: str) -> None:
    """What `continuous validate FILE` does: load (imports, duplicates) and check the whole rule base."""
    from continuous.dsl.validate import check_files

    path = _fuzz_dir() / "fuzz.scn"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        _, diagnostics = check_files([path])
    except UserError:
        return
    for d in diagnostics:
        assert d.line >= 1 and d.column >= 1 and d.message
        d.render()


@SETTINGS
@given(mutated())
def test_mutated_dsl_never_crashes_the_validator(text: str) -> None:
    load_and_validate(text)


NESTED = [
    "{" * 300,
    'scenario a-b {\n object infra\n summary "x"\n step "s" doc "d.md" append "' + "{{" * 150 + '"\n}\n',
    'scenario a-b {\n object infra\n summary "x"\n step "s" doc "d.md" append "{{ ' + "[" * 300 + '"\n}\n',
    'scenario a-b {\n object infra\n summary "x"\n step "s" doc "d.md" append "{{ ' + "(" * 300 + 'x }}"\n}\n',
    'scenario a-b {\n object infra\n summary "' + "{" * 300 + '"\n}\n',
]


def test_deeply_nested_brackets_are_a_diagnostic_not_a_crash() -> None:
    for text in NESTED:
        load_and_validate(text)
        parse_only_dsl_errors(text)


def test_an_invalid_pattern_with_a_default_is_one_diagnostic() -> None:
    from continuous.dsl.validate import check_files

    path = _fuzz_dir() / "pattern.scn"
    path.write_text('scenario a-b {\n object infra\n summary "x"\n param n: string default "x" pattern "("\n}\n')
    _, diagnostics = check_files([path])
    assert any("invalid regular expression" in d.message for d in diagnostics), diagnostics


def test_seeds_parse_identically_with_both_parsers() -> None:
    for text in SEEDS:
        fast_and_lark_agree(text)


def test_fast_path_handles_the_whole_library() -> None:
    """The library must never fall back to lark's slower tree path (that would undo the parser's speed)."""
    for text in SEEDS:
        fastparse.parse(text, _Builder("f.scn", text))
