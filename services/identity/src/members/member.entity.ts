import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { Role } from '@qiwei/auth';

export type MemberStatus = 'active' | 'disabled' | 'inactive' | 'left';
export type Gender = 'unknown' | 'male' | 'female';

/** A person in a corp: the directory entry every other service learns from member events. */
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

  @Column({ type: 'varchar', length: 20, nullable: true })
  mobile!: string | null;

  @Column({ type: 'varchar', length: 254, nullable: true })
  email!: string | null;

  @Column({ type: 'varchar', length: 128, default: '' })
  position!: string;

  @Column({ type: 'varchar', length: 8, default: 'unknown' })
  gender!: Gender;

  @Column({ name: 'main_department_id', type: 'int', default: 1 })
  mainDepartmentId!: number;

  @Column({ name: 'direct_leaders', type: 'text', array: true, default: () => "'{}'" })
  directLeaders!: string[];

  @Column({ name: 'joined_at', type: 'timestamptz', default: () => 'now()' })
  joinedAt!: Date;

  @Column({ name: 'left_at', type: 'timestamptz', nullable: true })
  leftAt!: Date | null;

  /** Access tokens issued before this stop working (the member was disabled or left). */
  @Column({ name: 'tokens_valid_after', type: 'timestamptz', nullable: true })
  tokensValidAfter!: Date | null;

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

  /** Position among the department's members: higher sorts first. */
  @Column({ name: 'order', type: 'int', default: 0 })
  order!: number;

  @Column({ name: 'is_leader', type: 'boolean', default: false })
  isLeader!: boolean;
}
