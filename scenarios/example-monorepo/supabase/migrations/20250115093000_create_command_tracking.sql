-- Every CLI command run through a pipeline wrapper's track_command.
CREATE TABLE IF NOT EXISTS command_tracking (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  pipeline_name TEXT NOT NULL,
  command_name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('success', 'error', 'running')),
  duration_ms INTEGER,
  summary TEXT,
  executed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS idx_command_tracking_pipeline ON command_tracking (pipeline_name, executed_at DESC);

CREATE TRIGGER update_command_tracking_updated_at
  BEFORE UPDATE ON command_tracking
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

ALTER TABLE command_tracking ENABLE ROW LEVEL SECURITY;

CREATE POLICY "Authenticated users can read command history"
  ON command_tracking FOR SELECT
  TO authenticated
  USING (true);

INSERT INTO sys_table_definitions (table_name, description, purpose)
VALUES ('command_tracking', 'CLI command executions', 'Usage tracking of CLI pipelines')
ON CONFLICT (table_name) DO NOTHING;
