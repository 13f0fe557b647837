-- Reverts 20260102030406_create_doc_notes.sql: drops only what it created (the shared trigger function stays).
DELETE FROM sys_table_definitions WHERE table_name = 'doc_notes' AND table_schema = 'public';
DROP TABLE doc_notes;
