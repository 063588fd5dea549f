import type { MessageShape } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import type {
  AnnouncementExpiredSchema,
  AnnouncementPublishedSchema,
  AnnouncementReadSchema,
  AnnouncementRemindedSchema,
  AnnouncementUpdatedSchema,
  AnnouncementWithdrawnSchema,
} from '@qiwei/contracts';
import type { ReceivedEvent } from '@qiwei/events';
import type { EntityManager } from 'typeorm';

/** A WebSocket frame and the members whose sockets get it. */
export interface Delivery {
  userids: string[];
  frame: object;
}

const recipientsOf = async (em: EntityManager, corpId: string, id: string) =>
  (
    await em.query<{ userid: string }[]>(
      'SELECT userid FROM announcement_recipients WHERE corp_id = $1 AND announcement_id = $2',
      [corpId, id],
    )
  ).map((r) => r.userid);

/**
 * The `announcement` frames of an announcement event (for `RealtimeGateway`): recipients hear
 * of its publishing (`strongReminder` for important ones), changes, withdrawal and expiry; the
 * unread of a reminder; the publisher of each first read (live statistics). Bodies are not
 * pushed: clients fetch `GET /v1/announcements/{id}`.
 */
export async function announcementDelivery(
  event: ReceivedEvent,
  em: EntityManager,
): Promise<Delivery | null> {
  const corpId = event.tenant;
  const frame = (kind: string, fields: object) => ({
    type: 'announcement',
    event: kind,
    ...fields,
  });
  switch (event.type) {
    case 'qiwei.messaging.announcement.published.v1': {
      const p = event.data as MessageShape<typeof AnnouncementPublishedSchema>;
      const a = p.announcement;
      if (!a) return null;
      return {
        userids: p.recipients,
        frame: frame('published', {
          id: a.id,
          announcement: {
            id: a.id,
            title: a.title,
            priority: a.priority,
            pinned: a.pinned,
            noForward: a.noForward,
            publisher: a.publisher,
            attachmentCount: a.attachments.length,
            publishedAt: a.publishedAt ? timestampDate(a.publishedAt).toISOString() : null,
            expiresAt: a.expiresAt ? timestampDate(a.expiresAt).toISOString() : null,
          },
          strongReminder: a.priority === 'important',
        }),
      };
    }
    case 'qiwei.messaging.announcement.updated.v1': {
      const u = event.data as MessageShape<typeof AnnouncementUpdatedSchema>;
      const a = u.announcement;
      if (!a) return null;
      return {
        userids: await recipientsOf(em, corpId, a.id),
        frame: frame('updated', {
          id: a.id,
          pinned: a.pinned,
          expiresAt: a.expiresAt ? timestampDate(a.expiresAt).toISOString() : null,
        }),
      };
    }
    case 'qiwei.messaging.announcement.withdrawn.v1': {
      const w = event.data as MessageShape<typeof AnnouncementWithdrawnSchema>;
      return {
        userids: await recipientsOf(em, corpId, w.id),
        frame: frame('withdrawn', { id: w.id }),
      };
    }
    case 'qiwei.messaging.announcement.expired.v1': {
      const x = event.data as MessageShape<typeof AnnouncementExpiredSchema>;
      return {
        userids: await recipientsOf(em, corpId, x.id),
        frame: frame('expired', { id: x.id }),
      };
    }
    case 'qiwei.messaging.announcement.reminded.v1': {
      const r = event.data as MessageShape<typeof AnnouncementRemindedSchema>;
      return {
        userids: r.userids,
        frame: frame('reminded', {
          id: r.id,
          title: r.title,
          priority: r.priority,
          remindedBy: r.remindedBy,
          automatic: r.automatic,
          strongReminder: true,
        }),
      };
    }
    case 'qiwei.messaging.announcement.read.v1': {
      const r = event.data as MessageShape<typeof AnnouncementReadSchema>;
      const [row] = await em.query<{ publisher: string }[]>(
        'SELECT publisher FROM announcements WHERE corp_id = $1 AND id = $2',
        [corpId, r.id],
      );
      return row
        ? {
            userids: [row.publisher],
            frame: frame('read', {
              id: r.id,
              userid: r.userid,
              readAt: r.readAt ? timestampDate(r.readAt).toISOString() : null,
            }),
          }
        : null;
    }
    default:
      return null;
  }
}
