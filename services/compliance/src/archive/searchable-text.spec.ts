import { appConversationId } from './app-conversation';
import type { NewArchiveRecord } from './archive-record';
import { searchableText } from './searchable-text';

type Fields = Pick<NewArchiveRecord, 'kind' | 'type' | 'text' | 'details' | 'media'>;
const message = (fields: Partial<Fields>): Fields => ({
  kind: 'message',
  type: 'text',
  text: '',
  details: {},
  media: [],
  ...fields,
});

describe('searchableText', () => {
  it('is the text of text and markdown messages', () => {
    expect(searchableText(message({ text: '这款理财产品收益很高' }))).toBe('这款理财产品收益很高');
    expect(searchableText(message({ type: 'markdown', text: '**稳赚** 不赔' }))).toBe(
      '**稳赚** 不赔',
    );
  });

  it('reads every type’s human-readable parts, in a fixed order', () => {
    expect(
      searchableText(
        message({
          type: 'textcard',
          details: {
            textcard: {
              title: '领奖通知',
              description:
                '<div class="gray">2025年3月1日</div><div class="highlight">请于周五前领取</div>',
              url: 'https://prize.example/claim',
              btntxt: '详情',
            },
          },
        }),
      ),
    ).toBe('领奖通知 2025年3月1日 请于周五前领取 https://prize.example/claim');
    expect(
      searchableText(
        message({
          type: 'news',
          details: {
            articles: [
              { title: '季度报告', description: '收益翻倍', url: 'https://a.example', picurl: 'x' },
              { title: '', description: '', url: '', picurl: '' },
              { title: 'Second', description: '', url: 'https://b.example', picurl: '' },
            ],
          },
        }),
      ),
    ).toBe('季度报告 收益翻倍 https://a.example Second https://b.example');
    expect(
      searchableText(
        message({
          type: 'link',
          details: {
            link: {
              title: '内部链接',
              description: '不要外传',
              url: 'https://x.example',
              picUrl: '',
            },
          },
        }),
      ),
    ).toBe('内部链接 不要外传 https://x.example');
    expect(
      searchableText(
        message({
          type: 'location',
          details: {
            location: { latitude: 31.23, longitude: 121.47, name: '外滩', address: '中山东一路' },
          },
        }),
      ),
    ).toBe('外滩 中山东一路');
    expect(
      searchableText(
        message({
          type: 'contact_card',
          details: { contactCard: { userid: 'zhang', name: '张三' } },
        }),
      ),
    ).toBe('张三');
    expect(
      searchableText(
        message({
          type: 'video',
          media: [{ mediaId: 'm1', filename: '路演.mp4' }],
          details: { caption: { title: '产品路演', description: 'Q3 roadshow' } },
        }),
      ),
    ).toBe('路演.mp4 产品路演 Q3 roadshow');
    expect(
      searchableText(
        message({
          type: 'announcement',
          text: '请全体员工周五前完成合规培训',
          details: { title: '合规培训通知' },
          media: [{ filename: '培训材料.pdf' }, { filename: 'slides.pptx' }],
        }),
      ),
    ).toBe('合规培训通知 请全体员工周五前完成合规培训 培训材料.pdf slides.pptx');
  });

  it('finds nothing in recalls, media outcomes, tombstones and withheld messages', () => {
    for (const kind of ['recall', 'media', 'tombstone'] as const)
      expect(searchableText({ ...message({ text: 'x' }), kind })).toBe('');
    // Withheld: no text, no content parts, no media; only who and when.
    expect(
      searchableText(
        message({
          details: { clientMsgId: 'c1', externalParticipants: ['wm_x'], consentStates: {} },
        }),
      ),
    ).toBe('');
  });

  it('reads a group’s notice and welcome message where they were set, not its name', () => {
    const group = {
      kind: 'conversation' as const,
      text: '',
      media: [],
      details: {
        name: '理财群',
        notice: { version: 2, text: '禁止承诺收益', publishedBy: 'alice' },
        welcomeMessage: '欢迎',
      },
    };
    expect(searchableText({ ...group, type: 'conversation.settings_changed' })).toBe(
      '禁止承诺收益 欢迎',
    );
    expect(searchableText({ ...group, type: 'conversation.members_added' })).toBe('');
  });
});

describe('appConversationId', () => {
  it('is one stable version-5 UUID per corp and app', () => {
    const id = appConversationId('ww0000000000000001', 1000002);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(appConversationId('ww0000000000000001', 1000002)).toBe(id);
    expect(appConversationId('ww0000000000000001', 1000003)).not.toBe(id);
    expect(appConversationId('ww0000000000000002', 1000002)).not.toBe(id);
  });
});
