import type { SupabaseClient } from '@supabase/supabase-js';
import type { Database } from '../../../../supabase/types';
import { SupabaseClientService } from '../supabase-client';

export type CommandTrackingInsert = Database['public']['Tables']['command_tracking']['Insert'];

/** Records every CLI command in command_tracking; the wrappers call it through shell-command-tracker.ts. */
export class TrackingService {
  private static instance: TrackingService | null = null;

  private constructor(private readonly client: SupabaseClient<Database>) {}

  static getInstance(client?: SupabaseClient<Database>): TrackingService {
    if (!TrackingService.instance) {
      TrackingService.instance = new TrackingService(client ?? SupabaseClientService.getInstance().getClient());
    }
    return TrackingService.instance;
  }

  async record(entry: CommandTrackingInsert): Promise<void> {
    const { error } = await this.client.from('command_tracking').insert(entry);
    if (error) {
      throw new Error(`could not record command ${entry.command_name}: ${error.message}`);
    }
  }
}
