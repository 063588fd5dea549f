import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface GroupRobot {
  corpId: string;
  id: string;
  conversationId: string;
  name: string;
  createdBy: string;
  createdAt: Date;
  keyRotatedAt: Date | null;
}

interface RobotRow {
  corp_id: string;
  id: string;
  conversation_id: string;
  name: string;
  created_by: string;
  created_at: Date;
  key_rotated_at: Date | null;
}

const COLUMNS = 'corp_id, id, conversation_id, name, created_by, created_at, key_rotated_at';

const toRobot = (r: RobotRow): GroupRobot => ({
  corpId: r.corp_id,
  id: r.id,
  conversationId: r.conversation_id,
  name: r.name,
  createdBy: r.created_by,
  createdAt: r.created_at,
  keyRotatedAt: r.key_rotated_at,
});

/** Only the key's SHA-256 is kept (the key is 256 random bits: no salt or stretching needed). */
export const webhookKeyHash = (key: string): Buffer => createHash('sha256').update(key).digest();

/** Group robots and their send counters. */
@Injectable()
export class RobotsRepository {
  async insert(em: EntityManager, robot: GroupRobot, key: string): Promise<void> {
    await em.query(
      `INSERT INTO group_robots (corp_id, id, conversation_id, name, key_hash, created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        robot.corpId,
        robot.id,
        robot.conversationId,
        robot.name,
        webhookKeyHash(key),
        robot.createdBy,
        robot.createdAt,
      ],
    );
  }

  async ofGroup(em: EntityManager, corpId: string, conversationId: string): Promise<GroupRobot[]> {
    const rows = await em.query<RobotRow[]>(
      `SELECT ${COLUMNS} FROM group_robots WHERE corp_id = $1 AND conversation_id = $2
        ORDER BY created_at, id`,
      [corpId, conversationId],
    );
    return rows.map(toRobot);
  }

  /** The robot whose key this is; the webhook knows no corp, so the lookup is by hash alone. */
  async byKey(em: EntityManager, key: string): Promise<GroupRobot | null> {
    const [row] = await em.query<RobotRow[]>(
      `SELECT ${COLUMNS} FROM group_robots WHERE key_hash = $1`,
      [webhookKeyHash(key)],
    );
    return row ? toRobot(row) : null;
  }

  async rotateKey(
    em: EntityManager,
    corpId: string,
    conversationId: string,
    id: string,
    key: string,
    at: Date,
  ): Promise<GroupRobot | null> {
    const [row] = await em.query<RobotRow[]>(
      `WITH rotated AS (
         UPDATE group_robots SET key_hash = $4, key_rotated_at = $5
          WHERE corp_id = $1 AND conversation_id = $2 AND id = $3
         RETURNING ${COLUMNS}
       ) SELECT * FROM rotated`,
      [corpId, conversationId, id, webhookKeyHash(key), at],
    );
    return row ? toRobot(row) : null;
  }

  async remove(
    em: EntityManager,
    corpId: string,
    conversationId: string,
    id: string,
  ): Promise<boolean> {
    const rows = await em.query<unknown[]>(
      `WITH gone AS (
         DELETE FROM group_robots WHERE corp_id = $1 AND conversation_id = $2 AND id = $3
         RETURNING 1
       ) SELECT * FROM gone`,
      [corpId, conversationId, id],
    );
    return rows.length > 0;
  }

  /**
   * Counts one send in the robot's current minute (a fixed window by the database's clock) and
   * answers the count so far, this one included. In the send's transaction: a refused send
   * does not count.
   */
  async countSend(em: EntityManager, corpId: string, robotId: string): Promise<number> {
    const [row] = await em.query<{ count: number }[]>(
      `INSERT INTO robot_send_counters AS c (corp_id, robot_id, minute_start, count)
       VALUES ($1, $2, date_trunc('minute', now()), 1)
       ON CONFLICT (corp_id, robot_id) DO UPDATE SET
         count = CASE WHEN c.minute_start = EXCLUDED.minute_start THEN c.count + 1 ELSE 1 END,
         minute_start = EXCLUDED.minute_start
       RETURNING count`,
      [corpId, robotId],
    );
    return row.count;
  }
}
