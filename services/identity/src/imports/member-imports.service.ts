import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { TransactionRunner, type CorpId } from '@qiwei/persistence';
import { DataSource } from 'typeorm';
import { recordAudit } from '../audit/audit-log';
import { currentRequestContext } from '../audit/request-context';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { ROOT_DEPARTMENT_ID } from '../departments/department.entity';
import { DepartmentRepository } from '../departments/department.repository';
import { decodeCursor, encodeCursor } from '../pagination/cursor';
import {
  memberImportSummary,
  MemberImportRowResponse,
  type MemberImportResponse,
  type MemberImportRowsPage,
} from './dto/member-import.dto';
import { MemberImportNotFoundException } from './imports.exceptions';
import type { ImportMode, MemberImport } from './member-import.entity';
import { MemberImportWorker } from './member-import.worker';
import { MemberImportsRepository } from './member-imports.repository';
import { MEMBER_SHEET_HEADERS, readMemberSheet } from './member-sheet';
import { memberSheetWriter } from './member-sheet-writer';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const isRowCursor = (v: unknown): v is { row: number; n: number } =>
  typeof v === 'object' &&
  v !== null &&
  Number.isInteger((v as { row: unknown }).row) &&
  Number.isInteger((v as { n: unknown }).n);

/** Uploading member sheets, the state of their jobs, and the template to fill in. */
@Injectable()
export class MemberImportsService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly dataSource: DataSource,
    private readonly imports: MemberImportsRepository,
    private readonly departments: DepartmentRepository,
    private readonly worker: MemberImportWorker,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
  ) {}

  /**
   * Checks the file whole before anything is stored (format, header, row limit): a refused
   * file creates no job. The rows themselves are checked by the job.
   */
  async upload(corpId: CorpId, mode: ImportMode, file: Buffer): Promise<MemberImportResponse> {
    const sheet = await readMemberSheet(file, this.config.IMPORT_MAX_ROWS);
    const id = randomUUID();
    const ctx = currentRequestContext();
    const job = await this.transactions.run(async (em) => {
      await this.imports.create(em, corpId, {
        id,
        mode,
        format: sheet.format,
        file,
        totalRows: sheet.rows.length,
        requestedBy: ctx.actorId,
        requestIp: ctx.ip,
        requestId: ctx.requestId,
      });
      await recordAudit(em, corpId, {
        action: 'member_import.created',
        targetType: 'member_import',
        targetId: id,
        after: { id, mode, format: sheet.format, totalRows: sheet.rows.length, bytes: file.length },
      });
      return (await this.imports.find(em, corpId, id)) as MemberImport;
    });
    this.worker.notify(id, sheet.rows);
    return memberImportSummary(job);
  }

  async get(corpId: CorpId, id: string): Promise<MemberImportResponse> {
    const job = UUID.test(id) ? await this.imports.find(this.dataSource.manager, corpId, id) : null;
    if (!job) throw new MemberImportNotFoundException(id);
    return memberImportSummary(job);
  }

  async rows(
    corpId: CorpId,
    id: string,
    limit: number,
    cursor?: string,
  ): Promise<MemberImportRowsPage> {
    await this.get(corpId, id);
    const after = decodeCursor(cursor, isRowCursor);
    const rows = await this.imports.issues(this.dataSource.manager, corpId, id, after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((issue) => MemberImportRowResponse.of(issue)),
      nextCursor: rows.length > limit && last ? encodeCursor({ row: last.row, n: last.n }) : null,
    };
  }

  /** The XLSX template, with a second sheet explaining each column for this corp. */
  async xlsxTemplate(corpId: CorpId): Promise<Buffer> {
    const root = await this.departments.find(this.dataSource.manager, corpId, ROOT_DEPARTMENT_ID);
    const rootName = root?.name ?? '';
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (chunk: Buffer) => chunks.push(chunk));
    const sheet = memberSheetWriter(out, [
      ['列', '说明'],
      [MEMBER_SHEET_HEADERS[0], 'Name, required, 1–64 characters.'],
      [
        MEMBER_SHEET_HEADERS[1],
        'Userid, required: 1–64 of A–Z a–z 0–9 _ @ . -, unique in the corp; an import finds existing members by it.',
      ],
      [
        MEMBER_SHEET_HEADERS[2],
        'Mobile, optional: 1[3-9] and 9 digits, or +<country><number>; unique in the corp.',
      ],
      [MEMBER_SHEET_HEADERS[3], 'Email, optional.'],
      [
        MEMBER_SHEET_HEADERS[4],
        `Department path from the root, e.g. ${rootName}/销售部/华东区; several separated by ; — the first is the main department. Empty: the root department for a new member, unchanged for an existing one.`,
      ],
      [MEMBER_SHEET_HEADERS[5], 'Position, optional, at most 128 characters.'],
      ['', 'Empty cells leave an existing member’s value as it is (overwrite mode).'],
    ]);
    await sheet.close();
    return Buffer.concat(chunks);
  }
}
