import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { AppRange } from '@qiwei/auth';
import type { CorpId } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';

/** An app (自建应用) of a corp, without its secret. */
export interface App {
  corpId: string;
  agentId: number;
  name: string;
  description: string;
  range: AppRange;
  /** What it may change inside its range's department subtrees. */
  permissions: AppPermission[];
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

interface AppRow {
  corp_id: string;
  agentid: number;
  name: string;
  description: string;
  range_departments: number[];
  range_userids: string[];
  range_tags: number[];
  permissions: AppPermission[];
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `corp_id, agentid, name, description, range_departments, range_userids, range_tags,
  permissions, created_by, created_at, updated_at`;

/** What an app may be granted: a contacts-sync app (通讯录同步) has `contacts:edit`. */
export const APP_PERMISSIONS = ['contacts:edit', 'tags:manage'] as const;
export type AppPermission = (typeof APP_PERMISSIONS)[number];

const toApp = (r: AppRow): App => ({
  corpId: r.corp_id,
  agentId: r.agentid,
  name: r.name,
  description: r.description,
  range: { departmentIds: r.range_departments, userids: r.range_userids, tagIds: r.range_tags },
  permissions: r.permissions,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Secrets are 256 random bits, so a plain SHA-256 is enough to store and find them. */
export const secretHash = (secret: string): Buffer => createHash('sha256').update(secret).digest();

/** Queries on apps. Every method is scoped to one corp. */
@Injectable()
export class AppsRepository {
  async find(em: EntityManager, corpId: CorpId, agentId: number): Promise<App | null> {
    const [row] = await em.query<AppRow[]>(
      `SELECT ${COLUMNS} FROM apps WHERE corp_id = $1 AND agentid = $2`,
      [corpId, agentId],
    );
    return row ? toApp(row) : null;
  }

  async findBySecret(em: EntityManager, corpId: string, secret: string): Promise<App | null> {
    const [row] = await em.query<AppRow[]>(
      `SELECT ${COLUMNS} FROM apps WHERE corp_id = $1 AND secret_hash = $2`,
      [corpId, secretHash(secret)],
    );
    return row ? toApp(row) : null;
  }

  async list(em: EntityManager, corpId: CorpId, afterId: number, limit: number): Promise<App[]> {
    const rows = await em.query<AppRow[]>(
      `SELECT ${COLUMNS} FROM apps WHERE corp_id = $1 AND agentid > $2 ORDER BY agentid LIMIT $3`,
      [corpId, afterId, limit],
    );
    return rows.map(toApp);
  }

  async nameTaken(em: EntityManager, corpId: CorpId, name: string, except = 0): Promise<boolean> {
    const rows = await em.query<unknown[]>(
      'SELECT 1 FROM apps WHERE corp_id = $1 AND name = $2 AND agentid <> $3',
      [corpId, name, except],
    );
    return rows.length > 0;
  }

  async allocateAgentId(em: EntityManager, corpId: CorpId): Promise<number> {
    const [row] = await em.query<{ id: number }[]>(
      `WITH allocated AS (
         UPDATE corps SET next_agentid = next_agentid + 1 WHERE corp_id = $1
         RETURNING next_agentid - 1 AS id
       ) SELECT id FROM allocated`,
      [corpId],
    );
    return row.id;
  }

  async insert(
    em: EntityManager,
    app: Omit<App, 'createdAt' | 'updatedAt'>,
    secret: string,
    at: Date,
  ): Promise<void> {
    await em.query(
      `INSERT INTO apps (corp_id, agentid, name, description, secret_hash, range_departments,
                         range_userids, range_tags, permissions, created_by, tokens_valid_after,
                         created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6::int[], $7::text[], $8::int[], $11::text[], $9, $10, $10, $10)`,
      [
        app.corpId,
        app.agentId,
        app.name,
        app.description,
        secretHash(secret),
        app.range.departmentIds,
        app.range.userids,
        app.range.tagIds,
        app.createdBy,
        at,
        app.permissions,
      ],
    );
  }

  async update(
    em: EntityManager,
    corpId: CorpId,
    agentId: number,
    changes: { name: string; description: string; range: AppRange; permissions: AppPermission[] },
  ): Promise<void> {
    await em.query(
      `UPDATE apps SET name = $3, description = $4, range_departments = $5::int[],
              range_userids = $6::text[], range_tags = $7::int[], permissions = $8::text[],
              updated_at = now()
        WHERE corp_id = $1 AND agentid = $2`,
      [
        corpId,
        agentId,
        changes.name,
        changes.description,
        changes.range.departmentIds,
        changes.range.userids,
        changes.range.tagIds,
        changes.permissions,
      ],
    );
  }

  /** A new secret; tokens issued before `at` stop working. */
  async replaceSecret(
    em: EntityManager,
    corpId: CorpId,
    agentId: number,
    secret: string,
    at: Date,
  ): Promise<void> {
    await em.query(
      `UPDATE apps SET secret_hash = $3, tokens_valid_after = $4, updated_at = $4
        WHERE corp_id = $1 AND agentid = $2`,
      [corpId, agentId, secretHash(secret), at],
    );
  }

  async delete(em: EntityManager, corpId: CorpId, agentId: number): Promise<void> {
    await em.query('DELETE FROM apps WHERE corp_id = $1 AND agentid = $2', [corpId, agentId]);
  }
}
