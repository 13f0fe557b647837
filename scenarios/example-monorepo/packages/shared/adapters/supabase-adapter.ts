import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import type { Database } from '../../../supabase/types';

export interface SupabaseAdapterOptions {
  env: {
    VITE_SUPABASE_URL?: string;
    VITE_SUPABASE_ANON_KEY?: string;
  };
}

let cached: SupabaseClient<Database> | null = null;

/** The browser-side Supabase client, built from the app's Vite environment. */
export function createSupabaseAdapter({ env }: SupabaseAdapterOptions): SupabaseClient<Database> {
  if (!cached) {
    const url = env.VITE_SUPABASE_URL;
    const key = env.VITE_SUPABASE_ANON_KEY;
    if (!url || !key) {
      throw new Error('VITE_SUPABASE_URL and VITE_SUPABASE_ANON_KEY must be set');
    }
    cached = createClient<Database>(url, key);
  }
  return cached;
}
