"""`continuous mcp`: the Model Context Protocol server coding agents talk to, over stdio.

A user interface like the CLI, and as thin: each tool maps its arguments onto the same Python functions the CLI
calls (cli/operations, the planner, the engine's Executor, the store, the standards) and its result onto JSON.
This module owns only the tool list, the input schemas and the translation of results and errors.

- One server serves one git worktree, the one it was started in (or `--repo`). Two agents in two worktrees run
  two servers and work at once, exactly as two shells would: runs lock their own worktree only.
- Input schemas are JSON Schema. `run_scenario` carries one branch per scenario of the repository's rule base
  (built-in library, overrides, its own scenario_paths), each with the parameters the DSL declares
  (dsl/param_schema). The union is nested under `run` because several agent APIs refuse `anyOf` at the top level
  of a tool schema; docs/mcp.md explains the choice.
- Errors are tool results with `isError: true`: the CLI's message and hint (text `error: ...` as on stderr) and
  the same fields structured. isError is true exactly when the CLI would exit non-zero.
- Tool calls run one at a time in a worker thread, so the protocol stays responsive (pings, progress) while a
  scenario runs.

Nothing here is imported by `continuous --help`: the `mcp` SDK and everything heavy load when the server starts.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from continuous.engine.run import events as ev
from continuous.engine.run.events import RunObserver

if TYPE_CHECKING:
    from continuous.dsl.model import RuleBase

SERVER_NAME = "continuous"

INSTRUCTIONS = """\
continuous runs declarative scenarios (create a table, a service, an endpoint, a page, ...) in this git worktree,
with a git checkpoint per step, rollback and resume; every execution is recorded.
Free text: `suggest` ranks scenarios; `plan` makes a dependency-complete plan, dry-runs it (files, diffs, systems,
risk) and saves it; `run_plan` runs that saved plan; `rollback` undoes an execution by its id.
One scenario: `scenario_show` explains it and its parameters; `run_scenario` dry-runs it, and runs it with
`apply: true`. `status`, `executions`, `facts`, `scenarios_list` and `check` only read (check may record tasks).
A result with isError carries the message and a hint on how to fix the input."""


# ---------------------------------------------------------------------------------------------------- results


@dataclass
class Outcome:
    """What a tool returns: JSON data and the exit code the CLI would have had; `text` is set for an error (the
    CLI's stderr line)."""

    data: dict[str, Any]
    exit_code: int = 0
    text: str | None = None


def error_outcome(exc: BaseException) -> Outcome:
    """A ContinuousError as the CLI prints it (message, hint, exit code); anything else as the CLI's one-line
    internal error. Never a traceback (CONTINUOUS_DEBUG=1 writes it to the server's stderr)."""
    from continuous.common.errors import ContinuousError

    if isinstance(exc, ContinuousError):
        error = {
            "type": type(exc).__name__,
            "message": exc.message,
            "hint": exc.hint,
            "exit_code": exc.exit_code,
            "text": "error: " + exc.render().rstrip(),
        }
        return Outcome({"error": error}, exc.exit_code, error["text"])
    if os.environ.get("CONTINUOUS_DEBUG", "") not in ("", "0"):
        import traceback

        traceback.print_exception(exc)
    hint = "this is a bug in continuous; rerun with --debug for the traceback and report it"
    error = {
        "type": "InternalError",
        "message": f"{type(exc).__name__}: {exc}",
        "hint": hint,
        "exit_code": 1,
        "text": f"internal error: {type(exc).__name__}: {exc}\n  hint: {hint}",
    }
    return Outcome({"error": error}, 1, error["text"])


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)


# ---------------------------------------------------------------------------------------------------- arguments


def _user_error(message: str, hint: str | None = None) -> Exception:
    from continuous.common.errors import UserError

    return UserError(message, hint=hint)


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def check_arguments(tool: str, schema: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """The top level of a call against its schema: names, required arguments and JSON types. Values (enums,
    scenario ids and parameters, fact types, standards) are left to the functions the CLI calls too, so they
    are refused with exactly the CLI's words."""
    props: dict[str, Any] = schema.get("properties", {})
    unknown = sorted(set(args) - set(props))
    if unknown:
        from continuous.dsl.suggest import closest

        guess = closest(unknown[0], list(props))
        raise _user_error(
            f"{tool} has no argument {unknown[0]!r}; its arguments are: {', '.join(props) or 'none'}",
            hint=f"did you mean {guess!r}?" if guess else None,
        )
    for name in schema.get("required", []):
        if name not in args:
            raise _user_error(f"{tool} needs the argument {name!r}", hint=props[name].get("description"))
    out: dict[str, Any] = {}
    for name, prop in props.items():
        if name not in args:
            if "default" in prop:
                out[name] = prop["default"]
            continue
        value = args[name]
        kind = prop.get("type")
        if value is None and "default" in prop:
            out[name] = prop["default"]
            continue
        if isinstance(kind, str) and kind in _JSON_TYPES:
            ok = isinstance(value, _JSON_TYPES[kind]) and not (kind == "integer" and isinstance(value, bool))
            if not ok:
                raise _user_error(
                    f"argument {name}: expected {'an' if kind[0] in 'aeiou' else 'a'} {kind}, got {value!r}"
                )
        if kind == "integer" and "minimum" in prop and value < prop["minimum"]:
            raise _user_error(f"argument {name}: must be at least {prop['minimum']}, got {value}")
        if kind == "array" and not all(isinstance(item, str) for item in value):
            raise _user_error(f"argument {name}: expected a list of strings, got {value!r}")
        out[name] = value
    return out


# ---------------------------------------------------------------------------------------------------- schemas


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def _str(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def _bool(description: str, default: bool = False) -> dict[str, Any]:
    return {"type": "boolean", "description": description, "default": default}


EXECUTION_ID = _str("An execution id (or a unique prefix of one), as returned by run_plan or run_scenario.")


def scenario_call_schema(rule_base: RuleBase) -> dict[str, Any]:
    """One branch per scenario, discriminated by the constant `scenario`, each with its DSL parameters."""
    from continuous.dsl.param_schema import params_schema, required_params

    branches = []
    for s in sorted(rule_base.scenarios.values(), key=lambda s: s.id):
        text = s.summary + (f'; e.g. "{s.examples[0]}"' if s.examples else "")
        branch = _obj(
            {"scenario": {"const": s.id}, "params": params_schema(s)},
            ["scenario", "params"] if required_params(s) else ["scenario"],
        )
        branch = {"title": s.id, "description": text, **branch}
        branches.append(branch)
    schema: dict[str, Any] = {
        "description": 'The scenario and its parameters: {"scenario": ID, "params": {...}}. Dependencies the '
        "scenario needs are planned in automatically. scenario_show describes one scenario.",
    }
    if branches:
        schema["anyOf"] = branches
    else:
        schema["type"] = "object"
    return schema


def _enum(description: str, values: list[str]) -> dict[str, Any]:
    """A string from a list that depends on the repository (an empty list leaves the string free)."""
    return _str(description, enum=values) if values else _str(description)


@dataclass(frozen=True)
class ToolSpec:
    name: str
    title: str
    description: str
    schema: Callable[[RuleBase], dict[str, Any]]
    run: Callable[[Agent, dict[str, Any]], Outcome]
    read_only: bool = True
    destructive: bool = False
    idempotent: bool = True


# ---------------------------------------------------------------------------------------------------- the worktree


@dataclass
class Agent:
    """The worktree one server serves, and what it keeps warm between calls (the planner's index)."""

    root: Path
    index_memo: dict[str, Any] = field(default_factory=dict)
    observer: RunObserver | None = None

    @classmethod
    def open(cls, repo: Path | None) -> Agent:
        from continuous.common.gitinfo import locate

        return cls(locate(repo).worktree)

    def rule_base(self) -> RuleBase:
        from continuous.engine.worktree import load_repo_rule_base

        return load_repo_rule_base(self.root)

    def rule_base_or_empty(self) -> RuleBase:
        """For the tool list: a repository whose scenarios do not load still gets every tool (without its
        scenarios in the schemas), and each call then says what is wrong, as the CLI would."""
        from continuous.common.errors import ContinuousError
        from continuous.dsl.model import RuleBase

        try:
            return self.rule_base()
        except ContinuousError:
            return RuleBase()

    def plans_dir(self) -> Path:
        """Saved plans live in this worktree's own git directory: never in the work tree, never shared with
        another worktree."""
        from continuous.engine.worktree import open_workspace

        return open_workspace(self.root).state_dir / "plans"

    def path(self, raw: str) -> Path:
        p = Path(raw).expanduser()
        return p if p.is_absolute() else self.root / p

    # ------------------------------------------------------------------------------------------------ tools

    def suggest(self, args: dict[str, Any]) -> Outcome:
        from continuous.cli.planner_commands import _single_thread

        text = args["request"]
        if not text.strip():
            raise _user_error(
                "the request is empty", hint='say what you want: continuous suggest "a table for bookmarks"'
            )
        _single_thread()
        from continuous.planner.suggest import load_context, suggest

        ctx = load_context(self.root, index_cache=self.index_memo)
        return Outcome(suggest(text, ctx, top=args["top"], explain=args["explain"]).to_json())

    def plan(self, args: dict[str, Any]) -> Outcome:
        from continuous.cli.planner_commands import _single_thread

        text = args["request"]
        if not text.strip():
            raise _user_error("the request is empty", hint='say what you want: continuous plan "a table for bookmarks"')
        _single_thread()
        from continuous.cli.operations import estimator
        from continuous.planner.plan import make_plan

        made = make_plan(text, dry_run=True, worktree=self.root, estimator=estimator())
        result = made.to_json(with_text=False)
        if made.saved is not None and made.saved.items:
            result["plan_file"] = str(self._save_plan(made.saved.to_json()))
        return Outcome(result)

    def _save_plan(self, saved: dict[str, Any]) -> Path:
        import hashlib

        body = json.dumps(saved, indent=2) + "\n"
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        folder = self.plans_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{stamp}-{hashlib.sha256(body.encode()).hexdigest()[:8]}.json"
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        tmp.write_text(body, encoding="utf-8")
        os.replace(tmp, path)
        return path

    def run_plan(self, args: dict[str, Any]) -> Outcome:
        from continuous.cli.operations import executor
        from continuous.engine.plan import load_saved_plan

        data = load_saved_plan(self.path(args["plan_file"]))
        ex = executor(self.root, self.observer)
        try:
            plan = ex.plan_from_saved(data, allocate_ports=not args["dry_run"])
            if args["dry_run"]:
                report = ex.dry_run(plan)
                return Outcome(_report(report, diffs=args["diffs"]), 1 if report.problems else 0)
            result = ex.run(plan, commit=args["commit"])
        finally:
            ex.close()
        return Outcome(result.model_dump(mode="json"), 0 if result.ok else 1)

    def run_scenario(self, args: dict[str, Any]) -> Outcome:
        from continuous.cli.operations import executor
        from continuous.engine.executor import Request

        call = args["run"]
        scenario, params = call.get("scenario"), call.get("params", {})
        if not isinstance(scenario, str) or not scenario:
            raise _user_error(
                "argument run: needs a 'scenario' (a scenario id)",
                hint='e.g. {"scenario": "create-table", "params": {"name": "bookmarks"}}',
            )
        if not isinstance(params, dict):
            raise _user_error(f"argument run: 'params' of {scenario} must be an object of named parameters")
        extra = sorted(set(call) - {"scenario", "params"})
        if extra:
            raise _user_error(f"argument run: unexpected key {extra[0]!r}; give only 'scenario' and 'params'")
        request = Request(scenario=scenario, params=dict(params))
        ex = executor(self.root, self.observer)
        try:
            if not args["apply"]:
                report = ex.dry_run(ex.build_plan([request]))
                return Outcome(_report(report, diffs=args["diffs"]), 1 if report.problems else 0)
            result = ex.run(ex.build_plan([request], allocate_ports=True), commit=args["commit"])
        finally:
            ex.close()
        return Outcome(result.model_dump(mode="json"), 0 if result.ok else 1)

    def rollback(self, args: dict[str, Any]) -> Outcome:
        from continuous.cli.operations import executor

        ex = executor(self.root, self.observer, living_docs=False)
        try:
            result = ex.rollback(args["execution_id"], force=args["force"])
        finally:
            ex.close()
        return Outcome(result.model_dump(mode="json"))

    def resume(self, args: dict[str, Any]) -> Outcome:
        from continuous.cli.operations import executor

        ex = executor(self.root, self.observer)
        try:
            result = ex.resume(args["execution_id"])
        finally:
            ex.close()
        return Outcome(result.model_dump(mode="json"), 0 if result.ok else 1)

    def status(self, args: dict[str, Any]) -> Outcome:
        from continuous.cli.operations import get_execution

        return Outcome(get_execution(self.root, args["execution_id"]).model_dump(mode="json"))

    def executions(self, args: dict[str, Any]) -> Outcome:
        from continuous.cli.operations import list_executions

        rows = list_executions(
            self.root,
            scenario=args.get("scenario"),
            status=args.get("status"),
            kind=args.get("kind"),
            worktree=self.root if args["this_worktree"] else None,
            limit=args["limit"],
        )
        return Outcome({"executions": [r.model_dump(mode="json", exclude={"steps", "children"}) for r in rows]})

    def facts(self, args: dict[str, Any]) -> Outcome:
        from continuous.cli import operations

        found = operations.facts(operations.executor(self.root, living_docs=False), args.get("type"))
        return Outcome({"facts": [f.to_json() for f in found]})

    def scenarios_list(self, args: dict[str, Any]) -> Outcome:
        from continuous.cli.operations import scenario_row, select_scenarios

        rule_base = self.rule_base()
        chosen = select_scenarios(rule_base, args.get("object_type"))
        return Outcome({"scenarios": [scenario_row(rule_base, s) for s in chosen]})

    def scenario_show(self, args: dict[str, Any]) -> Outcome:
        from continuous.cli.operations import find_scenario, scenario_detail
        from continuous.dsl.param_schema import params_schema

        rule_base = self.rule_base()
        s = find_scenario(rule_base, args["scenario"])
        data = scenario_detail(rule_base, s)
        data["params_schema"] = params_schema(s)
        return Outcome(data)

    def check(self, args: dict[str, Any]) -> Outcome:
        from continuous.cli.operations import check

        report = check(self.root, standards=args.get("standards"), fix=args["fix"], tasks=not args["no_tasks"])
        return Outcome(report.to_json(), 1 if report.failed else 0)


def _report(report: Any, *, diffs: bool) -> dict[str, Any]:
    data: dict[str, Any] = report.model_dump(mode="json")
    if not diffs:
        for f in data.get("files", []):
            f.pop("diff", None)
    return data


# ---------------------------------------------------------------------------------------------------- the tools


def _statuses() -> list[str]:
    from continuous.store.models import EXECUTION_STATUSES

    return list(EXECUTION_STATUSES)


def _object_types() -> list[str]:
    from continuous.dsl.model import OBJECT_TYPES

    return list(OBJECT_TYPES)


REQUEST = _str('What you want, in your own words, e.g. "a table for bookmarks plus a service to manage them".')
DIFFS = _bool("Include the unified diff of every file in the dry-run (false: only paths and kinds of change).", True)

TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "suggest",
        "Suggest scenarios for a request",
        "Rank the scenarios for a free-text request and propose an ordered, dependency-complete plan with "
        "parameters filled from the text (missing ones are listed). Changes nothing.",
        lambda rb: _obj(
            {
                "request": REQUEST,
                "top": {"type": "integer", "minimum": 1, "default": 5, "description": "How many ranked matches."},
                "explain": _bool("Say why each scenario was chosen."),
            },
            ["request"],
        ),
        Agent.suggest,
    ),
    ToolSpec(
        "plan",
        "Plan and dry-run a request",
        "Suggest a plan for a request, dry-run it (every file and diff, the systems touched, the estimate and "
        "the risk) and save it, pinned to HEAD and the rule base. Returns the saved plan, its `plan_file` (pass "
        "it to run_plan) and the dry-run. Changes nothing in the worktree.",
        lambda rb: _obj({"request": REQUEST}, ["request"]),
        Agent.plan,
    ),
    ToolSpec(
        "run_plan",
        "Run a saved plan",
        "Run a plan saved by the plan tool (or `continuous plan --out FILE`): every step with a git checkpoint, "
        "the whole run rolled back when a step fails. Refused when HEAD or the scenarios changed since the "
        "plan was made. Returns the execution (its `execution_id` is what rollback takes).",
        lambda rb: _obj(
            {
                "plan_file": _str(
                    "The `plan_file` the plan tool returned, or a plan file (relative paths are "
                    "taken from the worktree root)."
                ),
                "dry_run": _bool("Only show what the plan would change."),
                "diffs": DIFFS,
                "commit": _bool("Make one git commit of the changed files at the end."),
            },
            ["plan_file"],
        ),
        Agent.run_plan,
        read_only=False,
        idempotent=False,
    ),
    ToolSpec(
        "run_scenario",
        "Run one scenario (dry-run by default)",
        "Dry-run one scenario, with what it depends on planned in (files, diffs, systems, estimate, risk); with "
        "`apply: true`, run it with a checkpoint per step and rollback on failure. The parameters of each "
        "scenario are in this schema (`run`) and in scenario_show.",
        lambda rb: _obj(
            {
                "run": scenario_call_schema(rb),
                "apply": _bool("Really run it. Without it, only a dry-run: nothing changes."),
                "diffs": DIFFS,
                "commit": _bool("With apply: make one git commit of the changed files at the end."),
            },
            ["run"],
        ),
        Agent.run_scenario,
        read_only=False,
        idempotent=False,
    ),
    ToolSpec(
        "rollback",
        "Roll back an execution",
        "Undo an execution: restore every file it touched to its earlier content and remove the files it "
        "created. Refused when a file changed after the run, unless `force`.",
        lambda rb: _obj(
            {
                "execution_id": EXECUTION_ID,
                "force": _bool("Roll back even over files changed after the run."),
            },
            ["execution_id"],
        ),
        Agent.rollback,
        read_only=False,
        destructive=True,
    ),
    ToolSpec(
        "resume",
        "Resume an interrupted execution",
        "Continue an execution that was killed or interrupted, from its last completed step.",
        lambda rb: _obj({"execution_id": EXECUTION_ID}, ["execution_id"]),
        Agent.resume,
        read_only=False,
        idempotent=False,
    ),
    ToolSpec(
        "status",
        "Show an execution",
        "One execution: its status, plan, steps, checkpoints and artifacts.",
        lambda rb: _obj({"execution_id": EXECUTION_ID}, ["execution_id"]),
        Agent.status,
    ),
    ToolSpec(
        "executions",
        "List executions",
        "Recorded executions, newest first.",
        lambda rb: _obj(
            {
                "scenario": _str("Only executions of this scenario id."),
                "status": _str("Only executions with this status.", enum=_statuses()),
                "kind": _str("run (a whole plan) or scenario (one item of it).", enum=["run", "scenario"]),
                "this_worktree": _bool("Only executions in this server's worktree."),
                "limit": {"type": "integer", "minimum": 1, "default": 20, "description": "At most this many."},
            }
        ),
        Agent.executions,
    ),
    ToolSpec(
        "facts",
        "Facts about the repository",
        "What the repository already has, as discovered now: tables, services, apps, pages, ports, ...",
        lambda rb: _obj({"type": _enum("Only facts of this type.", sorted({d.fact_type for d in rb.discovers}))}),
        Agent.facts,
    ),
    ToolSpec(
        "scenarios_list",
        "List scenarios",
        "The scenarios this repository can run (built-in library, overrides and its own), with their "
        "parameters' names.",
        lambda rb: _obj({"object_type": _str("Only scenarios of this object type.", enum=_object_types())}),
        Agent.scenarios_list,
    ),
    ToolSpec(
        "scenario_show",
        "Show a scenario",
        "One scenario as declared: summary, description, example requests, parameters, dependencies, steps, "
        "validations, and `params_schema`, the JSON Schema of its parameters.",
        lambda rb: _obj({"scenario": _str("A scenario id or alias.", examples=sorted(rb.scenarios)[:3])}, ["scenario"]),
        Agent.scenario_show,
    ),
    ToolSpec(
        "check",
        "Check the standards",
        "Check the repository against its standards. Violations open dev tasks (and fixed ones close them) "
        "unless `no_tasks`; `fix` applies each auto-fix as a normal, checkpointed execution.",
        lambda rb: _obj(
            {
                "standards": {
                    "type": "array",
                    "items": _enum("A standard id.", sorted(rb.standards)),
                    "description": "Only these standards.",
                },
                "fix": _bool("Apply the auto-fixes."),
                "no_tasks": _bool("Do not open or close dev tasks (no database)."),
            }
        ),
        Agent.check,
        read_only=False,
        idempotent=False,
    ),
)

TOOLS_BY_NAME = {t.name: t for t in TOOLS}


def tool_definitions(rule_base: RuleBase) -> list[dict[str, Any]]:
    """The tool list as plain JSON (what tools/list sends), for the server and for tests and docs."""
    return [
        {
            "name": t.name,
            "title": t.title,
            "description": t.description,
            "inputSchema": t.schema(rule_base),
            "annotations": {
                "title": t.title,
                "readOnlyHint": t.read_only,
                "destructiveHint": t.destructive,
                "idempotentHint": t.idempotent,
                "openWorldHint": False,
            },
        }
        for t in TOOLS
    ]


def call(agent: Agent, name: str, arguments: dict[str, Any] | None) -> Outcome:
    """One tool call, start to end, as a plain function (no protocol): the server runs it in a worker thread."""
    try:
        spec = TOOLS_BY_NAME.get(name)
        if spec is None:
            from continuous.dsl.suggest import did_you_mean

            raise _user_error(f"unknown tool {name!r}", hint=did_you_mean(name, list(TOOLS_BY_NAME)))
        from continuous.common import worktree_state

        with worktree_state.memoised():  # one tool call reads the worktree's git status once
            args = check_arguments(name, spec.schema(agent.rule_base_or_empty()), dict(arguments or {}))
            return spec.run(agent, args)
    except Exception as exc:
        return error_outcome(exc)


# ---------------------------------------------------------------------------------------------------- the server


class _McpProgress(RunObserver):
    """Engine events as MCP progress notifications."""

    def __init__(self, ctx: Any, token: Any) -> None:
        self.ctx, self.token, self.done = ctx, token, 0

    def _send(self, message: str) -> None:
        import anyio.from_thread

        with contextlib.suppress(Exception):  # progress is best-effort; it never fails a run
            anyio.from_thread.run(
                partial(self.ctx.session.send_progress_notification, self.token, float(self.done), None, message)
            )

    def item_started(self, event: ev.ItemStarted) -> None:
        self._send(f"({event.index + 1}/{event.total}) {event.scenario}")

    def step_done(self, event: ev.StepDone) -> None:
        self.done += 1
        self._send(f"{event.number}. {event.name} done")

    def rolling_back(self, event: ev.RollingBack) -> None:
        self._send(f"rolling back: {event.message}")


def _progress(ctx: Any) -> RunObserver | None:
    """Progress notifications, when the client asked for them (a progress token)."""
    meta = ctx.meta or {}
    token = meta.get("progress_token", meta.get("progressToken"))
    return None if token is None else _McpProgress(ctx, token)


def build_server(agent: Agent) -> Any:
    import anyio
    import anyio.to_thread
    import mcp_types as types
    from continuous.common.version import __version__
    from mcp.server.lowlevel import Server

    lock = anyio.Lock()

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        async with lock:
            rule_base = await anyio.to_thread.run_sync(agent.rule_base_or_empty)
        return types.ListToolsResult(tools=[types.Tool.model_validate(d) for d in tool_definitions(rule_base)])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        async with lock:
            runner = Agent(agent.root, agent.index_memo, observer=_progress(ctx))
            outcome = await anyio.to_thread.run_sync(call, runner, params.name, params.arguments)
        text = outcome.text if outcome.text is not None else _dump(outcome.data)
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=text)],
            structured_content=outcome.data,
            is_error=outcome.exit_code != 0,
        )

    return Server(
        SERVER_NAME,
        version=__version__,
        title="continuous",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def serve(repo: Path | None = None) -> None:
    """Serve the worktree at `repo` (default: the current directory) until the client closes stdin."""
    agent = Agent.open(repo)
    try:
        import anyio
        from mcp.server.stdio import stdio_server
    except ModuleNotFoundError as exc:
        raise _user_error(
            f"the MCP server needs the Python package {exc.name!r}, which is not installed",
            hint="reinstall continuous (pip install --force-reinstall continuous); it depends on `mcp`",
        ) from None

    async def main() -> None:
        server = build_server(agent)
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    from continuous.common import worktree_state

    with worktree_state.memoised(share=False):  # the worktree changes between calls: each call reads it anew
        anyio.run(main)
