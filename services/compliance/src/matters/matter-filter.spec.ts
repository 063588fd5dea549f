import { HELD_KINDS, matterSearchFilters } from './matter-filter';

describe('matterSearchFilters', () => {
  const from = new Date('2025-01-01T00:00:00Z');
  const to = new Date('2025-07-01T00:00:00Z');

  it('gives one filter per custodian and conversation, each with the time range', () => {
    const filters = matterSearchFilters({
      custodians: ['alice', 'bob'],
      conversationIds: ['c1', 'c2', 'c3'],
      from,
      to,
    });
    expect(filters).toHaveLength(6);
    expect(filters.map((f) => [f.participant, f.conversationId])).toEqual([
      ['alice', 'c1'],
      ['alice', 'c2'],
      ['alice', 'c3'],
      ['bob', 'c1'],
      ['bob', 'c2'],
      ['bob', 'c3'],
    ]);
    for (const f of filters) {
      expect(f).toMatchObject({ from, to, senders: [], kinds: HELD_KINDS, types: [] });
      expect(f.keywords).toEqual({ all: [], any: [], phrases: [], exclude: [] });
    }
  });

  it('leaves out the dimensions a matter does not name', () => {
    expect(matterSearchFilters({ custodians: [], conversationIds: [], from, to: null })).toEqual([
      {
        keywords: { all: [], any: [], phrases: [], exclude: [] },
        senders: [],
        kinds: ['message', 'recall', 'conversation', 'media'],
        types: [],
        from,
      },
    ]);
    const byConversation = matterSearchFilters({
      custodians: [],
      conversationIds: ['c1'],
      from: null,
      to: null,
    });
    expect(byConversation).toEqual([expect.objectContaining({ conversationId: 'c1' })]);
    expect(byConversation[0]).not.toHaveProperty('participant');
  });
});
