"""The private LALR driver's scanner agrees with the terminals of grammar.lark.

The driver (`continuous.dsl._lalr_driver`) takes lark's parse table but scans with its own regular expression, for
speed. These tests fail when the two drift apart — a terminal added to the grammar that the scanner does not know,
or a lexeme the scanner cuts differently from lark — before any user text would fall back to the slow path (or
worse). The fuzz test (test_fuzz.py) checks the other half: both parsers build the same models.
"""

from __future__ import annotations

import re

import lark
import pytest
from continuous.dsl import _lalr_driver as driver
from continuous.dsl.parser import _lark
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

# The regex terminals the scanner cuts and classifies itself (see `_lalr_driver.parse`); anything else in the grammar
# must be a keyword or a punctuation string.
SCANNED = {"IDENT", "STRING", "INT", "SIGNED_INT", "DURATION", "VAR", "TEMPLATE", "ANCHOR"}
IGNORED = {"WS", "COMMENT"}
_WORD = re.compile(r"[A-Za-z_]+")


def _terminals() -> dict[str, lark.lexer.TerminalDef]:
    return {t.name: t for t in _lark().terminals}


def test_lark_is_the_minor_release_the_driver_was_written_for() -> None:
    """The driver reads lark's internal parse table; pyproject.toml pins lark below its next minor release."""
    assert Version("1.3") <= Version(lark.__version__) < Version("1.4")


def test_every_terminal_of_the_grammar_is_known_to_the_scanner() -> None:
    terms = _terminals()
    assert set(_lark().lexer_conf.ignore) == IGNORED
    unknown = []
    for name, term in terms.items():
        if name in SCANNED or name in IGNORED:
            continue
        if term.pattern.type == "str" and _WORD.fullmatch(term.pattern.value):
            assert driver.tables().keywords.get(term.pattern.value) == name
        elif term.pattern.type == "str" and driver._PUNCT.get(term.pattern.value) == name:
            continue
        else:
            unknown.append(f"{name} = {term.pattern.value!r}")
    assert not unknown, (
        "grammar.lark has terminals that dsl/_lalr_driver.py does not scan: "
        + ", ".join(unknown)
        + " — teach the scanner (_TOKENS, _FIRST, _PUNCT and the classification in parse) about them"
    )
    assert set(driver._PUNCT.values()) <= set(terms)
    assert driver._DURATION.pattern == terms["DURATION"].pattern.value


def _one_token(text: str) -> str:
    match = driver._TOKENS.match(text)
    assert match is not None
    assert match.group(1) == "", f"the scanner skipped {match.group(1)!r} of {text!r}"
    return match.group(2)


@pytest.mark.parametrize("name", sorted(SCANNED - {"ANCHOR"}))
def test_the_scanner_cuts_each_lexeme_as_lark_does(name: str) -> None:
    """Any text lark lexes as one such terminal is one token for the scanner too (maximal munch over the whole)."""
    pattern = _terminals()[name].pattern.to_regexp()

    @settings(max_examples=300, deadline=None)
    @given(st.from_regex(pattern, fullmatch=True))
    def check(lexeme: str) -> None:
        assert _one_token(lexeme) == lexeme

    check()


@pytest.mark.parametrize("name", sorted(IGNORED))
def test_the_scanner_skips_what_lark_ignores(name: str) -> None:
    pattern = _terminals()[name].pattern.to_regexp()

    @settings(max_examples=200, deadline=None)
    @given(st.from_regex(pattern, fullmatch=True))
    def check(skipped: str) -> None:
        match = driver._TOKENS.match(skipped + "\nx")
        assert match is not None and match.group(2) == "x" and match.group(1) == skipped + "\n"

    check()


def test_a_template_value_takes_the_fast_path() -> None:
    """A bare `{{ ... }}` value (TEMPLATE) is parsed by the driver, not handed back to lark."""
    from continuous.dsl.parser import _Builder

    text = "rule r {\n  when a(x: ?x)\n  then assert b(y: {{ x }})\n}\n"
    assert _lark().parse(text)  # valid DSL
    items = driver.parse(text, _Builder("r.scn", text))
    assert items and items[0].id == "r"
