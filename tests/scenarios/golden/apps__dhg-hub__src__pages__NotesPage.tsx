import { useState } from 'react';

export function NotesPage() {
  const [filter, setFilter] = useState<string>('');

  return (
    <main className="page">
      <header>
        <h1>Notes</h1>
        <p>Notes for dhg-hub.</p>
      </header>
      <label>
        Filter
        <input type="search" value={filter} onChange={(event) => setFilter(event.target.value)} />
      </label>
      {filter && <p>Showing results for “{filter}”.</p>}
    </main>
  );
}
