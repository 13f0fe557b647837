"""The domain vocabulary of a monorepo: how people name the objects and actions that scenario ids are built
from.

Scenario ids are verb-object phrases (`create-table`, `add-proxy-endpoint`). Users say "new db table", "an API
route", "bump the packages". The lexicon maps those words onto the canonical words of the ids, so that the
structural match in `suggest` works for any scenario whose id or aliases use the canonical words — it knows
nothing
about particular scenarios. Multi-word phrases are matched before single words.
"""

from __future__ import annotations

import re
from functools import lru_cache

# canonical verb -> surface forms
VERBS: dict[str, tuple[str, ...]] = {
    "create": (
        "create",
        "add",
        "new",
        "make",
        "build",
        "scaffold",
        "generate",
        "set up",
        "setup",
        "spin up",
        "introduce",
        "start",
        "need",
        "want",
        "write",
        "bootstrap",
        "stand up",
        "implement",
        "define",
        "store",
        "save",
        "persist",
        "track",
        "register",
        "put",
        "give",
        "provide",
        "open",
    ),
    "refactor": (
        "refactor",
        "extract",
        "split",
        "restructure",
        "clean up",
        "cleanup",
        "rework",
        "reorganize",
        "reorganise",
        "pull out",
        "tidy",
        "rewrite",
        "simplify",
        "decouple",
    ),
    "deprecate": (
        "deprecate",
        "retire",
        "sunset",
        "phase out",
        "remove",
        "delete",
        "kill",
        "drop",
        "decommission",
        "archive",
        "get rid of",
        "obsolete",
    ),
    "test": ("test", "tests", "cover", "coverage", "unit test", "spec", "specs", "verify"),
    "migrate": ("migrate", "move", "port", "convert", "transfer", "relocate", "turn"),
    "consolidate": (
        "consolidate",
        "merge",
        "combine",
        "unify",
        "dedupe",
        "deduplicate",
        "fold",
        "join together",
    ),
    "modify": ("modify", "change", "alter", "rename", "extend", "evolve", "adjust", "tweak", "widen"),
    "update": ("update", "upgrade", "bump", "refresh", "patch", "latest"),
    "configure": ("configure", "config", "set", "setting up"),
    "integrate": (
        "integrate",
        "connect",
        "wire",
        "wire up",
        "hook",
        "hook up",
        "plug",
        "use",
        "consume",
        "call",
        "link",
        "uses",
    ),
    "expose": ("expose", "serve", "publish", "proxy", "forward", "route"),
    "show": ("show", "display", "render", "visualize", "visualise", "present", "browse", "see", "list"),
    "monitor": ("monitor", "monitoring", "observe", "alert", "alerting", "watch", "instrument", "log"),
    "regenerate": ("regenerate", "regen", "sync", "resync"),
    "restore": ("restore", "unarchive", "bring back", "recover", "undelete"),
    "fix": ("fix", "repair", "correct", "broken"),
}

# canonical object word -> surface forms (canonical words are the nouns scenario ids use)
OBJECTS: dict[str, tuple[str, ...]] = {
    "table": (
        "table",
        "tables",
        "db table",
        "database table",
        "sql table",
        "relation",
        "storage",
        "store",
        "persist",
        "persistence",
        "stored",
        "database",
        "db",
        "postgres",
        "supabase table",
    ),
    "schema": (
        "schema",
        "column",
        "columns",
        "field",
        "fields",
        "index",
        "indexes",
        "constraint",
        "constraints",
        "migration",
        "foreign key",
        "nullable",
        "not null",
        "data type",
        "alter table",
    ),
    "view": (
        "sql view",
        "database view",
        "db view",
        "view",
        "materialized view",
        "summary view",
        "report view",
    ),
    "rls": (
        "rls",
        "row level security",
        "row-level security",
        "policy",
        "policies",
        "access control",
        "permissions",
        "permission",
        "only see their own",
        "own rows",
        "security policy",
        "lock down",
        "locked down",
        "secure",
    ),
    "types": (
        "types",
        "typescript types",
        "type definitions",
        "typings",
        "database types",
        "types.ts",
        "generated types",
        "db types",
        "type generation",
    ),
    "service": (
        "service",
        "services",
        "shared service",
        "backend",
        "business logic",
        "singleton",
        "client",
        "module",
        "manager",
        "repository",
    ),
    "cli": (
        "cli",
        "command line",
        "command lines",
        "command-line",
        "terminal",
        "shell",
        "pipeline",
        "pipelines",
        "cli pipeline",
        "cli command",
        "subcommand",
        "cli domain",
    ),
    "pipeline": ("pipeline", "pipelines", "cli pipeline", "cli domain", "domain", "wrapper", "cli wrapper"),
    "command": ("command", "commands", "subcommand", "sub-command", "cli command", "verb"),
    "script": ("script", "scripts", "standalone script", "ts script", "loose script", "one-off script"),
    "app": (
        "app",
        "apps",
        "application",
        "frontend",
        "front end",
        "front-end",
        "web app",
        "webapp",
        "spa",
        "vite app",
        "react app",
        "site",
        "website",
        "ui",
    ),
    "page": ("page", "pages", "screen", "screens", "dashboard", "dashboards", "tab", "console", "panel"),
    "component": (
        "component",
        "components",
        "widget",
        "widgets",
        "button",
        "card",
        "modal",
        "form",
        "dropdown",
        "table component",
        "ui component",
        "shared component",
        "picker",
        "badge",
        "toggle",
        "banner",
    ),
    "shared": ("shared", "reusable", "common", "across apps", "everywhere"),
    "proxy": (
        "proxy",
        "proxies",
        "proxy server",
        "api server",
        "gateway",
        "node server",
        "http server",
        "express server",
        "server",
        "servers",
        "forwarding",
        "proxying",
    ),
    "endpoint": (
        "endpoint",
        "endpoints",
        "route",
        "routes",
        "api",
        "rest",
        "handler",
        "url",
        "webhook",
        "http",
    ),
    "port": ("port", "ports"),
    "pnpm": ("pnpm", "npm", "package.json", "root script", "workspace script", "pnpm run", "yarn"),
    "dependencies": (
        "dependencies",
        "dependency",
        "deps",
        "packages",
        "package",
        "libraries",
        "library",
        "versions",
        "version",
        "lockfile",
        "outdated",
        "vulnerabilities",
        "cve",
    ),
    "environment": (
        "environment",
        "env",
        "env var",
        "env vars",
        "environment variable",
        "environment variables",
        ".env",
        "dotenv",
        "secret",
        "secrets",
        "api key",
        "credentials",
        "config",
        "configuration",
        "settings file",
    ),
    "monitoring": (
        "monitoring",
        "monitor",
        "logging",
        "logs",
        "metrics",
        "alerts",
        "alerting",
        "observability",
        "health check",
        "health checks",
        "uptime",
        "tracing",
        "telemetry",
        "errors",
        "sentry",
    ),
    "tests": ("tests", "test", "unit tests", "specs", "coverage", "test suite", "jest", "vitest", "testing"),
    "docs": ("docs", "documentation", "readme", "document"),
}

# words that name a part of another object: "a table with columns x and y" is one intent, not two
PART_NOUNS = frozenset(
    {
        "column",
        "columns",
        "field",
        "fields",
        "index",
        "indexes",
        "constraint",
        "key",
        "keys",
        "attribute",
        "attributes",
        "property",
        "properties",
        "option",
        "options",
        "flag",
        "flags",
        "argument",
        "arguments",
        "parameter",
        "parameters",
    }
)

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "them",
        "they",
        "their",
        "some",
        "any",
        "my",
        "our",
        "your",
        "new",
        "simple",
        "basic",
        "small",
        "quick",
        "little",
        "another",
        "one",
        "more",
        "of",
        "to",
        "in",
        "into",
        "on",
        "onto",
        "for",
        "from",
        "with",
        "by",
        "at",
        "as",
        "and",
        "or",
        "plus",
        "also",
        "then",
        "please",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "we",
        "i",
        "me",
        "you",
        "us",
        "let",
        "lets",
        "let's",
        "just",
        "really",
        "want",
        "need",
        "like",
        "so",
        "be",
        "is",
        "are",
        "was",
        "were",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "get",
        "got",
        "make",
        "up",
        "out",
        "via",
        "through",
        "over",
        "under",
        "all",
        "each",
        "every",
    ]
)

# prepositions that make the next object a place, not the thing asked for: "a command *in the* google_sync
# pipeline"
CONTAINER_PREPOSITIONS = frozenset(
    {
        "to",
        "in",
        "into",
        "on",
        "onto",
        "for",
        "from",
        "of",
        "inside",
        "within",
        "under",
        "through",
        "via",
        "across",
        "per",
        "over",
        "behind",
        "at",
        "by",
    }
)

_COMBINED: dict[str, tuple[re.Pattern[str], dict[str, tuple[str, ...]]]] = {}


def _combined(key: str) -> tuple[re.Pattern[str], dict[str, tuple[str, ...]]]:
    """One alternation of every surface form, longest first, so each position takes its longest phrase."""
    if key not in _COMBINED:
        table = VERBS if key == "verbs" else OBJECTS
        forms: dict[str, list[str]] = {}
        for canon, surface in table.items():
            for form in surface:
                forms.setdefault(form, []).append(canon)
        ordered = sorted(forms, key=lambda f: -len(f))
        pattern = re.compile(r"(?<![\w.-])(?:" + "|".join(re.escape(f) for f in ordered) + r")(?![\w-])")
        _COMBINED[key] = (pattern, {f: tuple(c) for f, c in forms.items()})
    return _COMBINED[key]


def find(text: str, table: str) -> list[tuple[str, int, int]]:
    """(canonical, start, end) for every phrase of the "verbs" or "objects" table in `text`, left to right,
    the longest phrase at each position; a phrase that belongs to several canonical words yields each."""
    return list(_find(text.lower(), table))


@lru_cache(maxsize=8192)
def _find(low: str, table: str) -> tuple[tuple[str, int, int], ...]:
    pattern, canons = _combined(table)
    return tuple((c, m.start(), m.end()) for m in pattern.finditer(low) for c in canons[m.group(0)])


# an action without an object still points at one: "show it in the hub" asks for a page
VERB_IMPLIES: dict[str, str] = {
    "show": "page",
    "expose": "endpoint",
    "monitor": "monitoring",
    "test": "tests",
    "regenerate": "types",
}


def vocabulary() -> set[str]:
    """Every single-word surface form of the lexicon."""
    return {
        form for table in (VERBS, OBJECTS) for forms in table.values() for form in forms if " " not in form
    }


def verbs(text: str) -> list[str]:
    return [c for c, _, _ in find(text, "verbs")]


def objects(text: str) -> list[str]:
    return [c for c, _, _ in find(text, "objects")]


def expand(text: str) -> str:
    """The text plus the canonical words of the verbs and objects it mentions (for lexical scoring)."""
    extra = [c for c in verbs(text) + objects(text)]
    return text if not extra else text + " " + " ".join(dict.fromkeys(extra))


def canonical_words(scenario_id: str, aliases: tuple[str, ...] = ()) -> tuple[set[str], set[str]]:
    """(verbs, objects) of a scenario, read from its id: `add-proxy-endpoint` → ({create}, {proxy, endpoint}).
    Id words the lexicon does not know stay as they are; aliases add only verbs (their objects repeat the
    id's)."""
    vs: set[str] = set()
    os_: set[str] = set()
    parts = re.split(r"[-_\s]+", scenario_id.lower())
    for i, part in enumerate(parts):
        vfound = [c for c, _, _ in find(part, "verbs")]
        if i == 0 and vfound:
            vs.update(vfound)
            continue
        ofound = [c for c, _, _ in find(part, "objects")]
        os_.update(ofound or ([part] if part not in STOPWORDS else []))
    for alias in aliases:
        words = alias.lower().split()
        if words:
            vs.update(c for c, _, _ in find(words[0], "verbs"))
    return vs, os_
