import type { StoredMessage } from './messages.repository';

/**
 * What a member's search finds a message by: its text, a file's name, a place, a link's title
 * and description, a contact card's name, news articles, a text card's or template card's
 * texts. The same, in SQL over `messages m`
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
    m.textcard?.title,
    m.textcard?.description,
    ...templateCardTexts(m.templateCard),
  ]
    .filter((part): part is string => !!part)
    .join(' ');
}

/** A template card's words, in the order SEARCHABLE_TEXT_SQL reads them. */
function templateCardTexts(card: StoredMessage['templateCard']): (string | undefined)[] {
  if (!card) return [];
  return [
    card.mainTitle?.title,
    card.mainTitle?.desc,
    card.emphasisContent?.title,
    card.emphasisContent?.desc,
    card.subTitleText,
    card.quoteArea?.title,
    card.quoteArea?.quoteText,
    ...card.horizontalContentList.flatMap((h) => [h.keyname, h.value]),
    ...card.verticalContentList.flatMap((v) => [v.title, v.desc]),
  ];
}

export const SEARCHABLE_TEXT_SQL = `concat_ws(' ', nullif(m.text, ''), u.filename,
  m.location->>'name', m.location->>'address', m.link->>'title', m.link->>'description',
  m.contact_card->>'name',
  (SELECT string_agg(concat_ws(' ', a->>'title', a->>'description'), ' ')
     FROM jsonb_array_elements(coalesce(m.articles, '[]'::jsonb)) AS a),
  m.textcard->>'title', m.textcard->>'description',
  m.template_card#>>'{mainTitle,title}', m.template_card#>>'{mainTitle,desc}',
  m.template_card#>>'{emphasisContent,title}', m.template_card#>>'{emphasisContent,desc}',
  nullif(m.template_card->>'subTitleText', ''),
  m.template_card#>>'{quoteArea,title}', m.template_card#>>'{quoteArea,quoteText}',
  (SELECT string_agg(concat_ws(' ', h->>'keyname', h->>'value'), ' ')
     FROM jsonb_array_elements(coalesce(m.template_card->'horizontalContentList', '[]'::jsonb)) AS h),
  (SELECT string_agg(concat_ws(' ', v->>'title', v->>'desc'), ' ')
     FROM jsonb_array_elements(coalesce(m.template_card->'verticalContentList', '[]'::jsonb)) AS v))`;
