"""Values a request spells out: enum choices, routes, HTTP methods, ports and numbers, paths, command lines,
versions, labelled values ("an archived_at column")."""

from __future__ import annotations

import os
import re
from datetime import date
from functools import lru_cache
from pathlib import Path, PurePosixPath

from continuous.dsl.model import Param
from continuous.planner import language
from continuous.planner.grounding import to_kebab
from continuous.planner.phrases import Phrase, analyse
from continuous.planner.slots import Intent
from continuous.planner.slots import text as tx
from continuous.planner.slots.names import labelled as _labelled


def set_aside_command(intent: Intent, kinds: dict[str, str]) -> None:
    """The command a script runs is no source of its name or of anything else: its span is blanked in the
    clause the other fillers read (and kept for the command filler)."""
    intent.command = None
    intent.runs_itself = False
    if "command" not in kinds.values():
        return
    found = tx.command_phrase(intent.clause)
    if found is not None and tx.runs_own_script(found[0]):
        # "I want to run `pnpm typecheck:apps`": that names the script; what it runs is not said
        found, intent.runs_itself = None, True
    if found is not None:
        intent.command = found[0]
        start, end = found[1], found[2]
        intent.clause = intent.clause[:start] + " " * (end - start) + intent.clause[end:]


def command(p: Param, intent: Intent) -> None:
    if intent.command is not None:
        intent.put(p, intent.command, "the command the request says it runs")
        return
    if not intent.runs_itself:
        for value, _s, _e in tx.quoted(intent.clause):
            # a quoted script name ("`dev:setup`") names the script; a command line has words or a path
            if not tx.runs_own_script(value) and (" " in value.strip() or "/" in value):
                intent.put(p, value, "quoted command")
                return


def enum(p: Param, intent: Intent) -> None:
    choices = {c.lower(): c for c in p.choices}
    methods = {m.lower() for m in language.lang().http_methods}
    if set(choices) >= methods or p.name.lower() == "method":
        method(p, intent)
        return
    conv = intent.conventions
    # a choice that is a kind of object: the kind of the object another parameter names (add-tests of a page)
    for k, source in intent.out.sources.items():
        if k == p.name:
            continue
        for m in intent.mentions:
            if m.name == source.value:
                for low, choice in choices.items():
                    if conv.kind(low) == m.kind and p.default != choice:
                        intent.put(p, choice, f"{source.value} is a {m.kind}")
                        return
    # the words of the object another parameter refers to choose no value, unless the choices are kinds of
    # object (the kind of what tests cover: "tests to link card" covers a component)
    kind_choices = any(conv.kind(c) in conv.kinds.object_kinds for c in choices)
    low_clause = (intent.clause if kind_choices else _without_referenced_places(intent)).lower()
    words_in = set(re.findall(r"[a-z_]+", low_clause))
    synonyms = enum_words()
    values = [str(v).lower() for k, v in intent.out.params.items() if k != p.name]
    for low, choice in choices.items():
        if (low in words_in or low + "s" in words_in) and p.default != choice:
            intent.put(p, choice, f"the word {low!r}")
            return
    names_in = {m.group(0).lower() for m in re.finditer(r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+", intent.clause)}
    spans = _word_spans(choices, synonyms, low_clause)
    found_at = {(low, word): (a, b) for low, _c, word, a, b in spans}
    for low, choice in choices.items():
        for word in synonyms.get(low, ()):
            w = word.lower()
            if w.startswith("_") or w.endswith("_"):
                hit = any((v.endswith(w) if w.startswith("_") else v.startswith(w)) for v in [*values, *names_in])
                found = None
            else:
                found = found_at.get((low, word))
                hit = found is not None
            if hit and p.default != choice:
                # "enable insert for authenticated users": a longer phrase of another value over the same words
                # says more than the words this value knows
                if found is not None:
                    start, end = found
                    longer = [
                        (c, wd)
                        for _l, c, wd, a, b in spans
                        if c != choice and a < end and start < b and b - a > end - start
                    ]
                    if longer and p.default != longer[0][0]:
                        choice, word = longer[0]
                intent.put(p, choice, f"the word {word!r}")
                return


def _word_spans(
    choices: dict[str, str], synonyms: dict[str, tuple[str, ...]], text: str
) -> list[tuple[str, str, str, int, int]]:
    """(key, value, word, start, end) of each whole word of the values' synonyms found in `text`, in the values'
    order (a word's prefix or suffix form, `_id`, matches names, not the text)."""
    out = []
    for low, choice in choices.items():
        for word in synonyms.get(low, ()):
            w = word.lower()
            if w.startswith("_") or w.endswith("_"):
                continue
            found = re.search(r"(?<![\w-])" + re.escape(w) + r"(?![\w-])", text)
            if found is not None:
                out.append((low, choice, word, found.start(), found.end()))
    return out


def _without_referenced_places(intent: Intent) -> str:
    """The clause with the words of a place blanked where they name the object another parameter refers to: in
    "add billingAddress to the Order entity" the table `order` says nothing of the column's type (no integer)."""
    from continuous.planner.slots import kind_of

    named: set[str] = set()
    for q in intent.scenario.params:
        if q.name in intent.out.params and kind_of(q, intent) == "reference":
            named.update(re.findall(r"[a-z0-9]+", str(intent.out.params[q.name]).lower()))
    out = list(intent.clause)
    for ph in intent.analysis.of_role("place"):
        for m in re.finditer(r"[A-Za-z][A-Za-z0-9]*", intent.clause[ph.start : ph.end]):
            if m.group(0).lower() in named:
                a, b = ph.start + m.start(), ph.start + m.end()
                out[a:b] = " " * (b - a)
    return "".join(out)


def enum_words() -> dict[str, tuple[str, ...]]:
    """Words that choose an enum value: language.toml's, then planner/data/slots.toml's [enum_words]."""
    return _enum_words()


@lru_cache(maxsize=1)
def _enum_words() -> dict[str, tuple[str, ...]]:
    out = {k: tuple(v) for k, v in language.lang().enum_words.items()}
    for key, extra in tx.slot_table("enum_words").items():
        out[key] = (*out.get(key, ()), *extra)
    return out


def method(p: Param, intent: Intent) -> None:
    found = tx.method(intent.clause)
    if found:
        intent.put(p, found, "HTTP method")
        return
    for ph in intent.analysis.of_role("trailing"):
        verb = tx.method_from_verb(ph.text)
        if verb:
            intent.put(p, verb, f"what the endpoint does ({ph.text!r})", guessed=True)
            return
    for ph in intent.analysis.of_role("subject"):
        # "an endpoint for sending email": a gerund after "for" says what the endpoint does
        lead = re.match(r"\s*([a-z]+ing)\b", ph.text.lower())
        verb = tx.method_from_verb(lead.group(1)) if lead and ph.prep == "for" else None
        if verb:
            intent.put(p, verb, f"what the endpoint does ({ph.text!r})", guessed=True)
            return
    for ph in intent.analysis.of_role("place"):
        # "an endpoint to reject invitations": the phrase reader knows only the model's verbs, so an infinitive of
        # slots.toml's verbs reads as a place; its verb still says what the endpoint does
        lead = re.match(r"\s*([a-z]+)", ph.text.lower())
        verb = tx.method_verbs().get(lead.group(1)) if lead and ph.prep == "to" else None
        if verb:
            intent.put(p, verb, f"what the endpoint does ({ph.text!r})", guessed=True)
            return
    head = intent.analysis.head
    if head is not None and head.head is not None:
        # "a create table endpoint", "the delete link route": the verb that names the endpoint
        determiners = language.words("determiners")
        first = [w for w in re.findall(r"[a-z]+", head.modifier_text().lower()) if w not in determiners]
        verb = tx.method_from_verb(first[0]) if first else None
        if verb:
            intent.put(p, verb, f"what the endpoint does ({first[0]!r})", guessed=True)
            return
        # "an app create endpoint", "a project creation endpoint", "the `updateRole` endpoint": the act nearest
        # the noun names the endpoint, as a bare verb, a noun of the act or a word of an identifier
        found = tx.method_in_name(head.modifier_text())
        if found:
            word, verb = found
            intent.put(p, verb, f"what the endpoint does ({word!r})", guessed=True)
            return
        # "create product endpoint": a verb that says what an endpoint does, applied to the data before it ("add"
        # only makes the endpoint)
        a = intent.analysis
        said = intent.clause[a.verb_span[0] : a.verb_span[1]].lower() if a.verb_span else ""
        data = [w for w in first if not tx.not_name(w)]
        verb = tx.method_from_verb(said) if said and said not in tx.slot_words("generic_verbs") else None
        # "bulk create endpoint": a verb after a word of the name is no order but a word of the name
        named = a.verb_span is not None and bool(intent.clause[a.body_start : a.verb_span[0]].strip())
        if verb and (data or named):
            intent.put(p, verb, f"what the endpoint does ({' '.join([said, *data])})", guessed=True)
            return
        # "create topic use case and endpoint": a piece without a verb of its own shares the request's verb and
        # its data ("add" only makes them)
        if a.verb_span is None and not data and intent.clause.strip() != intent.request.strip():
            whole = analyse(intent.request)
            said = intent.request[whole.verb_span[0] : whole.verb_span[1]].lower() if whole.verb_span else ""
            verb = tx.method_from_verb(said) if said and said not in tx.slot_words("generic_verbs") else None
            if verb:
                intent.put(p, verb, f"what the endpoint does ({said!r} of the whole request)", guessed=True)


_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


def route(p: Param, intent: Intent) -> None:
    found = tx.route(intent.clause)
    if found:
        intent.put(p, found, "route in the request")
        return
    head = intent.analysis.head
    if head is not None and intent.head_kind == "endpoint":
        # "add claims/:id endpoint", "add users/me endpoint": a route written without its leading slash
        bare = re.search(r"(?<![\w/@.-])([a-z][\w-]*(?:/[\w:{}-]+)+)(?![\w/.])", head.text)
        if bare and intent.put(p, "/" + bare.group(1), "route in the request"):
            return
    subject = intent.subject
    relative = tx.slot_words("relative_markers")
    trailing = intent.analysis.of_role("trailing")
    if (
        subject
        and head is not None
        and head.head is not None
        and trailing
        and all((ph.prep or "") in relative for ph in trailing)
        and to_kebab(subject) not in to_kebab(head.modifier_text())
        and _route_from_head_words(p, intent, head)
    ):
        return  # "a profile endpoint where the code is exchanged for a profile": what happens there is no route
    if subject and p.required and intent.head_kind in ("endpoint", "proxy"):
        # "create get users api route" is about users
        words_ = subject.split()
        while len(words_) > 1 and tx.method_from_verb(words_[0]) is not None and not tx.action_verb(words_[0]):
            words_ = words_[1:]
        # "a frontend API POST endpoint", "public API endpoints": a method as written and the words every route
        # of an API shares say nothing of which route
        words_ = [
            w for w in words_ if not (w.isupper() and w in _METHODS) and w.lower() not in language.words("route_noise")
        ]
        subject = " ".join(words_)
        if words_:
            intent.put(p, "/api/" + to_kebab(subject), f"derived from the subject {subject!r}", guessed=True)
            return
    if p.required and head is not None and head.head is not None:
        _route_from_head_words(p, intent, head)


def _route_from_head_words(p: Param, intent: Intent, head: Phrase) -> bool:
    if not p.required or intent.head_kind != "endpoint":
        return False
    # "a health check endpoint": the words before the noun, whatever they also name
    ws = tx.name_words(head.modifier_text(), keep_objects=True)
    last = re.findall(r"[A-Za-z]+", head.modifier_text())[-1:]
    if not ws and last and last[0].lower() in tx.slot_words("route_pronouns"):
        ws = [last[0].lower()]  # "a simple me endpoint": /api/me
    ws = [
        w
        for w in ws
        if (tx.method_from_verb(w) is None or tx.action_verb(w)) and w.lower() not in language.words("route_noise")
    ]
    return (
        bool(ws)
        and len(ws) <= 3
        and intent.put(p, "/api/" + to_kebab(" ".join(ws)), "the words before the endpoint", guessed=True)
    )


def version(p: Param, intent: Intent) -> None:
    found = tx.version(intent.clause)
    if found:
        intent.put(p, found, "version in the request")


def number(p: Param, intent: Intent) -> None:
    name = p.name.lower()
    if name == "port" or "port" in name:
        found = tx.port(intent.clause)
        if found is not None:
            intent.put(p, found, "port number")
            return
        # a server's own port, when another parameter names an existing server ("source_port" of "source")
        for k, source in list(intent.out.sources.items()):
            if name not in (f"{k}_port", "port"):
                continue
            entity = intent.repo.entity("proxy", str(source.value))
            port_value = entity.field("port") if entity is not None else None
            if port_value and intent.put(p, port_value, f"the port of {source.value}"):
                return
        return
    if name in ("coverage", "percent", "threshold"):
        intent.put(p, tx.percent(intent.clause), "percentage in the request")


def path(p: Param, intent: Intent) -> None:
    """A file or folder: spelt out, else the folder of an existing object the request names; an archive
    destination follows the repository's archive convention."""
    name = p.name.lower()
    clause = intent.clause
    restoring = language.polarity(next(iter(language.canonical_words(intent.scenario.id)[0]), None)) == "restorative"
    if name == "to" and "path" in intent.out.params:
        if restoring:
            dest = original_location(str(intent.out.params["path"]), intent)
            why = "where the archived item came from"
        else:
            dest = archive_destination(str(intent.out.params["path"]), intent)
            why = "the archive convention for that path"
        if dest:
            intent.put(p, dest, why, guessed=True)
        return
    if restoring and intent.worktree is not None:
        found = archived_item(intent)
        if found and intent.put(p, found, "the archived item the request names"):
            return
    explicit = tx.file_path(clause) or tx.dir_path(clause)
    if explicit and intent.put(p, explicit, "path in the request"):
        return
    folders = intent.conventions.folders
    for m in intent.mentions:
        pattern = folders.get(m.kind)
        if pattern and intent.put(p, pattern.format(name=m.name), f"the folder of {m.kind} {m.name}"):
            return


_ARCHIVED: dict[str, list[str]] = {}


def _archived_entries(root: Path, markers: tuple[str, ...]) -> list[str]:
    """Worktree-relative paths of everything inside an archive folder (`.archived_apps/x.20250525`), a few
    levels deep; node_modules and .git are never entered."""
    key = str(root)
    if key not in _ARCHIVED:
        out: list[str] = []
        for dirpath, dirnames, _files in os.walk(root):
            rel = Path(dirpath).relative_to(root)
            if len(rel.parts) > 4:
                dirnames[:] = []
                continue
            dirnames[:] = [d for d in dirnames if d not in ("node_modules", ".git")]
            if rel.parts and rel.parts[-1].startswith(markers):
                out.extend((rel / entry).as_posix() for entry in sorted(os.listdir(dirpath)))
                dirnames[:] = []
        _ARCHIVED[key] = out
    return _ARCHIVED[key]


def archived_item(intent: Intent) -> str | None:
    """The one archived file or folder whose name has every word the request names it by."""
    from continuous.planner.grounding import singular, words_of

    assert intent.worktree is not None
    names = [v for v, _s, _e in tx.identifiers(intent.clause)]
    head = intent.analysis.head
    if head is not None:
        names.append(" ".join(tx.name_words(head.modifier_text() if head.head else head.text)))
    entries = _archived_entries(intent.worktree, intent.conventions.archive.markers)
    for wanted in [n for n in names if n]:
        want = {singular(w) for w in words_of(wanted)}
        hits = [e for e in entries if want <= {singular(w) for w in words_of(_undated(PurePosixPath(e).name))}]
        if len(hits) == 1:
            return hits[0]
    return None


def _undated(name: str) -> str:
    return re.sub(r"[.-](?:\d{8}|\d{4}-\d{2}-\d{2}(?:_[\d-]+)?)(?=[.]|$)", "", name)


def original_location(archived: str, intent: Intent) -> str | None:
    """Where an archived item came from: its archive folder dropped (apps/.archived_apps/x.20250525 → apps/x)
    and the date taken out of its name."""
    p = PurePosixPath(archived)
    conv = intent.conventions.archive
    folders = [part for part in p.parts[:-1] if part.startswith(conv.markers)]
    parts = [part for part in p.parts[:-1] if not part.startswith(conv.markers)]
    if not folders:
        return None
    if not parts and folders[-1] in conv.origins:  # a root-level .archived_apps holds apps
        parts = [conv.origins[folders[-1]]]
    return PurePosixPath(*parts, _undated(p.name)).as_posix()


def archive_destination(rel: str, intent: Intent) -> str | None:
    conv = intent.conventions.archive
    markers = conv.markers
    p = PurePosixPath(rel)
    if any(part.startswith(markers) for part in p.parts):
        return None
    today = date.today()
    folders = {k: str(PurePosixPath(v).parent) for k, v in intent.conventions.folders.items()}
    if str(p.parent) == folders.get("app", "apps"):
        return conv.app_folder.format(name=p.name, date=f"{today:%Y%m%d}")
    parent = "" if str(p.parent) == "." else f"{p.parent}/"
    top = p.parts[0] if p.parts else ""
    kind = {"scripts": "scripts", "packages": "packages", "supabase": "sql", "docs": "docs"}.get(top, "files")
    if "service" in folders and rel.startswith(folders["service"] + "/"):
        kind = "services"
    folder = ".archive_docs" if kind == "docs" or p.suffix == ".md" else f".archived_{kind}"
    if not p.suffix:
        return f"{parent}{folder}/{p.name}.{today:%Y%m%d}"
    return f"{parent}{folder}/{p.stem}.{today:%Y-%m-%d}{p.suffix}"


def labelled(p: Param, intent: Intent) -> None:
    if _labelled(p, intent):
        return
    if p.type == "string" and p.pattern and re.fullmatch(r"\[A-Z\].*", p.pattern):
        var = tx.env_var(intent.clause)
        if var:
            intent.put(p, var, "variable name in the request")


def free(p: Param, intent: Intent) -> None:
    """Free text (descriptions, titles): left to its default; a request rarely says it outright."""
    return None
