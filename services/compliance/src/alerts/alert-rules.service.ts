import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Principal } from '@qiwei/auth';
import type { CorpId } from '@qiwei/persistence';
import { TransactionRunner } from '@qiwei/persistence';
import { DataSource, type EntityManager } from 'typeorm';
import { AccessLog } from '../access-log/access-log';
import {
  alertRuleOf,
  CompiledRule,
  compilePattern,
  type AlertRule,
  type AlertRuleRow,
} from './alert-rule';
import {
  AlertRuleLimitReachedException,
  AlertRuleNotFoundException,
  AlertRuleShapeInvalidException,
} from './alert.exceptions';

export const ALERT_RULES_PER_CORP = 500;

export interface AlertRuleInput {
  name: string;
  kind: 'keyword' | 'regex';
  keywords?: string[];
  pattern?: string;
  caseInsensitive?: boolean;
  conversationKinds?: string[];
  externalOnly?: boolean;
  departments?: number[];
}

export type AlertRuleChange = Partial<Omit<AlertRuleInput, 'kind'>> & { enabled?: boolean };

/** Checks what a rule of its kind needs; compiles a pattern (refusing unsafe ones). */
function checkShape(kind: 'keyword' | 'regex', keywords: string[], pattern: string, ci: boolean) {
  if (kind === 'keyword') {
    if (!keywords.length || pattern)
      throw new AlertRuleShapeInvalidException('A keyword rule has keywords and no pattern.');
  } else {
    if (keywords.length || !pattern)
      throw new AlertRuleShapeInvalidException('A regex rule has a pattern and no keywords.');
    compilePattern(pattern, ci);
  }
}

@Injectable()
export class AlertRulesService {
  // Compiled rules by id and version: ingest compiles a rule once, not once per message.
  private readonly compiled = new Map<string, CompiledRule>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly accessLog: AccessLog,
  ) {}

  async create(caller: Principal, input: AlertRuleInput): Promise<AlertRule> {
    const keywords = input.keywords ?? [];
    const pattern = input.pattern ?? '';
    const ci = input.caseInsensitive ?? true;
    checkShape(input.kind, keywords, pattern, ci);
    return this.tx.run(async (em) => {
      // Serialises rule creation per corp, so the limit holds.
      await em.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `alert-rules:${caller.corpId}`,
      ]);
      const [{ count }] = await em.query<{ count: string }[]>(
        'SELECT count(*) FROM alert_rules WHERE corp_id = $1',
        [caller.corpId],
      );
      if (Number(count) >= ALERT_RULES_PER_CORP)
        throw new AlertRuleLimitReachedException(ALERT_RULES_PER_CORP);
      const now = new Date();
      const [row] = await em.query<AlertRuleRow[]>(
        `INSERT INTO alert_rules (corp_id, id, name, kind, keywords, pattern, case_insensitive,
           conversation_kinds, external_only, department_ids, enabled, created_by, created_at,
           updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $11, $12, true, $9, $10, $10) RETURNING *`,
        [
          caller.corpId,
          randomUUID(),
          input.name,
          input.kind,
          keywords,
          pattern,
          ci,
          input.conversationKinds ?? [],
          caller.userId,
          now,
          input.externalOnly ?? false,
          [...new Set(input.departments ?? [])],
        ],
      );
      const rule = alertRuleOf(row);
      await this.accessLog.append(em, {
        corpId: caller.corpId,
        actor: caller.userId,
        action: 'alert_rule.created',
        query: {
          ruleId: rule.id,
          name: rule.name,
          kind: rule.kind,
          keywords,
          pattern,
          conversationKinds: rule.conversationKinds,
          externalOnly: rule.externalOnly,
          departments: rule.departments,
        },
        resultCount: 1,
      });
      return rule;
    });
  }

  async update(caller: Principal, id: string, change: AlertRuleChange): Promise<AlertRule> {
    return this.tx.run(async (em) => {
      const current = await this.get(caller.corpId, id, em, true);
      const next = {
        name: change.name ?? current.name,
        keywords: change.keywords ?? current.keywords,
        pattern: change.pattern ?? current.pattern,
        caseInsensitive: change.caseInsensitive ?? current.caseInsensitive,
        conversationKinds: change.conversationKinds ?? current.conversationKinds,
        externalOnly: change.externalOnly ?? current.externalOnly,
        departments: change.departments ? [...new Set(change.departments)] : current.departments,
        enabled: change.enabled ?? current.enabled,
      };
      checkShape(current.kind, next.keywords, next.pattern, next.caseInsensitive);
      // UPDATE … RETURNING answers [rows, affected count].
      const [[row]] = await em.query<[AlertRuleRow[], number]>(
        `UPDATE alert_rules SET name = $3, keywords = $4, pattern = $5, case_insensitive = $6,
           conversation_kinds = $7, enabled = $8, updated_at = $9, external_only = $10,
           department_ids = $11
         WHERE corp_id = $1 AND id = $2 RETURNING *`,
        [
          caller.corpId,
          id,
          next.name,
          next.keywords,
          next.pattern,
          next.caseInsensitive,
          next.conversationKinds,
          next.enabled,
          new Date(),
          next.externalOnly,
          next.departments,
        ],
      );
      await this.accessLog.append(em, {
        corpId: caller.corpId,
        actor: caller.userId,
        action: 'alert_rule.updated',
        query: { ruleId: id, ...next },
        resultCount: 1,
      });
      return alertRuleOf(row);
    });
  }

  async get(corpId: CorpId, id: string, em?: EntityManager, lock = false): Promise<AlertRule> {
    const [row] = await (em ?? this.dataSource).query<AlertRuleRow[]>(
      `SELECT * FROM alert_rules WHERE corp_id = $1 AND id = $2 ${lock ? 'FOR UPDATE' : ''}`,
      [corpId, id],
    );
    if (!row) throw new AlertRuleNotFoundException(id);
    return alertRuleOf(row);
  }

  async list(corpId: CorpId): Promise<AlertRule[]> {
    const rows = await this.dataSource.query<AlertRuleRow[]>(
      'SELECT * FROM alert_rules WHERE corp_id = $1 ORDER BY created_at, id',
      [corpId],
    );
    return rows.map(alertRuleOf);
  }

  /** The corp's enabled rules as of this transaction, compiled. */
  async enabled(em: EntityManager, corpId: CorpId): Promise<CompiledRule[]> {
    const rows = await em.query<AlertRuleRow[]>(
      'SELECT * FROM alert_rules WHERE corp_id = $1 AND enabled ORDER BY created_at, id',
      [corpId],
    );
    return rows.map((row) => {
      const key = `${row.id}@${row.updated_at.toISOString()}`;
      let rule = this.compiled.get(key);
      if (!rule) {
        rule = new CompiledRule(alertRuleOf(row));
        if (this.compiled.size > 10_000) this.compiled.clear();
        this.compiled.set(key, rule);
      }
      return rule;
    });
  }
}
