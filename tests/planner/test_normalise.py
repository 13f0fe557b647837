"""The one normaliser of commit-style noise: what it takes away, what it keeps as typed fields, and that every
reader of a request's words (the phrase reader, the intent model's features and embeddings, the index key) goes
through it."""

from __future__ import annotations

import pytest
from continuous.planner import features
from continuous.planner.normalise import normalise
from continuous.planner.phrases import analyse

# (raw request, text the model reads, commit type, scope, breaking)
GOLDEN = [
    ("add a ledger table", "add a ledger table", None, None, False),
    ("feat(billing): add a ledger table", "add a ledger table", "feat", "billing", False),
    ("Feat(Billing)!: add a ledger table", "add a ledger table", "feat", "billing", True),
    ("fix!: drop the stale cache", "drop the stale cache", "fix", None, True),
    ("chore(deps-dev): bump rollup from 3.1.0 to 3.2.0", "bump rollup from 3.1.0 to 3.2.0", "chore", "deps-dev", False),
    ("build(docker): slim the runner image", "slim the runner image", "build", "docker", False),
    (":sparkles: add a ledger table", "add a ledger table", None, None, False),
    ("🚀 feat: add a ledger table", "add a ledger table", "feat", None, False),
    ("feat: ✨ add a ledger table", "add a ledger table", "feat", None, False),
    ("add a ledger table 🎉", "add a ledger table", None, None, False),
    ("add a ledger table :tada:", "add a ledger table", None, None, False),
    ("QX 4411 add a ledger table", "add a ledger table", None, None, False),
    ("QX-4411: add a ledger table", "add a ledger table", None, None, False),
    ("[QX-4411] add a ledger table", "add a ledger table", None, None, False),
    ("#77: add a ledger table", "add a ledger table", None, None, False),
    ("PAY-9 | feat(billing): add a ledger table", "add a ledger table", "feat", "billing", False),
    ("add a ledger table (#5120)", "add a ledger table", None, None, False),
    ("feat: add a ledger table (closes #88)", "add a ledger table", "feat", None, False),
    ("add a ledger table - QX-4411", "add a ledger table", None, None, False),
    ("add a ledger table [skip ci]", "add a ledger table", None, None, False),
    ('Revert "feat(billing): add a ledger table"', "add a ledger table", "revert", "billing", False),
    ('Revert "add a ledger table" (#912)', "add a ledger table", "revert", None, False),
    ("Merge pull request #4 from octo/feat/ledger-table", "ledger table", "feat", None, False),
    ("Merge pull request #4 from octo/wip\n\nadd a ledger table", "add a ledger table", None, None, False),
    ("Fix/ledger rounding", "ledger rounding", "fix", None, False),
    ("payouts: add a ledger table", "add a ledger table", None, "payouts", False),
    ("[Fix] ledger rounding", "ledger rounding", "fix", None, False),
    ("[WIP] add a ledger table", "add a ledger table", None, None, False),
    ("[Perf Tuning] ledger queries", "Perf Tuning ledger queries", None, None, False),
]


@pytest.mark.parametrize(("raw", "text", "kind", "scope", "breaking"), GOLDEN)
def test_noise_is_taken_away_and_what_it_said_is_kept(
    raw: str, text: str, kind: str | None, scope: str | None, breaking: bool
) -> None:
    n = normalise(raw)
    assert (n.text, n.type, n.scope, n.breaking) == (text, kind, scope, breaking)


@pytest.mark.parametrize(
    "raw",
    [
        "UTF-8 filenames in the export",  # a name with a number is no ticket before a noun
        "fix login: the form resets",  # a verb before the colon: no scope
        "support OAuth 2 logins",
        "what does #12 change?",
        "#12",
        "🎉",
        "migrate the orders table to v2",
    ],
)
def test_what_is_no_noise_stays(raw: str) -> None:
    assert normalise(raw).text == raw


def test_spans_point_into_the_raw_text() -> None:
    raw = "✨ feat(billing): add a ledger table (#5120)"
    n = normalise(raw)
    assert raw[n.start : n.end] == "add a ledger table"
    assert [what for what, _piece in n.removed] == ["gitmoji", "commit prefix", "pull request"]


def test_an_unknown_word_before_a_colon_is_a_scope_only_when_it_is_no_verb_or_lead() -> None:
    assert normalise("ledger: add rounding").scope == "ledger"
    assert normalise("Migration: add a ledger table").type == "migration"  # a type of [commit_types]
    assert normalise("refactoring: ledger rounding").scope is None


def test_the_phrase_reader_and_the_model_read_the_same_request() -> None:
    raw = "QX-4411: 🚀 refactor(billing)!: ledger rounding helpers (#77)"
    a = analyse(raw)
    assert (a.commit_type, a.commit_scope) == ("refactor", "billing")
    assert raw[a.body_start :].startswith("ledger rounding helpers")
    assert a.head is not None and "#77" not in a.head.text
    assert a.verb == "refactor"  # the commit type's verb, for a request without one
    assert features.model_text(raw) == "ledger rounding helpers"
    assert features.analysed(raw).commit_type == "refactor"
    # the same request without its noise has the same lexical features but the commit type's
    lex = features.lexical([raw, "refactor ledger rounding helpers"])
    names = features.lexical_names()
    differ = {names[i] for i in range(len(names)) if lex[0, i] != lex[1, i]}
    assert differ == {"commit:refactor"}


def test_the_index_key_follows_the_normaliser_data(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from continuous.dsl.loader import load_rule_base
    from continuous.planner import index
    from continuous.planner import normalise as module

    rule_base = load_rule_base([], include_builtin=True)
    before = index.planner_content(rule_base)
    copy = tmp_path / "noise.toml"
    copy.write_text(module.DATA.read_text(encoding="utf-8") + "\n# one more line\n", encoding="utf-8")
    monkeypatch.setattr(module, "DATA", copy)
    assert index.planner_content(rule_base) != before
