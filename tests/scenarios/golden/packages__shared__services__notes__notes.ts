import type { SupabaseClient } from '@supabase/supabase-js';
import type { Database } from '../../../../supabase/types';
import { SupabaseClientService } from '../supabase-client';

type DocNoteTable = Database['public']['Tables']['doc_notes'];
export type DocNote = DocNoteTable['Row'];
export type DocNoteInsert = DocNoteTable['Insert'];
export type DocNoteUpdate = DocNoteTable['Update'];

/**
 * Notes.
 * Server and CLI code use the shared SupabaseClientService; browser code passes its client once:
 * `NotesService.getInstance(createSupabaseAdapter({ env: import.meta.env }))`.
 */
export class NotesService {
  private static instance: NotesService | null = null;
  private client: SupabaseClient<Database> | null = null;

  private constructor() {}

  static getInstance(client?: SupabaseClient<Database>): NotesService {
    if (!NotesService.instance) {
      NotesService.instance = new NotesService();
    }
    if (client) {
      NotesService.instance.client = client;
    }
    return NotesService.instance;
  }

  private db(): SupabaseClient<Database> {
    if (!this.client) {
      this.client = SupabaseClientService.getInstance().getClient();
    }
    return this.client;
  }

  async list(limit = 100): Promise<DocNote[]> {
    const { data, error } = await this.db()
      .from('doc_notes')
      .select('*')
      .order('created_at', { ascending: false })
      .limit(limit);
    if (error) {
      throw new Error(`NotesService.list failed: ${error.message}`);
    }
    return data ?? [];
  }

  async getById(id: string): Promise<DocNote | null> {
    const { data, error } = await this.db().from('doc_notes').select('*').eq('id', id).maybeSingle();
    if (error) {
      throw new Error(`NotesService.getById failed: ${error.message}`);
    }
    return data;
  }

  async create(values: DocNoteInsert): Promise<DocNote> {
    const { data, error } = await this.db().from('doc_notes').insert(values).select('*').single();
    if (error) {
      throw new Error(`NotesService.create failed: ${error.message}`);
    }
    return data;
  }

  async update(id: string, values: DocNoteUpdate): Promise<DocNote> {
    const { data, error } = await this.db().from('doc_notes').update(values).eq('id', id).select('*').single();
    if (error) {
      throw new Error(`NotesService.update failed: ${error.message}`);
    }
    return data;
  }

  async remove(id: string): Promise<void> {
    const { error } = await this.db().from('doc_notes').delete().eq('id', id);
    if (error) {
      throw new Error(`NotesService.remove failed: ${error.message}`);
    }
  }
}

export const notesService = NotesService.getInstance();
