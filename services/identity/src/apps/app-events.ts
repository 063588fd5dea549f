import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { IDENTITY_APP_TOPIC, type AppDeletedSchema, type AppSchema } from '@qiwei/contracts';
import type { NewEvent } from '@qiwei/events';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { App } from './apps.repository';

export type AppChange = 'created' | 'updated' | 'secret_rotated';

const typeOf = (happened: string) => {
  const type = `qiwei.identity.app.${happened}.v1`;
  if (!IDENTITY_APP_TOPIC.events.some((e) => e.type === type))
    throw new Error(`undeclared ${type}`);
  return type;
};

// The corp is the key: every change to one corp's apps stays in order.
const envelope = (corpId: string, agentId: number) => ({
  tenant: corpId,
  key: corpId,
  subject: `app/${agentId}`,
});

/** The whole app as events carry it; never the secret. */
export function appState(app: App): MessageInitShape<typeof AppSchema> {
  return {
    corpId: app.corpId,
    agentid: app.agentId,
    name: app.name,
    description: app.description,
    range: app.range,
    permissions: app.permissions,
    createdAt: timestampFromDate(app.createdAt),
    updatedAt: timestampFromDate(app.updatedAt),
  };
}

export function appChanged(change: AppChange, app: App): NewEvent {
  return {
    ...envelope(app.corpId, app.agentId),
    type: typeOf(change),
    data:
      change === 'secret_rotated'
        ? { app: appState(app), rotatedAt: timestampFromDate(app.updatedAt) }
        : { app: appState(app) },
  };
}

export function appDeleted(
  corpId: string,
  agentId: number,
  at: Date,
): NewEvent<typeof AppDeletedSchema> {
  return {
    ...envelope(corpId, agentId),
    type: typeOf('deleted'),
    data: { corpId, agentid: agentId, deletedAt: timestampFromDate(at) },
  };
}
