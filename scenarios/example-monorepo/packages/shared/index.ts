export * from './services';
export { createSupabaseAdapter } from './adapters/supabase-adapter';
export { ThemeToggle } from './components/theme';
