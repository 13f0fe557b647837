#!/usr/bin/env node
// Generates supabase/types.ts (the Database type, in the layout of `supabase gen types typescript`) from the
// migrations in supabase/migrations, so the types can be regenerated offline and reviewed in the same commit.
// Usage: node scripts/cli-pipeline/database/generate-types.mjs [--root DIR] [--out FILE] [--check]
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const ROOT = path.resolve(option('--root', process.cwd()));
const OUT = path.resolve(ROOT, option('--out', 'supabase/types.ts'));
const MIGRATIONS = path.join(ROOT, 'supabase', 'migrations');

// A possibly schema-qualified, possibly quoted SQL name: doc_files, public.doc_files, public."Doc Files".
const NAME = String.raw`(?:"[^"]+"|[A-Za-z_][\w$]*)(?:\.(?:"[^"]+"|[A-Za-z_][\w$]*))?`;
const rx = (source) => new RegExp(source.replaceAll('NAME', NAME), 'i');

const CONSTRAINT_WORDS = new Set([
  'not', 'null', 'default', 'primary', 'references', 'unique', 'check', 'constraint', 'generated', 'collate',
]);

function stripComments(sql) {
  return sql.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/--[^\n]*/g, ' ');
}

// Split on semicolons outside quotes, dollar-quoted bodies and parentheses.
function statements(sql) {
  const out = [];
  let depth = 0;
  let start = 0;
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    if (ch === "'") {
      i = sql.indexOf("'", i + 1);
      if (i < 0) break;
    } else if (ch === '$') {
      const m = /^\$[A-Za-z_]*\$/.exec(sql.slice(i));
      if (m) {
        const end = sql.indexOf(m[0], i + m[0].length);
        i = end < 0 ? sql.length : end + m[0].length - 1;
      }
    } else if (ch === '(') {
      depth += 1;
    } else if (ch === ')') {
      depth -= 1;
    } else if (ch === ';' && depth === 0) {
      out.push(sql.slice(start, i).trim());
      start = i + 1;
    }
    i += 1;
  }
  const rest = sql.slice(start).trim();
  if (rest) out.push(rest);
  return out.filter(Boolean);
}

// Split a list on commas at parenthesis depth 0.
function splitTop(text) {
  const parts = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

const unquote = (name) => name.replace(/"/g, '');
const bareName = (name) => unquote(name).split('.').pop().toLowerCase();
const schemaOf = (name) => (unquote(name).includes('.') ? unquote(name).split('.')[0].toLowerCase() : 'public');

function tsType(pgType, enums) {
  let t = pgType.toLowerCase().trim();
  let array = false;
  if (t.endsWith('[]')) {
    array = true;
    t = t.slice(0, -2).trim();
  }
  t = t.replace(/\(.*\)$/, '').trim();
  let out;
  if (/^(uuid|text|varchar|character varying|character|char|citext|date|time|timetz|timestamp|timestamptz|timestamp with time zone|timestamp without time zone|time with time zone|time without time zone|interval|inet|cidr|macaddr|bytea|tsvector|name)$/.test(t)) {
    out = 'string';
  } else if (/^(smallint|integer|int|int2|int4|int8|bigint|serial|smallserial|bigserial|real|float4|float8|double precision|numeric|decimal|money)$/.test(t)) {
    out = 'number';
  } else if (t === 'bool' || t === 'boolean') {
    out = 'boolean';
  } else if (t === 'json' || t === 'jsonb') {
    out = 'Json';
  } else if (enums.has(bareName(t))) {
    out = `Database["public"]["Enums"]["${bareName(t)}"]`;
  } else {
    out = 'unknown';
  }
  return array ? `${out}[]` : out;
}

function parseColumn(def, enums) {
  const m = /^("[^"]+"|[A-Za-z_][A-Za-z0-9_]*)\s+([\s\S]+)$/.exec(def.trim());
  if (!m) return null;
  const name = unquote(m[1]);
  const words = m[2].split(/\s+/);
  const typeWords = [];
  for (const w of words) {
    if (CONSTRAINT_WORDS.has(w.toLowerCase())) break;
    typeWords.push(w);
  }
  const rest = words.slice(typeWords.length).join(' ').toLowerCase();
  const pgType = typeWords.join(' ');
  const isPk = /primary\s+key/.test(rest);
  const isIdentity = /generated\s+(?:always|by\s+default)\s+as\s+identity/.test(rest) || /serial$/i.test(pgType.trim());
  const refs = rx(String.raw`references\s+(NAME)\s*(?:\(\s*"?(\w+)"?\s*\))?`).exec(words.slice(typeWords.length).join(' '));
  return {
    name,
    type: tsType(pgType, enums),
    nullable: !(/not\s+null/.test(rest) || isPk || isIdentity),
    hasDefault: /\bdefault\b/.test(rest) || /generated/.test(rest) || /serial$/i.test(pgType.trim()),
    references: refs && schemaOf(refs[1]) === 'public' ? { table: bareName(refs[1]), column: refs[2] ? refs[2] : 'id' } : null,
  };
}

function parseSchema(files) {
  const tables = new Map();
  const views = new Map();
  const enums = new Map();
  for (const file of files) {
    for (const raw of statements(stripComments(readFileSync(file, 'utf8')))) {
      const stmt = raw.replace(/\s+/g, ' ').trim();
      let m;
      if ((m = rx(String.raw`^create type (NAME) as enum \((.*)\)$`).exec(stmt))) {
        enums.set(bareName(m[1]), [...m[2].matchAll(/'((?:[^']|'')*)'/g)].map((v) => v[1]));
      } else if ((m = rx(String.raw`^create (?:unlogged )?table (?:if not exists )?(NAME) ?\(([\s\S]*)\)`).exec(stmt))) {
        if (schemaOf(m[1]) !== 'public') continue;
        const name = bareName(m[1]);
        if (tables.has(name)) continue;
        const columns = new Map();
        const relationships = [];
        for (const item of splitTop(m[2])) {
          const lower = item.toLowerCase();
          const pk = /^(?:constraint \S+ )?primary key \(([^)]*)\)/.exec(lower);
          if (pk) {
            for (const col of pk[1].split(',')) {
              const c = columns.get(unquote(col.trim()));
              if (c) c.nullable = false;
            }
            continue;
          }
          const fk = rx(String.raw`^(?:constraint \S+ )?foreign key \(([^)]*)\) references (NAME)\s*\(([^)]*)\)`).exec(lower);
          if (fk) {
            relationships.push({ columns: fk[1].split(',').map((c) => unquote(c.trim())), table: bareName(fk[2]),
              referenced: fk[3].split(',').map((c) => unquote(c.trim())) });
            continue;
          }
          if (/^(constraint|unique|check|exclude)\b/.test(lower)) continue;
          const col = parseColumn(item, enums);
          if (!col) continue;
          columns.set(col.name, col);
          if (col.references) {
            relationships.push({ columns: [col.name], table: col.references.table, referenced: [col.references.column] });
          }
        }
        tables.set(name, { columns, relationships });
      } else if ((m = rx(String.raw`^alter table (?:if exists )?(?:only )?(NAME) (.*)$`).exec(stmt))) {
        const name = bareName(m[1]);
        const table = tables.get(name);
        if (!table) continue;
        const renameTable = /^rename to ("?\w+"?)$/i.exec(m[2]);
        if (renameTable) {
          tables.delete(name);
          tables.set(bareName(renameTable[1]), table);
          continue;
        }
        for (const action of splitTop(m[2])) {
          let a;
          if ((a = /^add (?:column )?(?:if not exists )?([\s\S]+)$/i.exec(action)) && !/^add (constraint|primary|unique|check|foreign)/i.test(action)) {
            const col = parseColumn(a[1], enums);
            if (col) {
              table.columns.set(col.name, col);
              if (col.references) {
                table.relationships.push({ columns: [col.name], table: col.references.table, referenced: [col.references.column] });
              }
            }
          } else if ((a = /^drop column (?:if exists )?("?\w+"?)/i.exec(action))) {
            table.columns.delete(unquote(a[1]));
            table.relationships = table.relationships.filter((r) => !r.columns.includes(unquote(a[1])));
          } else if ((a = /^rename column ("?\w+"?) to ("?\w+"?)$/i.exec(action))) {
            const col = table.columns.get(unquote(a[1]));
            if (col) {
              table.columns.delete(col.name);
              col.name = unquote(a[2]);
              table.columns.set(col.name, col);
            }
          } else if ((a = /^alter column ("?\w+"?) (set|drop) not null$/i.exec(action))) {
            const col = table.columns.get(unquote(a[1]));
            if (col) col.nullable = a[2].toLowerCase() === 'drop';
          } else if ((a = /^alter column ("?\w+"?) (?:set data )?type ([^,]+?)(?: using .*)?$/i.exec(action))) {
            const col = table.columns.get(unquote(a[1]));
            if (col) col.type = tsType(a[2], enums);
          } else if ((a = /^alter column ("?\w+"?) set default/i.exec(action))) {
            const col = table.columns.get(unquote(a[1]));
            if (col) col.hasDefault = true;
          }
        }
      } else if ((m = rx(String.raw`^drop table (?:if exists )?(NAME)`).exec(stmt))) {
        tables.delete(bareName(m[1]));
      } else if ((m = rx(String.raw`^create (?:or replace )?view (NAME)(?: \(([^)]*)\))?(?: with \([^)]*\))? as (.*)$`).exec(stmt))) {
        if (schemaOf(m[1]) !== 'public') continue;
        views.set(bareName(m[1]), viewColumns(m[3], m[2], tables));
      } else if ((m = rx(String.raw`^drop view (?:if exists )?(NAME)`).exec(stmt))) {
        views.delete(bareName(m[1]));
      }
    }
  }
  return { tables, views, enums };
}

// Column names and types of `select a, t.b, count(*) as n from x ...`; a column of a known table keeps its type.
function viewColumns(query, explicit, tables) {
  const sel = rx(String.raw`^\(?\s*select (?:distinct )?([\s\S]*?) from (NAME)`).exec(query);
  const columns = new Map();
  if (!sel) return columns;
  const source = tables.get(bareName(sel[2]));
  const names = explicit ? explicit.split(',').map((c) => unquote(c.trim())) : null;
  splitTop(sel[1]).forEach((expr, index) => {
    const alias = /\s+as\s+("?\w+"?)$/i.exec(expr);
    const bare = expr.replace(/\s+as\s+"?\w+"?$/i, '').trim();
    if (bare === '*' && source) {
      for (const col of source.columns.values()) columns.set(col.name, { ...col, nullable: true });
      return;
    }
    const ref = /^(?:"?\w+"?\.)?("?\w+"?)$/.exec(bare);
    const name = names?.[index] ?? (alias ? unquote(alias[1]) : ref ? unquote(ref[1]) : `column_${index + 1}`);
    let type = 'unknown';
    const known = ref && source ? source.columns.get(unquote(ref[1])) : undefined;
    if (known) type = known.type;
    else if (/^count\(/i.test(bare)) type = 'number';
    else if (/^(sum|avg)\(/i.test(bare)) type = 'number';
    else if (/::\s*(\w+(?: \w+)?)$/.exec(bare)) type = tsType(/::\s*(\w+(?: \w+)?)$/.exec(bare)[1], new Map());
    else if (/^(max|min)\((?:\w+\.)?(\w+)\)$/i.exec(bare) && source) {
      const inner = source.columns.get(/^(max|min)\((?:\w+\.)?(\w+)\)$/i.exec(bare)[2]);
      type = inner ? inner.type : 'unknown';
    }
    columns.set(name, { name, type, nullable: true, hasDefault: false });
  });
  return columns;
}

const quoteKey = (name) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name));
const colType = (c) => (c.nullable ? `${c.type} | null` : c.type);

function relationshipLines(table, name, pad) {
  if (table.relationships.length === 0) return [`${pad}Relationships: []`];
  const lines = [`${pad}Relationships: [`];
  for (const r of table.relationships) {
    lines.push(
      `${pad}  {`,
      `${pad}    foreignKeyName: "${name}_${r.columns.join('_')}_fkey"`,
      `${pad}    columns: [${r.columns.map((c) => JSON.stringify(c)).join(', ')}]`,
      `${pad}    isOneToOne: false`,
      `${pad}    referencedRelation: "${r.table}"`,
      `${pad}    referencedColumns: [${r.referenced.map((c) => JSON.stringify(c)).join(', ')}]`,
      `${pad}  },`,
    );
  }
  lines.push(`${pad}]`);
  return lines;
}

function render({ tables, views, enums }) {
  const lines = [
    '// Generated by scripts/cli-pipeline/database/generate-types.mjs from supabase/migrations. Do not edit.',
    'export type Json = string | number | boolean | null | { [key: string]: Json | undefined } | Json[]',
    '',
    'export type Database = {',
    '  public: {',
    '    Tables: {',
  ];
  const sorted = (map) => [...map.keys()].sort();
  if (tables.size === 0) lines.push('      [_ in never]: never');
  for (const name of sorted(tables)) {
    const t = tables.get(name);
    const cols = [...t.columns.values()].sort((a, b) => a.name.localeCompare(b.name));
    lines.push(`      ${quoteKey(name)}: {`, '        Row: {');
    for (const c of cols) lines.push(`          ${quoteKey(c.name)}: ${colType(c)}`);
    lines.push('        }', '        Insert: {');
    for (const c of cols) {
      const optional = c.nullable || c.hasDefault ? '?' : '';
      lines.push(`          ${quoteKey(c.name)}${optional}: ${colType(c)}`);
    }
    lines.push('        }', '        Update: {');
    for (const c of cols) lines.push(`          ${quoteKey(c.name)}?: ${colType(c)}`);
    lines.push('        }', ...relationshipLines(t, name, '        '), '      }');
  }
  lines.push('    }', '    Views: {');
  if (views.size === 0) lines.push('      [_ in never]: never');
  for (const name of sorted(views)) {
    const cols = [...views.get(name).values()];
    lines.push(`      ${quoteKey(name)}: {`, '        Row: {');
    for (const c of cols) lines.push(`          ${quoteKey(c.name)}: ${colType(c)}`);
    lines.push('        }', '        Relationships: []', '      }');
  }
  lines.push('    }', '    Functions: {', '      [_ in never]: never', '    }', '    Enums: {');
  if (enums.size === 0) lines.push('      [_ in never]: never');
  for (const name of sorted(enums)) {
    lines.push(`      ${quoteKey(name)}: ${enums.get(name).map((v) => JSON.stringify(v)).join(' | ')}`);
  }
  lines.push(
    '    }',
    '    CompositeTypes: {',
    '      [_ in never]: never',
    '    }',
    '  }',
    '}',
    '',
    'type PublicSchema = Database["public"]',
    '',
    'export type Tables<T extends keyof PublicSchema["Tables"]> = PublicSchema["Tables"][T]["Row"]',
    'export type TablesInsert<T extends keyof PublicSchema["Tables"]> = PublicSchema["Tables"][T]["Insert"]',
    'export type TablesUpdate<T extends keyof PublicSchema["Tables"]> = PublicSchema["Tables"][T]["Update"]',
    'export type Views<T extends keyof PublicSchema["Views"]> = PublicSchema["Views"][T]["Row"]',
    'export type Enums<T extends keyof PublicSchema["Enums"]> = PublicSchema["Enums"][T]',
    '',
  );
  return lines.join('\n');
}

const files = existsSync(MIGRATIONS)
  ? readdirSync(MIGRATIONS)
      .filter((f) => f.endsWith('.sql') && !f.endsWith('_down.sql'))
      .sort()
      .map((f) => path.join(MIGRATIONS, f))
  : [];
const schema = parseSchema(files);
const text = render(schema);
if (args.includes('--check')) {
  const current = existsSync(OUT) ? readFileSync(OUT, 'utf8') : '';
  if (current !== text) {
    console.error(`${path.relative(ROOT, OUT)} is out of date; run: node scripts/cli-pipeline/database/generate-types.mjs`);
    process.exit(1);
  }
  console.log(`${path.relative(ROOT, OUT)} is up to date`);
} else {
  writeFileSync(OUT, text);
  console.log(`wrote ${path.relative(ROOT, OUT)}: ${schema.tables.size} tables, ${schema.views.size} views, ${schema.enums.size} enums`);
}
