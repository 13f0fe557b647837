"""Edits that wire code into an app or a server, following what is there: a React Router `<Route>` cloned from its
siblings, an Express endpoint beside the others, and forwarding to a server another one absorbed."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from continuous.engine.jsedit import (
    JsEditError,
    _indent_at,
    _line_start,
    insert_import,
    match_bracket,
    skip_string,
    split_top,
)

# ---------------------------------------------------------------- routes


@dataclass
class RouteEl:
    start: int
    end: int  # after `/>` or `</Route>`
    open_end: int  # after the opening tag
    path: str | None
    children: list[RouteEl]
    parent: RouteEl | None = None

    def self_closing(self, text: str) -> bool:
        return text[self.open_end - 2 : self.open_end] == "/>"


def _tag_end(text: str, i: int) -> int:
    """Index after the `>` that ends the JSX tag starting at `i` (braces and strings inside skipped)."""
    j = i + 1
    n = len(text)
    while j < n:
        c = text[j]
        if c == "{":
            j = match_bracket(text, j)
            continue
        if c in "'\"":
            j = skip_string(text, j)
            continue
        if c == ">":
            return j + 1
        j += 1
    raise JsEditError(f"unclosed JSX tag at offset {i}")


_ROUTE_OPEN = re.compile(r"<Route\b(?!s)")
_ROUTE_CLOSE = re.compile(r"</Route\s*>")


def _parse_routes(text: str, start: int, end: int, parent: RouteEl | None) -> list[RouteEl]:
    out: list[RouteEl] = []
    j = start
    while j < end:
        m = _ROUTE_OPEN.search(text, j, end)
        if not m:
            break
        open_end = _tag_end(text, m.start())
        tag = text[m.start() : open_end]
        pm = re.search(r"""\bpath\s*=\s*(?:"([^"]*)"|'([^']*)'|\{\s*["'`]([^"'`]*)["'`]\s*\})""", _strip_braces(tag))
        path = next((g for g in pm.groups() if g is not None), None) if pm else None
        if tag.endswith("/>"):
            el = RouteEl(m.start(), open_end, open_end, path, [], parent)
        else:
            close = _matching_route_close(text, open_end, end)
            el = RouteEl(m.start(), close.end(), open_end, path, [], parent)
            el.children = _parse_routes(text, open_end, close.start(), el)
        out.append(el)
        j = el.end
    return out


def _strip_braces(tag: str) -> str:
    """The tag with the content of `{...}` expressions blanked, except simple string expressions."""
    out = []
    j = 0
    while j < len(tag):
        if tag[j] == "{":
            k = match_bracket(tag, j)
            inner = tag[j + 1 : k - 1].strip()
            out.append(tag[j:k] if re.fullmatch(r"""["'`][^"'`]*["'`]""", inner) else "{}")
            j = k
            continue
        out.append(tag[j])
        j += 1
    return "".join(out)


def _matching_route_close(text: str, pos: int, end: int) -> re.Match[str]:
    depth = 1
    j = pos
    while j < end:
        o = _ROUTE_OPEN.search(text, j, end)
        c = _ROUTE_CLOSE.search(text, j, end)
        if c is None:
            break
        if o is not None and o.start() < c.start():
            tag_end = _tag_end(text, o.start())
            if not text[o.start() : tag_end].endswith("/>"):
                depth += 1
            j = tag_end
            continue
        depth -= 1
        if depth == 0:
            return c
        j = c.end()
    raise JsEditError(f"unclosed <Route> at offset {pos}")


_ELEMENT = re.compile(r"\belement\s*=\s*\{")


def _element_span(text: str, route: RouteEl) -> tuple[int, int] | None:
    m = _ELEMENT.search(text, route.start, route.open_end)
    if not m:
        return None
    end = match_bracket(text, m.end() - 1)
    return m.end(), end - 1


_COMPONENT = re.compile(r"<([A-Z][\w.]*)\b[^<>]*?/>")
_WRAPPER = re.compile(r"^\s*(<([A-Z][\w.]*)\b[^<>]*>)\s*(<[A-Z][\w.]*\b[^<>]*/>)\s*</\2\s*>\s*$", re.S)


def _wrapper_of(text: str, route: RouteEl) -> str | None:
    span = _element_span(text, route)
    if span is None:
        return None
    m = _WRAPPER.match(text[span[0] : span[1]])
    return re.sub(r"\s+", " ", m.group(1)) if m else None


def _is_page(text: str, route: RouteEl) -> bool:
    span = _element_span(text, route)
    if span is None or route.path == "*":
        return False
    inner = text[span[0] : span[1]]
    return bool(_COMPONENT.search(inner)) and "?" not in inner and "Navigate" not in inner


def add_route(text: str, path: str, component: str) -> str | None:
    """`text` with `<Route path=PATH element={<COMPONENT />} />` where the app keeps its page routes."""
    if re.search(r"<" + re.escape(component) + r"\s*/>", text):
        return None
    m = re.search(r"<Routes\b[^>]*>", text)
    if not m:
        raise JsEditError("no <Routes> element (expected react-router's <Routes> with <Route> children)")
    close = text.find("</Routes>", m.end())
    if close == -1:
        raise JsEditError("<Routes> is not closed")
    top = _parse_routes(text, m.end(), close, None)
    groups: list[list[RouteEl]] = []

    def collect(level: list[RouteEl]) -> None:
        if level:
            groups.append(level)
        for r in level:
            collect(r.children)

    collect(top)
    pages = [[r for r in g if _is_page(text, r)] for g in groups]
    best = max(range(len(groups)), key=lambda k: (len(pages[k]), -k)) if groups else None
    if best is None or not pages[best]:
        if not top:
            raise JsEditError("<Routes> has no <Route> with an element={<Page />} to place the new route beside")
        level = top
        siblings: list[RouteEl] = []
    else:
        level = groups[best]
        siblings = pages[best]
    # A wrapper some pages use (an auth guard) wraps the new page too: public pages (login) are the exception,
    # and a page left unprotected by mistake is worse than one protected by mistake.
    wrappers = Counter(w for r in siblings if (w := _wrapper_of(text, r)) is not None)
    wrapper: str | None = None
    if wrappers:
        top_count = max(wrappers.values())
        tied = {w for w, c in wrappers.items() if c == top_count}
        wrapper = next(w for r in reversed(siblings) if (w := _wrapper_of(text, r)) in tied)
    like = [r for r in siblings if _wrapper_of(text, r) == wrapper]
    with_path = [r.path for r in siblings if r.path is not None]
    relative = bool(with_path) and not any(p.startswith("/") for p in with_path)
    route_path = path.lstrip("/") if relative else path
    if like:
        model = like[-1]
        new = _clone_route(text, model, route_path, component)
    else:
        new = f'<Route path="{route_path}" element={{<{component} />}} />'
    catch_all = [r for r in level if r.path == "*"]
    anchor = None
    after_last = [r for r in level if r.path != "*"]
    if catch_all and (not after_last or catch_all[0].start > after_last[-1].start):
        anchor = catch_all[0]
    if anchor is not None:
        indent = _indent_at(text, anchor.start)
        at = _line_start(text, anchor.start)
        return text[:at] + indent + new + "\n" + text[at:]
    last = after_last[-1] if after_last else level[-1]
    indent = _indent_at(text, last.start)
    nl = text.find("\n", last.end)
    at = len(text) if nl == -1 else nl + 1
    return text[:at] + indent + new + "\n" + text[at:]


def _closing(wrapper: str) -> str:
    m = re.match(r"<([A-Z][\w.]*)", wrapper)
    return f"</{m.group(1)}>" if m else ""


def _clone_route(text: str, model: RouteEl, path: str, component: str) -> str:
    span = _element_span(text, model)
    assert span is not None
    inner_start = span[0] - model.start
    inner_end = span[1] - model.start
    element = text[span[0] : span[1]]
    comps = list(_COMPONENT.finditer(element))
    target = comps[-1]
    new_element = element[: target.start()] + f"<{component} />" + element[target.end() :]
    original = text[model.start : model.end]
    rebuilt = original[:inner_start] + new_element + original[inner_end:]
    rebuilt = re.sub(
        r"""(\bpath\s*=\s*)(?:"[^"]*"|'[^']*'|\{\s*["'`][^"'`]*["'`]\s*\})""",
        lambda m: f'{m.group(1)}"{path}"',
        rebuilt,
        count=1,
    )
    return rebuilt


# ---------------------------------------------------------------- server endpoints

_EXPRESS = re.compile(
    r"^(?P<var>app|router|server)\.(?P<method>get|post|put|patch|delete|all)\(\s*(['\"`])(?P<path>[^'\"`]*)\3", re.M
)


def add_endpoint(text: str, method: str, path: str) -> str | None:
    """`text` with a `method path` route: in its route table, else after its last top-level Express route."""
    escaped = re.escape(path)
    table = re.search(r"\bconst\s+routes\b[^=\n]*=\s*\[", text)
    if table is not None:
        if re.search(r"method:\s*['\"]" + method + r"['\"],\s*path:\s*['\"]" + escaped + r"['\"]", text):
            return None
        open_at = table.end() - 1
        close = match_bracket(text, open_at)
        spans = split_top(text, open_at + 1, close - 1)
        indent = _indent_at(text, spans[-1][0]) if spans else _indent_at(text, open_at) + "  "
        inner = indent + "  "
        entry = (
            f"{{\n{inner}method: '{method}',\n{inner}path: '{path}',\n"
            f"{inner}handle: (_req, res, params, body) => sendJson(res, 200, {{ endpoint: '{method} {path}', params, "
            f"body }}),\n{indent}}}"
        )
        if spans:
            last_end = spans[-1][1]
            comma = text.startswith(",", last_end)
            at = last_end + 1 if comma else last_end
            return text[:at] + ("" if comma else ",") + "\n" + indent + entry + "," + text[at:]
        return text[: open_at + 1] + "\n" + indent + entry + ",\n" + text[open_at + 1 :]
    routes = list(_EXPRESS.finditer(text))
    if routes:
        if any(m.group("method").upper() == method and m.group("path") == path for m in routes):
            return None
        last = routes[-1]
        end = match_bracket(text, text.index("(", last.start()))
        if text.startswith(";", end):
            end += 1
        nl = text.find("\n", end)
        at = len(text) if nl == -1 else nl + 1
        var = last.group("var")
        quote = last.group(3)
        snippet = (
            f"\n{var}.{method.lower()}({quote}{path}{quote}, (req, res) => {{\n"
            f"  res.json({{ endpoint: '{method} {path}', params: req.params, body: req.body ?? null }});\n}});\n"
        )
        return text[:at] + snippet + text[at:]
    raise JsEditError(
        "no route table (`const routes = [...]`) and no Express routes (`app.get('/path', ...)`) to add the "
        "endpoint beside"
    )


# ---------------------------------------------------------------- forwarding to an absorbed server

_FORWARD_HELPER = """
// Forwards a request to a server this one has absorbed (consolidate-proxies) and streams its answer back.
function forwardTo(req, res, port) {
  const target = { host: 'localhost', port: Number(port), path: req.originalUrl || req.url };
  const upstream = forwardRequest(
    { ...target, method: req.method, headers: req.headers },
    (answer) => {
      res.writeHead(answer.statusCode || 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', () => {
    if (!res.headersSent) {
      res.writeHead(502, { 'Content-Type': 'application/json' });
    }
    res.end(JSON.stringify({ error: 'bad gateway' }));
  });
  req.pipe(upstream);
}
"""


def _is_esm(text: str) -> bool:
    return re.search(r"(?m)^(?:import\s[^(]|export\s)", text) is not None


def _with_forward_helper(text: str) -> str:
    if "function forwardTo(" in text:
        return text
    if _is_esm(text):
        out = text if "forwardRequest" in text else insert_import(text, "{ request as forwardRequest }", "http")
    else:
        requires = list(re.finditer(r"(?m)^(?:const|let|var)\s+[^=\n]+=\s*require\([^)]*\);?[ \t]*$", text))
        line = "const { request: forwardRequest } = require('http');\n"
        if requires:
            at = requires[-1].end() + 1
            out = text[:at] + line + text[at:]
        else:
            out = line + text
    if not out.endswith("\n"):
        out += "\n"
    return out + _FORWARD_HELPER


def add_forward(text: str, port: str, env: str) -> str | None:
    """`text` forwarding the requests it does not route to `port` (or `$env`): in a proxy's fallback list, as an
    Express catch-all after the routes, or in the final 404 `else` of a plain Node HTTP request handler."""
    if not re.fullmatch(r"\d+", port):
        raise JsEditError(f"the port to forward to is {port!r}, not a number")
    if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", env):
        raise JsEditError(f"the port variable {env!r} is not an environment variable name")
    target = f"process.env.{env} || {port}"
    fallbacks = re.search(r"\bconst\s+fallbacks\b[^=\n]*=\s*\[", text)
    if fallbacks is not None:
        if f"upstream('{env}', {port})" in text:
            return None
        open_at = fallbacks.end() - 1
        close = match_bracket(text, open_at)
        indent = _indent_at(text, open_at) + "  "
        spans = split_top(text, open_at + 1, close - 1)
        entry = f"upstream('{env}', {port}),"
        if spans:
            last_end = spans[-1][1]
            comma = text.startswith(",", last_end)
            at = last_end + 1 if comma else last_end
            return text[:at] + ("" if comma else ",") + "\n" + indent + entry + text[at:]
        nl = text.find("\n", open_at)
        at = nl + 1 if nl != -1 and nl < close else open_at + 1
        return text[:at] + indent + entry + "\n" + text[at:]
    if "forwardTo(" in text and target in text:
        return None
    routes = list(_EXPRESS.finditer(text))
    if routes:
        last = routes[-1]
        end = match_bracket(text, text.index("(", last.start()))
        if text.startswith(";", end):
            end += 1
        nl = text.find("\n", end)
        at = len(text) if nl == -1 else nl + 1
        var = last.group("var")
        snippet = (
            f"\n// Requests no route above answers go to the absorbed server (consolidate-proxies).\n"
            f"{var}.use((req, res) => forwardTo(req, res, {target}));\n"
        )
        return _with_forward_helper(text[:at] + snippet + text[at:])
    handler = re.search(r"\bcreateServer\s*\(", text)
    if handler is not None:
        body_end = match_bracket(text, handler.end() - 1)
        last_else = None
        for m in re.finditer(r"\belse\s*\{", text[handler.end() : body_end]):
            start = handler.end() + m.end() - 1
            block_end = match_bracket(text, start)
            if "404" in text[start:block_end]:
                last_else = (start, block_end)
        if last_else is not None:
            start, block_end = last_else
            indent = _indent_at(text, start) + "  "
            body = (
                f"\n{indent}// Requests no route above answers go to the absorbed server (consolidate-proxies).\n"
                f"{indent}forwardTo(req, res, {target});\n{_indent_at(text, start)}"
            )
            return _with_forward_helper(text[: start + 1] + body + text[block_end - 1 :])
    raise JsEditError(
        "no fallback list (`const fallbacks = [...]`), no Express routes (`app.get(...)`) and no final 404 `else` "
        "in an http.createServer handler, so there is nowhere to forward unrouted requests"
    )
