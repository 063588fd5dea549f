import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export const ROOT_DEPARTMENT_ID = 1;

export const DEPARTMENT_VISIBILITIES = ['public', 'hidden', 'restricted'] as const;
export type DepartmentVisibility = (typeof DEPARTMENT_VISIBILITIES)[number];

/**
 * A node of the corp's department tree. Ids are integers unique within the corp; the root is 1
 * (the model WeCom uses). `path` is the materialised path of ids (`/1/5/9/`), so a subtree is
 * one indexed prefix query and a move is one update.
 */
@Entity({ name: 'departments' })
export class Department {
  @PrimaryColumn({ name: 'corp_id', type: 'varchar', length: 18 })
  corpId!: string;

  @PrimaryColumn({ type: 'int' })
  id!: number;

  @Column({ name: 'parent_id', type: 'int', nullable: true })
  parentId!: number | null;

  @Column({ type: 'varchar', length: 64 })
  name!: string;

  /** Position among siblings: higher sorts first (as in WeCom). */
  @Column({ name: 'order', type: 'int', default: 0 })
  order!: number;

  @Column({ type: 'text' })
  path!: string;

  /** The root has depth 1. */
  @Column({ type: 'int' })
  depth!: number;

  /** `public`, `hidden` (only its members, its admins, super admins) or `restricted`. */
  @Column({ type: 'varchar', length: 16, default: 'public' })
  visibility!: DepartmentVisibility;

  /** For `restricted`: these roles see it too. */
  @Column({ name: 'visible_to_roles', type: 'text', array: true, default: () => "'{}'" })
  visibleToRoles!: string[];

  /** For `restricted`: the members of these departments' subtrees see it too. */
  @Column({ name: 'visible_to_departments', type: 'int', array: true, default: () => "'{}'" })
  visibleToDepartments!: number[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
