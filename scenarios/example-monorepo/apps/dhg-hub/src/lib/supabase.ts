import { createSupabaseAdapter } from '@shared/adapters/supabase-adapter';

export const supabase = createSupabaseAdapter({ env: import.meta.env });
