import type { Canonical } from '../chain/hash-chain';
import type { NewArchiveRecord } from './archive-record';

type Fields = Pick<NewArchiveRecord, 'kind' | 'type' | 'text' | 'details' | 'media'>;
type CanonicalObject = { [key: string]: Canonical };

const objectOf = (value: Canonical | undefined): CanonicalObject | null =>
  value && typeof value === 'object' && !Array.isArray(value) ? value : null;
const stringOf = (value: Canonical | undefined): string | null =>
  typeof value === 'string' && value ? value : null;
/**
 * A text card's description may carry WeCom's few HTML-like tags (<div class="gray">…): each
 * run of tags (and the whitespace around it) reads as one space, as the card shows its lines.
 */
const withoutTags = (value: string | null): string | null =>
  value === null
    ? null
    : value.replace(/([ \t\r\n]*<[^>]*>[ \t\r\n]*)+/g, ' ').replace(/^ +| +$/g, '') || null;
const join = (parts: (string | null | undefined)[]): string =>
  parts.filter((part): part is string => !!part).join(' ');

/** Conversation records whose group notice and welcome message are new (not a repetition). */
export const CONVERSATION_TEXT_TYPES = ['conversation.created', 'conversation.settings_changed'];

/**
 * What keywords find a record by, in the words a person reads: for a message (members' and
 * apps' messages, announcements) its title (announcements), its text or markdown, its files'
 * names, a video's caption, a text card's title, description (without tags) and link, news
 * articles' titles, descriptions and links, a link card, a place, a contact card's name; for a
 * group's creation or settings change its group notice (群公告) and welcome message (what was
 * said to the group; not its name, or every keyword search would list the group's changes).
 * Recalls, media outcomes and tombstones say nothing themselves (they are found by filters). A
 * record whose content was withheld (no consent) has nothing to find.
 *
 * Alerts run on it, both indexes index it, highlights are cut from it and exports' CSV shows
 * it. `SEARCHABLE_TEXT_SQL` is the same over `archive_records r`, for the PostgreSQL index to
 * confirm phrases on (its terms carry no positions); the two are tested to agree.
 */
export function searchableText(r: Fields): string {
  const d = r.details;
  if (r.kind === 'conversation') {
    if (!CONVERSATION_TEXT_TYPES.includes(r.type)) return '';
    return join([stringOf(objectOf(d.notice)?.text), stringOf(d.welcomeMessage)]);
  }
  if (r.kind !== 'message') return '';
  const caption = objectOf(d.caption);
  const card = objectOf(d.textcard);
  const link = objectOf(d.link);
  const location = objectOf(d.location);
  const contact = objectOf(d.contactCard);
  const articles = Array.isArray(d.articles) ? d.articles : [];
  return join([
    stringOf(d.title),
    r.text,
    join(r.media.map((m) => stringOf(objectOf(m)?.filename))) || null,
    stringOf(caption?.title),
    stringOf(caption?.description),
    stringOf(card?.title),
    withoutTags(stringOf(card?.description)),
    stringOf(card?.url),
    join(
      articles.map((a) => {
        const article = objectOf(a);
        return join([
          stringOf(article?.title),
          stringOf(article?.description),
          stringOf(article?.url),
        ]);
      }),
    ) || null,
    stringOf(link?.title),
    stringOf(link?.description),
    stringOf(link?.url),
    stringOf(location?.name),
    stringOf(location?.address),
    stringOf(contact?.name),
    templateCardText(objectOf(d.templateCard)),
  ]);
}

/**
 * A template card's words in the order the card shows them: its source line, main title and
 * description, quoted area, emphasised figure and caption, secondary text, key/value lines,
 * links' titles, picture-with-text, and vertical lines.
 */
function templateCardText(card: CanonicalObject | null): string | null {
  if (!card) return null;
  const field = (object: Canonical | undefined, key: string) => stringOf(objectOf(object)?.[key]);
  const list = (value: Canonical | undefined, keys: string[]) =>
    join(
      (Array.isArray(value) ? value : []).map((item) => join(keys.map((k) => field(item, k)))),
    ) || null;
  return (
    join([
      field(card.source, 'desc'),
      field(card.mainTitle, 'title'),
      field(card.mainTitle, 'desc'),
      field(card.quoteArea, 'title'),
      field(card.quoteArea, 'quoteText'),
      field(card.emphasisContent, 'title'),
      field(card.emphasisContent, 'desc'),
      stringOf(card.subTitleText),
      list(card.horizontalContentList, ['keyname', 'value']),
      list(card.jumpList, ['title']),
      field(card.imageTextArea, 'title'),
      field(card.imageTextArea, 'desc'),
      list(card.verticalContentList, ['title', 'desc']),
    ]) || null
  );
}

const part = (path: string) => `nullif(r.details #>> '{${path}}', '')`;
/** The words of a template card's list, each item's `keys` in order (see templateCardText). */
const cardList = (name: string, keys: string[]) => `(SELECT nullif(string_agg(nullif(concat_ws(' ',
    ${keys.map((k) => `nullif(i ->> '${k}', '')`).join(', ')}), ''), ' '), '')
   FROM jsonb_array_elements(CASE WHEN jsonb_typeof(r.details #> '{templateCard,${name}}') = 'array'
                                  THEN r.details #> '{templateCard,${name}}' ELSE '[]' END) AS i)`;

/** `searchableText` in SQL over an `archive_records r` row. */
export const SEARCHABLE_TEXT_SQL = `(CASE
  WHEN r.kind = 'message' THEN concat_ws(' ', ${part('title')}, nullif(r.text, ''),
    (SELECT nullif(string_agg(nullif(m ->> 'filename', ''), ' '), '')
       FROM jsonb_array_elements(CASE WHEN jsonb_typeof(r.media) = 'array' THEN r.media ELSE '[]' END) AS m),
    ${part('caption,title')}, ${part('caption,description')},
    ${part('textcard,title')},
    nullif(btrim(regexp_replace(r.details #>> '{textcard,description}',
                                '([ \\t\\r\\n]*<[^>]*>[ \\t\\r\\n]*)+', ' ', 'g'), ' '), ''),
    ${part('textcard,url')},
    (SELECT nullif(string_agg(nullif(concat_ws(' ', nullif(a ->> 'title', ''),
               nullif(a ->> 'description', ''), nullif(a ->> 'url', '')), ''), ' '), '')
       FROM jsonb_array_elements(CASE WHEN jsonb_typeof(r.details -> 'articles') = 'array'
                                      THEN r.details -> 'articles' ELSE '[]' END) AS a),
    ${part('link,title')}, ${part('link,description')}, ${part('link,url')},
    ${part('location,name')}, ${part('location,address')}, ${part('contactCard,name')},
    nullif(concat_ws(' ', ${part('templateCard,source,desc')},
      ${part('templateCard,mainTitle,title')}, ${part('templateCard,mainTitle,desc')},
      ${part('templateCard,quoteArea,title')}, ${part('templateCard,quoteArea,quoteText')},
      ${part('templateCard,emphasisContent,title')}, ${part('templateCard,emphasisContent,desc')},
      ${part('templateCard,subTitleText')},
      ${cardList('horizontalContentList', ['keyname', 'value'])},
      ${cardList('jumpList', ['title'])},
      ${part('templateCard,imageTextArea,title')}, ${part('templateCard,imageTextArea,desc')},
      ${cardList('verticalContentList', ['title', 'desc'])}), ''))
  WHEN r.kind = 'conversation' AND r.type IN (${CONVERSATION_TEXT_TYPES.map((t) => `'${t}'`).join(', ')})
    THEN concat_ws(' ', ${part('notice,text')}, ${part('welcomeMessage')})
  ELSE '' END)`;
