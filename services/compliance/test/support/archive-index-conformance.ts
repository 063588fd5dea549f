import { randomBytes, randomUUID } from 'node:crypto';
import type { CorpId } from '@qiwei/persistence';
import type { DataSource } from 'typeorm';
import type { RecordKind } from '../../src/archive/archive-record';
import type { Canonical } from '../../src/chain/hash-chain';
import type { ArchiveIndex, ArchiveQuery, IndexedRecord } from '../../src/search/archive-index';

/**
 * The ArchiveIndex conformance corpus and the query shapes every adapter must answer alike:
 * the PostgreSQL adapter runs them for real (archive-index.conformance.e2e-spec.ts), the
 * Elasticsearch adapter's mock tests check the request each one becomes
 * (elasticsearch-archive-index.e2e-spec.ts).
 *
 * Departments: 1 is the root, 2 (理财部) and 3 (客服部) are below it, 4 (私人银行) below 2.
 */
export const GROUP = '7b0a3a5e-0000-4000-8000-000000000001';
export const SINGLE = '7b0a3a5e-0000-4000-8000-000000000002';
export const day = (d: number, h = 9) => new Date(Date.UTC(2025, 2, d, h));

export interface CorpusEntry {
  text: string;
  sender: string;
  participants: string[];
  at: Date;
  conversationId: string;
  senderDepartments: number[];
  /** A medium (true: a nameless one) or these media entries. */
  media?: boolean | Canonical[];
  /** Default: a `message` of type `text` in a `single` or `group` conversation. */
  kind?: RecordKind;
  type?: string;
  conversationKind?: string;
  details?: Record<string, Canonical>;
}

export const CORPUS: CorpusEntry[] = [
  {
    text: '这款理财产品收益很高',
    sender: 'alice',
    participants: ['alice', 'bob'],
    at: day(1),
    conversationId: GROUP,
    senderDepartments: [1, 2],
  },
  {
    text: 'Please call me at 13800138000 about the iPhone15 order ORD-2024-0001',
    sender: 'bob',
    participants: ['alice', 'bob'],
    at: day(2),
    conversationId: GROUP,
    senderDepartments: [1, 3],
  },
  {
    text: '理财 and wealth management 方案 for VIP clients',
    sender: 'alice',
    participants: ['alice', 'carol'],
    at: day(3),
    conversationId: SINGLE,
    senderDepartments: [1, 2],
  },
  {
    text: '今天开会讨论理财方案和保险产品',
    sender: 'carol',
    participants: ['alice', 'carol'],
    at: day(4),
    conversationId: SINGLE,
    senderDepartments: [1, 2, 4],
  },
  {
    text: '财产保险的理赔流程',
    sender: 'bob',
    participants: ['alice', 'bob'],
    at: day(5),
    conversationId: GROUP,
    senderDepartments: [1, 3],
  },
  {
    text: '产品理财收益',
    sender: 'alice',
    participants: ['alice', 'bob'],
    at: day(6),
    conversationId: GROUP,
    senderDepartments: [1, 2],
  },
  {
    text: 'Guaranteed returns, no risk at all',
    sender: 'bob',
    participants: ['alice', 'bob'],
    at: day(7),
    conversationId: GROUP,
    senderDepartments: [1, 3],
    media: true,
  },
];

/** Texts, newest first, of the corpus entries at these (1-based) positions. */
const newestFirst = (...positions: number[]) =>
  positions.sort((a, b) => b - a).map((p) => CORPUS[p - 1].text);

export type ConformanceQuery = Partial<Omit<ArchiveQuery, 'corpId' | 'keywords'>> & {
  keywords?: Partial<ArchiveQuery['keywords']>;
};

export interface ConformanceCase {
  name: string;
  query: ConformanceQuery;
  /** The texts found, newest first. */
  texts: string[];
}

export const CASES: ConformanceCase[] = [
  {
    name: 'a Chinese word inside unspaced text',
    query: { keywords: { all: ['理财'] } },
    texts: newestFirst(1, 3, 4, 6),
  },
  {
    name: 'a long Chinese keyword only where contiguous',
    query: { keywords: { all: ['理财产品'] } },
    texts: newestFirst(1),
  },
  {
    name: 'any of a long Chinese keyword (confirmed on the text) and a phone number',
    query: { keywords: { any: ['理财产品', '13800138000'] } },
    texts: newestFirst(1, 2),
  },
  { name: 'one Chinese character', query: { keywords: { all: ['赔'] } }, texts: newestFirst(5) },
  {
    name: 'Chinese and English together',
    query: { keywords: { all: ['理财', 'WEALTH'] } },
    texts: newestFirst(3),
  },
  { name: 'a phone number', query: { keywords: { all: ['13800138000'] } }, texts: newestFirst(2) },
  {
    name: 'an id of letters and digits',
    query: { keywords: { all: ['iphone15'] } },
    texts: newestFirst(2),
  },
  {
    name: 'the letters of a mixed id',
    query: { keywords: { all: ['iphone'] } },
    texts: newestFirst(2),
  },
  {
    name: 'an order id as a phrase',
    query: { keywords: { phrases: ['ORD-2024-0001'] } },
    texts: newestFirst(2),
  },
  { name: 'a number prefix is not a word', query: { keywords: { all: ['1380013'] } }, texts: [] },
  {
    name: 'any of several keywords',
    query: { keywords: { any: ['理赔', 'guaranteed'] } },
    texts: newestFirst(5, 7),
  },
  {
    name: 'excluding a Chinese word',
    query: { keywords: { all: ['理财'], exclude: ['方案'] } },
    texts: newestFirst(1, 6),
  },
  {
    name: 'excluding an English word',
    query: { keywords: { all: ['理财'], exclude: ['vip'] } },
    texts: newestFirst(1, 4, 6),
  },
  {
    name: 'a phrase in order',
    query: { keywords: { phrases: ['no risk'] } },
    texts: newestFirst(7),
  },
  { name: 'a phrase out of order', query: { keywords: { phrases: ['risk no'] } }, texts: [] },
  {
    name: 'by sender',
    query: { keywords: { all: ['理财'] }, senders: ['carol'] },
    texts: newestFirst(4),
  },
  { name: 'by participant', query: { participant: 'carol' }, texts: newestFirst(3, 4) },
  { name: 'by conversation', query: { conversationId: SINGLE }, texts: newestFirst(3, 4) },
  { name: 'by type', query: { types: ['markdown'] }, texts: [] },
  {
    name: 'by time range and kind',
    query: { from: day(2), to: day(4), kinds: ['message'] },
    texts: newestFirst(2, 3),
  },
  {
    name: 'by the sender’s department subtree',
    query: { senderDepartments: [2] },
    texts: newestFirst(1, 3, 4, 6),
  },
  { name: 'by a deeper department', query: { senderDepartments: [4] }, texts: newestFirst(4) },
  { name: 'with attachments', query: { hasAttachment: true }, texts: newestFirst(7) },
  {
    name: 'without attachments',
    query: { hasAttachment: false },
    texts: newestFirst(1, 2, 3, 4, 5, 6),
  },
  { name: 'an officer covering 客服部', query: { coverage: [3] }, texts: newestFirst(2, 5, 7) },
  {
    name: 'an officer covering 私人银行, with keywords',
    query: { coverage: [4], keywords: { all: ['理财'] } },
    texts: newestFirst(4),
  },
  { name: 'an officer covering nothing', query: { coverage: [] }, texts: [] },
];

/**
 * Records of every type and kind, for the searchable text (searchable-text.ts): what each adapter
 * indexes of cards, articles, links, places, contact cards, file names, announcements, group
 * notices — and nothing of markup, group names, media outcomes or tombstones.
 */
export const CONTENT_CORPUS: CorpusEntry[] = [
  {
    text: '',
    kind: 'message',
    type: 'textcard',
    conversationKind: 'app',
    details: {
      agentid: 1000002,
      textcard: {
        title: '领奖通知',
        description: '<div class="gray">2025年3月1日</div><div class="normal">请于周五前领取</div>',
        url: 'https://prize.example/claim',
        btntxt: '详情',
      },
    },
  },
  {
    text: '',
    type: 'news',
    details: {
      articles: [
        { title: '季度周报', description: '收益翻倍', url: 'https://news.example/a', picurl: '' },
        { title: 'Second story', description: '', url: '', picurl: '' },
      ],
    },
  },
  {
    text: '',
    type: 'link',
    details: {
      link: {
        title: '内部链接',
        description: '不要外传',
        url: 'https://evil.example/pay',
        picUrl: '',
      },
    },
  },
  {
    text: '',
    type: 'location',
    details: {
      location: {
        latitude: 31.2397,
        longitude: 121.4905,
        name: '外滩咖啡馆',
        address: '上海市中山东一路1号',
      },
    },
  },
  {
    text: '',
    type: 'contact_card',
    details: { contactCard: { userid: 'zhang', name: '张三丰' } },
  },
  {
    text: '',
    type: 'file',
    media: [{ mediaId: 'm6', filename: '2024年Q3财报.pdf', sha256: '00'.repeat(32) }],
  },
  {
    text: '请全员完成培训',
    type: 'announcement',
    conversationKind: 'announcement',
    details: { title: '合规培训通知' },
  },
  {
    text: '',
    kind: 'media',
    type: 'media.archived',
    details: { mediaId: 'm6', verified: true, messageSeq: 6 },
  },
  {
    text: '',
    kind: 'tombstone',
    type: 'retention.purge',
    details: { records: 3, ranges: [] },
  },
  {
    text: '',
    kind: 'conversation',
    type: 'conversation.settings_changed',
    details: {
      name: '理财群',
      notice: { version: 1, text: '禁止承诺保本', publishedBy: 'alice' },
      welcomeMessage: '欢迎新同事',
    },
  },
  {
    text: '',
    type: 'template_card',
    sender: 'app:1000002',
    details: {
      templateCard: {
        cardType: 'text_notice',
        source: { desc: '审批助手' },
        mainTitle: { title: '报销已批准', desc: '第三季度差旅' },
        emphasisContent: { title: '8,800', desc: '报销金额' },
        subTitleText: '请于月底前确认到账',
        horizontalContentList: [
          { keyname: '审批人', value: '李四光' },
          { keyname: '单号', value: 'EXP-2024-77' },
        ],
        jumpList: [{ title: '查看审批详情', action: { type: 1, url: 'https://oa.example.com' } }],
        cardAction: { type: 1, url: 'https://oa.example.com/exp/77' },
      },
    },
  },
].map((e, i) => ({
  sender: 'alice',
  participants: ['alice', 'bob'],
  at: day(10 + i),
  conversationId: GROUP,
  senderDepartments: [1, 2],
  ...(e as Partial<CorpusEntry> & { text: string }),
}));

/** Content queries: the (1-based) CONTENT_CORPUS positions found, newest first. */
export const CONTENT_CASES: { name: string; query: ConformanceQuery; found: number[] }[] = [
  { name: 'a text card’s title', query: { keywords: { all: ['领奖通知'] } }, found: [1] },
  {
    name: 'a text card’s description across its lines, without its tags',
    query: { keywords: { phrases: ['2025年3月1日 请于周五前领取'] } },
    found: [1],
  },
  {
    name: 'a text card’s description, as a phrase',
    query: { keywords: { phrases: ['请于周五前领取'] } },
    found: [1],
  },
  { name: 'markup is not text', query: { keywords: { all: ['gray'] } }, found: [] },
  { name: 'a news article’s description', query: { keywords: { all: ['收益翻倍'] } }, found: [2] },
  { name: 'a later article', query: { keywords: { all: ['second', 'story'] } }, found: [2] },
  { name: 'a link’s address', query: { keywords: { all: ['evil'] } }, found: [3] },
  { name: 'a link’s description', query: { keywords: { phrases: ['不要外传'] } }, found: [3] },
  { name: 'a place’s name', query: { keywords: { all: ['咖啡馆'] } }, found: [4] },
  {
    name: 'a place’s address',
    query: { keywords: { phrases: ['中山东一路1号'] } },
    found: [4],
  },
  { name: 'a contact card’s name', query: { keywords: { all: ['张三丰'] } }, found: [5] },
  { name: 'a file’s name', query: { keywords: { all: ['财报'] } }, found: [6] },
  { name: 'a file’s name, mixed', query: { keywords: { all: ['q3', 'pdf'] } }, found: [6] },
  {
    name: 'a file’s whole name',
    query: { keywords: { phrases: ['2024年Q3财报.pdf'] } },
    found: [6],
  },
  { name: 'an announcement’s title', query: { keywords: { all: ['合规培训'] } }, found: [7] },
  {
    name: 'an announcement’s title and body',
    query: { keywords: { all: ['通知', '全员'] } },
    found: [7],
  },
  { name: 'a group notice', query: { keywords: { all: ['保本'] } }, found: [10] },
  { name: 'a welcome message', query: { keywords: { all: ['欢迎新同事'] } }, found: [10] },
  { name: 'not a group’s name', query: { keywords: { all: ['理财群'] } }, found: [] },
  {
    name: 'excluding a link’s words',
    query: { keywords: { all: ['example'], exclude: ['evil'] } },
    found: [2, 1],
  },
  { name: 'a template card’s main title', query: { keywords: { all: ['报销'] } }, found: [11] },
  {
    name: 'a template card’s key/value line and link title',
    query: { keywords: { all: ['李四光', '审批详情'] } },
    found: [11],
  },
  {
    name: 'a template card’s secondary text, as a phrase',
    query: { keywords: { phrases: ['请于月底前确认到账'] } },
    found: [11],
  },
  {
    name: 'a template card’s link address is not its text',
    query: { keywords: { all: ['oa'] } },
    found: [],
  },
  { name: 'media outcomes by kind', query: { kinds: ['media'] }, found: [8] },
  { name: 'tombstones by kind', query: { kinds: ['tombstone'] }, found: [9] },
  { name: 'app messages by type', query: { types: ['textcard'] }, found: [1] },
  {
    name: 'media outcomes and tombstones say nothing',
    query: { keywords: { any: ['media', 'archived', 'retention', 'purge'] } },
    found: [],
  },
];

/** A complete query from a conformance query (defaults: whole corp, by time, 20). */
export const queryOf = (corpId: CorpId, q: ConformanceQuery): ArchiveQuery => ({
  corpId,
  coverage: null,
  senders: [],
  senderDepartments: [],
  kinds: [],
  types: [],
  sort: 'time',
  limit: 20,
  ...q,
  keywords: { all: [], any: [], phrases: [], exclude: [], ...q.keywords },
});

/** Archives the corpus for `corpId` as the writer would (records, departments, index). */
export async function seedCorpus(
  db: DataSource,
  index: ArchiveIndex,
  corpId: CorpId,
  corpus: CorpusEntry[] = CORPUS,
): Promise<IndexedRecord[]> {
  const records: IndexedRecord[] = corpus.map((e, i) => ({
    corpId,
    chainSeq: i + 1,
    kind: e.kind ?? 'message',
    eventId: randomUUID(),
    messageId: randomUUID(),
    preMessageId: null,
    conversationId: e.conversationId,
    conversationKind: e.conversationKind ?? (e.conversationId === SINGLE ? 'single' : 'group'),
    sender: e.sender,
    type: e.type ?? 'text',
    text: e.text,
    mentions: [],
    quoteSeq: 0,
    seq: i + 1,
    participants: e.participants,
    details: e.details ?? {},
    media: Array.isArray(e.media)
      ? e.media
      : e.media
        ? [{ key: `media/${i}`, sha256: '00'.repeat(32) }]
        : [],
    consent: 'not_required',
    sentAt: e.at,
    recordedAt: new Date(),
    prevHash: randomBytes(32),
    hash: randomBytes(32),
    senderDepartments: e.senderDepartments,
  }));
  await db.transaction(async (em) => {
    for (const r of records) {
      await em.query(
        `INSERT INTO archive_records (corp_id, chain_seq, kind, event_id, message_id, conversation_id,
           conversation_kind, sender, type, text, seq, participants, media, sent_at, recorded_at,
           prev_hash, hash, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
        [
          r.corpId,
          r.chainSeq,
          r.kind,
          r.eventId,
          r.messageId,
          r.conversationId,
          r.conversationKind,
          r.sender,
          r.type,
          r.text,
          r.seq,
          r.participants,
          JSON.stringify(r.media),
          r.sentAt,
          r.recordedAt,
          r.prevHash,
          r.hash,
          JSON.stringify(r.details),
        ],
      );
      await em.query(
        'INSERT INTO archive_sender_departments (corp_id, chain_seq, department_ids) VALUES ($1, $2, $3)',
        [r.corpId, r.chainSeq, r.senderDepartments],
      );
    }
    await index.index(em, records);
  });
  return records;
}
