"""The planner's index: built with the numpy encoder only, updated incrementally after a scenario edit, keyed
by what the planner reads, shipped prebuilt for the built-in library, and reporting its progress on a terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from continuous.dsl.loader import load_rule_base
from continuous.planner import index

from .conftest import FIXTURES, MINI, make_repo


def test_the_shipped_index_is_the_built_in_librarys() -> None:
    """Whoever changes the library's examples, summaries or aliases, the vocabulary or the training settings
    rebuilds it: `python -m continuous.planner.index ship`."""
    import json

    import numpy as np

    rb = load_rule_base([], include_builtin=True)
    with np.load(index.SHIPPED, allow_pickle=False) as data:
        shipped = json.loads(str(data["meta"]))["key"]
    assert shipped == index.index_key(rb), "run: python -m continuous.planner.index ship"


def test_the_key_ignores_steps_and_parameters_but_not_examples(tmp_path: Path) -> None:
    text = MINI.read_text()
    base = load_rule_base([MINI], include_builtin=False)
    edited = tmp_path / "steps.scn"
    edited.write_text(text.replace("param name: snake required position 1", "param name: snake required", 1))
    assert index.planner_content(load_rule_base([edited], include_builtin=False)) == index.planner_content(base)
    added = tmp_path / "examples.scn"
    added.write_text(text.replace('"add a table to store orders"', '"add a table to store orders", "a new tbl"', 1))
    assert index.planner_content(load_rule_base([added], include_builtin=False)) != index.planner_content(base)


def test_building_never_imports_torch(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from continuous.dsl.loader import load_rule_base\n"
        "from continuous.planner import index\n"
        f"rb = load_rule_base([{str(MINI)!r}], include_builtin=False)\n"
        "built = index.build(rb, index.index_key(rb))\n"
        "assert built.scenario_ids\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_an_edit_encodes_only_the_new_texts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = tmp_path / "one.scn"
    first.write_text(MINI.read_text())
    heard: list[str] = []
    index.load_or_build(load_rule_base([first], include_builtin=False), progress=heard.append)
    assert any("encoding" in m for m in heard)
    first.write_text(
        MINI.read_text().replace('"refresh the db types"', '"refresh the db types", "rebuild the typings"', 1)
    )
    heard.clear()
    rebuilt = index.load_or_build(load_rule_base([first], include_builtin=False), progress=heard.append)
    encoding = [m for m in heard if "encoding" in m]
    assert encoding and encoding[-1].endswith("encoding 1/1 new scenario texts")
    assert "rebuild the typings" in rebuilt.doc_text
    heard.clear()
    index.load_or_build(load_rule_base([first], include_builtin=False), progress=heard.append)
    assert heard == []  # cached: nothing built at all


@pytest.mark.slow
def test_a_first_build_shows_a_progress_line_on_a_terminal(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "CONTINUOUS_NO_DAEMON": "1"}
    exe = str(Path(sys.executable).parent / "continuous")
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [exe, "suggest", "a table for invoices"],
        cwd=repo,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    seen = b""
    deadline = time.time() + 300
    while time.time() < deadline:
        ready, _, _ = select.select([master], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    out, _ = proc.communicate(timeout=300)
    os.close(master)
    assert proc.returncode == 0
    assert b"planner index: encoding" in seen and b"training the intent model" in seen
    assert b"create-table" in out and b"planner index" not in out


def test_progress_stays_off_a_pipe(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", FIXTURES / "mini.scn")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "CONTINUOUS_NO_DAEMON": "1"}
    exe = str(Path(sys.executable).parent / "continuous")
    proc = subprocess.run(
        [exe, "suggest", "a table for invoices"], cwd=repo, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    assert "planner index" not in proc.stderr + proc.stdout


def test_a_build_encodes_only_the_texts_training_reads() -> None:
    """The off-topic and "none" texts the rules veto are not encoded; training reads the same rows either way."""
    import numpy as np
    from continuous.planner.training import Request, labelled_requests, training_set, usable_requests

    rule_base = load_rule_base([], include_builtin=True)
    built = index.load_or_build(rule_base)
    offtopic = index.offtopic_texts()
    requests = usable_requests(labelled_requests(index.REQUESTS), index.builtin_ids(rule_base))
    off, reqs = index._trained_on(built.scenario_ids, built.scenario_aliases, offtopic, requests)
    assert len(off) < len(offtopic) and len(reqs) < len(requests)
    rng = np.random.default_rng(0)
    vec = {t: rng.standard_normal(384).astype(np.float32) for t in offtopic + [r.text for r in requests]}

    def rows(o: list[str], r: list[Request]) -> tuple[list[str], list[float], list[int], np.ndarray]:
        emb = np.stack([vec[t] for t in o])
        data = training_set(built, o, emb, requests=r, requests_emb=np.stack([vec[q.text] for q in r]))
        return data.texts, data.weights.tolist(), data.groups.tolist(), data.emb

    full, part = rows(offtopic, requests), rows(off, reqs)
    assert full[:3] == part[:3]
    np.testing.assert_array_equal(full[3], part[3])


def test_every_shipped_vector_is_the_embedding_of_the_text_it_is_stored_under() -> None:
    """The shipped file's cache keys name the exact text encoded; a vector kept under the key of a text it was
    not computed from (an older model text of a document) would train a custom library on the wrong input."""
    import numpy as np
    from continuous.planner import embedding
    from continuous.planner.features import model_text

    assert index.SHIPPED.exists()
    with np.load(index.SHIPPED, allow_pickle=False) as data:
        stored = dict(zip((str(k) for k in data["cache_keys"]), data["cache_vecs"], strict=True))
        meta = json.loads(str(data["meta"]))
    texts = sorted({model_text(t) for t in meta["doc_text"]})[::5]
    assert len(texts) > 100
    missing = [t for t in texts if index._text_key(t) not in stored]
    assert not missing, f"{len(missing)} documents without a stored vector, e.g. {missing[:3]}"
    fresh = embedding.encoder().encode(texts)
    kept = np.stack([stored[index._text_key(t)] for t in texts])
    cosines = (fresh * kept).sum(axis=1)
    stale = [t for t, c in zip(texts, cosines, strict=True) if c < 0.9999]
    assert not stale, f"{len(stale)} stale vectors, e.g. {stale[:3]}"
