"""`continuous suggest` and `continuous plan`: free text → an ordered scenario plan.

Only typer and the standard library are imported here; the planner (numpy, tokenizers) is imported inside the commands.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from continuous.cli.output import command


def register(app: typer.Typer) -> None:
    app.command("suggest", help="Rank scenarios for a free-text request and propose an ordered plan.")(
        suggest_cmd
    )
    app.command(
        "plan", help="Suggest a plan for a request, dry-run it, and optionally save it for run-plan."
    )(plan_cmd)


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
) -> None:
    from continuous.common.errors import UserError

    if batch is not None:
        if text is not None:
            raise UserError("give either a request or --batch FILE, not both")
        _batch(batch, top, explain)
        return
    if text is None or not text.strip():
        raise UserError(
            "the request is empty", hint='say what you want: continuous suggest "a table for bookmarks"'
        )
    result = _suggest_one(text, top, explain)
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return
    sys.stdout.write(render(result, explain=explain) + "\n")


def _suggest_one(text: str, top: int, explain: bool) -> dict[str, Any]:
    """Through the warm daemon when one runs (see continuous.planner.daemon), else in this process, starting a
    daemon for the next call."""
    import os

    from continuous.planner import daemon

    answer = daemon.ask({"cwd": os.getcwd(), "text": text, "top": top, "explain": explain})
    if answer is not None:
        if os.environ.get("CONTINUOUS_DAEMON_TRACE"):
            sys.stderr.write("(answered by the planner daemon)\n")
        if answer.get("ok"):
            return dict(answer["result"])
        from continuous.common.errors import RunFailed, UserError

        error = UserError if answer.get("exit_code", 2) == 2 else RunFailed
        raise error(str(answer.get("error", "the planner daemon failed")))
    _single_thread()
    from continuous.planner.suggest import load_context, suggest

    result = suggest(text, load_context(), top=top, explain=explain)
    if not daemon.socket_path().exists():
        daemon.start()
    return result


def _single_thread() -> None:
    """The encoder's matrices are small: a BLAS thread pool only adds overhead (a 1,000-request batch encodes
    in 3.7 s on one thread, 8.4 s on two, measured here), and it loses more when the cores are busy."""
    import os

    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")


def _batch(path: Path, top: int, explain: bool) -> None:
    from continuous.common.errors import UserError

    if str(path) == "-":
        lines = sys.stdin.read().splitlines()
    else:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise UserError(
                f"{path}: no such file", hint="give a text file with one request per line"
            ) from None
        except UnicodeDecodeError:
            raise UserError(f"{path}: not a UTF-8 text file") from None
    while lines and not lines[-1].strip():
        lines.pop()
    _single_thread()
    from continuous.planner.suggest import load_context, suggest_many

    ctx = load_context()
    requests = [line.strip() for line in lines]
    results = suggest_many([r for r in requests if r], ctx, top=top, explain=explain, record_errors=True)
    it = iter(results)
    out = []
    for r in requests:
        if r:
            out.append(json.dumps(next(it)))
        else:
            out.append(
                json.dumps(
                    {
                        "request": "",
                        "matches": [],
                        "plan": [],
                        "unmatched": [],
                        "error": "the request is empty",
                    }
                )
            )
    sys.stdout.write("".join(line + "\n" for line in out))


def render(result: dict[str, Any], *, explain: bool = False) -> str:
    lines = [f"request: {result['request']}"]
    plan = result["plan"]
    if not plan:
        if result.get("skipped"):
            lines.append("nothing to do: everything asked for already holds")
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
    for sk in result.get("skipped", []):
        params = " ".join(f"{k}={v}" for k, v in sk["params"].items() if v != "")
        lines.append(f"  left out: {sk['scenario']} {params}: {sk['reason']}")
    if result["unmatched"]:
        lines.append("not understood: " + "; ".join(f'"{u}"' for u in result["unmatched"]))
    lines.append("matches: " + ", ".join(f"{m['scenario']} {m['score']:.2f}" for m in result["matches"]))
    if explain:
        from continuous.planner.explain import render as render_explain

        lines.append("why:")
        lines.extend("  " + line for line in render_explain(result).splitlines())
    return "\n".join(lines)


@command
def plan_cmd(
    text: str = typer.Argument(..., help="What you want, in your own words."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what the plan would change, without changing it."
    ),
    out: Path | None = typer.Option(None, "--out", help="Save the plan (for `continuous run-plan FILE`)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    from continuous.common.errors import UserError

    if not text.strip():
        raise UserError(
            "the request is empty", hint='say what you want: continuous plan "a table for bookmarks"'
        )
    from continuous.cli.operations import estimator
    from continuous.planner.plan import make_plan

    result = make_plan(text, dry_run=dry_run, out=out, estimator=estimator())
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2, default=str) + "\n")
        return
    sys.stdout.write(render(result["suggestion"]) + "\n")
    if result.get("dry_run_text"):
        sys.stdout.write(result["dry_run_text"].rstrip() + "\n")
    if out is not None and result.get("saved"):
        sys.stdout.write(f"saved the plan to {out}; run it with: continuous run-plan {out}\n")
