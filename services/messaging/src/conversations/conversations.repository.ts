import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ConversationNotFoundException } from './conversation.exceptions';
import type {
  ConversationKind,
  ConversationState,
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
}

const COLUMNS = `corp_id, id, kind, name, owner, only_admins_post, only_owner_invites, member_limit,
  last_seq, created_by, created_at, updated_at`;

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
    },
  ): Promise<void> {
    await em.query(
      `INSERT INTO conversations (corp_id, id, kind, name, owner, single_key, only_admins_post,
                                  only_owner_invites, member_limit, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
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
    s: { name: string; owner: string | null; onlyAdminsPost: boolean; onlyOwnerInvites: boolean },
  ): Promise<void> {
    await em.query(
      `UPDATE conversations SET name = $3, owner = $4, only_admins_post = $5, only_owner_invites = $6,
              updated_at = now()
        WHERE corp_id = $1 AND id = $2`,
      [corpId, id, s.name, s.owner, s.onlyAdminsPost, s.onlyOwnerInvites],
    );
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
  }

  /** Group conversations (not disbanded) the member is in. */
  async groupsOf(em: EntityManager, corpId: string, userid: string): Promise<string[]> {
    const rows = await em.query<{ id: string }[]>(
      `SELECT c.id FROM conversation_members m
         JOIN conversations c ON c.corp_id = m.corp_id AND c.id = m.conversation_id
        WHERE m.corp_id = $1 AND m.userid = $2 AND c.kind = 'group' AND c.disbanded_at IS NULL
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
  ): Promise<{ id: string; updated_at: Date }[]> {
    return em.query(
      `SELECT c.id, c.updated_at FROM conversation_members m
         JOIN conversations c ON c.corp_id = m.corp_id AND c.id = m.conversation_id
        WHERE m.corp_id = $1 AND m.userid = $2 AND c.disbanded_at IS NULL
          AND ($3::timestamptz IS NULL OR (c.updated_at, c.id) < ($3::timestamptz, $4::uuid))
        ORDER BY c.updated_at DESC, c.id DESC
        LIMIT $5`,
      [corpId, userid, after?.updatedAt ?? null, after?.id ?? null, limit],
    );
  }
}
