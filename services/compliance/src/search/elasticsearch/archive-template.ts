import type { estypes } from '@elastic/elasticsearch';

/** The names an index prefix gives: template, the versioned index, and the alias used. */
export const archiveIndexNames = (prefix: string) => ({
  template: `${prefix}archive`,
  pattern: `${prefix}archive-*`,
  index: `${prefix}archive-v1`,
  alias: `${prefix}archive`,
});

/**
 * The archive's index template. Built-in analysis only (no plugins): the standard tokenizer
 * splits Han, kana and Hangul into single characters and Latin text into words;
 *
 * - `text` (`qiwei_cjk`): `cjk_width` (full-width Latin and digits to ASCII), lowercase,
 *   `cjk_bigram` — 这款理财产品 becomes 这款 款理 理财 财产 产品, Latin words stay whole. A CJK
 *   keyword is a phrase of its bigrams, so 理财 is found inside unspaced text and 理财产品 only
 *   where it is contiguous. Not the built-in `cjk` analyzer: its English stop words would make
 *   "no risk" or "at" unsearchable, and a compliance search must find every word.
 * - `text.unigram` (`qiwei_unigram`): single CJK characters and whole Latin words (indexed with
 *   their letter/digit parts too, so `iphone` and `15` find `iPhone15`, like the PostgreSQL
 *   adapter); one-character keywords and Latin words match here.
 * - `text.exact` (`wildcard`): the text as written, for phrases as case-insensitive substrings.
 *
 * Documents are routed by corp (`_routing` required) and every query filters on `corp_id`.
 */
export function archiveIndexTemplate(
  prefix: string,
  shards: number,
  replicas: number,
): estypes.IndicesPutIndexTemplateRequest {
  const names = archiveIndexNames(prefix);
  return {
    name: names.template,
    index_patterns: [names.pattern],
    priority: 500,
    _meta: { owner: 'qiwei-compliance', version: 1 },
    template: {
      settings: {
        number_of_shards: shards,
        number_of_replicas: replicas,
        refresh_interval: '1s',
        analysis: {
          filter: {
            qiwei_cjk_bigram: {
              type: 'cjk_bigram',
              ignored_scripts: [],
              output_unigrams: false,
            },
            qiwei_word_parts: {
              type: 'word_delimiter_graph',
              preserve_original: true,
              split_on_case_change: false,
              split_on_numerics: true,
              stem_english_possessive: false,
              generate_word_parts: true,
              generate_number_parts: true,
            },
          },
          analyzer: {
            qiwei_cjk: {
              type: 'custom',
              tokenizer: 'standard',
              filter: ['cjk_width', 'lowercase', 'qiwei_cjk_bigram'],
            },
            qiwei_unigram: {
              type: 'custom',
              tokenizer: 'standard',
              filter: ['cjk_width', 'lowercase', 'qiwei_word_parts', 'flatten_graph'],
            },
            qiwei_unigram_search: {
              type: 'custom',
              tokenizer: 'standard',
              filter: ['cjk_width', 'lowercase'],
            },
          },
        },
      },
      mappings: {
        dynamic: 'strict',
        _routing: { required: true },
        _source: { enabled: true },
        properties: {
          corp_id: { type: 'keyword' },
          chain_seq: { type: 'long' },
          kind: { type: 'keyword' },
          type: { type: 'keyword' },
          conversation_id: { type: 'keyword' },
          conversation_kind: { type: 'keyword' },
          sender: { type: 'keyword' },
          participants: { type: 'keyword' },
          sender_departments: { type: 'integer' },
          has_attachment: { type: 'boolean' },
          sent_at: { type: 'date' },
          text: {
            type: 'text',
            analyzer: 'qiwei_cjk',
            index_options: 'offsets',
            fields: {
              unigram: {
                type: 'text',
                analyzer: 'qiwei_unigram',
                search_analyzer: 'qiwei_unigram_search',
                index_options: 'offsets',
              },
              exact: { type: 'wildcard' },
            },
          },
        },
      },
    },
  };
}
