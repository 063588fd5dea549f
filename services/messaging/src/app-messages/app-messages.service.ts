import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '@qiwei/auth';
import { MESSAGING_MESSAGE_TOPIC } from '@qiwei/contracts';
import { Outbox } from '@qiwei/events';
import { TransactionRunner } from '@qiwei/persistence';
import { DataSource, type EntityManager } from 'typeorm';
import { MESSAGING_CONFIG, type MessagingConfig } from '../config';
import { MEDIA_KINDS, MediaService, type MediaKind } from '../media/media.service';
import { MessageTooLargeException } from '../messages/message.exceptions';
import { appMessageRecalled, appMessageSent } from '../messages/message-events';
import type {
  MediaCaption,
  MessageMediaInfo,
  NewsArticle,
  TemplateCard,
  TextCard,
} from '../messages/messages.repository';
import {
  AppMessageAlreadyRecalledException,
  AppMessageNotFoundException,
  AppMessageOfAnotherAppException,
  AppMessageRateLimitedException,
  AppMessageRecallExpiredException,
  AppTokenRequiredException,
  NoRecipientsException,
} from './app-message.exceptions';
import { resolveRecipients, type Targets } from './recipients';

export const APP_MESSAGE_TYPES = [
  'text',
  'markdown',
  'image',
  'voice',
  'video',
  'file',
  'textcard',
  'news',
  'template_card',
] as const;
export type AppMessageType = (typeof APP_MESSAGE_TYPES)[number];

/** What an app message says; `msgtype` names which of the others is set. */
export interface AppMessageContent {
  msgtype: AppMessageType;
  /** text and markdown */
  text?: string;
  /** image, voice, video and file: a ready media of the app's (uploaded or adopted) */
  mediaId?: string;
  /** video: WeCom's title and description */
  caption?: MediaCaption;
  textcard?: TextCard;
  templateCard?: TemplateCard;
  /** news: 1 to 8 */
  articles?: NewsArticle[];
  /** WeCom's `safe`: confidential */
  safe?: boolean;
}

export interface AppMessageInput extends Targets, AppMessageContent {
  /** Within this many seconds, the same message to the same targets is not sent again. */
  duplicateCheckSeconds?: number;
}

/** The content as app_messages keeps it (rows from before media: only `text`). */
interface StoredContent {
  text: string;
  media?: MessageMediaInfo | null;
  caption?: MediaCaption | null;
  textcard?: TextCard | null;
  templateCard?: TemplateCard | null;
  articles?: NewsArticle[];
  safe?: boolean;
}

const isMediaType = (type: AppMessageType): type is MediaKind =>
  (MEDIA_KINDS as readonly string[]).includes(type);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface AppMessageResult {
  msgid: string;
  recipients: number;
  invaliduser: string[];
  invalidparty: number[];
  invalidtag: number[];
  /** Members the app had already sent its limit to: refused, not dropped silently. */
  overquotauser: string[];
  /** The same message went out within the duplicate-check interval: this is its msgid. */
  duplicate: boolean;
}

export interface ReceivedAppMessage {
  msgid: string;
  agentid: number;
  msgtype: string;
  /** Empty once recalled, as are the media, card, articles and caption. */
  text: string;
  media: MessageMediaInfo | null;
  caption: MediaCaption | null;
  textcard: TextCard | null;
  templateCard: TemplateCard | null;
  articles: NewsArticle[];
  safe: boolean;
  sentAt: Date;
  readAt: Date | null;
  recalledAt: Date | null;
}

/**
 * App messages (应用消息): an app sends to users, departments, tags or everyone, within its
 * range — the one send path of /v1/app-messages and WeCom's message/send. Every recipient gets
 * an inbox row in the same transaction as the message, its send counter and the event that
 * delivers it; the rate limits (per app and member, fixed minute and hour windows) refuse the
 * excess by name. The app recalls its message within APP_MESSAGE_RECALL_WINDOW_MINUTES.
 */
@Injectable()
export class AppMessagesService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly media: MediaService,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
  ) {}

  async send(caller: Principal, input: AppMessageInput): Promise<AppMessageResult> {
    const app = caller.app;
    if (!app) throw new AppTokenRequiredException();
    const text = input.text ?? '';
    if (Buffer.byteLength(text, 'utf8') > this.config.MESSAGE_TEXT_MAX_BYTES)
      throw new MessageTooLargeException(this.config.MESSAGE_TEXT_MAX_BYTES);
    const textual = input.msgtype === 'text' || input.msgtype === 'markdown';
    // Text keeps the hash it always had; other content hashes its canonical parts.
    const payload =
      textual && !input.safe
        ? text
        : {
            text,
            mediaId: input.mediaId ?? null,
            caption: input.caption ?? null,
            textcard: input.textcard ?? null,
            articles: input.articles ?? [],
            safe: input.safe ?? false,
            // Only template cards carry it: the hashes of other content stay as they were.
            ...(input.templateCard ? { templateCard: input.templateCard } : {}),
          };
    const contentHash = createHash('sha256')
      .update(
        JSON.stringify([
          input.msgtype,
          payload,
          input.all,
          [...new Set(input.touser)].sort(),
          [...new Set(input.toparty)].sort(),
          [...new Set(input.totag)].sort(),
        ]),
      )
      .digest('hex');
    return this.transactions.run(async (em) => {
      if (input.duplicateCheckSeconds) {
        const earlier = await this.duplicate(
          em,
          caller.corpId,
          app.agentId,
          contentHash,
          input.duplicateCheckSeconds,
        );
        if (earlier) return earlier;
      }
      const media = isMediaType(input.msgtype)
        ? await this.media.forMessage(em, caller, input.mediaId as string, input.msgtype)
        : null;
      const content: StoredContent = {
        text,
        media: media && {
          id: media.id,
          kind: media.kind,
          bucket: media.bucket,
          objectKey: media.objectKey,
          size: media.size,
          sha256: media.sha256,
          filename: media.filename,
          contentType: media.contentType,
        },
        caption: input.caption ?? null,
        textcard: input.textcard ?? null,
        templateCard: input.templateCard ?? null,
        articles: input.articles ?? [],
        safe: input.safe ?? false,
      };
      const resolved = await resolveRecipients(em, caller.corpId, app.range, input);
      const invalid = {
        invaliduser: resolved.invaliduser,
        invalidparty: resolved.invalidparty,
        invalidtag: resolved.invalidtag,
      };
      if (!resolved.recipients.length) throw new NoRecipientsException(invalid);
      const sentAt = new Date();
      const allowed = await this.countSends(
        em,
        caller.corpId,
        app.agentId,
        resolved.recipients,
        sentAt,
      );
      if (!allowed.length)
        throw new AppMessageRateLimitedException(
          this.config.APP_MESSAGE_PER_MEMBER_PER_MINUTE,
          this.config.APP_MESSAGE_PER_MEMBER_PER_HOUR,
        );
      const accepted = new Set(allowed);
      const msgid = randomUUID();
      await em.query(
        `INSERT INTO app_messages (corp_id, id, agentid, msgtype, content, content_hash, recipients,
                                   sent_at, media_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          caller.corpId,
          msgid,
          app.agentId,
          input.msgtype,
          JSON.stringify(content),
          contentHash,
          allowed.length,
          sentAt,
          media?.id ?? null,
        ],
      );
      await em.query(
        `INSERT INTO app_message_recipients (corp_id, message_id, userid)
         SELECT $1, $2, unnest($3::text[])`,
        [caller.corpId, msgid, allowed],
      );
      await this.outbox.publish(
        em,
        MESSAGING_MESSAGE_TOPIC,
        appMessageSent({
          corpId: caller.corpId,
          msgid,
          agentId: app.agentId,
          msgtype: input.msgtype,
          text,
          media: content.media ?? null,
          caption: content.caption ?? null,
          textcard: content.textcard ?? null,
          templateCard: content.templateCard ?? null,
          articles: content.articles ?? [],
          safe: content.safe ?? false,
          recipients: allowed,
          sentAt,
        }),
      );
      return {
        msgid,
        recipients: allowed.length,
        ...invalid,
        overquotauser: resolved.recipients.filter((u) => !accepted.has(u)),
        duplicate: false,
      };
    });
  }

  /** The member's app messages, newest first. */
  async inbox(
    caller: Principal,
    before: string | undefined,
    limit: number,
  ): Promise<{ items: ReceivedAppMessage[]; more: boolean }> {
    const rows = await this.dataSource.query<
      {
        id: string;
        agentid: number;
        msgtype: string;
        content: StoredContent;
        sent_at: Date;
        read_at: Date | null;
        recalled_at: Date | null;
      }[]
    >(
      `SELECT a.id, a.agentid, a.msgtype, a.content, a.sent_at, r.read_at, a.recalled_at
         FROM app_message_recipients r
         JOIN app_messages a ON a.corp_id = r.corp_id AND a.id = r.message_id
        WHERE r.corp_id = $1 AND r.userid = $2
          AND ($3::uuid IS NULL OR (a.sent_at, a.id) < (SELECT sent_at, id FROM app_messages WHERE corp_id = $1 AND id = $3::uuid))
        ORDER BY a.sent_at DESC, a.id DESC
        LIMIT $4`,
      [caller.corpId, caller.userId, before ?? null, limit + 1],
    );
    return {
      items: rows.slice(0, limit).map((r) => {
        const shown: StoredContent = r.recalled_at ? { text: '' } : r.content;
        return {
          msgid: r.id,
          agentid: r.agentid,
          msgtype: r.msgtype,
          text: shown.text,
          media: shown.media ?? null,
          caption: shown.caption ?? null,
          textcard: shown.textcard ?? null,
          templateCard: shown.templateCard ?? null,
          articles: shown.articles ?? [],
          safe: r.content.safe ?? false,
          sentAt: r.sent_at,
          readAt: r.read_at,
          recalledAt: r.recalled_at,
        };
      }),
      more: rows.length > limit,
    };
  }

  /** Marks an app message read (idempotent); false when the caller never received it. */
  async markRead(caller: Principal, msgid: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `WITH marked AS (
         UPDATE app_message_recipients SET read_at = COALESCE(read_at, now())
          WHERE corp_id = $1 AND message_id = $2 AND userid = $3 RETURNING 1
       ) SELECT * FROM marked`,
      [caller.corpId, msgid, caller.userId],
    );
    return rows.length > 0;
  }

  /**
   * The app recalls its message (WeCom's message/recall): within the recall window, once; every
   * recipient's inbox row is marked, and the recall is announced to them.
   */
  recall(caller: Principal, msgid: string): Promise<void> {
    const app = caller.app;
    if (!app) throw new AppTokenRequiredException();
    if (!UUID.test(msgid)) throw new AppMessageNotFoundException(msgid);
    return this.transactions.run(async (em) => {
      const [message] = await em.query<
        { agentid: number; sent_at: Date; recalled_at: Date | null }[]
      >(
        `SELECT agentid, sent_at, recalled_at FROM app_messages
          WHERE corp_id = $1 AND id = $2 FOR UPDATE`,
        [caller.corpId, msgid],
      );
      if (!message) throw new AppMessageNotFoundException(msgid);
      if (message.agentid !== app.agentId) throw new AppMessageOfAnotherAppException(msgid);
      if (message.recalled_at) throw new AppMessageAlreadyRecalledException(msgid);
      const now = new Date();
      const windowMinutes = this.config.APP_MESSAGE_RECALL_WINDOW_MINUTES;
      if (now.getTime() - message.sent_at.getTime() > windowMinutes * 60_000)
        throw new AppMessageRecallExpiredException(windowMinutes);
      await em.query('UPDATE app_messages SET recalled_at = $3 WHERE corp_id = $1 AND id = $2', [
        caller.corpId,
        msgid,
        now,
      ]);
      const recipients = await em.query<{ userid: string }[]>(
        `WITH marked AS (
           UPDATE app_message_recipients SET recalled_at = $3
            WHERE corp_id = $1 AND message_id = $2 RETURNING userid
         ) SELECT userid FROM marked ORDER BY userid`,
        [caller.corpId, msgid, now],
      );
      await this.outbox.publish(
        em,
        MESSAGING_MESSAGE_TOPIC,
        appMessageRecalled({
          corpId: caller.corpId,
          msgid,
          agentId: app.agentId,
          recipients: recipients.map((r) => r.userid),
          by: caller.userId,
          sentAt: message.sent_at,
          recalledAt: now,
        }),
      );
    });
  }

  private async duplicate(
    em: EntityManager,
    corpId: string,
    agentId: number,
    contentHash: string,
    seconds: number,
  ): Promise<AppMessageResult | null> {
    const [row] = await em.query<{ id: string; recipients: number }[]>(
      `SELECT id, recipients FROM app_messages
        WHERE corp_id = $1 AND agentid = $2 AND content_hash = $3
          AND sent_at > now() - make_interval(secs => $4) AND recalled_at IS NULL
        ORDER BY sent_at DESC LIMIT 1`,
      [corpId, agentId, contentHash, seconds],
    );
    return row
      ? {
          msgid: row.id,
          recipients: row.recipients,
          invaliduser: [],
          invalidparty: [],
          invalidtag: [],
          overquotauser: [],
          duplicate: true,
        }
      : null;
  }

  /**
   * Counts this send against each recipient's minute and hour windows, in one statement; the
   * recipients returned are those still under both limits (the others are not counted).
   */
  private async countSends(
    em: EntityManager,
    corpId: string,
    agentId: number,
    userids: string[],
    at: Date,
  ): Promise<string[]> {
    const rows = await em.query<{ userid: string }[]>(
      `INSERT INTO app_send_counters AS c (corp_id, agentid, userid, minute_start, minute_count, hour_start, hour_count)
       SELECT $1, $2, u, date_trunc('minute', $3::timestamptz), 1, date_trunc('hour', $3::timestamptz), 1
         FROM unnest($4::text[]) u
       ON CONFLICT (corp_id, agentid, userid) DO UPDATE SET
         minute_start = EXCLUDED.minute_start,
         minute_count = CASE WHEN c.minute_start = EXCLUDED.minute_start THEN c.minute_count + 1 ELSE 1 END,
         hour_start = EXCLUDED.hour_start,
         hour_count = CASE WHEN c.hour_start = EXCLUDED.hour_start THEN c.hour_count + 1 ELSE 1 END
       WHERE (c.minute_start <> EXCLUDED.minute_start OR c.minute_count < $5)
         AND (c.hour_start <> EXCLUDED.hour_start OR c.hour_count < $6)
       RETURNING userid`,
      [
        corpId,
        agentId,
        at,
        userids,
        this.config.APP_MESSAGE_PER_MEMBER_PER_MINUTE,
        this.config.APP_MESSAGE_PER_MEMBER_PER_HOUR,
      ],
    );
    return rows.map((r) => r.userid);
  }
}
