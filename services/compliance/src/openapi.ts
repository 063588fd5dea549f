export const COMPLIANCE_OPENAPI = {
  title: 'Qiwei compliance',
  description:
    'The conversation archive: every message (members’ messages of every type, app messages, announcements, recalls and conversation changes) archived immutably in a per-corp hash chain with signed heads, searchable in Chinese and English by compliance officers within their department coverage (PostgreSQL or Elasticsearch), exported (a search or a legal matter) as JSONL/CSV with media and a manifest of hashes, keyword alerts (敏感词), and an append-only, hash-chained log of every access. Media are copied into the archive’s own bucket and verified by SHA-256; external contacts’ consent decides what is kept of their chats; retention purges leave signed tombstones in the chain; legal matters hold records from retention. Errors are application/problem+json with a stable `code`.',
  version: '1',
};
