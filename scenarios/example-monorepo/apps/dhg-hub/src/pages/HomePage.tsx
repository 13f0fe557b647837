import { Link } from 'react-router-dom';
import { ThemeToggle } from '@shared/components/theme/ThemeToggle';

export function HomePage() {
  return (
    <main className="page">
      <h1>DHG Hub</h1>
      <p>Documents, pipelines and tools in one place.</p>
      <nav>
        <Link to="/settings">Settings</Link>
      </nav>
      <ThemeToggle />
    </main>
  );
}
