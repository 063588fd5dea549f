import type { StoredMessage } from '../messages/messages.repository';
import { previewOf } from './urgent-reminder-events';

const message = (fields: Partial<StoredMessage>): StoredMessage => ({
  corpId: 'ww0123456789abcdef',
  conversationId: '0b7e2c4e-4a3f-4d9a-9a52-2f1c8d6b7e10',
  seq: 1,
  id: '5d0f6a3e-1c2b-4e8f-9a7d-3b6c2e1f0a94',
  sender: 'alice',
  clientMsgId: 'c1',
  type: 'text',
  text: '',
  mentions: [],
  quoteSeq: 0,
  media: null,
  articles: [],
  location: null,
  link: null,
  contactCard: null,
  textcard: null,
  templateCard: null,
  caption: null,
  safe: false,
  sentAt: new Date('2026-01-01T00:00:00Z'),
  recalledAt: null,
  recalledBy: null,
  ...fields,
});

describe('the preview an urgent reminder quotes', () => {
  it('is the whole text when short', () => {
    expect(previewOf(message({ text: '下午三点开会' }))).toBe('下午三点开会');
  });

  it('cuts long text at 200 characters, never inside a character', () => {
    const preview = previewOf(message({ type: 'markdown', text: '🚨紧急'.repeat(100) }));
    expect([...preview]).toHaveLength(201);
    expect(preview.endsWith('…')).toBe(true);
    expect(preview.startsWith('🚨紧急🚨')).toBe(true);
  });

  it('names media by kind and news by its first title', () => {
    expect(previewOf(message({ type: 'image' }))).toBe('[image]');
    expect(previewOf(message({ type: 'file' }))).toBe('[file]');
    expect(
      previewOf(
        message({
          type: 'news',
          articles: [
            { title: '季度总结', description: '', url: 'https://example.com', picurl: '' },
          ],
        }),
      ),
    ).toBe('[news] 季度总结');
  });
});
