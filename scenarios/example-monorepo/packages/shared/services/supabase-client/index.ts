export { SupabaseClientService } from './supabase-client';
