import { Inject, Injectable } from '@nestjs/common';
import { MESSAGING_CONFIG, type MessagingConfig } from '../config';
import { termsOf } from '@qiwei/text-search';
import { sqlLiteral } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';
import { searchableText, SEARCHABLE_TEXT_SQL } from './searchable-text';

export type MessageType =
  | 'text'
  | 'markdown'
  | 'image'
  | 'voice'
  | 'video'
  | 'file'
  | 'news'
  | 'location'
  | 'link'
  | 'contact_card'
  | 'textcard'
  | 'template_card';

/** A location message's place (WGS-84). */
export interface MessageLocation {
  latitude: number;
  longitude: number;
  name: string;
  address: string;
}

/** A link message's card; `url` and `picUrl` are http(s). */
export interface MessageLink {
  title: string;
  description: string;
  url: string;
  picUrl: string;
}

/** A contact card (名片): a member of the corp, named as when it was sent. */
export interface MessageContactCard {
  userid: string;
  name: string;
}

/** One article of a news message (sent by group robots and apps). */
export interface NewsArticle {
  title: string;
  description: string;
  url: string;
  picurl: string;
}

/** A text card (WeCom's `textcard`, sent by apps). */
export interface TextCard {
  title: string;
  description: string;
  url: string;
  btntxt: string;
}

/** Where a click on part of a template card leads: 0 nowhere, 1 `url`, 2 a mini program. */
export interface CardAction {
  type: number;
  url: string;
  appid: string;
  pagepath: string;
}

export interface CardTitle {
  title: string;
  desc: string;
}

/**
 * A template card (WeCom's `template_card`, sent by apps): `text_notice` or `news_notice`, as
 * the `TemplateCard` of the message events (absent parts null or empty).
 */
export interface TemplateCard {
  cardType: 'text_notice' | 'news_notice';
  taskId: string;
  source: { iconUrl: string; desc: string; descColor: number } | null;
  mainTitle: CardTitle | null;
  quoteArea: { action: CardAction; title: string; quoteText: string } | null;
  emphasisContent: CardTitle | null;
  subTitleText: string;
  horizontalContentList: {
    type: number;
    keyname: string;
    value: string;
    url: string;
    userid: string;
  }[];
  jumpList: { action: CardAction; title: string }[];
  cardAction: CardAction;
  cardImage: { url: string; aspectRatio: number } | null;
  imageTextArea: { action: CardAction; title: string; desc: string; imageUrl: string } | null;
  verticalContentList: CardTitle[];
}

/** The title and description an app gives a video (WeCom's `video.title`, `video.description`). */
export interface MediaCaption {
  title: string;
  description: string;
}

/** What a media message carries about its file. */
export interface MessageMediaInfo {
  id: string;
  kind: string;
  bucket: string;
  objectKey: string;
  size: number;
  sha256: string;
  filename: string;
  contentType: string;
}

export interface StoredMessage {
  corpId: string;
  conversationId: string;
  seq: number;
  id: string;
  sender: string;
  clientMsgId: string;
  type: MessageType;
  text: string;
  mentions: string[];
  quoteSeq: number;
  media: MessageMediaInfo | null;
  /** News messages: 1 to 8 articles; empty otherwise. */
  articles: NewsArticle[];
  location: MessageLocation | null;
  link: MessageLink | null;
  contactCard: MessageContactCard | null;
  /** Text card messages (apps) */
  textcard: TextCard | null;
  /** Template card messages (apps) */
  templateCard: TemplateCard | null;
  /** Video messages of apps that gave a title or description */
  caption: MediaCaption | null;
  /** Confidential (WeCom's `safe`): clients must not let it be forwarded */
  safe: boolean;
  sentAt: Date;
  recalledAt: Date | null;
  recalledBy: string | null;
}

interface MessageRow {
  corp_id: string;
  conversation_id: string;
  seq: string;
  id: string;
  sender: string;
  client_msg_id: string;
  type: MessageType;
  text: string;
  mentions: string[];
  quote_seq: string;
  sent_at: Date;
  recalled_at: Date | null;
  recalled_by: string | null;
  media_id: string | null;
  media_kind: string | null;
  media_key: string | null;
  media_size: string | null;
  media_sha256: string | null;
  media_filename: string | null;
  media_content_type: string | null;
  articles: NewsArticle[] | null;
  location: MessageLocation | null;
  link: MessageLink | null;
  contact_card: MessageContactCard | null;
  textcard: TextCard | null;
  template_card: TemplateCard | null;
  caption: MediaCaption | null;
  safe: boolean;
}

// Messages with their media's details (a media message's upload row never goes away).
const COLUMNS = `m.corp_id, m.conversation_id, m.seq, m.id, m.sender, m.client_msg_id, m.type, m.text,
  m.mentions, m.quote_seq, m.sent_at, m.recalled_at, m.recalled_by, m.media_id, m.articles,
  m.location, m.link, m.contact_card, m.textcard, m.template_card, m.caption, m.safe,
  u.kind AS media_kind, u.object_key AS media_key, u.size AS media_size, u.sha256 AS media_sha256,
  u.filename AS media_filename, u.content_type AS media_content_type`;
const FROM = `messages m LEFT JOIN media_uploads u ON u.corp_id = m.corp_id AND u.id = m.media_id`;

const toMessage = (r: MessageRow, bucket: string): StoredMessage => ({
  corpId: r.corp_id,
  conversationId: r.conversation_id,
  seq: Number(r.seq),
  id: r.id,
  sender: r.sender,
  clientMsgId: r.client_msg_id,
  type: r.type,
  text: r.text,
  mentions: r.mentions,
  quoteSeq: Number(r.quote_seq),
  media: r.media_id
    ? {
        id: r.media_id,
        kind: r.media_kind ?? '',
        bucket,
        objectKey: r.media_key ?? '',
        size: Number(r.media_size),
        sha256: r.media_sha256 ?? '',
        filename: r.media_filename ?? '',
        contentType: r.media_content_type ?? '',
      }
    : null,
  articles: r.articles ?? [],
  location: r.location,
  link: r.link,
  contactCard: r.contact_card,
  textcard: r.textcard,
  templateCard: r.template_card,
  caption: r.caption,
  safe: r.safe,
  sentAt: r.sent_at,
  recalledAt: r.recalled_at,
  recalledBy: r.recalled_by,
});

/** A member's search of their own conversations (see MessageSearchService). */
export interface MessageSearchQuery {
  corpId: string;
  userid: string;
  /** Every keyword's terms, as one tsquery; null when searching without keywords. */
  tsquery: string | null;
  /** Keywords to confirm literally in the searchable text. */
  literal: string[];
  sender?: string;
  conversationId?: string;
  type?: MessageType;
  from?: Date;
  to?: Date;
  /** Newest first: continue below this (sentAt, conversationId, seq). */
  after?: { sentAt: string; conversationId: string; seq: number };
  limit: number;
}

export type FoundMessage = StoredMessage & { conversationName: string; conversationKind: string };

/** How events and messages name a group robot as sender: `robot:<robotId>` (never a userid). */
export const ROBOT_SENDER_PREFIX = 'robot:';

/** How messages name an app posting into a group it created (appchat/send): `app:<agentid>`. */
export const APP_SENDER_PREFIX = 'app:';

/**
 * Robots and apps post into their groups without being participants. `corp`, `conversation` and
 * `sender` are the SQL expressions of those values (parameters or literals).
 */
const senderCondition = (sender: string, corp: string, conversation: string, who: string) => {
  if (sender.startsWith(ROBOT_SENDER_PREFIX))
    return `kind IN ('group', 'department') AND EXISTS (
              SELECT 1 FROM group_robots r
               WHERE r.corp_id = ${corp} AND r.conversation_id = ${conversation} AND 'robot:' || r.id = ${who})`;
  if (sender.startsWith(APP_SENDER_PREFIX))
    return `kind = 'group' AND EXISTS (
              SELECT 1 FROM app_chats a
               WHERE a.corp_id = ${corp} AND a.conversation_id = ${conversation} AND 'app:' || a.agentid = ${who})`;
  return `${who} = ANY(participants)`;
};

/** What a send learns from taking its sequence number. */
export interface TakenSeq {
  seq: number;
  kind: string;
  onlyAdminsPost: boolean;
  admins: string[];
  participants: string[];
  externalParticipants: string[];
  /** 1:1 conversations: the other side, if they are no longer an active member. */
  inactivePeers: string[];
}

interface TakenSeqRow {
  last_seq: string;
  kind: string;
  only_admins_post: boolean;
  admins: string[];
  participants: string[];
  external_participants: string[];
  inactive_peers: string[];
}

const takeSeqSql = (sender: string, corp: string, conversation: string, who: string) =>
  `WITH next AS (
     UPDATE conversations SET last_seq = last_seq + 1, updated_at = now()
      WHERE corp_id = ${corp} AND id = ${conversation} AND disbanded_at IS NULL
        AND ${senderCondition(sender, corp, conversation, who)}
     RETURNING last_seq, kind, only_admins_post, admins, participants, external_participants
   ) SELECT next.*,
            CASE WHEN next.kind = 'single' THEN ARRAY(
              SELECT p FROM unnest(next.participants) AS p
               WHERE p <> ${who} AND NOT EXISTS (
                 SELECT 1 FROM directory_members d
                  WHERE d.corp_id = ${corp} AND d.userid = p AND d.status = 'active'))
            ELSE '{}'::text[] END AS inactive_peers
       FROM next`;

const toTakenSeq = (row: TakenSeqRow | undefined): TakenSeq | null =>
  row
    ? {
        seq: Number(row.last_seq),
        kind: row.kind,
        onlyAdminsPost: row.only_admins_post,
        admins: row.admins,
        participants: row.participants,
        externalParticipants: row.external_participants,
        inactivePeers: row.inactive_peers,
      }
    : null;

const INSERT_COLUMNS = `corp_id, conversation_id, seq, id, sender, client_msg_id, type, text,
  mentions, quote_seq, sent_at, media_id, articles, location, link, contact_card, search_terms,
  textcard, caption, safe, template_card`;

/** A message's row values, in INSERT_COLUMNS order (JSON columns as text). */
const insertValues = (m: StoredMessage) =>
  [
    m.corpId,
    m.conversationId,
    m.seq,
    m.id,
    m.sender,
    m.clientMsgId,
    m.type,
    m.text,
    m.mentions,
    m.quoteSeq,
    m.sentAt,
    m.media?.id ?? null,
    m.articles.length ? JSON.stringify(m.articles) : null,
    m.location && JSON.stringify(m.location),
    m.link && JSON.stringify(m.link),
    m.contactCard && JSON.stringify(m.contactCard),
    termsOf(searchableText(m)),
    m.textcard ? JSON.stringify(m.textcard) : null,
    m.caption ? JSON.stringify(m.caption) : null,
    m.safe,
    m.templateCard ? JSON.stringify(m.templateCard) : null,
  ] as const;

/** The SQL of each INSERT_COLUMNS value, given the expression of the value. */
const INSERT_CASTS: ((v: string) => string)[] = [
  (v) => v,
  (v) => v,
  (v) => v,
  (v) => v,
  (v) => v,
  (v) => v,
  (v) => v,
  (v) => v,
  (v) => `${v}::text[]`,
  (v) => v,
  (v) => v,
  (v) => v,
  (v) => `${v}::jsonb`,
  (v) => `${v}::jsonb`,
  (v) => `${v}::jsonb`,
  (v) => `${v}::jsonb`,
  (v) => `array_to_tsvector(${v}::text[])`,
  (v) => `${v}::jsonb`,
  (v) => `${v}::jsonb`,
  (v) => v,
  (v) => `${v}::jsonb`,
];

/** Queries on messages. Every method is scoped to one corp and conversation. */
@Injectable()
export class MessagesRepository {
  constructor(@Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig) {}

  async byClientId(
    em: EntityManager,
    corpId: string,
    conversationId: string,
    sender: string,
    clientMsgId: string,
  ): Promise<StoredMessage | null> {
    const [row] = await em.query<MessageRow[]>(
      `SELECT ${COLUMNS} FROM ${FROM}
        WHERE m.corp_id = $1 AND m.conversation_id = $2 AND m.sender = $3 AND m.client_msg_id = $4`,
      [corpId, conversationId, sender, clientMsgId],
    );
    return row ? toMessage(row, this.config.MEDIA_BUCKET) : null;
  }

  async bySeq(
    em: EntityManager,
    corpId: string,
    conversationId: string,
    seq: number,
    options: { lock?: boolean } = {},
  ): Promise<StoredMessage | null> {
    const [row] = await em.query<MessageRow[]>(
      `SELECT ${COLUMNS} FROM ${FROM} WHERE m.corp_id = $1 AND m.conversation_id = $2 AND m.seq = $3
       ${options.lock ? 'FOR UPDATE OF m' : ''}`,
      [corpId, conversationId, seq],
    );
    return row ? toMessage(row, this.config.MEDIA_BUCKET) : null;
  }

  /**
   * Takes the conversation's next sequence number (locking its row until commit) if `sender` is
   * a participant — or, for `robot:<robotId>`, a robot of the group, and for `app:<agentid>`,
   * the app that created the group (an app chat) — with what a send needs to know: kind,
   * posting rule, admins, participants and external contacts.
   */
  async takeSeq(
    em: EntityManager,
    corpId: string,
    conversationId: string,
    sender: string,
  ): Promise<TakenSeq | null> {
    const [row] = await em.query<TakenSeqRow[]>(takeSeqSql(sender, '$1', '$2', '$3'), [
      corpId,
      conversationId,
      sender,
    ]);
    return toTakenSeq(row);
  }

  /** `takeSeq` as one statement with its values written in (sent with BEGIN). */
  takeSeqStatement(corpId: string, conversationId: string, sender: string): string {
    return takeSeqSql(
      sender,
      sqlLiteral(corpId),
      `${sqlLiteral(conversationId)}::uuid`,
      sqlLiteral(sender),
    );
  }

  /** The rows `takeSeqStatement` answered. */
  takenSeq(rows: unknown[]): TakenSeq | null {
    return toTakenSeq(rows[0] as TakenSeqRow | undefined);
  }

  async insert(em: EntityManager, m: StoredMessage): Promise<void> {
    await em.query(
      `INSERT INTO messages (${INSERT_COLUMNS})
       VALUES (${INSERT_CASTS.map((cast, i) => cast(`$${i + 1}`)).join(', ')})`,
      [...insertValues(m)],
    );
  }

  /** `insert` as one statement with its values written in (sent with COMMIT). */
  insertStatement(m: StoredMessage): string {
    const values = insertValues(m);
    return `INSERT INTO messages (${INSERT_COLUMNS})
       VALUES (${INSERT_CASTS.map((cast, i) => cast(sqlLiteral(values[i]))).join(', ')})`;
  }

  /**
   * For a batch of sends, one statement that locks the conversations (in key order, so batches
   * never deadlock one another) and reads what `takeSeq` returns, with their last seq and, for
   * 1:1 conversations, which participants are no longer active members. Disbanded ones are left
   * out. Values written in (sent with BEGIN).
   */
  lockForSendsStatement(keys: { corpId: string; conversationId: string }[]): string {
    const values = keys
      .map((k) => `(${sqlLiteral(k.corpId)}, ${sqlLiteral(k.conversationId)}::uuid)`)
      .join(', ');
    return `SELECT c.corp_id, c.id::text AS id, c.last_seq, c.kind, c.only_admins_post, c.admins,
                   c.participants, c.external_participants,
                   CASE WHEN c.kind = 'single' THEN ARRAY(
                     SELECT p FROM unnest(c.participants) AS p
                      WHERE NOT EXISTS (
                        SELECT 1 FROM directory_members d
                         WHERE d.corp_id = c.corp_id AND d.userid = p AND d.status = 'active'))
                   ELSE '{}'::text[] END AS inactive
              FROM conversations c
             WHERE (c.corp_id, c.id) IN (VALUES ${values}) AND c.disbanded_at IS NULL
             ORDER BY c.corp_id, c.id
               FOR UPDATE OF c`;
  }

  /** The conversations `lockForSendsStatement` answered, by `corpId/conversationId`. */
  lockedForSends(rows: unknown[]): Map<string, TakenSeq & { inactive: string[] }> {
    const locked = new Map<string, TakenSeq & { inactive: string[] }>();
    for (const row of rows as (TakenSeqRow & { corp_id: string; id: string; inactive: string[] })[])
      locked.set(`${row.corp_id}/${row.id}`, {
        ...(toTakenSeq(row) as TakenSeq),
        inactive: row.inactive,
      });
    return locked;
  }

  /**
   * Which of these (corp, conversation, sender, clientMsgId) are taken already, as
   * `corpId/conversationId/sender/clientMsgId` (run with the conversations locked: no send of
   * theirs can commit meanwhile). Values written in.
   */
  clientIdsTakenStatement(
    keys: { corpId: string; conversationId: string; sender: string; clientMsgId: string }[],
  ): string {
    const values = keys
      .map(
        (k) =>
          `(${sqlLiteral(k.corpId)}, ${sqlLiteral(k.conversationId)}::uuid, ${sqlLiteral(k.sender)}, ${sqlLiteral(k.clientMsgId)})`,
      )
      .join(', ');
    return `SELECT m.corp_id || '/' || m.conversation_id || '/' || m.sender || '/' || m.client_msg_id AS key
              FROM messages m
             WHERE (m.corp_id, m.conversation_id, m.sender, m.client_msg_id)
                   IN (VALUES ${values})`;
  }

  /** Sets the conversations' last seq (a batch's sends took them), values written in. */
  setLastSeqStatement(seqs: { corpId: string; conversationId: string; lastSeq: number }[]): string {
    const values = seqs
      .map(
        (s) =>
          `(${sqlLiteral(s.corpId)}, ${sqlLiteral(s.conversationId)}::uuid, ${sqlLiteral(s.lastSeq)}::bigint)`,
      )
      .join(', ');
    return `UPDATE conversations c SET last_seq = v.last_seq, updated_at = now()
              FROM (VALUES ${values}) AS v(corp_id, id, last_seq)
             WHERE c.corp_id = v.corp_id AND c.id = v.id`;
  }

  /** Several messages as one INSERT with their values written in (sent with COMMIT). */
  insertManyStatement(ms: StoredMessage[]): string {
    const rows = ms.map((m) => {
      const values = insertValues(m);
      return `(${INSERT_CASTS.map((cast, i) => cast(sqlLiteral(values[i]))).join(', ')})`;
    });
    return `INSERT INTO messages (${INSERT_COLUMNS}) VALUES ${rows.join(', ')}`;
  }

  async after(
    em: EntityManager,
    corpId: string,
    conversationId: string,
    afterSeq: number,
    limit: number,
  ): Promise<StoredMessage[]> {
    const rows = await em.query<MessageRow[]>(
      `SELECT ${COLUMNS} FROM ${FROM} WHERE m.corp_id = $1 AND m.conversation_id = $2 AND m.seq > $3
        ORDER BY m.seq LIMIT $4`,
      [corpId, conversationId, afterSeq, limit],
    );
    return rows.map((r) => toMessage(r, this.config.MEDIA_BUCKET));
  }

  async markRecalled(
    em: EntityManager,
    corpId: string,
    conversationId: string,
    seq: number,
    by: string,
    at: Date,
  ): Promise<void> {
    await em.query(
      `UPDATE messages SET recalled_at = $5, recalled_by = $4
        WHERE corp_id = $1 AND conversation_id = $2 AND seq = $3`,
      [corpId, conversationId, seq, by, at],
    );
  }

  /**
   * Messages the member may search, newest first: of conversations they are in (all of it, as
   * they may read all of it) or were in (up to the seq when they left), never recalled ones.
   */
  async search(em: EntityManager, q: MessageSearchQuery): Promise<FoundMessage[]> {
    const params: unknown[] = [q.corpId, q.userid];
    const p = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    const where = [
      'a.corp_id = $1',
      'a.userid = $2',
      '(a.until_seq IS NULL OR m.seq <= a.until_seq)',
      'm.recalled_at IS NULL',
    ];
    if (q.tsquery) where.push(`m.search_terms @@ ${p(q.tsquery)}::tsquery`);
    for (const keyword of q.literal)
      where.push(`position(lower(${p(keyword)}) in lower(${SEARCHABLE_TEXT_SQL})) > 0`);
    if (q.sender) where.push(`m.sender = ${p(q.sender)}`);
    if (q.conversationId) where.push(`a.conversation_id = ${p(q.conversationId)}::uuid`);
    if (q.type) where.push(`m.type = ${p(q.type)}`);
    if (q.from) where.push(`m.sent_at >= ${p(q.from)}`);
    if (q.to) where.push(`m.sent_at < ${p(q.to)}`);
    if (q.after)
      where.push(
        `(m.sent_at, m.conversation_id, m.seq) < (${p(q.after.sentAt)}::timestamptz, ${p(
          q.after.conversationId,
        )}::uuid, ${p(q.after.seq)}::bigint)`,
      );
    const rows = await em.query<
      (MessageRow & { conversation_name: string; conversation_kind: string })[]
    >(
      `SELECT ${COLUMNS}, c.name AS conversation_name, c.kind AS conversation_kind
         FROM conversation_access a
         JOIN messages m ON m.corp_id = a.corp_id AND m.conversation_id = a.conversation_id
         LEFT JOIN media_uploads u ON u.corp_id = m.corp_id AND u.id = m.media_id
         JOIN conversations c ON c.corp_id = a.corp_id AND c.id = a.conversation_id
        WHERE ${where.join(' AND ')}
        ORDER BY m.sent_at DESC, m.conversation_id DESC, m.seq DESC
        LIMIT ${p(q.limit)}`,
      params,
    );
    return rows.map((r) => ({
      ...toMessage(r, this.config.MEDIA_BUCKET),
      conversationName: r.conversation_name,
      conversationKind: r.conversation_kind,
    }));
  }

  /** Corps with messages sent before search existed (not indexed yet). */
  async corpsToIndex(em: EntityManager, limit: number): Promise<string[]> {
    // The one query across corps: maintenance, which then works corp by corp.
    const rows = await em.query<{ corp_id: string }[]>(
      `SELECT DISTINCT corp_id FROM messages WHERE search_terms IS NULL LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.corp_id);
  }

  /** Indexes up to `limit` of the corp's unindexed messages (skipping rows others hold); how many. */
  async indexSome(em: EntityManager, corpId: string, limit: number): Promise<number> {
    const rows = await em.query<MessageRow[]>(
      `SELECT ${COLUMNS} FROM ${FROM}
        WHERE m.corp_id = $1 AND m.search_terms IS NULL
        ORDER BY m.conversation_id, m.seq LIMIT $2 FOR UPDATE OF m SKIP LOCKED`,
      [corpId, limit],
    );
    if (!rows.length) return 0;
    const terms = rows.map((r) => {
      const m = toMessage(r, this.config.MEDIA_BUCKET);
      return { conversation_id: m.conversationId, seq: m.seq, terms: termsOf(searchableText(m)) };
    });
    await em.query(
      `UPDATE messages m SET search_terms = array_to_tsvector(x.terms)
         FROM jsonb_to_recordset($2::jsonb) AS x(conversation_id uuid, seq bigint, terms text[])
        WHERE m.corp_id = $1 AND m.conversation_id = x.conversation_id AND m.seq = x.seq`,
      [corpId, JSON.stringify(terms)],
    );
    return rows.length;
  }

  /** Moves the member's read position forward (never back); true when it moved. */
  async advanceRead(
    em: EntityManager,
    corpId: string,
    conversationId: string,
    userid: string,
    seq: number,
  ): Promise<boolean> {
    const rows = await em.query<unknown[]>(
      `WITH moved AS (
         UPDATE conversation_members SET read_seq = $4
          WHERE corp_id = $1 AND conversation_id = $2 AND userid = $3 AND read_seq < $4
         RETURNING 1
       ) SELECT * FROM moved`,
      [corpId, conversationId, userid, seq],
    );
    return rows.length > 0;
  }
}
