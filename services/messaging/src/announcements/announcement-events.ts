import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { MESSAGING_ANNOUNCEMENT_TOPIC, type AnnouncementSchema } from '@qiwei/contracts';
import type { NewEvent } from '@qiwei/events';
import type { StoredAnnouncement } from './announcements.repository';

const typeOf = (happened: string) => {
  const type = `qiwei.messaging.announcement.${happened}.v1`;
  if (!MESSAGING_ANNOUNCEMENT_TOPIC.events.some((e) => e.type === type))
    throw new Error(`undeclared ${type}`);
  return type;
};

// The announcement is the key: its events stay in order for every consumer.
const envelope = (corpId: string, id: string) => ({
  tenant: corpId,
  key: id,
  subject: `announcement/${id}`,
});

const announcementMessage = (
  a: StoredAnnouncement,
  publishedAt: Date,
): MessageInitShape<typeof AnnouncementSchema> => ({
  corpId: a.corpId,
  id: a.id,
  publisher: a.publisher,
  title: a.title,
  body: a.body,
  format: a.format,
  attachments: a.attachments.map((f) => ({
    mediaId: f.mediaId,
    kind: f.kind,
    bucket: f.bucket,
    objectKey: f.objectKey,
    size: BigInt(f.size),
    sha256: f.sha256,
    filename: f.filename,
    contentType: f.contentType,
  })),
  priority: a.priority,
  pinned: a.pinned,
  noForward: a.noForward,
  targets: a.targets,
  publishedAt: timestampFromDate(publishedAt),
  expiresAt: a.expiresAt ? timestampFromDate(a.expiresAt) : undefined,
});

/** Everything about the announcement and everyone it reached: consumers need nothing else. */
export const announcementPublished = (
  a: StoredAnnouncement,
  publishedAt: Date,
  recipients: string[],
): NewEvent => ({
  ...envelope(a.corpId, a.id),
  type: typeOf('published'),
  time: publishedAt,
  data: { announcement: announcementMessage(a, publishedAt), recipients },
});

export const announcementUpdated = (a: StoredAnnouncement, by: string, at: Date): NewEvent => ({
  ...envelope(a.corpId, a.id),
  type: typeOf('updated'),
  time: at,
  data: {
    announcement: announcementMessage(a, a.publishedAt ?? at),
    updatedBy: by,
    updatedAt: timestampFromDate(at),
  },
});

export const announcementWithdrawn = (a: StoredAnnouncement, by: string, at: Date): NewEvent => ({
  ...envelope(a.corpId, a.id),
  type: typeOf('withdrawn'),
  time: at,
  data: { corpId: a.corpId, id: a.id, withdrawnBy: by, withdrawnAt: timestampFromDate(at) },
});

export const announcementExpired = (a: StoredAnnouncement, at: Date): NewEvent => ({
  ...envelope(a.corpId, a.id),
  type: typeOf('expired'),
  time: at,
  data: { corpId: a.corpId, id: a.id, expiredAt: timestampFromDate(at) },
});

export const announcementRead = (a: StoredAnnouncement, userid: string, at: Date): NewEvent => ({
  ...envelope(a.corpId, a.id),
  type: typeOf('read'),
  time: at,
  data: {
    corpId: a.corpId,
    id: a.id,
    userid,
    readAt: timestampFromDate(at),
    publishedAt: a.publishedAt ? timestampFromDate(a.publishedAt) : undefined,
  },
});

export const announcementReminded = (
  a: StoredAnnouncement,
  by: string,
  userids: string[],
  at: Date,
  automatic: boolean,
): NewEvent => ({
  ...envelope(a.corpId, a.id),
  type: typeOf('reminded'),
  time: at,
  data: {
    corpId: a.corpId,
    id: a.id,
    title: a.title,
    priority: a.priority,
    remindedBy: by,
    userids,
    remindedAt: timestampFromDate(at),
    automatic,
  },
});
