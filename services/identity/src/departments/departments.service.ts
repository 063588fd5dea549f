import { Inject, Injectable } from '@nestjs/common';
import { IDENTITY_DEPARTMENT_TOPIC } from '@qiwei/contracts';
import { Outbox } from '@qiwei/events';
import { isUniqueViolation, TransactionRunner, type CorpId } from '@qiwei/persistence';
import { DataSource, type EntityManager } from 'typeorm';
import type { Access } from '../access/access';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { recordAudit } from '../audit/audit-log';
import { lockCorpForWrite } from '../corps/corp-lock';
import { assertValidDepartmentName } from './department-name';
import {
  departmentCreated,
  departmentDeleted,
  departmentMoved,
  departmentUpdated,
} from './department-events';
import { Department, ROOT_DEPARTMENT_ID, type DepartmentVisibility } from './department.entity';
import {
  DepartmentHasAdminsException,
  DepartmentHasChildrenException,
  DepartmentHasMembersException,
  DepartmentIdTakenException,
  DepartmentLimitReachedException,
  DepartmentMoveIntoOwnSubtreeException,
  DepartmentNameTakenException,
  DepartmentNotFoundException,
  DepartmentTooDeepException,
  ParentDepartmentNotFoundException,
  DepartmentVisibilityInvalidException,
  RootDepartmentImmutableException,
  ScopeRootImmutableException,
} from './department.exceptions';
import { DepartmentRepository, type Page } from './department.repository';

export interface CreateDepartment {
  name: string;
  parentId: number;
  order?: number;
  id?: number;
}

export interface VisibilityInput {
  mode: DepartmentVisibility;
  roles?: string[];
  departmentIds?: number[];
}

export interface UpdateDepartment {
  name?: string;
  parentId?: number;
  order?: number;
  visibility?: VisibilityInput;
}

/** A department with its leaders (部门负责人) and its admins. */
export interface DepartmentDetails {
  department: Department;
  leaders: string[];
  admins: { userid: string; permissions: string[] }[];
}

/**
 * The department tree of one corp. Writes take the corp's row lock first, so concurrent
 * creates and moves in the same corp cannot break ids, limits or paths; corps never wait on
 * each other.
 */
@Injectable()
export class DepartmentsService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly dataSource: DataSource,
    private readonly departments: DepartmentRepository,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
    private readonly outbox: Outbox,
  ) {}

  /** Creates the root department of a new corp, inside the corp's creating transaction. */
  async createRoot(em: EntityManager, corpId: CorpId, name: string): Promise<Department> {
    assertValidDepartmentName(name);
    const root = await em.getRepository(Department).save(
      em.getRepository(Department).create({
        corpId,
        id: ROOT_DEPARTMENT_ID,
        parentId: null,
        name,
        order: 0,
        path: `/${ROOT_DEPARTMENT_ID}/`,
        depth: 1,
      }),
    );
    await this.outbox.publish(em, IDENTITY_DEPARTMENT_TOPIC, departmentCreated(root));
    return root;
  }

  create(access: Access, input: CreateDepartment): Promise<Department> {
    assertValidDepartmentName(input.name);
    const corpId = access.corpId;
    return this.transactions.run(async (em) => {
      await this.lockCorp(em, corpId);
      const parent = await this.departments.find(em, corpId, input.parentId);
      if (!parent || !access.canSeeDepartment(parent.path))
        throw new ParentDepartmentNotFoundException(input.parentId);
      access.assertMayAdminister('contacts:edit', [parent.path]);
      if (parent.depth + 1 > this.config.DEPARTMENT_MAX_DEPTH) {
        throw new DepartmentTooDeepException(this.config.DEPARTMENT_MAX_DEPTH);
      }
      if ((await this.departments.count(em, corpId)) >= this.config.DEPARTMENT_MAX_PER_CORP) {
        throw new DepartmentLimitReachedException(this.config.DEPARTMENT_MAX_PER_CORP);
      }
      if (await this.departments.siblingNamed(em, corpId, parent.id, input.name)) {
        throw new DepartmentNameTakenException(input.name, parent.id);
      }
      if (input.id !== undefined && (await this.departments.find(em, corpId, input.id))) {
        throw new DepartmentIdTakenException(input.id);
      }
      const id = await this.departments.allocateId(em, corpId, input.id);
      const repository = em.getRepository(Department);
      try {
        const created = await repository.save(
          repository.create({
            corpId,
            id,
            parentId: parent.id,
            name: input.name,
            order: input.order ?? 0,
            path: `${parent.path}${id}/`,
            depth: parent.depth + 1,
          }),
        );
        await this.outbox.publish(em, IDENTITY_DEPARTMENT_TOPIC, departmentCreated(created));
        await recordAudit(em, corpId, {
          action: 'department.created',
          targetType: 'department',
          targetId: created.id,
          after: created,
        });
        return created;
      } catch (error) {
        if (isUniqueViolation(error, 'departments_sibling_name_uq')) {
          throw new DepartmentNameTakenException(input.name, parent.id);
        }
        throw error;
      }
    });
  }

  update(access: Access, id: number, changes: UpdateDepartment): Promise<Department> {
    if (changes.name !== undefined) assertValidDepartmentName(changes.name);
    const corpId = access.corpId;
    return this.transactions.run(async (em) => {
      await this.lockCorp(em, corpId);
      const department = await this.visible(em, access, id);
      access.assertMayAdminister('contacts:edit', [department.path]);

      const moving = changes.parentId !== undefined && changes.parentId !== department.parentId;
      let parentId = department.parentId;
      if (moving) {
        if (access.isScopeRoot(department.path)) throw new ScopeRootImmutableException('moved');
        parentId = await this.checkMove(em, access, department, changes.parentId as number);
      }
      if (changes.visibility) await this.checkVisibility(em, corpId, changes.visibility);
      const name = changes.name ?? department.name;
      if (parentId !== null && (moving || name !== department.name)) {
        const sibling = await this.departments.siblingNamed(em, corpId, parentId, name);
        if (sibling && sibling.id !== id) throw new DepartmentNameTakenException(name, parentId);
      }

      if (moving) {
        const parent = (await this.departments.find(em, corpId, parentId as number)) as Department;
        await this.departments.moveSubtree(
          em,
          corpId,
          department.path,
          `${parent.path}${id}/`,
          parent.depth + 1 - department.depth,
        );
      }
      try {
        await em.getRepository(Department).update(
          { corpId, id },
          {
            name,
            parentId,
            order: changes.order ?? department.order,
            ...(changes.visibility
              ? {
                  visibility: changes.visibility.mode,
                  visibleToRoles: [...new Set(changes.visibility.roles ?? [])],
                  visibleToDepartments: [...new Set(changes.visibility.departmentIds ?? [])],
                }
              : {}),
          },
        );
      } catch (error) {
        if (isUniqueViolation(error, 'departments_sibling_name_uq')) {
          throw new DepartmentNameTakenException(name, parentId as number);
        }
        throw error;
      }
      const updated = (await this.departments.find(em, corpId, id)) as Department;
      await recordAudit(em, corpId, {
        action: moving ? 'department.moved' : 'department.updated',
        targetType: 'department',
        targetId: id,
        before: department,
        after: updated,
      });
      if (moving) {
        await this.outbox.publish(
          em,
          IDENTITY_DEPARTMENT_TOPIC,
          departmentMoved(updated, department.parentId as number),
        );
      } else {
        await this.outbox.publish(em, IDENTITY_DEPARTMENT_TOPIC, departmentUpdated(updated));
      }
      return updated;
    });
  }

  remove(access: Access, id: number): Promise<void> {
    const corpId = access.corpId;
    return this.transactions.run(async (em) => {
      await this.lockCorp(em, corpId);
      const department = await this.visible(em, access, id);
      access.assertMayAdminister('contacts:edit', [department.path]);
      if (id === ROOT_DEPARTMENT_ID) throw new RootDepartmentImmutableException('deleted');
      if (access.isScopeRoot(department.path)) throw new ScopeRootImmutableException('deleted');
      if (await this.departments.hasChildren(em, corpId, id))
        throw new DepartmentHasChildrenException(id);
      if (await this.departments.hasMembers(em, corpId, id))
        throw new DepartmentHasMembersException(id);
      if (await this.departments.hasAdmins(em, corpId, id))
        throw new DepartmentHasAdminsException(id);
      await em.getRepository(Department).delete({ corpId, id });
      await recordAudit(em, corpId, {
        action: 'department.deleted',
        targetType: 'department',
        targetId: id,
        before: department,
      });
      await this.outbox.publish(
        em,
        IDENTITY_DEPARTMENT_TOPIC,
        departmentDeleted(department, new Date()),
      );
    });
  }

  /** The department, if the caller can see it (otherwise 404, as if it did not exist). */
  get(access: Access, id: number): Promise<Department> {
    return this.visible(this.dataSource.manager, access, id);
  }

  async details(access: Access, id: number): Promise<DepartmentDetails> {
    const em = this.dataSource.manager;
    const department = await this.visible(em, access, id);
    const [leaders, admins] = await Promise.all([
      this.departments.leaders(em, access.corpId, id),
      this.departments.admins(em, access.corpId, id),
    ]);
    return { department, leaders, admins };
  }

  async children(
    access: Access,
    id: number,
    limit: number,
    cursor?: string,
  ): Promise<Page<Department>> {
    await this.get(access, id);
    return this.departments.children(this.dataSource.manager, access, id, limit, cursor);
  }

  async subtree(
    access: Access,
    id: number,
    limit: number,
    cursor?: string,
  ): Promise<Page<Department>> {
    const root = await this.get(access, id);
    return this.departments.subtree(this.dataSource.manager, access, root.path, limit, cursor);
  }

  /** Every department the caller can see, in the whole corp, by id (WeCom's `department/list` without an id). */
  all(access: Access, limit: number, cursor?: string): Promise<Page<Department>> {
    return this.departments.subtree(this.dataSource.manager, access, '/', limit, cursor);
  }

  /** Those of these departments the caller can see; unknown and hidden ones are left out. */
  async visibleAmong(access: Access, ids: number[]): Promise<Department[]> {
    const found = await this.departments.findMany(this.dataSource.manager, access.corpId, ids);
    return found.filter((d) => access.canSeeDepartment(d.path));
  }

  /** The leaders (部门负责人) of several departments the caller has read, by department id. */
  leadersOf(access: Access, ids: number[]): Promise<Map<number, string[]>> {
    return this.departments.leadersOf(this.dataSource.manager, access.corpId, ids);
  }

  private async visible(em: EntityManager, access: Access, id: number): Promise<Department> {
    const department = await this.departments.find(em, access.corpId, id);
    if (!department || !access.canSeeDepartment(department.path))
      throw new DepartmentNotFoundException(id);
    return department;
  }

  private async checkVisibility(
    em: EntityManager,
    corpId: CorpId,
    visibility: VisibilityInput,
  ): Promise<void> {
    const audience = (visibility.roles?.length ?? 0) + (visibility.departmentIds?.length ?? 0);
    if (visibility.mode !== 'restricted' && audience > 0) {
      throw new DepartmentVisibilityInvalidException(
        'Only a restricted department names roles or departments that see it.',
      );
    }
    if (visibility.mode === 'restricted' && audience === 0) {
      throw new DepartmentVisibilityInvalidException(
        'A restricted department names at least one role or department that sees it.',
      );
    }
    const ids = [...new Set(visibility.departmentIds ?? [])];
    const found = await em.query<{ id: number }[]>(
      'SELECT id FROM departments WHERE corp_id = $1 AND id = ANY($2::int[])',
      [corpId, ids],
    );
    const missing = ids.filter((id) => !found.some((f) => f.id === id));
    if (missing.length) {
      throw new DepartmentVisibilityInvalidException(
        `Unknown department(s): ${missing.join(', ')}.`,
      );
    }
  }

  /** Validates a move and returns the new parent id. */
  private async checkMove(
    em: EntityManager,
    access: Access,
    department: Department,
    newParentId: number,
  ): Promise<number> {
    const corpId = access.corpId;
    if (department.id === ROOT_DEPARTMENT_ID) throw new RootDepartmentImmutableException('moved');
    const parent = await this.departments.find(em, corpId, newParentId);
    if (!parent || !access.canSeeDepartment(parent.path))
      throw new ParentDepartmentNotFoundException(newParentId);
    access.assertMayAdminister('contacts:edit', [parent.path]);
    if (parent.path.startsWith(department.path)) {
      throw new DepartmentMoveIntoOwnSubtreeException(department.id, newParentId);
    }
    const subtreeHeight =
      (await this.departments.maxDepthUnder(em, corpId, department.path)) - department.depth;
    if (parent.depth + 1 + subtreeHeight > this.config.DEPARTMENT_MAX_DEPTH) {
      throw new DepartmentTooDeepException(this.config.DEPARTMENT_MAX_DEPTH);
    }
    return parent.id;
  }

  private lockCorp(em: EntityManager, corpId: CorpId): Promise<void> {
    return lockCorpForWrite(em, corpId);
  }
}
