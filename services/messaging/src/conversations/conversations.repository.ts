import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ConversationNotFoundException } from './conversation.exceptions';
import type {
  ConversationKind,
  ConversationState,
  ExternalParticipant,
  GroupNotice,
  GroupRole,
  Participant,
} from './conversation-state';

interface ConversationRow {
  corp_id: string;
  id: string;
  kind: ConversationKind;
  name: string;
  owner: string | null;
  only_admins_post: boolean;
  only_owner_invites: boolean;
  member_limit: number;
  last_seq: string;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  department_id: number | null;
  welcome_message: string;
  tags: string[];
  notice_version: number;
}

const COLUMNS = `corp_id, id, kind, name, owner, only_admins_post, only_owner_invites, member_limit,
  last_seq, created_by, created_at, updated_at, department_id, welcome_message, tags, notice_version`;

interface NoticeRow {
  version: number;
  text: string;
  published_by: string;
  published_at: Date;
}

const toNotice = (r: NoticeRow): GroupNotice => ({
  version: r.version,
  text: r.text,
  publishedBy: r.published_by,
  publishedAt: r.published_at,
});

/** Queries on conversations and their members. Every method is scoped to one corp. */
@Injectable()
export class ConversationsRepository {
  /** The conversation with its participants, if it exists and is not disbanded. */
  async load(
    em: EntityManager,
    corpId: string,
    id: string,
    options: { lock?: boolean } = {},
  ): Promise<ConversationState | null> {
    const [row] = await em.query<ConversationRow[]>(
      `SELECT ${COLUMNS} FROM conversations
        WHERE corp_id = $1 AND id = $2 AND disbanded_at IS NULL ${options.lock ? 'FOR UPDATE' : ''}`,
      [corpId, id],
    );
    if (!row) return null;
    const participants = await em.query<
      { userid: string; role: GroupRole; joined_at: Date; read_seq: string }[]
    >(
      `SELECT userid, role, joined_at, read_seq FROM conversation_members
        WHERE corp_id = $1 AND conversation_id = $2 ORDER BY joined_at, userid`,
      [corpId, id],
    );
    const externals =
      row.kind === 'external'
        ? await em.query<{ external_userid: string; added_by: string; joined_at: Date }[]>(
            `SELECT external_userid, added_by, joined_at FROM conversation_external_members
              WHERE corp_id = $1 AND conversation_id = $2 ORDER BY joined_at, external_userid`,
            [corpId, id],
          )
        : [];
    const waiting =
      row.kind === 'department'
        ? await em.query<{ userid: string }[]>(
            `SELECT userid FROM department_group_waitlist
              WHERE corp_id = $1 AND conversation_id = $2 ORDER BY since, userid`,
            [corpId, id],
          )
        : [];
    const [notice] = row.notice_version
      ? await em.query<NoticeRow[]>(
          `SELECT version, text, published_by, published_at FROM group_notices
            WHERE corp_id = $1 AND conversation_id = $2 AND version = $3`,
          [corpId, id, row.notice_version],
        )
      : [];
    return {
      corpId: row.corp_id,
      id: row.id,
      kind: row.kind,
      name: row.name,
      owner: row.owner,
      onlyAdminsPost: row.only_admins_post,
      onlyOwnerInvites: row.only_owner_invites,
      memberLimit: row.member_limit,
      lastSeq: Number(row.last_seq),
      createdBy: row.created_by,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      participants: participants.map((p): Participant => ({
        userid: p.userid,
        role: p.role,
        joinedAt: p.joined_at,
        readSeq: Number(p.read_seq),
      })),
      externalParticipants: externals.map((e): ExternalParticipant => ({
        externalUserid: e.external_userid,
        addedBy: e.added_by,
        joinedAt: e.joined_at,
      })),
      departmentId: row.department_id,
      notice: notice ? toNotice(notice) : null,
      welcomeMessage: row.welcome_message,
      tags: row.tags,
      waiting: waiting.map((w) => w.userid),
    };
  }

  /** The conversation if `caller` is in it; otherwise 404, as if it did not exist. */
  async forParticipant(
    em: EntityManager,
    caller: { corpId: string; userId: string },
    id: string,
    lock = false,
  ): Promise<ConversationState> {
    const c = await this.load(em, caller.corpId, id, { lock });
    if (!c || !c.participants.some((p) => p.userid === caller.userId))
      throw new ConversationNotFoundException(id);
    return c;
  }

  /**
   * Refreshes the conversation's copies of its participants and admins from
   * conversation_members; every membership or role change calls it in its transaction.
   */
  async syncParticipants(em: EntityManager, corpId: string, id: string): Promise<void> {
    await em.query(
      `UPDATE conversations c SET
         participants = ARRAY(SELECT m.userid FROM conversation_members m
                               WHERE m.corp_id = c.corp_id AND m.conversation_id = c.id
                               ORDER BY m.joined_at, m.userid),
         admins = ARRAY(SELECT m.userid FROM conversation_members m
                         WHERE m.corp_id = c.corp_id AND m.conversation_id = c.id
                           AND m.role IN ('owner', 'admin') ORDER BY m.userid)
       WHERE c.corp_id = $1 AND c.id = $2`,
      [corpId, id],
    );
  }

  async findSingle(em: EntityManager, corpId: string, singleKey: string): Promise<string | null> {
    const [row] = await em.query<{ id: string }[]>(
      'SELECT id FROM conversations WHERE corp_id = $1 AND single_key = $2',
      [corpId, singleKey],
    );
    return row?.id ?? null;
  }

  async insert(
    em: EntityManager,
    c: {
      corpId: string;
      id: string;
      kind: ConversationKind;
      name: string;
      owner: string | null;
      singleKey: string | null;
      onlyAdminsPost: boolean;
      onlyOwnerInvites: boolean;
      memberLimit: number;
      createdBy: string;
      departmentId?: number;
    },
  ): Promise<void> {
    await em.query(
      `INSERT INTO conversations (corp_id, id, kind, name, owner, single_key, only_admins_post,
                                  only_owner_invites, member_limit, created_by, department_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        c.corpId,
        c.id,
        c.kind,
        c.name,
        c.owner,
        c.singleKey,
        c.onlyAdminsPost,
        c.onlyOwnerInvites,
        c.memberLimit,
        c.createdBy,
        c.departmentId ?? null,
      ],
    );
  }

  async addMembers(
    em: EntityManager,
    corpId: string,
    conversationId: string,
    members: { userid: string; role: GroupRole }[],
  ): Promise<void> {
    await em.query(
      `INSERT INTO conversation_members (corp_id, conversation_id, userid, role)
       SELECT $1, $2, m.userid, m.role FROM jsonb_to_recordset($3::jsonb) AS m(userid text, role text)
       ON CONFLICT DO NOTHING`,
      [corpId, conversationId, JSON.stringify(members)],
    );
    // Members may search the conversation again, all of it (as they may read it).
    await em.query(
      `INSERT INTO conversation_access (corp_id, userid, conversation_id)
       SELECT $1, m.userid, $2 FROM jsonb_to_recordset($3::jsonb) AS m(userid text)
       ON CONFLICT (corp_id, userid, conversation_id) DO UPDATE SET until_seq = NULL`,
      [corpId, conversationId, JSON.stringify(members)],
    );
    await this.syncParticipants(em, corpId, conversationId);
  }

  async removeMembers(
    em: EntityManager,
    corpId: string,
    conversationId: string,
    userids: string[],
  ): Promise<void> {
    await em.query(
      'DELETE FROM conversation_members WHERE corp_id = $1 AND conversation_id = $2 AND userid = ANY($3::text[])',
      [corpId, conversationId, userids],
    );
    // Former members keep searching what was sent while they were in it.
    await em.query(
      `UPDATE conversation_access a SET until_seq = c.last_seq FROM conversations c
        WHERE a.corp_id = $1 AND a.conversation_id = $2 AND a.userid = ANY($3::text[])
          AND c.corp_id = a.corp_id AND c.id = a.conversation_id`,
      [corpId, conversationId, userids],
    );
    await this.syncParticipants(em, corpId, conversationId);
  }

  async setRole(
    em: EntityManager,
    corpId: string,
    conversationId: string,
    userid: string,
    role: GroupRole,
  ): Promise<void> {
    await em.query(
      'UPDATE conversation_members SET role = $4 WHERE corp_id = $1 AND conversation_id = $2 AND userid = $3',
      [corpId, conversationId, userid, role],
    );
    await this.syncParticipants(em, corpId, conversationId);
  }

  async updateSettings(
    em: EntityManager,
    corpId: string,
    id: string,
    s: {
      name: string;
      owner: string | null;
      onlyAdminsPost: boolean;
      onlyOwnerInvites: boolean;
      memberLimit?: number;
      welcomeMessage?: string;
      tags?: string[];
    },
  ): Promise<void> {
    await em.query(
      `UPDATE conversations SET name = $3, owner = $4, only_admins_post = $5, only_owner_invites = $6,
              member_limit = coalesce($7, member_limit), welcome_message = coalesce($8, welcome_message),
              tags = coalesce($9::text[], tags), updated_at = now()
        WHERE corp_id = $1 AND id = $2`,
      [
        corpId,
        id,
        s.name,
        s.owner,
        s.onlyAdminsPost,
        s.onlyOwnerInvites,
        s.memberLimit ?? null,
        s.welcomeMessage ?? null,
        s.tags ?? null,
      ],
    );
  }

  async addExternalMembers(
    em: EntityManager,
    corpId: string,
    conversationId: string,
    externalUserids: string[],
    by: string,
  ): Promise<void> {
    await em.query(
      `INSERT INTO conversation_external_members (corp_id, conversation_id, external_userid, added_by)
       SELECT $1, $2, x, $4 FROM unnest($3::text[]) AS x ON CONFLICT DO NOTHING`,
      [corpId, conversationId, externalUserids, by],
    );
    await this.syncExternalParticipants(em, corpId, conversationId);
  }

  async removeExternalMembers(
    em: EntityManager,
    corpId: string,
    conversationId: string,
    externalUserids: string[],
  ): Promise<void> {
    await em.query(
      `DELETE FROM conversation_external_members
        WHERE corp_id = $1 AND conversation_id = $2 AND external_userid = ANY($3::text[])`,
      [corpId, conversationId, externalUserids],
    );
    await this.syncExternalParticipants(em, corpId, conversationId);
  }

  /** Refreshes the conversation's copy of its external contacts (read by every send). */
  private async syncExternalParticipants(
    em: EntityManager,
    corpId: string,
    id: string,
  ): Promise<void> {
    await em.query(
      `UPDATE conversations c SET
         external_participants = ARRAY(
           SELECT e.external_userid FROM conversation_external_members e
            WHERE e.corp_id = c.corp_id AND e.conversation_id = c.id
            ORDER BY e.joined_at, e.external_userid)
       WHERE c.corp_id = $1 AND c.id = $2`,
      [corpId, id],
    );
  }

  /** Records the next version of the group's notice and makes it current. */
  async publishNotice(
    em: EntityManager,
    corpId: string,
    id: string,
    text: string,
    by: string,
    at: Date,
  ): Promise<GroupNotice> {
    const [row] = await em.query<NoticeRow[]>(
      `WITH bumped AS (
         UPDATE conversations SET notice_version = notice_version + 1, updated_at = $5
          WHERE corp_id = $1 AND id = $2 RETURNING notice_version
       ), added AS (
         INSERT INTO group_notices (corp_id, conversation_id, version, text, published_by, published_at)
         SELECT $1, $2, notice_version, $3, $4, $5 FROM bumped
         RETURNING version, text, published_by, published_at
       ) SELECT * FROM added`,
      [corpId, id, text, by, at],
    );
    return toNotice(row);
  }

  /** The group's notices, newest version first, before `beforeVersion` when given. */
  async notices(
    em: EntityManager,
    corpId: string,
    id: string,
    beforeVersion: number | undefined,
    limit: number,
  ): Promise<GroupNotice[]> {
    const rows = await em.query<NoticeRow[]>(
      `SELECT version, text, published_by, published_at FROM group_notices
        WHERE corp_id = $1 AND conversation_id = $2 AND ($3::int IS NULL OR version < $3)
        ORDER BY version DESC LIMIT $4`,
      [corpId, id, beforeVersion ?? null, limit],
    );
    return rows.map(toNotice);
  }

  async touch(em: EntityManager, corpId: string, id: string): Promise<void> {
    await em.query('UPDATE conversations SET updated_at = now() WHERE corp_id = $1 AND id = $2', [
      corpId,
      id,
    ]);
  }

  /** Disbands the group; its robots die with it (their keys stop working). */
  async disband(em: EntityManager, corpId: string, id: string, at: Date): Promise<void> {
    await em.query(
      'UPDATE conversations SET disbanded_at = $3, updated_at = $3 WHERE corp_id = $1 AND id = $2',
      [corpId, id, at],
    );
    await em.query('DELETE FROM group_robots WHERE corp_id = $1 AND conversation_id = $2', [
      corpId,
      id,
    ]);
    await em.query(
      'DELETE FROM department_group_waitlist WHERE corp_id = $1 AND conversation_id = $2',
      [corpId, id],
    );
  }

  /** Group conversations (not disbanded) the member is in. */
  async groupsOf(em: EntityManager, corpId: string, userid: string): Promise<string[]> {
    const rows = await em.query<{ id: string }[]>(
      `SELECT c.id FROM conversation_members m
         JOIN conversations c ON c.corp_id = m.corp_id AND c.id = m.conversation_id
        WHERE m.corp_id = $1 AND m.userid = $2 AND c.kind <> 'single' AND c.disbanded_at IS NULL
        ORDER BY c.id`,
      [corpId, userid],
    );
    return rows.map((r) => r.id);
  }

  /** The member's conversations, most recently active first, keyset-paginated. */
  async listOf(
    em: EntityManager,
    corpId: string,
    userid: string,
    after: { updatedAt: string; id: string } | undefined,
    limit: number,
    filter: { kind?: ConversationKind; tag?: string } = {},
  ): Promise<{ id: string; updated_at: Date }[]> {
    return em.query(
      `SELECT c.id, c.updated_at FROM conversation_members m
         JOIN conversations c ON c.corp_id = m.corp_id AND c.id = m.conversation_id
        WHERE m.corp_id = $1 AND m.userid = $2 AND c.disbanded_at IS NULL
          AND ($3::timestamptz IS NULL OR (c.updated_at, c.id) < ($3::timestamptz, $4::uuid))
          AND ($6::text IS NULL OR c.kind = $6) AND ($7::text IS NULL OR $7 = ANY(c.tags))
        ORDER BY c.updated_at DESC, c.id DESC
        LIMIT $5`,
      [
        corpId,
        userid,
        after?.updatedAt ?? null,
        after?.id ?? null,
        limit,
        filter.kind ?? null,
        filter.tag ?? null,
      ],
    );
  }
}
