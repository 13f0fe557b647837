import { useEffect, useState } from 'react';
import { createSupabaseAdapter } from '@shared/adapters/supabase-adapter';
import type { Database } from '../../../../supabase/types';

type CommandRow = Database['public']['Tables']['command_tracking']['Row'];

const supabase = createSupabaseAdapter({ env: import.meta.env });

export function DashboardPage() {
  const [commands, setCommands] = useState<CommandRow[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    supabase
      .from('command_tracking')
      .select('*')
      .order('executed_at', { ascending: false })
      .limit(20)
      .then(({ data, error: err }) => {
        if (err) {
          setError(err.message);
          return;
        }
        setCommands(data ?? []);
      });
  }, []);

  return (
    <main>
      <h1>Recent commands</h1>
      {error && <p role="alert">{error}</p>}
      <ul>
        {commands.map((c) => (
          <li key={c.id}>
            {c.pipeline_name} {c.command_name} — {c.status}
          </li>
        ))}
      </ul>
    </main>
  );
}
