import type { StoredMessage } from './messages.repository';

/**
 * What a member's search finds a message by: its text, a file's name, a place, a link's title
 * and description, a contact card's name, news articles. The same, in SQL over `messages m`
 * joined with `media_uploads u`, is `SEARCHABLE_TEXT_SQL` (to confirm CJK keywords of three or
 * more characters literally: bigram terms carry no positions).
 */
export function searchableText(m: StoredMessage): string {
  return [
    m.text,
    m.media?.filename,
    m.location?.name,
    m.location?.address,
    m.link?.title,
    m.link?.description,
    m.contactCard?.name,
    ...m.articles.flatMap((a) => [a.title, a.description]),
  ]
    .filter((part): part is string => !!part)
    .join(' ');
}

export const SEARCHABLE_TEXT_SQL = `concat_ws(' ', nullif(m.text, ''), u.filename,
  m.location->>'name', m.location->>'address', m.link->>'title', m.link->>'description',
  m.contact_card->>'name',
  (SELECT string_agg(concat_ws(' ', a->>'title', a->>'description'), ' ')
     FROM jsonb_array_elements(coalesce(m.articles, '[]'::jsonb)) AS a))`;
