export type DocumentClass = 'technical-spec' | 'solution-guide' | 'work-summary' | 'other';

const RULES: ReadonlyArray<[RegExp, DocumentClass]> = [
  [/\b(spec|specification|architecture)\b/i, 'technical-spec'],
  [/\b(how to|fix|solution|workaround)\b/i, 'solution-guide'],
  [/\b(summary|done|completed)\b/i, 'work-summary'],
];

/** Classify a document by its title; a cheap first pass before asking Claude. */
export function classifyDocument(title: string): DocumentClass {
  for (const [pattern, kind] of RULES) {
    if (pattern.test(title)) {
      return kind;
    }
  }
  return 'other';
}
