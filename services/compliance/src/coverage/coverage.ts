import { Injectable } from '@nestjs/common';
import type { CorpId } from '@qiwei/persistence';
import { ForbiddenException } from '@qiwei/platform';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * Which records an officer may see. Identity gives department scopes (`adminScopes` in its
 * member events) only to department admins, and has no scope of its own for compliance
 * officers, so: an officer without scopes covers the whole corp; an officer who also holds
 * department scopes covers only the records whose SENDER was, when the record was archived, in
 * one of those subtrees. The sender, not any participant: a message belongs to whoever wrote
 * it, and a participant rule would open every large group (an all-hands chat has someone from
 * every department) to every scoped officer. Departments are frozen at archive time so that a
 * transfer neither hides a member's past messages from the officer who covered them nor hands
 * them to the new department's officer.
 */
@Injectable()
export class Coverage {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * The officer's coverage: null for the whole corp, else the roots of their department
   * subtrees. Refuses an officer compliance does not (yet) know as an active officer.
   */
  async of(corpId: CorpId, userid: string): Promise<number[] | null> {
    const [row] = await this.dataSource.query<{ scope_department_ids: number[] }[]>(
      `SELECT scope_department_ids FROM directory_members
        WHERE corp_id = $1 AND userid = $2 AND status = 'active' AND 'compliance_officer' = ANY(roles)`,
      [corpId, userid],
    );
    if (!row)
      throw new ForbiddenException(
        'Compliance does not know you as an active compliance officer yet; try again shortly.',
        'OFFICER_NOT_KNOWN',
      );
    return row.scope_department_ids.length ? row.scope_department_ids : null;
  }

  /**
   * Each sender's departments and every ancestor of them, from the directory projection: what
   * the archive writer records next to each record (`archive_sender_departments`) and gives the
   * index. Senders the directory does not know have none.
   */
  async departmentsOf(
    em: EntityManager,
    corpId: CorpId,
    senders: readonly string[],
  ): Promise<Map<string, number[]>> {
    if (!senders.length) return new Map();
    const rows = await em.query<{ userid: string; ids: number[] }[]>(
      `SELECT m.userid, coalesce(array_agg(DISTINCT a.id ORDER BY a.id)
                FILTER (WHERE a.id IS NOT NULL), '{}') AS ids
         FROM directory_members m
         LEFT JOIN LATERAL unnest(m.department_ids) AS md(id) ON true
         LEFT JOIN directory_departments d ON d.corp_id = m.corp_id AND d.id = md.id
         LEFT JOIN LATERAL unnest(coalesce(d.path, ARRAY[md.id])) AS a(id) ON true
        WHERE m.corp_id = $1 AND m.userid = ANY($2::text[]) AND m.status <> 'deleted'
        GROUP BY m.userid`,
      [corpId, [...new Set(senders)]],
    );
    return new Map(rows.map((r) => [r.userid, r.ids]));
  }

  /** Forgets purged records' departments (the retention purge, in its transaction). */
  async forget(em: EntityManager, corpId: CorpId, chainSeqs: number[]): Promise<void> {
    if (!chainSeqs.length) return;
    await em.query(
      'DELETE FROM archive_sender_departments WHERE corp_id = $1 AND chain_seq = ANY($2::bigint[])',
      [corpId, chainSeqs],
    );
  }

  /**
   * SQL condition on a record alias `r` (or on the given corp and chain position columns):
   * within coverage (true when it is the whole corp).
   */
  static condition(
    coverage: number[] | null,
    param: string,
    record = { corpId: 'r.corp_id', chainSeq: 'r.chain_seq' },
  ): string {
    return coverage
      ? `EXISTS (SELECT 1 FROM archive_sender_departments c
                  WHERE c.corp_id = ${record.corpId} AND c.chain_seq = ${record.chainSeq}
                    AND c.department_ids && ${param}::int[])`
      : `${param}::int[] IS NULL`;
  }
}
