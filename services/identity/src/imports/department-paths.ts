import { ROOT_DEPARTMENT_ID } from '../departments/department.entity';
import { PATH_SEPARATOR } from './member-sheet';

export interface TreeNode {
  id: number;
  parentId: number | null;
  name: string;
}

/** A department an overwrite import creates; `ref` is negative until it gets its real id. */
export interface PlannedDepartment {
  ref: number;
  parentRef: number;
  name: string;
  depth: number;
}

/** A resolution not yet adopted: the departments it would create. */
export type PathPlan =
  | { departmentIds: number[]; planned: PlannedDepartment[] }
  | Exclude<PathResolution, { departmentIds: number[] }>;

export type PathResolution =
  | { departmentIds: number[] }
  | {
      code: 'DEPARTMENT_NOT_FOUND' | 'DEPARTMENT_PATH_INVALID' | 'DEPARTMENT_LIMIT_REACHED';
      message: string;
    };

const keyOf = (parent: number, name: string) => `${parent}\u0000${name}`;

/**
 * Turns department paths (`总部/销售部/华东区`, the first level naming the root department) into
 * ids against the corp's tree. With `createMissing` (overwrite mode) a missing level is planned
 * for creation — once, however many rows name it — within the corp's department limit;
 * otherwise the row is refused. Planned departments get negative refs, parents before children.
 */
export class DepartmentPathResolver {
  private readonly byParentAndName = new Map<string, number>();
  private readonly rootName: string;
  private readonly plannedDepartments: PlannedDepartment[] = [];
  private readonly existing: number;

  constructor(
    tree: TreeNode[],
    private readonly createMissing: boolean,
    private readonly departmentLimit: number,
  ) {
    for (const node of tree) {
      if (node.parentId !== null)
        this.byParentAndName.set(keyOf(node.parentId, node.name), node.id);
    }
    this.rootName = tree.find((n) => n.id === ROOT_DEPARTMENT_ID)?.name ?? '';
    this.existing = tree.length;
  }

  get planned(): readonly PlannedDepartment[] {
    return this.plannedDepartments;
  }

  /** All of a row's paths, or why the row cannot have them; plans nothing for a refused row. */
  resolve(paths: string[][]): PathResolution {
    const plan = this.plan(paths);
    if ('departmentIds' in plan) this.adopt(plan);
    return plan;
  }

  /**
   * Like `resolve`, without planning anything yet: the caller checks the result (e.g. the admin
   * scope of the departments it would create) and then `adopt`s it, or drops it.
   */
  plan(paths: string[][]): PathPlan {
    const planned: PlannedDepartment[] = [];
    const lookup = (parent: number, name: string) =>
      this.byParentAndName.get(keyOf(parent, name)) ??
      planned.find((p) => p.parentRef === parent && p.name === name)?.ref;
    const departmentIds: number[] = [];
    for (const path of paths) {
      const shown = path.join(PATH_SEPARATOR);
      if (path[0] !== this.rootName) {
        return {
          code: 'DEPARTMENT_PATH_INVALID',
          message: `"${shown}" must start with the root department "${this.rootName}".`,
        };
      }
      let current = ROOT_DEPARTMENT_ID;
      for (const [level, name] of path.slice(1).entries()) {
        const found = lookup(current, name);
        if (found !== undefined) {
          current = found;
          continue;
        }
        if (!this.createMissing) {
          return {
            code: 'DEPARTMENT_NOT_FOUND',
            message: `"${path.slice(0, level + 2).join(PATH_SEPARATOR)}" does not exist.`,
          };
        }
        const ref = -(this.plannedDepartments.length + planned.length + 1);
        planned.push({ ref, parentRef: current, name, depth: level + 2 });
        current = ref;
      }
      departmentIds.push(current);
    }
    if (this.existing + this.plannedDepartments.length + planned.length > this.departmentLimit) {
      return {
        code: 'DEPARTMENT_LIMIT_REACHED',
        message: `Creating ${planned.length} department(s) would pass the corp's limit of ${this.departmentLimit}.`,
      };
    }
    return { departmentIds: [...new Set(departmentIds)], planned };
  }

  /** Plans the departments of a successful `plan` (made since no other plan was adopted). */
  adopt(plan: { planned: PlannedDepartment[] }): void {
    for (const p of plan.planned) {
      this.plannedDepartments.push(p);
      this.byParentAndName.set(keyOf(p.parentRef, p.name), p.ref);
    }
  }
}
