import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A tenant. Every other row in every service carries its `corpId`. */
@Entity({ name: 'corps' })
export class Corp {
  @PrimaryColumn({ name: 'corp_id', type: 'varchar', length: 18 })
  corpId!: string;

  @Column({ type: 'varchar', length: 64 })
  name!: string;

  /** Next id handed to a department created without one; ids are unique within the corp. */
  @Column({ name: 'next_department_id', type: 'int', default: 2 })
  nextDepartmentId!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
