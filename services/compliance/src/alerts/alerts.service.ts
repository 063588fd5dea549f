import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Principal } from '@qiwei/auth';
import { COMPLIANCE_ALERT_TOPIC } from '@qiwei/contracts';
import { Outbox } from '@qiwei/events';
import { TransactionRunner, type CorpId } from '@qiwei/persistence';
import { decodeCursor, encodeCursor } from '@qiwei/platform';
import { normalise } from '@qiwei/text-search';
import { DataSource, type EntityManager } from 'typeorm';
import { AccessLog } from '../access-log/access-log';
import type { ArchivedRecord, NewArchiveRecord } from '../archive/archive-record';
import { searchableText } from '../archive/searchable-text';
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
import type { CompiledRule } from './alert-rule';
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

/** A rule's hit on the record at `index` of a batch about to be archived. */
export interface AlertMatch {
  index: number;
  rule: CompiledRule;
  matched: string;
}

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
   * Runs the corp's enabled rules on message records about to be archived (before the chain tip
   * is taken: matching needs no chain position): on each message's searchable text (text,
   * cards, articles, links, file names…) of every kind (members', apps', announcements), within
   * each rule's scope (`departments`: each sender's departments). Each hit is raised by `raise`
   * once the records have their place in the chain, in the same transaction.
   */
  async match(
    em: EntityManager,
    corpId: CorpId,
    records: readonly NewArchiveRecord[],
    departments: ReadonlyMap<string, number[]>,
  ): Promise<AlertMatch[]> {
    if (!records.some((r) => r.kind === 'message')) return [];
    const rules = await this.rules.enabled(em, corpId);
    if (!rules.length) return [];
    const matches: AlertMatch[] = [];
    records.forEach((record, index) => {
      if (record.kind !== 'message') return;
      const text = searchableText(record);
      if (!text) return;
      const scoped = { ...record, senderDepartments: departments.get(record.sender) ?? [] };
      let normalised: string | undefined;
      for (const rule of rules) {
        if (!rule.appliesTo(scoped)) continue;
        if (rule.rule.kind === 'keyword' && rule.rule.caseInsensitive)
          normalised ??= normalise(text);
        const matched = rule.match(text, normalised);
        if (matched !== null) matches.push({ index, rule, matched });
      }
    });
    return matches;
  }

  /**
   * Each match becomes an alert on the record now archived at the same index, and a `raised`
   * event, in the archive's transaction: both or nothing.
   */
  async raise(
    em: EntityManager,
    corpId: CorpId,
    matches: readonly AlertMatch[],
    archived: readonly ArchivedRecord[],
  ): Promise<void> {
    if (!matches.length) return;
    const now = new Date();
    const raised: Alert[] = matches.map(({ index, rule, matched }) => {
      const record = archived[index];
      return {
        corpId,
        id: randomUUID(),
        ruleId: rule.rule.id,
        ruleName: rule.rule.name,
        ruleKind: rule.rule.kind,
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
      };
    });
    await em.query(
      `INSERT INTO alerts (corp_id, id, rule_id, rule_name, rule_kind, archive_seq, message_id,
         conversation_id, conversation_kind, sender, matched_text, sent_at, status, created_at, updated_at)
       SELECT $1, x.id, x.rule_id, x.rule_name, x.rule_kind, x.archive_seq, x.message_id,
              x.conversation_id, x.conversation_kind, x.sender, x.matched_text, x.sent_at, 'open',
              $2, $2
         FROM unnest($3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::bigint[], $8::text[],
                     $9::uuid[], $10::text[], $11::text[], $12::text[], $13::timestamptz[])
           AS x(id, rule_id, rule_name, rule_kind, archive_seq, message_id, conversation_id,
                conversation_kind, sender, matched_text, sent_at)`,
      [
        corpId,
        now,
        raised.map((a) => a.id),
        raised.map((a) => a.ruleId),
        raised.map((a) => a.ruleName),
        raised.map((a) => a.ruleKind),
        raised.map((a) => a.archiveSeq),
        raised.map((a) => a.messageId),
        raised.map((a) => a.conversationId),
        raised.map((a) => a.conversationKind),
        raised.map((a) => a.sender),
        raised.map((a) => a.matchedText),
        raised.map((a) => a.sentAt.toISOString()),
      ],
    );
    await this.outbox.publishAll(
      em,
      COMPLIANCE_ALERT_TOPIC,
      raised.map((a) => alertRaised(a)),
    );
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
