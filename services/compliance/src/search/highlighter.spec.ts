import { highlight } from './highlighter';

describe('highlight', () => {
  it('wraps every hit, case-insensitively, and escapes the rest', () => {
    expect(highlight('这款理财产品 <b>收益</b> 很高, call ALICE', ['理财', 'alice'])).toBe(
      '这款<em>理财</em>产品 &#60;b&#62;收益&#60;/b&#62; 很高, call <em>ALICE</em>',
    );
  });

  it('cuts long texts around the first hit and says so', () => {
    const text = `${'前'.repeat(100)}理财${'后'.repeat(100)}`;
    const snippet = highlight(text, ['理财']) ?? '';
    expect(snippet.startsWith('…')).toBe(true);
    expect(snippet.endsWith('…')).toBe(true);
    expect(snippet).toContain('<em>理财</em>');
  });

  it('answers null when nothing occurs literally', () => {
    expect(highlight('hello', ['理财'])).toBeNull();
    expect(highlight('hello', [])).toBeNull();
  });
});
