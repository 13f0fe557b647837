"""Rewrite the built-in scenarios' layout literals into conventions.* expressions (idempotent): `python3 .ci/conventions-rewrite.py .`
after merging scenario changes written with literal paths (supabase/migrations, apps/, ...)."""
import re, sys
from pathlib import Path

root = Path(sys.argv[1])
KEYWORDS = ("glob", "exclude", "step", "precondition", "validate", "files", "newer", "field", "provides",
            "rollback", "unless", "message", "requires", "when", "fix")
LIT = [
    ("supabase/migrations", "{{ conventions.migrations_dir }}"),
    ("supabase/types.ts", "{{ conventions.types_file }}"),
    ("scripts/start-all-servers.js", "{{ conventions.server_registry }}"),
    ("packages/shared/services", "{{ conventions.services_dir }}"),
    ("scripts/cli-pipeline", "{{ conventions.pipelines_dir }}"),
]
def sub_str(s: str) -> str:
    for a, b in LIT:
        s = s.replace(a, b)
    s = re.sub(r'(?<=["%}])apps/', "{{ conventions.apps_dir }}/", s)
    return s

for scn in sorted((root / "scenarios").glob("*.scn")):
    out, in_block = [], False
    for line in scn.read_text().splitlines(keepends=True):
        stripped = line.lstrip()
        if line.count('"""') % 2 == 1:
            in_block = not in_block
            out.append(line); continue
        first = stripped.split(" ", 1)[0]
        if not in_block and first in KEYWORDS:
            line = sub_str(line)
        out.append(line)
    text = "".join(out)
    # folder-relative parts instead of fixed indexes
    text = re.sub(r'(glob "\{\{ conventions\.apps_dir \}\}/\*/[^\n]*\n(?:  (?:glob|exclude)[^\n]*\n)*(?:  [^\n]*\n)*?  field (?:name|app) = )"\{\{ parts\[1\] \}\}"',
                  r'\1"{{ path | under(conventions.apps_dir) }}"', text)
    text = re.sub(r'(conventions\.services_dir[^\n]*\n(?:  [^\n]*\n)*?  field (?:name|service) = )"\{\{ parts\[3\] \}\}"',
                  r'\1"{{ path | under(conventions.services_dir) }}"', text)
    text = re.sub(r'(conventions\.pipelines_dir[^\n]*\n(?:  [^\n]*\n)*?  field (?:name|pipeline|domain) = )"\{\{ parts\[2\] \}\}"',
                  r'\1"{{ path | under(conventions.pipelines_dir) }}"', text)
    # the app prefix and the table domains
    text = text.replace('pattern "dhg-[a-z0-9]+(-[a-z0-9]+)*" doc "app folder and package name, dhg-<name>"',
                        'pattern "{{ conventions.app_prefix | re_escape }}[a-z0-9]+(-[a-z0-9]+)*" doc "app folder and package name: conventions.app_prefix, then the name"')
    text = text.replace("name[4:]", "name[conventions.app_prefix | length:]")
    text = re.sub(r"name\.split\('_'\)\[0\] in \[[^\]]*\] and '_' in name",
                  "not conventions.table_domains or (name.split('_')[0] in conventions.table_domains and '_' in name)", text)
    scn.write_text(text)

std = root / "scenarios" / "standards.scn"
text = std.read_text()
text = text.replace(
    'message "table {{ table }} has no domain prefix; rename it to <domain>_{{ table }} (auth_, ai_, google_, doc_, sys_, dev_, ...)"',
    'message "table {{ table }} has no domain prefix; rename it to <domain>_{{ table }} (one of {{ conventions.table_domains | join(\'_, \') }}_; the list is conventions.table_domains in .continuous.toml)"')
text = text.replace(
    'summary "Table names carry a domain prefix (auth_, ai_, google_, learn_, media_, doc_, expert_, email_, command_, filter_, batch_, scripts_, sys_, dev_)"',
    'summary "Table names carry a domain prefix (conventions.table_domains)"')
if "standard app-prefix" not in text:
    text = text.replace("# ---------------------------------------------------------------- database\n\nstandard", '''# Apps: one folder with a package.json each under conventions.apps_dir (archives are hidden folders).
discover std_app {
  glob "{{ conventions.apps_dir }}/*/package.json"
  exclude "{{ conventions.apps_dir }}/.*"
  field app = "{{ path | under(conventions.apps_dir) }}"
  field prefixed = "{{ (path | under(conventions.apps_dir)).startswith(conventions.app_prefix) }}"
}

# ---------------------------------------------------------------- apps

standard app-prefix {
  severity error
  summary "App folders start with the app prefix (conventions.app_prefix)"
  when std_app(app: ?app, prefixed: "False")
  message "app {{ app }} does not start with {{ conventions.app_prefix }}: rename it to {{ conventions.app_prefix }}{{ app }}, or change conventions.app_prefix in .continuous.toml"
}

# ---------------------------------------------------------------- database

standard''', 1)
std.write_text(text)
