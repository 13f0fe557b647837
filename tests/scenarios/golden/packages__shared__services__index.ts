// Shared services. Import a service by its folder (`@shared/services/formatter-service`) or from here.
export { NotesService, notesService } from './notes';
export { SupabaseClientService } from './supabase-client';
export { TrackingService } from './tracking-service';
export { FormatterService, formatterService } from './formatter-service';
export { classifyDocument } from './classify-service';
