"""`continuous suggest` and `continuous plan` through the CLI: the JSON contract, exit codes, batch order, the
saved plan, and that suggesting never writes to the repository or the database."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from continuous.cli.main import app
from typer.testing import CliRunner

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_suggest_json_contract(mini_repo: Path) -> None:
    code, out, _ = invoke("suggest", "a table for bookmarks plus a service to manage them", "--json", "--top", "3")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"request", "matches", "plan", "unmatched", "skipped", "not_found", "error"}
    assert isinstance(data["request"], str)
    assert len(data["matches"]) == 3
    for m in data["matches"]:
        assert set(m) == {"scenario", "score"} and isinstance(m["score"], float)
    for item in data["plan"]:
        assert {"scenario", "params", "role", "reason", "after"} <= set(item)
        assert set(item) <= {"scenario", "params", "role", "reason", "after", "missing", "candidates", "guessed"}
        assert item["role"] in ("requested", "dependency")
    # the rule types-follow-tables of the fixture library adds generate-types after the table
    assert [(p["scenario"], p["params"], p["role"]) for p in data["plan"]] == [
        ("create-table", {"name": "bookmarks"}, "requested"),
        ("generate-types", {"table": "bookmarks"}, "dependency"),
        ("create-service", {"name": "bookmarks"}, "requested"),
    ]
    assert data["plan"][1]["reason"] == "rule types-follow-tables: follows create-table"
    assert data["unmatched"] == []


def test_default_top_is_five(mini_repo: Path) -> None:
    data = json.loads(invoke("suggest", "a table for bookmarks", "--json")[1])
    assert len(data["matches"]) == 5


def test_empty_request_exits_2(mini_repo: Path) -> None:
    code, out, err = invoke("suggest", "  ")
    assert code == 2
    assert "empty" in err and "Traceback" not in err + out


def test_no_match_exits_0_and_says_so(mini_repo: Path) -> None:
    code, out, _ = invoke("suggest", "what's the weather tomorrow")
    assert code == 0
    assert "no scenario matches this request" in out
    data = json.loads(invoke("suggest", "what's the weather tomorrow", "--json")[1])
    assert data["plan"] == [] and data["unmatched"] == ["what's the weather tomorrow"]


def test_human_output_and_explain(mini_repo: Path) -> None:
    code, out, _ = invoke("suggest", "add a settings page to dhg-hub", "--explain")
    assert code == 0
    assert "1. add-page" in out and "app=dhg-hub" in out and "name=settings" in out
    assert "matched words:" in out and "page" in out
    assert "app: existing app named in the request" in out
    # the probability the no-match decision reads (the in-scope gate's, or the best one without it), and the
    # threshold it cleared
    seen = re.search(
        r'(?:in-scope|best) probability ([0-9.]+) for "add a settings page to dhg-hub" '
        r"\((?:gate|no-match) threshold ([0-9.]+)\)",
        out,
    )
    assert seen is not None and float(seen.group(1)) >= float(seen.group(2)) > 0.0


def test_explain_json_shows_dependency_edges(mini_repo: Path) -> None:
    data = json.loads(invoke("suggest", "a service for payments", "--json", "--explain")[1])
    items = data["explain"]["items"]
    table = next(i for i in items if i["scenario"] == "create-table")
    service = next(i for i in items if i["scenario"] == "create-service")
    assert table["edge"] == "required by create-service"
    assert service["after"] == ["1. create-table"]
    assert 0.0 <= service["score"]["probability"] <= 1.0
    explained = data["explain"]
    assert explained["in_scope"]["a service for payments"] >= explained["threshold"] > 0.0


def test_batch_one_json_object_per_line_in_order(mini_repo: Path, tmp_path: Path) -> None:
    requests = [
        "a table for tags",
        "what's the weather",
        "add a settings page to dhg-hub",
        "",
        "refresh the db types",
    ]
    batch = tmp_path / "requests.txt"
    batch.write_text("\n".join(requests) + "\n\n")
    code, out, _ = invoke("suggest", "--batch", str(batch), "--json")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == len(requests)
    objs = [json.loads(line) for line in lines]
    assert [o["request"] for o in objs] == requests
    assert [o["plan"][0]["scenario"] if o["plan"] else None for o in objs] == [
        "create-table",
        None,
        "add-page",
        None,
        "generate-types",
    ]
    assert objs[3]["error"]["message"] == "the request is empty" and objs[3]["error"]["hint"]
    assert all(o["error"] is None for i, o in enumerate(objs) if i != 3)


def test_batch_missing_file_exits_2(mini_repo: Path) -> None:
    code, _, err = invoke("suggest", "--batch", "nope.txt", "--json")
    assert code == 2 and "nope.txt" in err


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def test_suggest_never_writes_to_the_repository_or_the_database(mini_repo: Path, tmp_path: Path) -> None:
    db = tmp_path / "tracking.db"
    os.environ["CONTINUOUS_DATABASE_URL"] = f"sqlite:///{db}"
    try:
        before = _tree_digest(mini_repo)  # includes .git: no index, ref or object changes either
        for args in (
            ["suggest", "a service for payments", "--json"],
            ["suggest", "add a page to dhg-hub"],
            ["suggest", "what's the weather"],
        ):
            assert invoke(*args)[0] == 0
        assert _tree_digest(mini_repo) == before
        assert not db.exists()
    finally:
        del os.environ["CONTINUOUS_DATABASE_URL"]


def test_plan_out_saves_the_contract_format(mini_repo: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "plan.json"
    code, out, err = invoke("plan", "a service called payments", "--out", str(out_file))
    assert code == 0, err
    saved = json.loads(out_file.read_text())
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=mini_repo, capture_output=True, text=True).stdout.strip()
    assert saved["version"] == 1 and saved["head"] == head
    assert saved["request"] == "a service called payments"
    from continuous.dsl.loader import load_rule_base

    from .conftest import MINI

    assert saved["rule_base_hash"] == load_rule_base([MINI], include_builtin=False).content_hash()
    assert [(i["scenario"], i["params"], i["role"]) for i in saved["items"]] == [
        ("create-table", {"name": "payments"}, "dependency"),
        ("generate-types", {"table": "payments"}, "dependency"),
        ("create-service", {"name": "payments"}, "requested"),
    ]
    assert "continuous run-plan" in out


def test_plan_refuses_to_save_with_missing_parameters(mini_repo: Path, tmp_path: Path) -> None:
    code, _, err = invoke("plan", "add a page for invoices", "--out", str(tmp_path / "p.json"))
    assert code == 2 and "add-page: app" in err
    assert not (tmp_path / "p.json").exists()


def test_suggest_as_a_subprocess(mini_repo: Path) -> None:
    exe = Path(sys.executable).parent / "continuous"
    proc = subprocess.run(
        [str(exe), "suggest", "crete a tabel for invoices", "--json"],
        cwd=mini_repo,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["plan"][0]["scenario"] == "create-table"
    assert data["plan"][0]["params"] == {"name": "invoices"}
    proc = subprocess.run([str(exe), "suggest", ""], cwd=mini_repo, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_param_fills_a_missing_parameter_without_rephrasing(mini_repo: Path) -> None:
    code, out, _ = invoke("suggest", "add a page for invoices", "--json")
    assert json.loads(out)["plan"][0]["missing"] == ["app"]
    code, out, err = invoke("suggest", "add a page for invoices", "--param", "app=dhg-hub", "--json")
    assert code == 0, err
    page = json.loads(out)["plan"][0]
    assert page["params"]["app"] == "dhg-hub" and "missing" not in page
    code, _, err = invoke("suggest", "add a page for invoices", "--param", "app")
    assert code == 2 and "NAME=VALUE" in err


def test_missing_parameters_are_asked_for_on_a_terminal(mini_repo: Path, tmp_path: Path) -> None:
    import pty
    import select
    import time

    exe = str(Path(sys.executable).parent / "continuous")
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [exe, "suggest", "add a page for invoices"],
        cwd=mini_repo,
        env=dict(os.environ),
        stdin=slave,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    seen = b""
    answered = False
    deadline = time.time() + 300
    while time.time() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if not answered and b"add-page needs app" in seen:
                os.write(master, b"dhg-hub\n")
                answered = True
        elif proc.poll() is not None:
            break
    proc.wait(timeout=60)
    os.close(master)
    assert answered, seen.decode(errors="replace")
    text = seen.decode(errors="replace")
    assert proc.returncode == 0
    assert "app=dhg-hub" in text and "still missing" not in text.split("dhg-hub\r\n", 1)[1]
