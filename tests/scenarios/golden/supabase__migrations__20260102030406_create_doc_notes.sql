-- Migration: create doc_notes
-- Created: 2026-01-02
-- Doc Notes

CREATE TABLE IF NOT EXISTS doc_notes (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id UUID NOT NULL DEFAULT auth.uid(),
  title TEXT,
  body TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE OR REPLACE FUNCTION update_updated_at_column()
RETURNS TRIGGER AS $$
BEGIN
  NEW.updated_at = now();
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS update_doc_notes_updated_at ON doc_notes;
CREATE TRIGGER update_doc_notes_updated_at
  BEFORE UPDATE ON doc_notes
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE INDEX IF NOT EXISTS idx_doc_notes_owner_id ON doc_notes (owner_id);

ALTER TABLE doc_notes ENABLE ROW LEVEL SECURITY;

CREATE POLICY doc_notes_owner ON doc_notes
  FOR ALL TO authenticated
  USING (owner_id = auth.uid())
  WITH CHECK (owner_id = auth.uid());

INSERT INTO sys_table_definitions (table_name, description, purpose)
VALUES ('doc_notes', 'Doc Notes', 'Created by continuous create-table on 2026-01-02')
ON CONFLICT (table_name) DO NOTHING;
