import type { CorpId } from '@qiwei/persistence';
import { normalise } from '@qiwei/text-search';
import { isExternalChat } from '../archive/archive-record';
import type { IndexedRecord } from '../search/archive-index';
import { BoundedRegex, RegexRejected } from './bounded-regex';
import { AlertRulePatternInvalidException } from './alert.exceptions';

export type AlertRuleKind = 'keyword' | 'regex';

export interface AlertRule {
  corpId: CorpId;
  id: string;
  name: string;
  kind: AlertRuleKind;
  keywords: string[];
  pattern: string;
  caseInsensitive: boolean;
  /** Empty: every kind. */
  conversationKinds: string[];
  /** Only records of chats with external contacts (`isExternalChat`). */
  externalOnly: boolean;
  /** Roots of department subtrees the sender was in (as archived); empty: every sender. */
  departments: number[];
  enabled: boolean;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface AlertRuleRow {
  corp_id: string;
  id: string;
  name: string;
  kind: AlertRuleKind;
  keywords: string[];
  pattern: string;
  case_insensitive: boolean;
  conversation_kinds: string[];
  external_only: boolean;
  department_ids: number[];
  enabled: boolean;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

export const alertRuleOf = (r: AlertRuleRow): AlertRule => ({
  corpId: r.corp_id as CorpId,
  id: r.id,
  name: r.name,
  kind: r.kind,
  keywords: r.keywords,
  pattern: r.pattern,
  caseInsensitive: r.case_insensitive,
  conversationKinds: r.conversation_kinds,
  externalOnly: r.external_only,
  departments: r.department_ids,
  enabled: r.enabled,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Longest matched text an alert keeps. */
const MATCH_MAX = 256;

/** A rule ready to run on message text. */
export class CompiledRule {
  private readonly regex?: BoundedRegex;
  private readonly keywords: string[];

  constructor(readonly rule: AlertRule) {
    if (rule.kind === 'regex') this.regex = compilePattern(rule.pattern, rule.caseInsensitive);
    this.keywords = rule.keywords.map((k) => (rule.caseInsensitive ? normalise(k) : k));
  }

  /** Whether the record is within the rule's scope (kinds, external chats, departments). */
  appliesTo(record: Pick<IndexedRecord, 'conversationKind' | 'consent' | 'senderDepartments'>) {
    const { conversationKinds, externalOnly, departments } = this.rule;
    if (conversationKinds.length && !conversationKinds.includes(record.conversationKind))
      return false;
    if (externalOnly && !isExternalChat(record)) return false;
    return !departments.length || departments.some((d) => record.senderDepartments.includes(d));
  }

  /**
   * The text that matched, or null. `normalised` is `normalise(text)` when the caller already
   * has it (several rules on one message normalise it once).
   */
  match(text: string, normalised?: string): string | null {
    if (this.regex) return this.regex.exec(text)?.text.slice(0, MATCH_MAX) ?? null;
    const haystack = this.rule.caseInsensitive ? (normalised ?? normalise(text)) : text;
    // The keyword found first in the text, the longest where several start there.
    let best: { at: number; keyword: string } | null = null;
    for (const keyword of this.keywords) {
      const at = haystack.indexOf(keyword);
      if (at < 0) continue;
      if (!best || at < best.at || (at === best.at && keyword.length > best.keyword.length))
        best = { at, keyword };
    }
    return best ? best.keyword.slice(0, MATCH_MAX) : null;
  }
}

export function compilePattern(pattern: string, caseInsensitive: boolean): BoundedRegex {
  try {
    return BoundedRegex.compile(pattern, caseInsensitive);
  } catch (error) {
    if (error instanceof RegexRejected) throw new AlertRulePatternInvalidException(error.message);
    throw error;
  }
}
