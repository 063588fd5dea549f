// Han, kana and Hangul: scripts written without spaces between words.
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
// A CJK run, or a run of other letters and digits: CJK letters are letters too, so the second
// excludes them, or `iPhone下单` would be one word and 下单 never a bigram.
const RUN =
  /([\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]+)|((?:(?![\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}])[\p{L}\p{N}])+)/gu;
const LETTERS_OR_DIGITS = /\p{L}+|\p{N}+/gu;

/** NFKC (full-width letters and digits become ASCII) and lower case. */
export const normalise = (text: string): string => text.normalize('NFKC').toLowerCase();

export const hasCjk = (text: string): boolean => CJK.test(text);

/** Longest token kept; longer runs (hashes, base64) are cut, never dropped. */
const MAX_TOKEN = 64;

/**
 * The terms of a text for the PostgreSQL index: every CJK bigram (so 理财 is found inside
 * 这款理财产品收益很高 without a dictionary) plus the last character of each CJK run (so a
 * one-character query matches as a prefix of bigrams or as that final character), and every
 * Latin word or digit run lowercased, with a mixed run such as `iphone15` also split into
 * `iphone` and `15` (phone numbers and ids are found by their digit runs).
 */
export function termsOf(text: string): string[] {
  const terms = new Set<string>();
  for (const match of normalise(text).matchAll(RUN)) {
    const [, cjk, word] = match;
    if (cjk) {
      const chars = [...cjk];
      for (let i = 0; i + 1 < chars.length; i++) terms.add(chars[i] + chars[i + 1]);
      terms.add(chars[chars.length - 1]);
    } else if (word) {
      terms.add(word.slice(0, MAX_TOKEN));
      const parts = word.match(LETTERS_OR_DIGITS) ?? [];
      if (parts.length > 1) for (const part of parts) terms.add(part.slice(0, MAX_TOKEN));
    }
  }
  return [...terms];
}

/**
 * A keyword as a tsquery: every term it has must be present. A single CJK character becomes a
 * prefix query (`字:*`) that matches the bigrams starting with it and the run-final unigram.
 * Null when the keyword has no searchable character at all.
 */
export function keywordQuery(keyword: string): string | null {
  const norm = normalise(keyword);
  const parts: string[] = [];
  for (const match of norm.matchAll(RUN)) {
    const [, cjk, word] = match;
    if (cjk) {
      const chars = [...cjk];
      if (chars.length === 1) parts.push(`${quote(chars[0])}:*`);
      for (let i = 0; i + 1 < chars.length; i++) parts.push(quote(chars[i] + chars[i + 1]));
    } else if (word) {
      parts.push(quote(word.slice(0, MAX_TOKEN)));
    }
  }
  if (!parts.length) return null;
  return parts.length === 1 ? parts[0] : `(${parts.join(' & ')})`;
}

// Terms hold only letters and digits, so quoting needs no escapes; keep it safe regardless.
const quote = (term: string) => `'${term.replace(/['\\]/g, '')}'`;
