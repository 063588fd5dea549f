import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Principal } from '@qiwei/auth';
import { COMPLIANCE_ALERT_TOPIC } from '@qiwei/contracts';
import { Outbox } from '@qiwei/events';
import { TransactionRunner, type CorpId } from '@qiwei/persistence';
import { decodeCursor, encodeCursor } from '@qiwei/platform';
import { DataSource, type EntityManager } from 'typeorm';
import { AccessLog } from '../access-log/access-log';
import { searchableText } from '../archive/searchable-text';
import type { IndexedRecord } from '../search/archive-index';
import { Directory } from '../directory/directory';
import {
  alertAssigned,
  alertClosed,
  alertOf,
  alertRaised,
  type Alert,
  type AlertRow,
  type AlertStatus,
} from './alert';
import { AlertRulesService } from './alert-rules.service';
import {
  AlertClosedException,
  AlertNotFoundException,
  AssigneeNotOfficerException,
} from './alert.exceptions';

export interface AlertFilter {
  status?: AlertStatus;
  ruleId?: string;
  assignee?: string;
  sender?: string;
  /** The officer's coverage (null: the whole corp): alerts on records of their people only. */
  coverage?: number[] | null;
  limit: number;
  cursor?: string;
}

/** SQL on an alert alias `a`: its record is within the coverage in parameter `param`. */
const covered = (param: string) =>
  `(${param}::int[] IS NULL OR EXISTS (
     SELECT 1 FROM archive_sender_departments c
      WHERE c.corp_id = a.corp_id AND c.chain_seq = a.archive_seq
        AND c.department_ids && ${param}::int[]))`;

type Cursor = { t: string; i: string };
const isCursor = (v: unknown): v is Cursor =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Cursor).t === 'string' &&
  !Number.isNaN(Date.parse((v as Cursor).t)) &&
  typeof (v as Cursor).i === 'string' &&
  /^[0-9a-f-]{36}$/.test((v as Cursor).i);

@Injectable()
export class AlertsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly rules: AlertRulesService,
    private readonly outbox: Outbox,
    private readonly directory: Directory,
    private readonly accessLog: AccessLog,
  ) {}

  /**
   * Runs the corp's enabled rules on records just archived (with their senders' departments),
   * in the archive's transaction: on each message's searchable text (text, cards, articles,
   * links, file names…), within each rule's scope; each hit becomes an alert and a `raised`
   * event, or nothing does.
   */
  async evaluate(em: EntityManager, corpId: CorpId, records: IndexedRecord[]): Promise<void> {
    // Messages of every kind: members', apps', announcements.
    const messages = records.filter((r) => r.kind === 'message');
    if (!messages.length) return;
    const rules = await this.rules.enabled(em, corpId);
    if (!rules.length) return;
    const now = new Date();
    const raised: Alert[] = [];
    for (const record of messages) {
      const text = searchableText(record);
      if (!text) continue;
      for (const compiled of rules) {
        if (!compiled.appliesTo(record)) continue;
        const matched = compiled.match(text);
        if (matched === null) continue;
        raised.push({
          corpId,
          id: randomUUID(),
          ruleId: compiled.rule.id,
          ruleName: compiled.rule.name,
          ruleKind: compiled.rule.kind,
          archiveSeq: record.chainSeq,
          messageId: record.messageId ?? '',
          conversationId: record.conversationId,
          conversationKind: record.conversationKind,
          sender: record.sender,
          matchedText: matched,
          sentAt: record.sentAt,
          status: 'open',
          assignee: null,
          note: null,
          closedBy: null,
          closedAt: null,
          createdAt: now,
          updatedAt: now,
        });
      }
    }
    if (!raised.length) return;
    await em.query(
      `INSERT INTO alerts (corp_id, id, rule_id, rule_name, rule_kind, archive_seq, message_id,
         conversation_id, conversation_kind, sender, matched_text, sent_at, status, created_at, updated_at)
       SELECT corp_id, id, rule_id, rule_name, rule_kind, archive_seq, message_id, conversation_id,
              conversation_kind, sender, matched_text, sent_at, 'open', created_at, created_at
         FROM jsonb_to_recordset($1::jsonb) AS x(corp_id text, id uuid, rule_id uuid, rule_name text,
           rule_kind text, archive_seq bigint, message_id text, conversation_id uuid,
           conversation_kind text, sender text, matched_text text, sent_at timestamptz,
           created_at timestamptz)`,
      [
        JSON.stringify(
          raised.map((a) => ({
            corp_id: a.corpId,
            id: a.id,
            rule_id: a.ruleId,
            rule_name: a.ruleName,
            rule_kind: a.ruleKind,
            archive_seq: a.archiveSeq,
            message_id: a.messageId,
            conversation_id: a.conversationId,
            conversation_kind: a.conversationKind,
            sender: a.sender,
            matched_text: a.matchedText,
            sent_at: a.sentAt.toISOString(),
            created_at: a.createdAt.toISOString(),
          })),
        ),
      ],
    );
    for (const alert of raised)
      await this.outbox.publish(em, COMPLIANCE_ALERT_TOPIC, alertRaised(alert));
  }

  async get(
    corpId: CorpId,
    id: string,
    em?: EntityManager,
    lock = false,
    coverage: number[] | null = null,
  ): Promise<Alert> {
    const [row] = await (em ?? this.dataSource).query<AlertRow[]>(
      `SELECT * FROM alerts a WHERE corp_id = $1 AND id = $2 AND ${covered('$3')}
        ${lock ? 'FOR UPDATE' : ''}`,
      [corpId, id, coverage],
    );
    if (!row) throw new AlertNotFoundException(id);
    return alertOf(row);
  }

  /** Newest first. */
  async list(
    corpId: CorpId,
    filter: AlertFilter,
  ): Promise<{ items: Alert[]; nextCursor: string | null }> {
    const cursor = decodeCursor(filter.cursor, isCursor);
    const rows = await this.dataSource.query<AlertRow[]>(
      `SELECT * FROM alerts a
        WHERE corp_id = $1 AND ${covered('$9')}
          AND ($2::text IS NULL OR status = $2)
          AND ($3::uuid IS NULL OR rule_id = $3)
          AND ($4::text IS NULL OR assignee = $4)
          AND ($5::text IS NULL OR sender = $5)
          AND ($6::timestamptz IS NULL OR (created_at, id) < ($6, $7::uuid))
        ORDER BY created_at DESC, id DESC LIMIT $8`,
      [
        corpId,
        filter.status ?? null,
        filter.ruleId ?? null,
        filter.assignee ?? null,
        filter.sender ?? null,
        cursor?.t ?? null,
        cursor?.i ?? null,
        filter.limit + 1,
        filter.coverage ?? null,
      ],
    );
    const items = rows.slice(0, filter.limit).map(alertOf);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor:
        rows.length > filter.limit
          ? encodeCursor({ t: last.createdAt.toISOString(), i: last.id })
          : null,
    };
  }

  async assign(
    caller: Principal,
    id: string,
    assignee: string,
    coverage: number[] | null = null,
  ): Promise<Alert> {
    return this.tx.run(async (em) => {
      const alert = await this.get(caller.corpId, id, em, true, coverage);
      if (alert.status === 'closed') throw new AlertClosedException(id);
      if (!(await this.directory.isActiveOfficer(em, caller.corpId, assignee)))
        throw new AssigneeNotOfficerException(assignee);
      // UPDATE … RETURNING answers [rows, affected count].
      const [[row]] = await em.query<[AlertRow[], number]>(
        `UPDATE alerts SET status = 'assigned', assignee = $3, updated_at = $4
          WHERE corp_id = $1 AND id = $2 RETURNING *`,
        [caller.corpId, id, assignee, new Date()],
      );
      const updated = alertOf(row);
      await this.outbox.publish(em, COMPLIANCE_ALERT_TOPIC, alertAssigned(updated, caller.userId));
      await this.accessLog.append(em, {
        corpId: caller.corpId,
        actor: caller.userId,
        action: 'alert.assigned',
        query: { alertId: id, assignee },
        resultCount: 1,
      });
      return updated;
    });
  }

  async close(
    caller: Principal,
    id: string,
    note: string,
    coverage: number[] | null = null,
  ): Promise<Alert> {
    return this.tx.run(async (em) => {
      const alert = await this.get(caller.corpId, id, em, true, coverage);
      if (alert.status === 'closed') throw new AlertClosedException(id);
      const now = new Date();
      const [[row]] = await em.query<[AlertRow[], number]>(
        `UPDATE alerts SET status = 'closed', note = $3, closed_by = $4, closed_at = $5, updated_at = $5
          WHERE corp_id = $1 AND id = $2 RETURNING *`,
        [caller.corpId, id, note, caller.userId, now],
      );
      const updated = alertOf(row);
      await this.outbox.publish(em, COMPLIANCE_ALERT_TOPIC, alertClosed(updated, caller.userId));
      await this.accessLog.append(em, {
        corpId: caller.corpId,
        actor: caller.userId,
        action: 'alert.closed',
        query: { alertId: id, note },
        resultCount: 1,
      });
      return updated;
    });
  }
}
