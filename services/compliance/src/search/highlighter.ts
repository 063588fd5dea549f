const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Characters of context kept on each side of the first hit. */
const CONTEXT = 60;

/**
 * A snippet of `text` around the first hit of any keyword (case-insensitive), HTML-escaped with
 * every hit wrapped in `<em>…</em>`. Null when no keyword occurs literally in the text.
 */
export function highlight(text: string, keywords: string[]): string | null {
  const wanted = keywords.map((k) => k.trim()).filter(Boolean);
  if (!wanted.length) return null;
  // Longest first, so 理财产品 wins over 理财 where both match.
  const pattern = new RegExp(
    wanted
      .sort((a, b) => b.length - a.length)
      .map(escapeRegExp)
      .join('|'),
    'giu',
  );
  const hits = [...text.matchAll(pattern)];
  if (!hits.length) return null;
  const first = hits[0].index;
  const start = Math.max(0, first - CONTEXT);
  const end = Math.min(text.length, first + hits[0][0].length + CONTEXT);
  let out = start > 0 ? '…' : '';
  let at = start;
  for (const hit of hits) {
    const from = hit.index;
    const to = from + hit[0].length;
    if (from < at) continue;
    if (to > end) break;
    out += `${escapeHtml(text.slice(at, from))}<em>${escapeHtml(hit[0])}</em>`;
    at = to;
  }
  out += escapeHtml(text.slice(at, end)) + (end < text.length ? '…' : '');
  return out;
}
