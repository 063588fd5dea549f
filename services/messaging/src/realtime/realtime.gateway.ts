import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { MessageShape } from '@bufbuild/protobuf';
import { TOKEN_VERIFIER, type Principal, type TokenVerifier } from '@qiwei/auth';
import {
  MESSAGING_ANNOUNCEMENT_TOPIC,
  MESSAGING_CONVERSATION_TOPIC,
  MESSAGING_MESSAGE_TOPIC,
  type AppMessageRecalledSchema,
  type AppMessageSentSchema,
  type MessageContent,
  type ConversationDisbandedSchema,
  type ConversationSchema,
  type MessageReadSchema,
  type MessageRecalledSchema,
  type MessageSentSchema,
} from '@qiwei/contracts';
import { brokersOf, createKafka, decodeEvent, type ReceivedEvent } from '@qiwei/events';
import { HealthRegistry, LOGGER, METRICS_REGISTRY, type Logger } from '@qiwei/platform';
import type { Consumer } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { MESSAGING_CONFIG, type MessagingConfig } from '../config';
import { Connections, type Connection } from './connections';
import { announcementDelivery } from '../announcements/announcement-frames';
import { URGENT_REMINDED, urgentDelivery } from '../urgent/urgent-reminder-events';
import { templateCardFrom } from '../messages/message-events';

export const STREAM_PATH = '/v1/stream';
const TOPICS = [
  MESSAGING_MESSAGE_TOPIC,
  MESSAGING_CONVERSATION_TOPIC,
  MESSAGING_ANNOUNCEMENT_TOPIC,
];

type ConversationData = {
  conversation?: MessageShape<typeof ConversationSchema>;
  userids?: string[];
  externalUserids?: string[];
  by?: string;
  reason?: string;
};

/**
 * Real-time delivery over WebSocket (`GET /v1/stream`, with the identity access token as
 * `Authorization: Bearer` or `?access_token=`). Every instance consumes the message,
 * conversation and announcement topics in a consumer group of its own and pushes each event to
 * the sockets of the members concerned that are connected to it — so any number of instances can
 * run. Offline
 * members, and sockets closed for being slow, catch up with `GET …/messages?afterSeq=`.
 */
@Injectable()
export class RealtimeGateway implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly server = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 });
  private readonly connections: Connections;
  private consumer?: Consumer;
  private joined = false;
  private readonly framesDelivered: Counter;
  private readonly socketsDropped: Counter;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(TOKEN_VERIFIER) private readonly verifier: TokenVerifier,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) registry: Registry,
    private readonly dataSource: DataSource,
    health: HealthRegistry,
  ) {
    this.connections = new Connections(config.REALTIME_MAX_BUFFERED_BYTES);
    const connections = this.connections;
    new Gauge({
      name: 'qiwei_realtime_connections',
      help: 'WebSocket connections open on this instance',
      registers: [registry],
      collect() {
        this.set(connections.size);
      },
    });
    this.framesDelivered = new Counter({
      name: 'qiwei_realtime_frames_delivered_total',
      help: 'Frames handed to sockets',
      registers: [registry],
    });
    this.socketsDropped = new Counter({
      name: 'qiwei_realtime_slow_sockets_closed_total',
      help: 'Sockets closed because their send buffer passed REALTIME_MAX_BUFFERED_BYTES',
      registers: [registry],
    });
    health.register('realtime', () => {
      if (!this.joined) throw new Error('the delivery consumer has not joined its group yet');
      return Promise.resolve();
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const http = this.adapterHost.httpAdapter.getHttpServer() as import('node:http').Server;
    http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.upgrade(request, socket, head);
    });
    const kafka = createKafka({
      brokers: brokersOf(this.config),
      clientId: 'qiwei-messaging-realtime',
      logger: this.logger,
    });
    // A group of its own: every instance sees every event (delivery is per instance).
    this.consumer = kafka.consumer({
      groupId: `qiwei.messaging.realtime.${randomUUID()}`,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      this.joined = true;
    });
    await this.consumer.connect();
    for (const topic of TOPICS)
      await this.consumer.subscribe({ topic: topic.name, fromBeginning: false });
    await this.consumer.run({
      // The group is this instance's alone and starts at the end, so no offsets are committed
      // (measured: committing, even once a second, doubled the broker's CPU per message and the
      // delivery p99). Should kafkajs restart the consumer after an error, it resumes at the end:
      // frames of events published meanwhile are not pushed, and clients sync by seq as after
      // any missed frame.
      autoCommit: false,
      partitionsConsumedConcurrently: 4,
      // A fetched batch at once: the frames it produces for a socket leave in one write (see
      // Connections).
      eachBatch: async ({ batch }) => {
        const definition = TOPICS.find((t) => t.name === batch.topic);
        if (!definition) return;
        for (const message of batch.messages) {
          try {
            const event = decodeEvent(definition, {
              topic: batch.topic,
              partition: batch.partition,
              ...message,
            });
            await this.dispatch(event);
          } catch (error) {
            // Delivery is best effort: clients sync by seq. Never stall the partition.
            this.logger.warn(
              { err: error, topic: batch.topic, offset: message.offset },
              'realtime: event not delivered',
            );
          }
        }
      },
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.connections.closeAll(1001, 'server shutting down');
    this.server.close();
    await this.consumer?.disconnect();
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== STREAM_PATH) {
      refuse(socket, 404, 'Not Found');
      return;
    }
    const header = request.headers.authorization;
    const token =
      (typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined) ??
      url.searchParams.get('access_token') ??
      undefined;
    let principal: Principal;
    try {
      if (!token) throw new Error('no token');
      principal = await this.verifier.verify(token);
      if (principal.app) throw new Error('apps do not hold sockets');
    } catch {
      refuse(socket, 401, 'Unauthorized');
      return;
    }
    this.server.handleUpgrade(request, socket, head, (ws) => this.accept(ws, principal));
  }

  private accept(socket: WebSocket, principal: Principal): void {
    const connection: Connection = { corpId: principal.corpId, userid: principal.userId, socket };
    this.connections.add(connection);
    socket.on('close', () => this.connections.remove(connection));
    socket.on('error', () => this.connections.remove(connection));
    socket.on('message', (data: RawData, binary: boolean) => this.onFrame(socket, data, binary));
    socket.send(JSON.stringify({ type: 'ready', userid: principal.userId }));
  }

  /** Clients send `{"type":"ping"}`; anything else is answered with an error frame. */
  private onFrame(socket: WebSocket, data: RawData, binary: boolean): void {
    if (binary) {
      socket.close(1003, 'text frames only');
      return;
    }
    let frame: unknown;
    try {
      frame = JSON.parse(textOf(data));
    } catch {
      socket.send(
        JSON.stringify({
          type: 'error',
          code: 'FRAME_INVALID',
          message: 'Frames are JSON objects.',
        }),
      );
      return;
    }
    if (
      typeof frame === 'object' &&
      frame !== null &&
      (frame as { type?: unknown }).type === 'ping'
    ) {
      socket.send(JSON.stringify({ type: 'pong' }));
      return;
    }
    socket.send(
      JSON.stringify({
        type: 'error',
        code: 'FRAME_UNKNOWN',
        message: 'The only frame a client sends is {"type":"ping"}; send messages over HTTP.',
      }),
    );
  }

  private async dispatch(event: ReceivedEvent): Promise<void> {
    const corpId = event.tenant;
    const kind = event.type.split('.')[3];
    if (event.type.startsWith('qiwei.messaging.announcement.')) {
      const delivery = await announcementDelivery(event, this.dataSource.manager);
      if (delivery) this.send(corpId, delivery.userids, delivery.frame);
    } else if (event.type === URGENT_REMINDED) {
      const delivery = urgentDelivery(event);
      this.send(corpId, delivery.userids, delivery.frame);
    } else if (event.type === 'qiwei.messaging.message.sent.v1') {
      const m = (event.data as MessageShape<typeof MessageSentSchema>).message;
      if (!m) return;
      this.send(corpId, m.participants, {
        type: 'message',
        conversationId: m.conversationId,
        message: {
          seq: Number(m.seq),
          id: m.id,
          sender: m.sender,
          clientMsgId: m.clientMsgId,
          type: m.content?.type,
          text: m.content?.text,
          mentions: m.content?.mentions ?? [],
          quoteSeq: Number(m.content?.quoteSeq ?? 0n),
          ...richContent(m.content),
          sentAt: m.sentAt ? timestampDate(m.sentAt).toISOString() : null,
        },
      });
    } else if (event.type === 'qiwei.messaging.message.app_sent.v1') {
      const a = event.data as MessageShape<typeof AppMessageSentSchema>;
      this.send(corpId, a.recipients, {
        type: 'app_message',
        msgid: a.msgid,
        agentid: a.agentid,
        msgtype: a.content?.type,
        text: a.content?.text,
        ...richContent(a.content),
        sentAt: a.sentAt ? timestampDate(a.sentAt).toISOString() : null,
      });
    } else if (event.type === 'qiwei.messaging.message.app_recalled.v1') {
      const r = event.data as MessageShape<typeof AppMessageRecalledSchema>;
      this.send(corpId, r.recipients, {
        type: 'app_message_recall',
        msgid: r.msgid,
        agentid: r.agentid,
      });
    } else if (event.type === 'qiwei.messaging.message.recalled.v1') {
      const r = event.data as MessageShape<typeof MessageRecalledSchema>;
      this.send(corpId, await this.participants(corpId, r.conversationId), {
        type: 'recall',
        conversationId: r.conversationId,
        seq: Number(r.seq),
        recalledBy: r.recalledBy,
      });
    } else if (event.type === 'qiwei.messaging.message.read.v1') {
      const r = event.data as MessageShape<typeof MessageReadSchema>;
      this.send(corpId, await this.participants(corpId, r.conversationId), {
        type: 'read',
        conversationId: r.conversationId,
        userid: r.userid,
        seq: Number(r.seq),
      });
    } else if (event.type === 'qiwei.messaging.conversation.disbanded.v1') {
      const id = (event.data as MessageShape<typeof ConversationDisbandedSchema>).id;
      this.send(corpId, await this.participants(corpId, id, true), {
        type: 'conversation',
        event: kind,
        conversationId: id,
      });
    } else {
      const data = event.data as ConversationData;
      const c = data.conversation;
      if (!c) return;
      // Removed members hear of their own removal too.
      const recipients = new Set([...c.participants.map((p) => p.userid), ...(data.userids ?? [])]);
      this.send(corpId, recipients, {
        type: 'conversation',
        event: kind,
        conversationId: c.id,
        userids: data.userids ?? [],
        externalUserids: data.externalUserids ?? [],
        by: data.by ?? '',
        reason: data.reason ?? '',
      });
    }
  }

  private send(corpId: string, userids: Iterable<string>, frame: object): void {
    const [delivered, dropped] = this.connections.deliver(corpId, userids, frame);
    this.framesDelivered.inc(delivered);
    if (dropped) this.socketsDropped.inc(dropped);
  }

  /** Current members (also of a disbanded conversation, whose rows stay). */
  private async participants(
    corpId: string,
    conversationId: string,
    includeDisbanded = false,
  ): Promise<string[]> {
    const rows = await this.dataSource.query<{ userid: string }[]>(
      `SELECT m.userid FROM conversation_members m
         JOIN conversations c ON c.corp_id = m.corp_id AND c.id = m.conversation_id
        WHERE m.corp_id = $1 AND m.conversation_id = $2 ${includeDisbanded ? '' : 'AND c.disbanded_at IS NULL'}`,
      [corpId, conversationId],
    );
    return rows.map((r) => r.userid);
  }
}

/** Media, articles, text card, caption and the confidential flag, as frames carry them. */
function richContent(content: MessageContent | undefined) {
  return {
    media: content?.media
      ? {
          mediaId: content.media.mediaId,
          kind: content.media.kind,
          filename: content.media.filename,
          contentType: content.media.contentType,
          size: Number(content.media.size),
          sha256: content.media.sha256,
        }
      : null,
    articles: (content?.articles ?? []).map((a) => ({
      title: a.title,
      description: a.description,
      url: a.url,
      picurl: a.picurl,
    })),
    textcard: content?.textcard
      ? {
          title: content.textcard.title,
          description: content.textcard.description,
          url: content.textcard.url,
          btntxt: content.textcard.btntxt,
        }
      : null,
    templateCard: content?.templateCard ? templateCardFrom(content.templateCard) : null,
    caption: content?.caption
      ? { title: content.caption.title, description: content.caption.description }
      : null,
    safe: content?.safe ?? false,
    location: content?.location
      ? {
          latitude: content.location.latitude,
          longitude: content.location.longitude,
          name: content.location.name,
          address: content.location.address,
        }
      : null,
    link: content?.link
      ? {
          title: content.link.title,
          description: content.link.description,
          url: content.link.url,
          picUrl: content.link.picUrl,
        }
      : null,
    contactCard: content?.contactCard
      ? { userid: content.contactCard.userid, name: content.contactCard.name }
      : null,
  };
}

function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}
