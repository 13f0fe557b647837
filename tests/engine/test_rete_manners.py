"""Miss Manners on the core: every seat valid, and the classic firing count, as CLIPS gives it."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def manners() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_manners", REPO / "bench" / "manners" / "manners.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("n", "seed"), [(8, 1), (16, 2), (24, 3)])
def test_manners_seats_everyone_validly_with_the_classic_firing_count(n: int, seed: int) -> None:
    m = manners()
    guests = m.generate(n, seed)
    assert sum(1 for g in guests if g["hobby"]) >= 2 * n
    fired, seats = m.run_core(guests, n)
    assert m.check_seating(guests, seats, n) == []
    assert fired == m.expected_firings(n) == 1 + 3 * (n - 1) + n * (n - 1) // 2 + n + 1


def test_manners_check_catches_a_bad_seating() -> None:
    m = manners()
    guests = m.generate(8, 1)
    _, seats = m.run_core(guests, 8)
    by_seat = dict(seats)
    same_sex = [(1, by_seat[1]), (2, by_seat[3]), (3, by_seat[2])] + [(s, by_seat[s]) for s in range(4, 9)]
    assert m.check_seating(guests, same_sex, 8) != []


def test_manners_agrees_with_clips() -> None:
    pytest.importorskip("clips")
    m = manners()
    guests = m.generate(16, 5)
    fired_clips, seats_clips = m.run_clips(guests, 16)
    fired_core, seats_core = m.run_core(guests, 16)
    assert fired_core == fired_clips
    assert m.check_seating(guests, seats_clips, 16) == []
    assert m.check_seating(guests, seats_core, 16) == []
