CREATE TABLE IF NOT EXISTS doc_files (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  file_path TEXT NOT NULL UNIQUE,
  title TEXT,
  document_type TEXT,
  owner_id UUID,
  metadata JSONB DEFAULT '{}'::jsonb,
  word_count INTEGER DEFAULT 0,
  is_archived BOOLEAN NOT NULL DEFAULT false,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TRIGGER update_doc_files_updated_at
  BEFORE UPDATE ON doc_files
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

ALTER TABLE doc_files ENABLE ROW LEVEL SECURITY;

CREATE POLICY "Owners manage their documents"
  ON doc_files FOR ALL
  TO authenticated
  USING (owner_id = auth.uid())
  WITH CHECK (owner_id = auth.uid());

INSERT INTO sys_table_definitions (table_name, description, purpose)
VALUES ('doc_files', 'Markdown documents under docs/', 'Document classification and search')
ON CONFLICT (table_name) DO NOTHING;
