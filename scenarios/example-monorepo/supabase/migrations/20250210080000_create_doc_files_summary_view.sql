CREATE OR REPLACE VIEW doc_files_summary AS
SELECT
  document_type,
  count(*) AS total,
  sum(word_count) AS words,
  max(updated_at) AS last_updated
FROM doc_files
WHERE is_archived = false
GROUP BY document_type;
