import { useEffect, useState } from 'react';

export type Theme = 'light' | 'dark';

export interface ThemeToggleProps {
  initial?: Theme;
}

export function ThemeToggle({ initial = 'light' }: ThemeToggleProps) {
  const [theme, setTheme] = useState<Theme>(initial);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  return (
    <button type="button" onClick={() => setTheme(theme === 'light' ? 'dark' : 'light')}>
      {theme === 'light' ? 'Dark mode' : 'Light mode'}
    </button>
  );
}
