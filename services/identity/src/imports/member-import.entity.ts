import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { SheetFormat } from './member-sheet';

export type ImportMode = 'add' | 'overwrite';
export type ImportStatus = 'queued' | 'running' | 'succeeded' | 'failed';

/** One upload of a member sheet, processed in the background by a worker. */
@Entity({ name: 'member_imports' })
export class MemberImport {
  @PrimaryColumn({ name: 'corp_id', type: 'varchar', length: 18 })
  corpId!: string;

  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'varchar', length: 16 })
  mode!: ImportMode;

  @Column({ type: 'varchar', length: 8 })
  format!: SheetFormat;

  @Column({ type: 'varchar', length: 16 })
  status!: ImportStatus;

  /** The uploaded bytes, kept until the job finishes (not loaded unless asked for). */
  @Column({ type: 'bytea', nullable: true, select: false })
  file!: Buffer | null;

  @Column({ name: 'total_rows', type: 'int' })
  totalRows!: number;

  @Column({ name: 'processed_rows', type: 'int' })
  processedRows!: number;

  @Column({ name: 'created_count', type: 'int' })
  createdCount!: number;

  @Column({ name: 'updated_count', type: 'int' })
  updatedCount!: number;

  @Column({ name: 'unchanged_count', type: 'int' })
  unchangedCount!: number;

  @Column({ name: 'skipped_count', type: 'int' })
  skippedCount!: number;

  @Column({ name: 'rejected_count', type: 'int' })
  rejectedCount!: number;

  @Column({ name: 'departments_created', type: 'int' })
  departmentsCreated!: number;

  @Column({ type: 'text', nullable: true })
  failure!: string | null;

  @Column({ type: 'int' })
  attempts!: number;

  /** Which worker holds the job; a chunk commits only under the token that claimed it. */
  @Column({ name: 'claim_token', type: 'uuid', nullable: true })
  claimToken!: string | null;

  @Column({ name: 'heartbeat_at', type: 'timestamptz', nullable: true })
  heartbeatAt!: Date | null;

  @Column({ name: 'requested_by', type: 'varchar', length: 64, nullable: true })
  requestedBy!: string | null;

  @Column({ name: 'request_ip', type: 'varchar', length: 64, nullable: true })
  requestIp!: string | null;

  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
