/** Where a keyword occurs in a text: [start, end) in UTF-16 code units (JavaScript string indices). */
export interface MatchRange {
  start: number;
  end: number;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Every literal, case-insensitive occurrence of any keyword in `text`, in order and never
 * overlapping (the longest keyword wins where several start at the same place), at most `max`.
 * Clients render the ranges themselves; nothing here is HTML.
 */
export function matchRanges(text: string, keywords: string[], max = 20): MatchRange[] {
  const wanted = [...new Set(keywords.map((k) => k.trim()).filter(Boolean))];
  if (!wanted.length || !text) return [];
  const pattern = new RegExp(
    wanted
      .sort((a, b) => b.length - a.length)
      .map(escapeRegExp)
      .join('|'),
    'giu',
  );
  const ranges: MatchRange[] = [];
  for (const hit of text.matchAll(pattern)) {
    ranges.push({ start: hit.index, end: hit.index + hit[0].length });
    if (ranges.length >= max) break;
  }
  return ranges;
}
