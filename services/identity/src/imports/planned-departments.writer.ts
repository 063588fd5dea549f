import { Injectable } from '@nestjs/common';
import { IDENTITY_DEPARTMENT_TOPIC } from '@qiwei/contracts';
import { Outbox } from '@qiwei/events';
import type { CorpId } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';
import type { AuditEntry } from '../audit/audit-log';
import { departmentCreated } from '../departments/department-events';
import { DepartmentRepository } from '../departments/department.repository';
import { BulkMembersRepository, type DepartmentRow } from './bulk-members.repository';
import type { PlannedDepartment } from './department-paths';

/**
 * Creates the departments a `DepartmentPathResolver` planned (an overwrite import, a WeCom batch
 * job naming paths), set-based, with their events and audit entries, in the caller's transaction.
 */
@Injectable()
export class PlannedDepartmentsWriter {
  constructor(
    private readonly bulk: BulkMembersRepository,
    private readonly departments: DepartmentRepository,
    private readonly outbox: Outbox,
  ) {}

  /** Returns planned ref → real id; `tree` is the corp's tree the plan was made against. */
  async create(
    em: EntityManager,
    corpId: CorpId,
    planned: readonly PlannedDepartment[],
    tree: DepartmentRow[],
    audit: AuditEntry[],
  ): Promise<Map<number, number>> {
    const ids = new Map<number, number>();
    if (planned.length === 0) return ids;
    const first = await this.departments.allocateIds(em, corpId, planned.length);
    planned.forEach((p, i) => ids.set(p.ref, first + i));
    const real = (ref: number) => (ref < 0 ? (ids.get(ref) as number) : ref);
    const pathOf = new Map(tree.map((d) => [d.id, d.path]));
    const rows = planned.map((p) => {
      const id = real(p.ref);
      const path = `${pathOf.get(real(p.parentRef))}${id}/`;
      pathOf.set(id, path);
      return { id, parentId: real(p.parentRef), name: p.name, path, depth: p.depth };
    });
    await this.bulk.insertDepartments(em, corpId, rows);
    const created = await this.bulk.departments(
      em,
      corpId,
      rows.map((r) => r.id),
    );
    await this.outbox.publishAll(em, IDENTITY_DEPARTMENT_TOPIC, created.map(departmentCreated));
    for (const department of created) {
      audit.push({
        action: 'department.created',
        targetType: 'department',
        targetId: department.id,
        after: department,
      });
    }
    return ids;
  }
}
