-- Reverts 20260102030406_create_doc_notes.sql
DELETE FROM sys_table_definitions WHERE table_name = 'doc_notes';
DROP TABLE IF EXISTS doc_notes;
