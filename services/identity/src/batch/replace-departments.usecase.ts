import { Inject, Injectable } from '@nestjs/common';
import { IDENTITY_DEPARTMENT_TOPIC } from '@qiwei/contracts';
import { Outbox, type NewEvent } from '@qiwei/events';
import { TransactionRunner, type CorpId } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';
import type { Access } from '../access/access';
import { AccessService } from '../access/access.service';
import { recordAudits, type AuditEntry } from '../audit/audit-log';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { lockCorpForWrite } from '../corps/corp-lock';
import {
  departmentCreated,
  departmentDeleted,
  departmentMoved,
  departmentUpdated,
} from '../departments/department-events';
import { Department, ROOT_DEPARTMENT_ID } from '../departments/department.entity';
import { PARTY_ACTION, ROW_OK, rowError, type RowErrorCode, type RowOutcome } from './batch-errors';
import {
  BatchJobsRepository,
  type BatchResultEntry,
  type ClaimedBatchJob,
} from './batch-jobs.repository';
import { batchActor, batchPrincipal } from './batch-principal';
import type { PartyRowInput, RejectedPartyRow } from './batch-sheets';

export interface PartyCounts {
  created: number;
  updated: number;
  unchanged: number;
  rejected: number;
  deleted: number;
  kept: number;
}

/** The tree the file asks for: each department's parent, name and (final) path. */
interface Plan {
  accepted: Map<number, PartyRowInput>;
  finalPath: Map<number, string>;
  deleting: Set<number>;
  kept: Map<number, RowOutcome>;
}

/** Set aside while names move between siblings: no department name holds a control character. */
const tempName = (id: number) => `\u0001${id}`;

/**
 * replace_party: the file is the department tree — in the app's scope — after the job. Departments
 * in the file are created (with the file's id), renamed, moved and reordered (排序 empty or 0 keeps
 * the order); departments not in the file are deleted when nothing is left in them (no members,
 * sub-departments or admin scopes), otherwise kept and reported. A row that cannot apply (its
 * parent is missing, it would make a cycle, pass the depth or department limit, take a sibling's
 * name, or lies outside the scope) changes nothing, and rows depending on it are settled again.
 * One transaction: the tree is never half-replaced.
 */
@Injectable()
export class ReplaceDepartmentsUseCase {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly jobs: BatchJobsRepository,
    private readonly accessService: AccessService,
    private readonly outbox: Outbox,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
  ) {}

  /** Null when another worker has taken the job over. */
  execute(
    job: ClaimedBatchJob,
    rows: (PartyRowInput | RejectedPartyRow)[],
  ): Promise<PartyCounts | null> {
    const corpId = job.corpId;
    return this.transactions.run(async (em) => {
      await lockCorpForWrite(em, corpId);
      if (!(await this.jobs.hold(em, job, 0))) return null;
      const access = await this.accessService.resolve(batchPrincipal(job), em);
      const current = new Map(
        (await em.getRepository(Department).findBy({ corpId })).map((d) => [d.id, d]),
      );
      const outcomes = new Map<number, RowOutcome>();
      const entries: PartyRowInput[] = [];
      const named = new Set<number>();
      for (const row of rows) {
        if ('outcome' in row) {
          outcomes.set(row.row, row.outcome);
          if (row.partyid !== null) named.add(row.partyid);
        } else {
          entries.push(row);
          named.add(row.id);
        }
      }
      const plan = await this.plan(em, access, current, entries, named, outcomes);
      const audit: AuditEntry[] = [];
      const actions = await this.write(em, corpId, current, plan, audit);
      await recordAudits(em, corpId, audit, batchActor(job));
      const lastRow = rows.reduce((max, r) => Math.max(max, r.row), 0);
      const results: BatchResultEntry[] = rows.map((row) => {
        const id = 'outcome' in row ? row.partyid : row.id;
        const outcome = outcomes.get(row.row);
        return {
          n: row.row,
          partyid: id,
          action: outcome ? 0 : (actions.get(id as number) ?? 0),
          ...(outcome ?? ROW_OK),
        };
      });
      const after: Omit<BatchResultEntry, 'n'>[] = [
        ...[...plan.deleting].map((id) => ({
          partyid: id,
          action: PARTY_ACTION.deleted,
          errcode: 0,
          errmsg: 'deleted',
        })),
        ...[...plan.kept].map(([id, outcome]) => ({ partyid: id, action: 0, ...outcome })),
      ];
      after.forEach((entry, i) => results.push({ ...entry, n: lastRow + 1 + i }));
      await this.jobs.insertResults(em, corpId, job.jobid, results);
      const counts: PartyCounts = {
        created: [...actions.values()].filter((a) => a & PARTY_ACTION.created).length,
        updated: [...actions.values()].filter((a) => a !== 0 && !(a & PARTY_ACTION.created)).length,
        unchanged: [...actions.values()].filter((a) => a === 0).length,
        rejected: outcomes.size,
        deleted: plan.deleting.size,
        kept: plan.kept.size,
      };
      await this.jobs.recordProgress(em, job, rows.length, { ...counts });
      return counts;
    });
  }

  /**
   * Settles which rows apply: each pass refuses the rows that cannot, which may change what the
   * others lead to (a refused move leaves its subtree where it was), until a pass refuses none.
   */
  private async plan(
    em: EntityManager,
    access: Access,
    current: Map<number, Department>,
    entries: PartyRowInput[],
    named: Set<number>,
    outcomes: Map<number, RowOutcome>,
  ): Promise<Plan> {
    const scoped = !access.isSuperAdmin;
    const refused = new Set<number>();
    const refuse = (e: PartyRowInput, code: RowErrorCode, detail: string) => {
      outcomes.set(e.row, rowError(code, detail));
      refused.add(e.id);
    };
    const mayChange = (path: string) =>
      access.canSeeDepartment(path) && (!scoped || access.mayAdminister('contacts:edit', [path]));
    for (const e of entries) {
      const existing = current.get(e.id);
      if (!existing) continue;
      if (!mayChange(existing.path))
        refuse(e, 'NO_PRIVILEGE', `Department ${e.id} is outside this app’s contacts:edit scope.`);
      else if (
        e.id !== ROOT_DEPARTMENT_ID &&
        access.isScopeRoot(existing.path) &&
        e.parentId !== existing.parentId
      )
        refuse(
          e,
          'NO_PRIVILEGE',
          `Department ${e.id} is the root of this app’s scope and cannot move.`,
        );
    }
    const [memberCounts, adminDepartments] = await Promise.all([
      em.query<{ department_id: number }[]>(
        'SELECT DISTINCT department_id FROM member_departments WHERE corp_id = $1',
        [access.corpId],
      ),
      em.query<{ department_id: number }[]>(
        'SELECT DISTINCT department_id FROM admin_scopes WHERE corp_id = $1',
        [access.corpId],
      ),
    ]);
    const withMembers = new Set(memberCounts.map((r) => r.department_id));
    const withAdmins = new Set(adminDepartments.map((r) => r.department_id));

    for (;;) {
      const accepted = new Map(entries.filter((e) => !refused.has(e.id)).map((e) => [e.id, e]));
      const exists = (id: number) => current.has(id) || accepted.has(id);
      const parentOf = (id: number) =>
        id === ROOT_DEPARTMENT_ID
          ? null
          : (accepted.get(id)?.parentId ?? current.get(id)?.parentId ?? null);
      const moves = (id: number) => {
        const e = accepted.get(id);
        return e !== undefined && (!current.has(id) || current.get(id)?.parentId !== e.parentId);
      };
      const before = refused.size;

      for (const e of accepted.values()) {
        if (e.id === ROOT_DEPARTMENT_ID) continue;
        const parent = current.get(e.parentId);
        if (
          !exists(e.parentId) ||
          (parent && !accepted.has(e.parentId) && !access.canSeeDepartment(parent.path))
        )
          refuse(
            e,
            'PARENT_INVALID',
            `父部门ID ${e.parentId} is not a department (in the corp or the file).`,
          );
      }
      if (refused.size > before) continue;

      const finalPath = this.paths([...new Set([...current.keys(), ...accepted.keys()])], parentOf);
      const lost = [...accepted.values()].filter((e) => finalPath.get(e.id) === null);
      for (const e of lost) {
        // In a cycle when walking up from it comes back to it.
        let at: number | null = e.parentId;
        for (let steps = 0; at !== null && steps <= finalPath.size; steps++) {
          if (at === e.id) {
            refuse(e, 'DEPARTMENT_CYCLE', `Department ${e.id} would be under itself.`);
            break;
          }
          at = parentOf(at);
        }
      }
      if (refused.size === before) {
        for (const e of lost.filter((l) => moves(l.id)))
          refuse(e, 'DEPARTMENT_CYCLE', `Department ${e.id} would not hang from the root.`);
      }
      if (refused.size > before) continue;

      const depthOf = (id: number) => (finalPath.get(id) ?? '').split('/').length - 2;
      for (const id of finalPath.keys()) {
        if (depthOf(id) <= this.config.DEPARTMENT_MAX_DEPTH) continue;
        for (let at: number | null = id; at !== null; at = parentOf(at)) {
          const e = accepted.get(at);
          if (e && moves(at) && !refused.has(at)) {
            refuse(
              e,
              'DEPARTMENT_TOO_DEEP',
              `The tree allows ${this.config.DEPARTMENT_MAX_DEPTH} levels; department ${e.id} would pass it.`,
            );
            break;
          }
        }
      }
      if (refused.size > before) continue;

      for (const e of accepted.values()) {
        if (!mayChange(finalPath.get(e.id) as string))
          refuse(
            e,
            'NO_PRIVILEGE',
            `Department ${e.id} would lie outside this app’s contacts:edit scope.`,
          );
      }
      if (refused.size > before) continue;

      let count = current.size;
      for (const e of accepted.values()) {
        if (current.has(e.id)) continue;
        if (++count > this.config.DEPARTMENT_MAX_PER_CORP)
          refuse(
            e,
            'DEPARTMENT_LIMIT_REACHED',
            `The corp allows ${this.config.DEPARTMENT_MAX_PER_CORP} departments.`,
          );
      }
      if (refused.size > before) continue;

      // Departments the file does not name, inside the scope: deleted when nothing is left in them.
      const children = new Map<number, number[]>();
      for (const id of finalPath.keys()) {
        const parent = parentOf(id);
        if (parent !== null) children.set(parent, [...(children.get(parent) ?? []), id]);
      }
      const deleting = new Set<number>();
      const kept = new Map<number, RowOutcome>();
      const candidates = [...current.values()]
        .filter(
          (d) =>
            !named.has(d.id) &&
            d.id !== ROOT_DEPARTMENT_ID &&
            !access.isScopeRoot(d.path) &&
            mayChange(d.path),
        )
        .sort((a, b) => depthOf(b.id) - depthOf(a.id));
      for (const d of candidates) {
        const remaining = (children.get(d.id) ?? []).filter((c) => !deleting.has(c));
        if (withMembers.has(d.id))
          kept.set(
            d.id,
            rowError(
              'DEPARTMENT_HAS_MEMBERS',
              `Department ${d.id} is not in the file but still has members; it is kept.`,
            ),
          );
        else if (remaining.length)
          kept.set(
            d.id,
            rowError(
              'DEPARTMENT_HAS_CHILDREN',
              `Department ${d.id} is not in the file but still has sub-departments; it is kept.`,
            ),
          );
        else if (withAdmins.has(d.id))
          kept.set(
            d.id,
            rowError(
              'DEPARTMENT_HAS_ADMINS',
              `Department ${d.id} is not in the file but is an admin's scope; it is kept.`,
            ),
          );
        else deleting.add(d.id);
      }

      // Sibling names in the final tree: a department arriving under a name another keeps is refused.
      const nameOf = (id: number) => accepted.get(id)?.name ?? current.get(id)?.name ?? '';
      const arrives = (id: number) => {
        const was = current.get(id);
        return (
          accepted.has(id) && (!was || was.parentId !== parentOf(id) || was.name !== nameOf(id))
        );
      };
      const siblings = new Map<string, number[]>();
      for (const id of finalPath.keys()) {
        if (deleting.has(id) || id === ROOT_DEPARTMENT_ID) continue;
        const key = `${parentOf(id)}\u0000${nameOf(id)}`;
        siblings.set(key, [...(siblings.get(key) ?? []), id]);
      }
      for (const ids of siblings.values()) {
        if (ids.length < 2) continue;
        const arriving = ids
          .filter(arrives)
          .map((id) => accepted.get(id) as PartyRowInput)
          .sort((a, b) => a.row - b.row);
        const staying = ids.length - arriving.length;
        for (const e of staying > 0 ? arriving : arriving.slice(1))
          refuse(
            e,
            'DEPARTMENT_NAME_TAKEN',
            `Another department under ${e.parentId} is named ${e.name}.`,
          );
      }
      if (refused.size > before) continue;

      return {
        accepted,
        finalPath: finalPath as Map<number, string>,
        deleting,
        kept,
      };
    }
  }

  /** Each department's materialised path in the tree `parentOf` describes; null in a cycle. */
  private paths(
    ids: number[],
    parentOf: (id: number) => number | null,
  ): Map<number, string | null> {
    const paths = new Map<number, string | null>([[ROOT_DEPARTMENT_ID, `/${ROOT_DEPARTMENT_ID}/`]]);
    for (const id of ids) {
      const chain: number[] = [];
      const seen = new Set<number>();
      let at: number | null = id;
      let base: string | null = null;
      for (;;) {
        if (at === null) break;
        const known = paths.get(at);
        if (known !== undefined) {
          base = known;
          break;
        }
        if (seen.has(at)) break;
        seen.add(at);
        chain.push(at);
        at = parentOf(at);
      }
      for (let i = chain.length - 1; i >= 0; i--) {
        base = base === null ? null : `${base}${chain[i]}/`;
        paths.set(chain[i], base);
      }
    }
    return paths;
  }

  /** Applies the plan; returns each file department's action bits. */
  private async write(
    em: EntityManager,
    corpId: CorpId,
    current: Map<number, Department>,
    plan: Plan,
    audit: AuditEntry[],
  ): Promise<Map<number, number>> {
    const actions = new Map<number, number>();
    const created: PartyRowInput[] = [];
    const renamed: number[] = [];
    for (const e of plan.accepted.values()) {
      const was = current.get(e.id);
      if (!was) {
        actions.set(e.id, PARTY_ACTION.created);
        created.push(e);
        continue;
      }
      let action = 0;
      if (was.name !== e.name) action |= PARTY_ACTION.renamed;
      if (e.id !== ROOT_DEPARTMENT_ID && was.parentId !== e.parentId) action |= PARTY_ACTION.moved;
      if (e.order !== null && e.order !== was.order) action |= PARTY_ACTION.reordered;
      actions.set(e.id, action);
      if (action & (PARTY_ACTION.renamed | PARTY_ACTION.moved)) renamed.push(e.id);
    }
    const depthOf = (path: string) => path.split('/').length - 2;
    // Names move aside first: a sibling's name can pass from one department to another.
    const aside = [...renamed, ...created.map((e) => e.id)];
    if (renamed.length) {
      await em.query(
        `UPDATE departments SET name = chr(1) || id::text WHERE corp_id = $1 AND id = ANY($2::int[])`,
        [corpId, renamed],
      );
    }
    if (created.length) {
      const rows = created
        .map((e) => ({ e, path: plan.finalPath.get(e.id) as string }))
        .sort((a, b) => depthOf(a.path) - depthOf(b.path));
      await em.query(
        `INSERT INTO departments (corp_id, id, parent_id, name, "order", path, depth)
         SELECT $1, d.id, d.parent_id, d.name, d.ord, d.path, d.depth
           FROM unnest($2::int[], $3::int[], $4::text[], $5::int[], $6::text[], $7::int[])
                AS d(id, parent_id, name, ord, path, depth)`,
        [
          corpId,
          rows.map((r) => r.e.id),
          rows.map((r) => r.e.parentId),
          rows.map((r) => tempName(r.e.id)),
          rows.map((r) => r.e.order ?? 0),
          rows.map((r) => r.path),
          rows.map((r) => depthOf(r.path)),
        ],
      );
      await em.query(
        'UPDATE corps SET next_department_id = GREATEST(next_department_id, $2 + 1) WHERE corp_id = $1',
        [corpId, Math.max(...created.map((e) => e.id))],
      );
    }
    // Parents, orders, and the paths of every department whose place changed (subtrees of moves).
    const placed = [...current.values()].filter((d) => {
      if (plan.deleting.has(d.id)) return false;
      const e = plan.accepted.get(d.id);
      const parentId = e && d.id !== ROOT_DEPARTMENT_ID ? e.parentId : d.parentId;
      const order = e?.order ?? d.order;
      return parentId !== d.parentId || order !== d.order || plan.finalPath.get(d.id) !== d.path;
    });
    if (placed.length) {
      await em.query(
        `UPDATE departments t
            SET parent_id = p.parent_id, "order" = p.ord, path = p.path, depth = p.depth,
                updated_at = now()
           FROM unnest($2::int[], $3::int[], $4::int[], $5::text[], $6::int[])
                AS p(id, parent_id, ord, path, depth)
          WHERE t.corp_id = $1 AND t.id = p.id`,
        [
          corpId,
          placed.map((d) => d.id),
          placed.map((d) => {
            const e = plan.accepted.get(d.id);
            return e && d.id !== ROOT_DEPARTMENT_ID ? e.parentId : d.parentId;
          }),
          placed.map((d) => plan.accepted.get(d.id)?.order ?? d.order),
          placed.map((d) => plan.finalPath.get(d.id) as string),
          placed.map((d) => depthOf(plan.finalPath.get(d.id) as string)),
        ],
      );
    }
    // Deepest first: a department goes after the ones under it.
    const byDepth = new Map<number, number[]>();
    for (const id of plan.deleting) {
      const depth = depthOf(plan.finalPath.get(id) as string);
      byDepth.set(depth, [...(byDepth.get(depth) ?? []), id]);
    }
    for (const depth of [...byDepth.keys()].sort((a, b) => b - a)) {
      await em.query('DELETE FROM departments WHERE corp_id = $1 AND id = ANY($2::int[])', [
        corpId,
        byDepth.get(depth),
      ]);
    }
    if (aside.length) {
      await em.query(
        `UPDATE departments t SET name = n.name, updated_at = now()
           FROM unnest($2::int[], $3::text[]) AS n(id, name)
          WHERE t.corp_id = $1 AND t.id = n.id`,
        [corpId, aside, aside.map((id) => (plan.accepted.get(id) as PartyRowInput).name)],
      );
    }
    await this.announce(em, corpId, current, plan, actions, audit);
    return actions;
  }

  private async announce(
    em: EntityManager,
    corpId: CorpId,
    current: Map<number, Department>,
    plan: Plan,
    actions: Map<number, number>,
    audit: AuditEntry[],
  ): Promise<void> {
    const changedIds = [...actions].filter(([, a]) => a !== 0).map(([id]) => id);
    const after = new Map(
      changedIds.length
        ? (
            await em
              .getRepository(Department)
              .createQueryBuilder('d')
              .where('d.corp_id = :corpId AND d.id = ANY(:ids::int[])', { corpId, ids: changedIds })
              .getMany()
          ).map((d) => [d.id, d])
        : [],
    );
    const events: NewEvent[] = [];
    // Parents before children: a consumer builds its tree in order.
    const ordered = changedIds.sort(
      (a, b) => (plan.finalPath.get(a) as string).length - (plan.finalPath.get(b) as string).length,
    );
    for (const id of ordered) {
      const action = actions.get(id) as number;
      const department = after.get(id) as Department;
      const was = current.get(id);
      if (action & PARTY_ACTION.created) {
        events.push(departmentCreated(department));
        audit.push({
          action: 'department.created',
          targetType: 'department',
          targetId: id,
          after: department,
        });
      } else if (action & PARTY_ACTION.moved) {
        events.push(departmentMoved(department, was?.parentId as number));
        audit.push({
          action: 'department.moved',
          targetType: 'department',
          targetId: id,
          before: was,
          after: department,
        });
      } else {
        events.push(departmentUpdated(department));
        audit.push({
          action: 'department.updated',
          targetType: 'department',
          targetId: id,
          before: was,
          after: department,
        });
      }
    }
    const at = new Date();
    for (const id of plan.deleting) {
      const was = current.get(id) as Department;
      events.push(departmentDeleted(was, at));
      audit.push({
        action: 'department.deleted',
        targetType: 'department',
        targetId: id,
        before: was,
      });
    }
    await this.outbox.publishAll(em, IDENTITY_DEPARTMENT_TOPIC, events);
  }
}
