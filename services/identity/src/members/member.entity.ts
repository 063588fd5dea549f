import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { Role } from '@qiwei/auth';

export type MemberStatus = 'active' | 'disabled' | 'inactive' | 'left';

/** A person in a corp. This first slice keeps what corps and departments need of members. */
@Entity({ name: 'members' })
export class Member {
  @PrimaryColumn({ name: 'corp_id', type: 'varchar', length: 18 })
  corpId!: string;

  @PrimaryColumn({ type: 'varchar', length: 64 })
  userid!: string;

  @Column({ type: 'varchar', length: 64 })
  name!: string;

  @Column({ type: 'varchar', length: 16, default: 'active' })
  status!: MemberStatus;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  roles!: Role[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/** A member belongs to one or more departments, one of them the main one. */
@Entity({ name: 'member_departments' })
export class MemberDepartment {
  @PrimaryColumn({ name: 'corp_id', type: 'varchar', length: 18 })
  corpId!: string;

  @PrimaryColumn({ type: 'varchar', length: 64 })
  userid!: string;

  @PrimaryColumn({ name: 'department_id', type: 'int' })
  departmentId!: number;

  @Column({ name: 'is_main', type: 'boolean', default: false })
  isMain!: boolean;
}
