import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A tag (标签): a named set of members and whole departments, e.g. for app visibility or mass messages. */
@Entity({ name: 'tags' })
export class Tag {
  @PrimaryColumn({ name: 'corp_id', type: 'varchar', length: 18 })
  corpId!: string;

  @PrimaryColumn({ type: 'int' })
  id!: number;

  @Column({ type: 'varchar', length: 32 })
  name!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
