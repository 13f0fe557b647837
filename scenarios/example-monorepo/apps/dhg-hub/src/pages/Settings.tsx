import { useAuth } from '../hooks/useAuth';

export function Settings() {
  const { session, signOut } = useAuth();
  return (
    <main className="page">
      <h1>Settings</h1>
      <p>Signed in as {session?.user.email ?? 'unknown'}</p>
      <button type="button" onClick={() => void signOut()}>
        Sign out
      </button>
    </main>
  );
}
