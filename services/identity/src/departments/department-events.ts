import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  IDENTITY_DEPARTMENT_TOPIC,
  type DepartmentCreatedSchema,
  type DepartmentDeletedSchema,
  type DepartmentMovedSchema,
  type DepartmentSchema,
  type DepartmentUpdatedSchema,
} from '@qiwei/contracts';
import type { NewEvent } from '@qiwei/events';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { Department } from './department.entity';

const [CREATED, UPDATED, MOVED, DELETED] = IDENTITY_DEPARTMENT_TOPIC.events.map((e) => e.type);

/** The full state a department event carries. */
export function departmentState(d: Department): MessageInitShape<typeof DepartmentSchema> {
  return {
    corpId: d.corpId,
    id: d.id,
    parentId: d.parentId ?? undefined,
    name: d.name,
    order: d.order,
    depth: d.depth,
    path: d.path.split('/').filter(Boolean).map(Number),
    visibility: d.visibility,
    visibleToRoles: d.visibleToRoles,
    visibleToDepartmentIds: d.visibleToDepartments,
    createdAt: timestampFromDate(d.createdAt),
    updatedAt: timestampFromDate(d.updatedAt),
  };
}

// The corp is the key: every change to one corp's tree stays in order.
const envelope = (d: { corpId: string; id: number }) => ({
  tenant: d.corpId,
  key: d.corpId,
  subject: `department/${d.id}`,
});

export const departmentCreated = (d: Department): NewEvent<typeof DepartmentCreatedSchema> => ({
  ...envelope(d),
  type: CREATED,
  data: { department: departmentState(d) },
});

export const departmentUpdated = (d: Department): NewEvent<typeof DepartmentUpdatedSchema> => ({
  ...envelope(d),
  type: UPDATED,
  data: { department: departmentState(d) },
});

export const departmentMoved = (
  d: Department,
  previousParentId: number,
): NewEvent<typeof DepartmentMovedSchema> => ({
  ...envelope(d),
  type: MOVED,
  data: { department: departmentState(d), previousParentId },
});

export const departmentDeleted = (
  d: Department,
  at: Date,
): NewEvent<typeof DepartmentDeletedSchema> => ({
  ...envelope(d),
  type: DELETED,
  data: { corpId: d.corpId, id: d.id, deletedAt: timestampFromDate(at) },
});
