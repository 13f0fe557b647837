import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import type { Database } from '../../../../supabase/types';

/**
 * The one Supabase client for CLI and server code. Browser apps use `createSupabaseAdapter` instead.
 */
export class SupabaseClientService {
  private static instance: SupabaseClientService | null = null;
  private client: SupabaseClient<Database> | null = null;

  private constructor() {}

  static getInstance(): SupabaseClientService {
    if (!SupabaseClientService.instance) {
      SupabaseClientService.instance = new SupabaseClientService();
    }
    return SupabaseClientService.instance;
  }

  getClient(): SupabaseClient<Database> {
    if (!this.client) {
      const url = process.env.SUPABASE_URL;
      const key = process.env.SUPABASE_SERVICE_ROLE_KEY ?? process.env.SUPABASE_ANON_KEY;
      if (!url || !key) {
        throw new Error('SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY must be set (see .env.example)');
      }
      this.client = createClient<Database>(url, key, { auth: { persistSession: false } });
    }
    return this.client;
  }
}
