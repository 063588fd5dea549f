import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '@qiwei/auth';
import { MESSAGING_MESSAGE_TOPIC } from '@qiwei/contracts';
import { Outbox } from '@qiwei/events';
import { METRICS_REGISTRY, ValidationFailedException } from '@qiwei/platform';
import { Histogram, type Registry } from 'prom-client';
import {
  isUniqueViolation,
  pipelinedTransaction,
  type Pipeline,
  SqlLiteralError,
  TransactionRunner,
} from '@qiwei/persistence';
import { DataSource, type EntityManager } from 'typeorm';
import { MESSAGING_CONFIG, type MessagingConfig } from '../config';
import { ConversationsRepository } from '../conversations/conversations.repository';
import { ConversationNotFoundException } from '../conversations/conversation.exceptions';
import { isGroupKind, roleOf } from '../conversations/conversation-state';
import { Directory } from '../directory/directory';
import { MEDIA_KINDS, MediaService, type MediaKind } from '../media/media.service';
import { messageRead, messageRecalled, messageSent } from './message-events';
import {
  ClientMsgIdReusedException,
  ContactCardInvalidException,
  GroupMutedException,
  MentionInvalidException,
  MessageAlreadyRecalledException,
  MessageNotFoundException,
  MessageTooLargeException,
  PeerInactiveException,
  QuoteInvalidException,
  ReadBeyondLastException,
  RecallNotAllowedException,
} from './message.exceptions';
import {
  APP_SENDER_PREFIX,
  MessagesRepository,
  ROBOT_SENDER_PREFIX,
  type MessageLink,
  type MessageLocation,
  type MediaCaption,
  type MessageType,
  type NewsArticle,
  type StoredMessage,
  type TakenSeq,
  type TemplateCard,
  type TextCard,
} from './messages.repository';

/**
 * Who posts: a member (their token's principal), a group robot (`robot:<robotId>`) or an app
 * into a group it created (`app:<agentid>`).
 */
export type MessageSender = Pick<Principal, 'corpId' | 'userId'>;

export interface SendInput {
  clientMsgId: string;
  type: MessageType;
  /** text and markdown messages */
  text?: string;
  /** image, voice, video and file messages: a completed upload of the sender's */
  mediaId?: string;
  mentions?: string[];
  quoteSeq?: number;
  /** news messages (group robots, apps) */
  articles?: NewsArticle[];
  /** location messages */
  location?: MessageLocation;
  /** link messages */
  link?: MessageLink;
  /** contact card messages: the member on the card */
  contactCard?: { userid: string };
  /** textcard messages (apps) */
  textcard?: TextCard;
  /** template_card messages (apps) */
  templateCard?: TemplateCard;
  /** video messages of apps: WeCom's title and description */
  caption?: MediaCaption;
  /** WeCom's `safe`: confidential */
  safe?: boolean;
}

/** JSON with sorted keys: what came back from jsonb compares equal to what was sent. */
const json = (v: object | null | undefined) =>
  v ? JSON.stringify(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : 'null';

export interface Receipts {
  seq: number;
  read: string[];
  unread: string[];
}

const sameContent = (m: StoredMessage, input: SendInput) =>
  m.type === input.type &&
  m.text === (input.text ?? '') &&
  (m.media?.id ?? undefined) === input.mediaId &&
  JSON.stringify(m.mentions) === JSON.stringify(normaliseMentions(input.mentions)) &&
  m.quoteSeq === (input.quoteSeq ?? 0) &&
  JSON.stringify(m.articles) === JSON.stringify(input.articles ?? []) &&
  json(m.location) === json(input.location) &&
  json(m.link) === json(input.link) &&
  (m.contactCard?.userid ?? undefined) === input.contactCard?.userid &&
  json(m.textcard) === json(input.textcard) &&
  JSON.stringify(m.templateCard ?? null) === JSON.stringify(input.templateCard ?? null) &&
  json(m.caption) === json(input.caption) &&
  m.safe === (input.safe ?? false);

/** A recalled message keeps its place in the conversation, not its content. */
export const withoutContent = (m: StoredMessage): StoredMessage => ({
  ...m,
  text: '',
  mentions: [],
  quoteSeq: 0,
  media: null,
  articles: [],
  location: null,
  link: null,
  contactCard: null,
  textcard: null,
  templateCard: null,
  caption: null,
});

/** Image, voice, video and file messages carry a media file. */
const isMediaType = (type: MessageType): type is MediaKind =>
  (MEDIA_KINDS as readonly string[]).includes(type);

const normaliseMentions = (mentions: string[] = []) => [...new Set(mentions)].sort();

/**
 * Messages: each gets the conversation's next sequence number (gap-free, under the
 * conversation's row lock), sending is idempotent on the sender's `clientMsgId`, and every
 * accepted message is announced on qiwei.messaging.message.v1 in the same transaction with
 * everything the archive needs.
 */
/** A member's send waiting for its group commit. */
interface QueuedSend {
  caller: Principal;
  conversationId: string;
  input: SendInput;
  resolve: (sent: { message: StoredMessage; created: boolean }) => void;
  reject: (error: unknown) => void;
}

type BatchOutcome =
  | { kind: 'accepted'; message: StoredMessage }
  | { kind: 'refused'; error: unknown }
  /** Its clientMsgId was taken: answered with the first message (or refused as reused). */
  | { kind: 'resent' };

@Injectable()
export class MessagesService {
  private readonly queue: QueuedSend[] = [];
  private inFlight = 0;
  private pumpScheduled = false;
  private readonly batchSizes: Histogram;

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly dataSource: DataSource,
    private readonly conversations: ConversationsRepository,
    private readonly messages: MessagesRepository,
    private readonly outbox: Outbox,
    private readonly media: MediaService,
    private readonly directory: Directory,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.batchSizes = new Histogram({
      name: 'qiwei_messaging_send_batch_size',
      help: 'Sends per group-commit transaction (1: a send on its own)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers: [registry],
    });
  }

  async send(
    caller: Principal,
    conversationId: string,
    input: SendInput,
  ): Promise<{ message: StoredMessage; created: boolean }> {
    // PostgreSQL stores no NUL character in text: a clear refusal rather than a database error.
    if (input.text?.includes('\u0000'))
      throw new ValidationFailedException([
        { field: 'text', code: 'TEXT_INVALID', message: 'text must not contain NUL characters' },
      ]);
    // Sends that need nothing but their conversation's row join the queue of group commits.
    if (
      this.config.SEND_BATCH_MAX > 1 &&
      !(input.quoteSeq ?? 0) &&
      !isMediaType(input.type) &&
      input.type !== 'contact_card'
    )
      return new Promise((resolve, reject) => {
        this.queue.push({ caller, conversationId, input, resolve, reject });
        // Once the requests read in this turn of the event loop are all queued: they can share
        // a transaction even when one is free now.
        if (!this.pumpScheduled) {
          this.pumpScheduled = true;
          setImmediate(() => {
            this.pumpScheduled = false;
            this.pump();
          });
        }
      });
    return this.sendAlone(caller, conversationId, input);
  }

  /** One send in its own transaction. */
  private async sendAlone(
    caller: Principal,
    conversationId: string,
    input: SendInput,
  ): Promise<{ message: StoredMessage; created: boolean }> {
    try {
      const message = await this.sendPipelined(caller, conversationId, input).catch((error) => {
        // Text the pipelined statements cannot carry (a NUL character): parameters, as before.
        if (!(error instanceof SqlLiteralError)) throw error;
        return this.transactions.run((em) => this.accept(em, caller, conversationId, input));
      });
      return { message, created: true };
    } catch (error) {
      // A resend (or the same clientMsgId racing in twice): the first one is the message.
      if (!isUniqueViolation(error, 'messages_client_id_uq')) throw error;
      return this.resent(caller, conversationId, input, error);
    }
  }

  /** The answer to a send whose clientMsgId was taken: the first message, if it is the same. */
  private async resent(
    caller: Principal,
    conversationId: string,
    input: SendInput,
    error: unknown,
  ): Promise<{ message: StoredMessage; created: boolean }> {
    const earlier = await this.messages.byClientId(
      this.dataSource.manager,
      caller.corpId,
      conversationId,
      caller.userId,
      input.clientMsgId,
    );
    if (!earlier) throw error;
    if (!sameContent(earlier, input)) throw new ClientMsgIdReusedException();
    return { message: earlier, created: false };
  }

  /**
   * Group commit: while SEND_BATCH_CONCURRENCY transactions are in flight, sends wait in the
   * queue, and the next transaction takes up to SEND_BATCH_MAX of them at once. A lone send goes
   * its own way (sendAlone), so an idle service adds no wait.
   */
  private pump(): void {
    while (this.inFlight < this.config.SEND_BATCH_CONCURRENCY && this.queue.length) {
      const batch = this.queue.splice(0, this.config.SEND_BATCH_MAX);
      this.inFlight++;
      void this.runBatch(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async runBatch(batch: QueuedSend[]): Promise<void> {
    this.batchSizes.observe(batch.length);
    if (batch.length === 1) {
      const [one] = batch;
      await this.sendAlone(one.caller, one.conversationId, one.input).then(one.resolve, one.reject);
      return;
    }
    let outcomes: BatchOutcome[];
    try {
      outcomes = await pipelinedTransaction(this.dataSource, (tx) => this.acceptBatch(tx, batch));
    } catch {
      // The batch's transaction failed as a whole and changed nothing: each send on its own,
      // which refuses (or accepts) it exactly as if it had come alone.
      await Promise.all(
        batch.map((one) =>
          this.sendAlone(one.caller, one.conversationId, one.input).then(one.resolve, one.reject),
        ),
      );
      return;
    }
    if (outcomes.some((o) => o.kind === 'accepted')) this.outbox.committed(this.dataSource);
    await Promise.all(
      batch.map(async (one, i) => {
        const outcome = outcomes[i];
        if (outcome.kind === 'accepted') one.resolve({ message: outcome.message, created: true });
        else if (outcome.kind === 'refused') one.reject(outcome.error);
        else
          await this.resent(
            one.caller,
            one.conversationId,
            one.input,
            new ClientMsgIdReusedException(),
          ).then(one.resolve, one.reject);
      }),
    );
  }

  /**
   * A batch of sends in one transaction of two round trips: the conversations are locked and
   * read (with which clientMsgIds are taken) by the statements sent with BEGIN; each send is
   * checked in order exactly as `accept` checks it, and gets the next seq of its conversation
   * only if accepted, so a refusal leaves no gap and touches no other send; the conversations'
   * last seq, the messages and their events are written by the statements sent with COMMIT.
   */
  private async acceptBatch(tx: Pipeline, batch: QueuedSend[]): Promise<BatchOutcome[]> {
    const items = batch.map((one) => ({
      ...one,
      conversationId: one.conversationId.toLowerCase(),
    }));
    const keys = [
      ...new Map(
        items.map((one) => [
          `${one.caller.corpId}/${one.conversationId}`,
          { corpId: one.caller.corpId, conversationId: one.conversationId },
        ]),
      ).values(),
    ];
    const [lockedRows, takenRows] = await tx.beginAll([
      this.messages.lockForSendsStatement(keys),
      this.messages.clientIdsTakenStatement(
        items.map((one) => ({
          corpId: one.caller.corpId,
          conversationId: one.conversationId,
          sender: one.caller.userId,
          clientMsgId: one.input.clientMsgId,
        })),
      ),
    ]);
    const locked = this.messages.lockedForSends(lockedRows);
    const taken = new Set((takenRows as { key: string }[]).map((r) => r.key));
    const outcomes: BatchOutcome[] = [];
    const accepted: { message: StoredMessage; event: ReturnType<typeof messageSent> }[] = [];
    const moved = new Map<string, { corpId: string; conversationId: string; lastSeq: number }>();
    for (const one of items) {
      const key = `${one.caller.corpId}/${one.conversationId}`;
      const conversation = locked.get(key);
      try {
        this.checkSize(one.input);
        // As takeSeq: no such conversation (here, of this corp, not disbanded) or not a
        // participant of it.
        const next: TakenSeq | null =
          conversation && conversation.participants.includes(one.caller.userId)
            ? {
                ...conversation,
                seq: conversation.seq + 1,
                inactivePeers: conversation.inactive.filter((p) => p !== one.caller.userId),
              }
            : null;
        const composed = await this.compose(
          tx.manager,
          one.caller,
          one.conversationId,
          one.input,
          next,
        );
        const clientKey = `${key}/${one.caller.userId}/${one.input.clientMsgId}`;
        if (taken.has(clientKey)) {
          // Sent before (or earlier in this batch): answered with that message once committed.
          outcomes.push({ kind: 'resent' });
          continue;
        }
        taken.add(clientKey);
        (conversation as TakenSeq).seq += 1;
        moved.set(key, {
          corpId: one.caller.corpId,
          conversationId: one.conversationId,
          lastSeq: (conversation as TakenSeq).seq,
        });
        accepted.push(composed);
        outcomes.push({ kind: 'accepted', message: composed.message });
      } catch (error) {
        outcomes.push({ kind: 'refused', error });
      }
    }
    if (!accepted.length) {
      await tx.commit('SELECT 1');
      return outcomes;
    }
    const published = this.outbox.statement(
      MESSAGING_MESSAGE_TOPIC,
      accepted.map((a) => a.event),
    );
    await tx.commit(
      [
        this.messages.setLastSeqStatement([...moved.values()]),
        this.messages.insertManyStatement(accepted.map((a) => a.message)),
        published.sql,
      ].join(';\n'),
    );
    return outcomes;
  }

  /**
   * A member's send in two round trips to PostgreSQL: the sequence number is taken in the
   * statement sent with BEGIN, the message and its event are written by the statements sent
   * with COMMIT (checks needing more — a quote, media, a contact card — query in between). The
   * same transaction as `accept`, statement for statement, with the values written in.
   */
  private async sendPipelined(
    caller: Principal,
    conversationId: string,
    input: SendInput,
  ): Promise<StoredMessage> {
    this.checkSize(input);
    const message = await pipelinedTransaction(this.dataSource, async (tx) => {
      const next = this.messages.takenSeq(
        await tx.begin(
          this.messages.takeSeqStatement(caller.corpId, conversationId, caller.userId),
        ),
      );
      const { message, event } = await this.compose(
        tx.manager,
        caller,
        conversationId,
        input,
        next,
      );
      const published = this.outbox.statement(MESSAGING_MESSAGE_TOPIC, [event]);
      await tx.commit(`${this.messages.insertStatement(message)};\n${published.sql}`);
      return message;
    });
    this.outbox.committed(this.dataSource);
    return message;
  }

  /** Messages after `afterSeq`, oldest first; recalled ones keep their place without content. */
  async after(
    caller: Principal,
    conversationId: string,
    afterSeq: number,
    limit: number,
  ): Promise<{ items: StoredMessage[]; lastSeq: number }> {
    const em = this.dataSource.manager;
    const c = await this.conversations.forParticipant(em, caller, conversationId);
    const items = await this.messages.after(em, caller.corpId, conversationId, afterSeq, limit);
    return {
      items: items.map((m) => (m.recalledAt ? withoutContent(m) : m)),
      lastSeq: c.lastSeq,
    };
  }

  /** The caller has read everything up to `seq`. */
  read(caller: Principal, conversationId: string, seq: number): Promise<void> {
    return this.transactions.run(async (em) => {
      const c = await this.conversations.forParticipant(em, caller, conversationId);
      if (seq > c.lastSeq) throw new ReadBeyondLastException(c.lastSeq);
      const moved = await this.messages.advanceRead(
        em,
        caller.corpId,
        conversationId,
        caller.userId,
        seq,
      );
      if (moved)
        await this.outbox.publish(
          em,
          MESSAGING_MESSAGE_TOPIC,
          messageRead(caller.corpId, conversationId, caller.userId, seq, new Date()),
        );
    });
  }

  /** Who of the conversation's current members has read the message, and who has not. */
  async receipts(caller: Principal, conversationId: string, seq: number): Promise<Receipts> {
    const em = this.dataSource.manager;
    const c = await this.conversations.forParticipant(em, caller, conversationId);
    const message = await this.messages.bySeq(em, caller.corpId, conversationId, seq);
    if (!message) throw new MessageNotFoundException(seq);
    const others = c.participants.filter((p) => p.userid !== message.sender);
    return {
      seq,
      read: others.filter((p) => p.readSeq >= seq).map((p) => p.userid),
      unread: others.filter((p) => p.readSeq < seq).map((p) => p.userid),
    };
  }

  /**
   * The sender within the recall window; in a group, at any time, its owner (anyone's message)
   * or an admin (members', robots' and apps' messages and their own — not the owner's or
   * another admin's).
   */
  recall(caller: Principal, conversationId: string, seq: number): Promise<StoredMessage> {
    return this.transactions.run(async (em) => {
      const c = await this.conversations.forParticipant(em, caller, conversationId);
      const message = await this.messages.bySeq(em, caller.corpId, conversationId, seq, {
        lock: true,
      });
      if (!message) throw new MessageNotFoundException(seq);
      if (message.recalledAt) throw new MessageAlreadyRecalledException(seq);
      const role = roleOf(c, caller.userId);
      const senderRole = roleOf(c, message.sender);
      const groupAdmin =
        isGroupKind(c.kind) &&
        (role === 'owner' ||
          (role === 'admin' &&
            (message.sender === caller.userId ||
              (senderRole !== 'owner' && senderRole !== 'admin'))));
      const windowMs = this.config.RECALL_WINDOW_MINUTES * 60_000;
      const now = new Date();
      if (!groupAdmin) {
        if (message.sender !== caller.userId)
          throw new RecallNotAllowedException(
            'Only the sender, the group’s owner, or its admins (not for the owner’s or another admin’s messages) recall a message.',
          );
        if (now.getTime() - message.sentAt.getTime() > windowMs)
          throw new RecallNotAllowedException(
            `A message can be recalled within ${this.config.RECALL_WINDOW_MINUTES} minutes of sending.`,
          );
      }
      await this.messages.markRecalled(em, caller.corpId, conversationId, seq, caller.userId, now);
      await this.outbox.publish(
        em,
        MESSAGING_MESSAGE_TOPIC,
        messageRecalled(message, caller.userId, now),
      );
      return { ...message, recalledAt: now, recalledBy: caller.userId };
    });
  }

  /**
   * Accepts a message in the caller's transaction: the one send path of members (through
   * `send`), group robots (whose webhook counts the send in the same transaction) and apps in
   * the groups they created (appchat/send). Robots and apps post like a group admin: into a
   * muted group too, and may mention @all.
   */
  async accept(
    em: EntityManager,
    caller: MessageSender,
    conversationId: string,
    input: SendInput,
  ): Promise<StoredMessage> {
    this.checkSize(input);
    // One statement takes the next seq under the conversation's row lock and reads who may post
    // and whom to tell. Any refusal below rolls it back, so sequence numbers have no gaps.
    const next = await this.messages.takeSeq(em, caller.corpId, conversationId, caller.userId);
    const { message, event } = await this.compose(em, caller, conversationId, input, next);
    await this.messages.insert(em, message);
    await this.outbox.publish(em, MESSAGING_MESSAGE_TOPIC, event);
    return message;
  }

  private checkSize(input: SendInput): void {
    if (Buffer.byteLength(input.text ?? '', 'utf8') > this.config.MESSAGE_TEXT_MAX_BYTES)
      throw new MessageTooLargeException(this.config.MESSAGE_TEXT_MAX_BYTES);
  }

  /**
   * Checks a send against what taking its seq returned (null: no such conversation, or the
   * sender may not post in it) and builds the message and its event; throws on any refusal.
   */
  private async compose(
    em: EntityManager,
    caller: MessageSender,
    conversationId: string,
    input: SendInput,
    next: TakenSeq | null,
  ): Promise<{ message: StoredMessage; event: ReturnType<typeof messageSent> }> {
    if (!next) throw new ConversationNotFoundException(conversationId);
    const admin =
      next.admins.includes(caller.userId) ||
      caller.userId.startsWith(ROBOT_SENDER_PREFIX) ||
      caller.userId.startsWith(APP_SENDER_PREFIX);
    const group = isGroupKind(next.kind);
    if (next.inactivePeers.length) throw new PeerInactiveException(next.inactivePeers);
    if (group && next.onlyAdminsPost && !admin) throw new GroupMutedException();
    const mentions = normaliseMentions(input.mentions);
    if (mentions.includes('@all') && !(group && admin))
      throw new MentionInvalidException('Only a group’s owner and admins mention @all.');
    const strangers = mentions.filter((m) => m !== '@all' && !next.participants.includes(m));
    if (strangers.length)
      throw new MentionInvalidException(`Not in this conversation: ${strangers.join(', ')}.`);
    const quoteSeq = input.quoteSeq ?? 0;
    if (quoteSeq > 0) {
      const quoted =
        quoteSeq < next.seq
          ? await this.messages.bySeq(em, caller.corpId, conversationId, quoteSeq)
          : null;
      if (!quoted) throw new QuoteInvalidException(quoteSeq);
      if (quoted.recalledAt) throw new QuoteInvalidException(quoteSeq, true);
    }
    const media = isMediaType(input.type)
      ? await this.media.forMessage(em, caller, input.mediaId as string, input.type)
      : null;
    let contactCard: StoredMessage['contactCard'] = null;
    if (input.type === 'contact_card' && input.contactCard) {
      const name = await this.directory.nameOf(em, caller.corpId, input.contactCard.userid);
      if (name === null) throw new ContactCardInvalidException(input.contactCard.userid);
      contactCard = { userid: input.contactCard.userid, name };
    }
    const message: StoredMessage = {
      corpId: caller.corpId,
      conversationId,
      seq: next.seq,
      id: randomUUID(),
      sender: caller.userId,
      clientMsgId: input.clientMsgId,
      type: input.type,
      text: input.text ?? '',
      mentions,
      quoteSeq,
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
      articles: input.articles ?? [],
      location: input.location ?? null,
      link: input.link ?? null,
      contactCard,
      textcard: input.textcard ?? null,
      templateCard: input.templateCard ?? null,
      caption: input.caption ?? null,
      safe: input.safe ?? false,
      sentAt: new Date(),
      recalledAt: null,
      recalledBy: null,
    };
    return {
      message,
      event: messageSent(message, next.kind, next.participants, next.externalParticipants),
    };
  }
}
