"""The example monorepo's offline type generator (generate-types.mjs) reads real-world migration SQL into the
Database type (the library's generate-types merges in the same layout; test_generated_code checks they agree)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .conftest import LIBRARY, tsc_path

GENERATOR = LIBRARY / "example-monorepo" / "scripts" / "cli-pipeline" / "database" / "generate-types.mjs"

MIGRATION = """
-- a comment; with a semicolon
CREATE TYPE public.doc_status AS ENUM ('draft', 'published');
/* block comment; */
CREATE TABLE public."learn_topics" (
  id uuid DEFAULT gen_random_uuid() NOT NULL,
  title character varying(255) NOT NULL,
  price numeric(10,2),
  tags text[] DEFAULT '{}',
  status doc_status DEFAULT 'draft' NOT NULL,
  published_at timestamp with time zone,
  score double precision,
  n integer GENERATED ALWAYS AS IDENTITY,
  owner uuid REFERENCES auth.users(id) ON DELETE CASCADE,
  parent_id uuid,
  meta jsonb,
  CONSTRAINT learn_topics_pkey PRIMARY KEY (id),
  CONSTRAINT fk_parent FOREIGN KEY (parent_id) REFERENCES learn_topics(id),
  CHECK (price >= 0)
);
CREATE FUNCTION touch() RETURNS trigger AS $fn$ BEGIN NEW.x := 'a;b'; RETURN NEW; END; $fn$ LANGUAGE plpgsql;
ALTER TABLE learn_topics ADD COLUMN IF NOT EXISTS summary text, ADD COLUMN level smallint NOT NULL DEFAULT 1;
ALTER TABLE learn_topics RENAME COLUMN score TO rating;
ALTER TABLE learn_topics DROP COLUMN IF EXISTS tags;
ALTER TABLE learn_topics ALTER COLUMN summary SET NOT NULL;
CREATE TABLE scratch (id int);
DROP TABLE scratch;
CREATE TABLE other.hidden (id int);
CREATE OR REPLACE VIEW learn_topic_titles AS
  SELECT t.id, t.title AS name, count(*) AS c FROM learn_topics t GROUP BY t.id;
"""

USE = """
import { createClient } from '@supabase/supabase-js';
import type { Database, Tables, TablesInsert, Enums } from './supabase/types';

const client = createClient<Database>('http://localhost:54321', 'key');
export const status: Enums<'doc_status'> = 'published';
export async function titles(): Promise<string[]> {
  const row: TablesInsert<'learn_topics'> = { title: 't', summary: 's', status };
  await client.from('learn_topics').insert(row);
  const { data } = await client.from('learn_topics').select('*').eq('status', 'draft');
  const rows: Tables<'learn_topics'>[] = data ?? [];
  return rows.map((r) => r.title + r.level.toFixed(0) + (r.rating ?? 0));
}
"""


@pytest.mark.slow  # runs node
def test_generator_reads_real_world_sql(tmp_path: Path) -> None:
    (tmp_path / "supabase/migrations").mkdir(parents=True)
    (tmp_path / "supabase/migrations/20250101000000_topics.sql").write_text(MIGRATION)
    (tmp_path / "supabase/migrations/20250101000000_topics_down.sql").write_text("DROP TABLE learn_topics;")
    run = subprocess.run(["node", str(GENERATOR), "--root", str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "1 tables, 1 views, 1 enums" in run.stdout
    types = (tmp_path / "supabase/types.ts").read_text()
    for line in (
        "          id: string\n",
        "          title: string\n",
        "          price: number | null\n",
        '          status: Database["public"]["Enums"]["doc_status"]\n',
        "          n: number\n",
        "          rating: number | null\n",
        "          level: number\n",
        "          summary: string\n",
        "          meta: Json | null\n",
        '      doc_status: "draft" | "published"\n',
        '            referencedRelation: "learn_topics"\n',
    ):
        assert line in types, line
    assert "tags" not in types and "scratch" not in types and "hidden" not in types and '"users"' not in types
    assert "          name: string | null\n" in types and "          c: number | null\n" in types
    check = subprocess.run(
        ["node", str(GENERATOR), "--root", str(tmp_path), "--check"], capture_output=True, text=True
    )
    assert check.returncode == 0
    (tmp_path / "supabase/migrations/20250102000000_more.sql").write_text(
        "ALTER TABLE learn_topics ADD x int;"
    )
    stale = subprocess.run(
        ["node", str(GENERATOR), "--root", str(tmp_path), "--check"], capture_output=True, text=True
    )
    assert stale.returncode == 1 and "out of date" in stale.stderr
    tsc = tsc_path()
    if tsc is None:
        pytest.fail("TypeScript is not installed: run .ci/node-tools.sh (make test does)")
    (tmp_path / "node_modules").symlink_to(tsc.parent.parent, target_is_directory=True)
    (tmp_path / "use.ts").write_text(USE)
    proc = subprocess.run(
        [
            str(tsc),
            "--noEmit",
            "--strict",
            "--skipLibCheck",
            "--module",
            "esnext",
            "--moduleResolution",
            "bundler",
            "--target",
            "es2020",
            str(tmp_path / "use.ts"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
