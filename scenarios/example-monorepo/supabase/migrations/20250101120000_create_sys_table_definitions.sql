-- Registry of every table: CLAUDE.md asks for one row per new table.
CREATE TABLE IF NOT EXISTS sys_table_definitions (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  table_schema TEXT NOT NULL DEFAULT 'public',
  table_name TEXT NOT NULL UNIQUE,
  description TEXT,
  purpose TEXT,
  created_by TEXT,
  created_date DATE NOT NULL DEFAULT CURRENT_DATE,
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

CREATE TRIGGER update_sys_table_definitions_updated_at
  BEFORE UPDATE ON sys_table_definitions
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

INSERT INTO sys_table_definitions (table_name, description, purpose)
VALUES ('sys_table_definitions', 'Registry of all tables', 'Documentation of the schema')
ON CONFLICT (table_name) DO NOTHING;
