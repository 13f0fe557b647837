"""What `suggest` returns: one typed `Suggestion` per request (the JSON of `continuous suggest --json` is its
`to_json()`).

Every batch line is a Suggestion: a request that could not be planned carries `error` (message and hint) and an
empty plan, so a failure never looks like "no match". A requested item that already holds is kept in `skipped`
with `requested: true`, so a wrong guess cannot hide behind "nothing to do".
"""

from __future__ import annotations

from typing import Any, Literal

from continuous.dsl.model import Scalar
from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Match(_Model):
    scenario: str
    score: float  # calibrated probability that this scenario is what the request asks for


class ParamSource(_Model):
    """Where a parameter value came from; `guessed` marks values the request did not spell out (a subject, the
    words before a noun) — they are dropped first when a dependency rejects them."""

    value: Scalar
    source: str
    guessed: bool = False


class Candidate(_Model):
    """A value the request could have meant for a missing parameter (an existing object with a similar name)."""

    value: str
    why: str


class PlanStep(_Model):
    scenario: str
    params: dict[str, Scalar]
    role: Literal["requested", "dependency"]
    reason: str
    after: tuple[int, ...] = ()
    group: int = 0
    missing: tuple[str, ...] = ()
    candidates: dict[str, tuple[Candidate, ...]] = Field(default_factory=dict)
    sources: dict[str, ParamSource] = Field(default_factory=dict)


class Skip(_Model):
    scenario: str
    params: dict[str, Scalar]
    reason: str
    requested: bool = False  # the request asked for this item itself; it already holds


class NotFound(_Model):
    """An object the request refers to ("add a column to the Payout table") that the repository's facts do not
    show: the plan uses the name as given, and creates the object where a scenario requires it."""

    kind: str
    name: str
    reason: str


class ErrorInfo(_Model):
    message: str
    hint: str | None = None


class ScoreParts(_Model):
    """A scenario's probability for a clause, and the ranking features behind it (when the ranker has them)."""

    probability: float
    features: dict[str, float] = Field(default_factory=dict)


class ScoredMatch(ScoreParts):
    scenario: str


class PhraseInfo(_Model):
    role: str
    text: str
    object: str | None = None


class ClauseAnalysis(_Model):
    clause: str
    verb: str | None = None
    phrases: list[PhraseInfo] = Field(default_factory=list)


class Veto(_Model):
    scenario: str
    why: str


class ItemExplanation(_Model):
    step: int
    scenario: str
    role: str
    after: list[str] = Field(default_factory=list)
    clause: str | None = None
    score: ScoreParts | None = None
    matched_words: list[str] = Field(default_factory=list)
    closest_example: dict[str, str] | None = None
    verbs: list[str] = Field(default_factory=list)
    objects: list[str] = Field(default_factory=list)
    param_sources: dict[str, str] = Field(default_factory=dict)
    edge: str | None = None
    missing: list[str] = Field(default_factory=list)


class Explanation(_Model):
    threshold: float  # what in_scope is held to: the gate's threshold, or the no-match threshold without a gate
    gated: bool = False
    # the in-scope probability of the request and of each of its clauses (without a gate: the best probability)
    in_scope: dict[str, float] = Field(default_factory=dict)
    subject: str | None
    clauses: list[str]
    items: list[ItemExplanation]
    matches: list[ScoredMatch]
    analysis: list[ClauseAnalysis] = Field(default_factory=list)
    vetoed: list[Veto] = Field(default_factory=list)


class Suggestion(_Model):
    request: str
    matches: list[Match] = Field(default_factory=list)
    plan: list[PlanStep] = Field(default_factory=list)
    unmatched: list[str] = Field(default_factory=list)
    skipped: list[Skip] = Field(default_factory=list)
    not_found: list[NotFound] = Field(default_factory=list)
    error: ErrorInfo | None = None
    explain: Explanation | None = None

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape: request, matches, plan, unmatched, skipped, not_found, error (null when none);
        `explain`
        only when asked for; per step `missing`, `candidates` and `guessed` only when they say something."""
        out: dict[str, Any] = {
            "request": self.request,
            "matches": [m.model_dump() for m in self.matches],
            "plan": [_step_json(s) for s in self.plan],
            "unmatched": list(self.unmatched),
            "skipped": [s.model_dump() for s in self.skipped],
            "not_found": [a.model_dump() for a in self.not_found],
            "error": self.error.model_dump() if self.error else None,
        }
        if self.explain is not None:
            out["explain"] = self.explain.model_dump()
        return out

    @property
    def requested(self) -> list[str]:
        """Scenarios the request itself asked for, planned or already holding."""
        return [s.scenario for s in self.plan if s.role == "requested"] + [
            s.scenario for s in self.skipped if s.requested
        ]

    @classmethod
    def failed(cls, request: str, message: str, hint: str | None = None) -> Suggestion:
        return cls(request=request, error=ErrorInfo(message=message, hint=hint))


def _step_json(step: PlanStep) -> dict[str, Any]:
    out: dict[str, Any] = {
        "scenario": step.scenario,
        "params": dict(step.params),
        "role": step.role,
        "reason": step.reason,
        "after": list(step.after),
    }
    if step.missing:
        out["missing"] = list(step.missing)
    if step.candidates:
        out["candidates"] = {k: [c.model_dump() for c in v] for k, v in step.candidates.items()}
    guessed = [k for k, s in step.sources.items() if s.guessed and k in step.params]
    if guessed:
        out["guessed"] = guessed
    return out
