"""`continuous suggest` and `continuous plan`: free text → an ordered scenario plan.

Only typer and the standard library are imported here; the planner (numpy, tokenizers) is imported inside the commands.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from continuous.cli.output import command

PARAM_OPT = typer.Option(
    None,
    "--param",
    "-p",
    help="Fill a parameter the request leaves open: NAME=VALUE, or SCENARIO.NAME=VALUE for one scenario.",
)


def register(app: typer.Typer) -> None:
    app.command("suggest", help="Rank scenarios for a free-text request and propose an ordered plan.")(suggest_cmd)
    app.command("plan", help="Suggest a plan for a request, dry-run it, and optionally save it for run-plan.")(plan_cmd)


@command
def suggest_cmd(
    text: str | None = typer.Argument(None, help="What you want, in your own words."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    top: int = typer.Option(5, "--top", "-k", min=1, help="How many ranked matches to show."),
    explain: bool = typer.Option(False, "--explain", help="Show why each scenario was chosen."),
    batch: Path | None = typer.Option(
        None,
        "--batch",
        help="A file with one request per line ('-' = stdin); prints one JSON object per line.",
    ),
    param: list[str] | None = PARAM_OPT,
) -> None:
    from continuous.common.errors import UserError

    params = parse_params(param)
    if batch is not None:
        if text is not None:
            raise UserError("give either a request or --batch FILE, not both")
        _batch(batch, top, explain, params)
        return
    if text is None or not text.strip():
        raise UserError("the request is empty", hint='say what you want: continuous suggest "a table for bookmarks"')
    result = _suggest_one(text, top, explain, params)
    if not as_json and _interactive():
        result, _ = _ask_missing(result, params, lambda p: _suggest_one(text, top, explain, p))
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return
    sys.stdout.write(render(result) + "\n")


def parse_params(raw: list[str] | None) -> dict[str, str]:
    from continuous.common.errors import UserError

    out: dict[str, str] = {}
    for item in raw or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UserError(f"--param {item!r} is not NAME=VALUE", hint="e.g. --param app=dhg-hub")
        out[name.strip()] = value.strip()
    return out


def _interactive() -> bool:
    from continuous.cli.prompting import can_prompt

    return can_prompt()


def _ask_missing(
    result: dict[str, Any], params: dict[str, str], again: Callable[[dict[str, str]], dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, str]]:
    """On a terminal, ask for each parameter the plan still misses (offering the repository's candidates) and
    plan again with the answers, as if they had been given with --param. An empty answer leaves it open."""
    asked: set[str] = set()
    for _round in range(3):
        wanted = [
            (step["scenario"], name, step.get("candidates", {}).get(name, []))
            for step in result["plan"]
            for name in step.get("missing", [])
            if f"{step['scenario']}.{name}" not in asked
        ]
        if not wanted:
            return result, params
        answers = dict(params)
        for scenario, name, candidates in wanted:
            asked.add(f"{scenario}.{name}")
            choices = ", ".join(c["value"] for c in candidates)
            label = f"{scenario} needs {name}" + (f" (e.g. {choices})" if choices else "")
            value = typer.prompt(label, default="", show_default=False).strip()
            if value:
                answers[f"{scenario}.{name}"] = value
        if answers == params:
            return result, params
        params = answers
        result = again(params)
    return result, params


def _progress() -> Callable[[str], None] | None:
    """A one-line progress report on a terminal (building the index takes seconds); nothing otherwise."""
    if not sys.stderr.isatty():
        return None

    def report(message: str) -> None:
        sys.stderr.write("\r\033[K" + message if message else "\r\033[K")
        sys.stderr.flush()

    return report


def _suggest_one(text: str, top: int, explain: bool, params: dict[str, str]) -> dict[str, Any]:
    """Through the warm daemon when one runs (see continuous.planner.daemon), else in this process, starting a
    daemon for the next call."""
    from continuous.planner import daemon

    answer = daemon.ask({"cwd": os.getcwd(), "text": text, "top": top, "explain": explain, "params": params})
    if answer is not None:
        if os.environ.get("CONTINUOUS_DAEMON_TRACE"):
            sys.stderr.write("(answered by the planner daemon)\n")
        if answer.get("ok"):
            return dict(answer["result"])
        from continuous.common.errors import RunFailed, UserError

        error = UserError if answer.get("exit_code", 2) == 2 else RunFailed
        raise error(str(answer.get("error", "the planner daemon failed")), hint=answer.get("hint"))
    _single_thread()
    from continuous.planner.suggest import load_context, suggest

    result = suggest(text, load_context(progress=_progress()), top=top, explain=explain, params=params).to_json()
    if not daemon.socket_path().exists():
        daemon.start()
    return result


def _single_thread() -> None:
    """The encoder's matrices are small: a BLAS thread pool only adds overhead (a 1,000-request batch encodes
    in 3.7 s on one thread, 8.4 s on two, measured here), and it loses more when the cores are busy."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")


def _batch(path: Path, top: int, explain: bool, params: dict[str, str]) -> None:
    from continuous.common.errors import UserError

    if str(path) == "-":
        lines = sys.stdin.read().splitlines()
    else:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise UserError(f"{path}: no such file", hint="give a text file with one request per line") from None
        except UnicodeDecodeError:
            raise UserError(f"{path}: not a UTF-8 text file") from None
    while lines and not lines[-1].strip():
        lines.pop()
    _single_thread()
    from continuous.planner.suggest import load_context, suggest_many

    ctx = load_context(progress=_progress())
    results = suggest_many(lines, ctx, top=top, explain=explain, record_errors=True, params=params)
    sys.stdout.write("".join(json.dumps(r.to_json()) + "\n" for r in results))


def render(result: dict[str, Any]) -> str:
    lines = [f"request: {result['request']}"]
    plan = result["plan"]
    skipped = result.get("skipped") or []
    asked_skips = [s for s in skipped if s.get("requested")]
    if result.get("error"):
        lines.append(f"error: {result['error']['message']}")
        if result["error"].get("hint"):
            lines.append(f"  hint: {result['error']['hint']}")
    elif not plan:
        if asked_skips:
            lines.append("nothing to do: what the request asks for already exists")
        else:
            lines.append("no scenario matches this request; the plan is empty")
            lines.append("  hint: `continuous scenarios list` shows what the library can do")
    else:
        lines.append(f"plan ({len(plan)} step{'s' if len(plan) != 1 else ''}):")
        width = max(len(i["scenario"]) for i in plan)
        for n, item in enumerate(plan, 1):
            params = " ".join(f"{k}={v}" for k, v in item["params"].items() if v != "")
            missing = f"  [missing: {', '.join(item['missing'])}]" if item.get("missing") else ""
            lines.append(f"  {n}. {item['scenario']:<{width}}  {params}{missing}")
            lines.append(f"     {item['role']}: {item['reason']}")
            for name, cands in (item.get("candidates") or {}).items():
                lines.append(f"     {name}? " + ", ".join(c["value"] for c in cands))
    for sk in skipped:
        params = " ".join(f"{k}={v}" for k, v in sk["params"].items() if v != "")
        what = "asked for, but already holds" if sk.get("requested") else "left out"
        lines.append(f"  {what}: {sk['scenario']} {params}: {sk['reason']}")
    for a in result.get("not_found") or []:
        lines.append(f"  not found in the repository: {a['kind']} {a['name']} (the plan creates it where needed)")
    if result["unmatched"]:
        lines.append("not understood: " + "; ".join(f'"{u}"' for u in result["unmatched"]))
    still = [f"{i['scenario']}.{m}" for i in plan for m in i.get("missing", [])]
    if still:
        lines.append("still missing: " + ", ".join(still) + " (give them with --param NAME=VALUE)")
    if result["matches"]:
        lines.append("matches: " + ", ".join(f"{m['scenario']} {m['score']:.2f}" for m in result["matches"]))
    if result.get("explain"):
        from continuous.planner.explain import render as render_explain
        from continuous.planner.result import Explanation

        lines.append("why:")
        ex = Explanation.model_validate(result["explain"])
        lines.extend("  " + line for line in render_explain(ex).splitlines())
    return "\n".join(lines)


@command
def plan_cmd(
    text: str = typer.Argument(..., help="What you want, in your own words."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what the plan would change, without changing it."),
    out: Path | None = typer.Option(None, "--out", help="Save the plan (for `continuous run-plan FILE`)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    no_diff: bool = typer.Option(False, "--no-diff", help="Dry-run without the unified diffs."),
    no_pager: bool = typer.Option(False, "--no-pager", help="Print the dry-run without a pager."),
    param: list[str] | None = PARAM_OPT,
) -> None:
    from continuous.common.errors import UserError

    if not text.strip():
        raise UserError("the request is empty", hint='say what you want: continuous plan "a table for bookmarks"')
    params = parse_params(param)
    if not as_json and _interactive():
        _single_thread()
        from continuous.planner.suggest import load_context, suggest

        ctx = load_context(progress=_progress())
        first = suggest(text, ctx, params=params).to_json()
        _, params = _ask_missing(first, params, lambda p: suggest(text, ctx, params=p).to_json())
    from continuous.cli.operations import estimator
    from continuous.planner.plan import make_plan

    made = make_plan(text, dry_run=dry_run, out=out, params=params, estimator=estimator())
    if as_json:
        sys.stdout.write(json.dumps(made.to_json(), indent=2, default=str) + "\n")
        return
    sys.stdout.write(render(made.suggestion.to_json()) + "\n")
    if made.dry_run is not None:
        from continuous.cli.paging import show

        sys.stdout.flush()
        show(made.dry_run.render(diffs=not no_diff), pager=not no_pager)
    if out is not None and made.saved_to is not None:
        sys.stdout.write(f"saved the plan to {out}; run it with: continuous run-plan {out}\n")
