export { NotesService, notesService } from './notes';
export type { DocNote, DocNoteInsert, DocNoteUpdate } from './notes';
