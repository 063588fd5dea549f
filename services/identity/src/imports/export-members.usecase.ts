import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, type Logger } from '@qiwei/platform';
import { TransactionRunner } from '@qiwei/persistence';
import { DataSource } from 'typeorm';
import type { Access } from '../access/access';
import { recordAudit } from '../audit/audit-log';
import { DepartmentsService } from '../departments/departments.service';
import { MembersRepository } from '../members/members.repository';
import { BulkMembersRepository, type DepartmentRow } from './bulk-members.repository';
import { DEPARTMENT_SEPARATOR, PATH_SEPARATOR } from './member-sheet';
import { memberSheetWriter } from './member-sheet-writer';

const PAGE = 2_000;

/** Each department's path of names from the root (`总部/销售部/华东区`), as the sheet writes it. */
function departmentPaths(tree: DepartmentRow[]): Map<number, string> {
  const byId = new Map(tree.map((d) => [d.id, d]));
  return new Map(
    tree.map((d) => [
      d.id,
      d.path
        .split('/')
        .filter(Boolean)
        .map((id) => byId.get(Number(id))?.name ?? id)
        .join(PATH_SEPARATOR),
    ]),
  );
}

/**
 * Members of a department's subtree as an XLSX member sheet (the import template's columns,
 * so an export can be imported again), streamed page by page rather than built in memory.
 */
@Injectable()
export class ExportMembersUseCase {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly dataSource: DataSource,
    private readonly departments: DepartmentsService,
    private readonly members: MembersRepository,
    private readonly bulk: BulkMembersRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Checks the department and records the export, then returns the stream of the file. */
  async execute(access: Access, departmentId: number): Promise<Readable> {
    const corpId = access.corpId;
    const department = await this.departments.get(access, departmentId);
    access.assertMayAdminister('data:export', [department.path]);
    await this.transactions.run((em) =>
      recordAudit(em, corpId, {
        action: 'member.exported',
        targetType: 'department',
        targetId: departmentId,
        after: { departmentId, subtree: true, format: 'xlsx' },
      }),
    );
    const out = new PassThrough();
    this.write(access, department, out).catch((error: unknown) => {
      this.logger.error({ err: error, corpId }, 'member export failed mid-stream');
      out.destroy(error as Error);
    });
    return out;
  }

  private async write(
    access: Access,
    department: { id: number; path: string },
    out: PassThrough,
  ): Promise<void> {
    const corpId = access.corpId;
    const em = this.dataSource.manager;
    const paths = departmentPaths(await this.bulk.tree(em, corpId));
    const sheet = memberSheetWriter(out);
    let after: string | undefined;
    for (;;) {
      const page = await this.members.inDepartment(em, access, department, {
        recursive: true,
        after,
        limit: PAGE,
      });
      const members = page.slice(0, PAGE);
      const memberships = await this.members.departmentsOf(
        em,
        corpId,
        members.map((m) => m.userid),
      );
      for (const member of members) {
        // The main department first: an import makes the first one the main one.
        const ids = (memberships.get(member.userid) ?? [])
          .map((m) => m.departmentId)
          .sort(
            (a, b) => Number(b === member.mainDepartmentId) - Number(a === member.mainDepartmentId),
          );
        sheet.add([
          member.name,
          member.userid,
          member.mobile ?? '',
          member.email ?? '',
          ids.map((id) => paths.get(id) ?? '').join(DEPARTMENT_SEPARATOR),
          member.position,
        ]);
      }
      // Backpressure: a slow download holds the next page back.
      if (out.writableNeedDrain) await Promise.race([once(out, 'drain'), once(out, 'close')]);
      if (out.destroyed) return; // the client went away
      if (page.length <= PAGE) break;
      after = members[members.length - 1].userid;
    }
    await sheet.close();
  }
}
