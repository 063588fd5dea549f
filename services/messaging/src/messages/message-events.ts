import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { MESSAGING_MESSAGE_TOPIC } from '@qiwei/contracts';
import type { NewEvent } from '@qiwei/events';
import type { MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import type { TemplateCardSchema } from '@qiwei/contracts';
import type {
  CardAction,
  MediaCaption,
  MessageMediaInfo,
  NewsArticle,
  StoredMessage,
  TemplateCard,
  TextCard,
} from './messages.repository';

const actionOf = (a: CardAction) => ({
  type: a.type,
  url: a.url,
  appid: a.appid,
  pagepath: a.pagepath,
});

const actionFrom = (
  a: { type: number; url: string; appid: string; pagepath: string } | undefined,
) => ({
  type: a?.type ?? 0,
  url: a?.url ?? '',
  appid: a?.appid ?? '',
  pagepath: a?.pagepath ?? '',
});

/** A template card of an event back in the shape the API shows (WebSocket frames). */
export const templateCardFrom = (c: MessageShape<typeof TemplateCardSchema>): TemplateCard => ({
  cardType: c.cardType as TemplateCard['cardType'],
  taskId: c.taskId,
  source: c.source
    ? { iconUrl: c.source.iconUrl, desc: c.source.desc, descColor: c.source.descColor }
    : null,
  mainTitle: c.mainTitle ? { title: c.mainTitle.title, desc: c.mainTitle.desc } : null,
  quoteArea: c.quoteArea
    ? {
        action: actionFrom(c.quoteArea.action),
        title: c.quoteArea.title,
        quoteText: c.quoteArea.quoteText,
      }
    : null,
  emphasisContent: c.emphasisContent
    ? { title: c.emphasisContent.title, desc: c.emphasisContent.desc }
    : null,
  subTitleText: c.subTitleText,
  horizontalContentList: c.horizontalContentList.map((h) => ({
    type: h.type,
    keyname: h.keyname,
    value: h.value,
    url: h.url,
    userid: h.userid,
  })),
  jumpList: c.jumpList.map((j) => ({ action: actionFrom(j.action), title: j.title })),
  cardAction: actionFrom(c.cardAction),
  cardImage: c.cardImage ? { url: c.cardImage.url, aspectRatio: c.cardImage.aspectRatio } : null,
  imageTextArea: c.imageTextArea
    ? {
        action: actionFrom(c.imageTextArea.action),
        title: c.imageTextArea.title,
        desc: c.imageTextArea.desc,
        imageUrl: c.imageTextArea.imageUrl,
      }
    : null,
  verticalContentList: c.verticalContentList.map((v) => ({ title: v.title, desc: v.desc })),
});

/** A template card as the message events carry it (absent parts left out). */
export const templateCardMessage = (
  c: TemplateCard | null,
): MessageInitShape<typeof TemplateCardSchema> | undefined =>
  c
    ? {
        cardType: c.cardType,
        taskId: c.taskId,
        source: c.source ?? undefined,
        mainTitle: c.mainTitle ?? undefined,
        quoteArea: c.quoteArea
          ? {
              action: actionOf(c.quoteArea.action),
              title: c.quoteArea.title,
              quoteText: c.quoteArea.quoteText,
            }
          : undefined,
        emphasisContent: c.emphasisContent ?? undefined,
        subTitleText: c.subTitleText,
        horizontalContentList: c.horizontalContentList,
        jumpList: c.jumpList.map((j) => ({ action: actionOf(j.action), title: j.title })),
        cardAction: actionOf(c.cardAction),
        cardImage: c.cardImage ?? undefined,
        imageTextArea: c.imageTextArea
          ? {
              action: actionOf(c.imageTextArea.action),
              title: c.imageTextArea.title,
              desc: c.imageTextArea.desc,
              imageUrl: c.imageTextArea.imageUrl,
            }
          : undefined,
        verticalContentList: c.verticalContentList,
      }
    : undefined;

const mediaOf = (media: MessageMediaInfo | null) =>
  media
    ? {
        mediaId: media.id,
        kind: media.kind,
        bucket: media.bucket,
        objectKey: media.objectKey,
        size: BigInt(media.size),
        sha256: media.sha256,
        filename: media.filename,
        contentType: media.contentType,
      }
    : undefined;

const typeOf = (happened: string) => {
  const type = `qiwei.messaging.message.${happened}.v1`;
  if (!MESSAGING_MESSAGE_TOPIC.events.some((e) => e.type === type))
    throw new Error(`undeclared ${type}`);
  return type;
};

// The conversation is the key: its messages stay in seq order for every consumer.
const envelope = (corpId: string, conversationId: string, seq: number) => ({
  tenant: corpId,
  key: conversationId,
  subject: `conversation/${conversationId}/message/${seq}`,
});

/** Everything an archive needs, without calling back. */
export const messageSent = (
  m: StoredMessage,
  kind: string,
  participants: string[],
  externalParticipants: string[] = [],
): NewEvent => ({
  ...envelope(m.corpId, m.conversationId, m.seq),
  type: typeOf('sent'),
  time: m.sentAt,
  data: {
    message: {
      corpId: m.corpId,
      conversationId: m.conversationId,
      seq: BigInt(m.seq),
      id: m.id,
      sender: m.sender,
      clientMsgId: m.clientMsgId,
      conversationKind: kind,
      participants,
      externalParticipants,
      content: {
        type: m.type,
        text: m.text,
        mentions: m.mentions,
        quoteSeq: BigInt(m.quoteSeq),
        media: mediaOf(m.media),
        articles: m.articles,
        location: m.location ?? undefined,
        link: m.link ?? undefined,
        contactCard: m.contactCard ?? undefined,
        textcard: m.textcard ?? undefined,
        safe: m.safe,
        caption: m.caption ?? undefined,
        templateCard: templateCardMessage(m.templateCard),
      },
      sentAt: timestampFromDate(m.sentAt),
    },
  },
});

export const messageRecalled = (m: StoredMessage, by: string, at: Date): NewEvent => ({
  ...envelope(m.corpId, m.conversationId, m.seq),
  type: typeOf('recalled'),
  time: at,
  data: {
    corpId: m.corpId,
    conversationId: m.conversationId,
    seq: BigInt(m.seq),
    id: m.id,
    sender: m.sender,
    recalledBy: by,
    recalledAt: timestampFromDate(at),
  },
});

export const messageRead = (
  corpId: string,
  conversationId: string,
  userid: string,
  seq: number,
  at: Date,
): NewEvent => ({
  ...envelope(corpId, conversationId, seq),
  type: typeOf('read'),
  time: at,
  data: {
    corpId,
    conversationId,
    userid,
    seq: BigInt(seq),
    readAt: timestampFromDate(at),
  },
});

/** An app message, with every member it reached (an archive needs nothing else). */
export const appMessageSent = (m: {
  corpId: string;
  msgid: string;
  agentId: number;
  msgtype: string;
  text: string;
  media: MessageMediaInfo | null;
  caption: MediaCaption | null;
  textcard: TextCard | null;
  templateCard: TemplateCard | null;
  articles: NewsArticle[];
  safe: boolean;
  recipients: string[];
  sentAt: Date;
}): NewEvent => ({
  tenant: m.corpId,
  key: `app/${m.agentId}`,
  subject: `app/${m.agentId}/message/${m.msgid}`,
  type: typeOf('app_sent'),
  time: m.sentAt,
  data: {
    corpId: m.corpId,
    msgid: m.msgid,
    agentid: m.agentId,
    content: {
      type: m.msgtype,
      text: m.text,
      mentions: [],
      quoteSeq: 0n,
      media: mediaOf(m.media),
      articles: m.articles,
      textcard: m.textcard ?? undefined,
      safe: m.safe,
      caption: m.caption ?? undefined,
      templateCard: templateCardMessage(m.templateCard),
    },
    recipients: m.recipients,
    sentAt: timestampFromDate(m.sentAt),
  },
});

/** An app recalled its app message; its recipients are told. */
export const appMessageRecalled = (m: {
  corpId: string;
  msgid: string;
  agentId: number;
  recipients: string[];
  by: string;
  sentAt: Date;
  recalledAt: Date;
}): NewEvent => ({
  tenant: m.corpId,
  key: `app/${m.agentId}`,
  subject: `app/${m.agentId}/message/${m.msgid}`,
  type: typeOf('app_recalled'),
  time: m.recalledAt,
  data: {
    corpId: m.corpId,
    msgid: m.msgid,
    agentid: m.agentId,
    recipients: m.recipients,
    recalledBy: m.by,
    sentAt: timestampFromDate(m.sentAt),
    recalledAt: timestampFromDate(m.recalledAt),
  },
});
