-- Migration: create doc_notes
-- Created: 2026-01-02
-- Doc Notes

CREATE TABLE doc_notes (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id UUID NOT NULL DEFAULT auth.uid(),
  title TEXT,
  body TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The shared trigger function, created only where the database lacks it (an existing one is never replaced).
DO $$
BEGIN
  IF to_regprocedure('update_updated_at_column()') IS NULL THEN
    CREATE FUNCTION update_updated_at_column() RETURNS TRIGGER LANGUAGE plpgsql AS $fn$
    BEGIN
      NEW.updated_at = now();
      RETURN NEW;
    END;
    $fn$;
  END IF;
END $$;

CREATE TRIGGER update_doc_notes_updated_at
  BEFORE UPDATE ON doc_notes
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE INDEX idx_doc_notes_owner_id ON doc_notes (owner_id);

ALTER TABLE doc_notes ENABLE ROW LEVEL SECURITY;

CREATE POLICY doc_notes_owner ON doc_notes
  FOR ALL TO authenticated
  USING (owner_id = auth.uid())
  WITH CHECK (owner_id = auth.uid());

-- Register the table (sys_table_definitions: table_schema, table_name, description, purpose, created_date; unique on table_name).
INSERT INTO sys_table_definitions (table_schema, table_name, description, purpose, created_date)
VALUES ('public', 'doc_notes', 'Doc Notes', 'Created by continuous create-table on 2026-01-02', CURRENT_DATE)
ON CONFLICT (table_name) DO NOTHING;
