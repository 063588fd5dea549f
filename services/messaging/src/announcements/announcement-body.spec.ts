import { renderBody, unsafeParts } from './announcement-body';

describe('announcement bodies (Markdown without anything a client could run)', () => {
  it('accepts Markdown with http, https and mailto links and images', () => {
    const body = [
      '# 春节放假通知',
      '',
      '各位同事：**2月9日至17日**放假，详见[安排](https://intranet.example.com/holiday?y=2026)。',
      '',
      '- 值班表 ![排班](http://files.example.com/duty.png)',
      '- 疑问请联系 [行政部](mailto:admin@example.com)',
      '',
      '`<b>代码里的尖括号</b>` 与 3 < 5 > 2 都只是文字。',
      '',
      '    <script>缩进代码块也只是文字</script>',
    ].join('\n');
    expect(unsafeParts(body)).toEqual([]);
  });

  it('refuses raw HTML, inline or as a block, and names it', () => {
    const errors = unsafeParts('你好 <img src=x onerror=alert(1)>\n\n<script>alert(1)</script>\n');
    expect(errors.map((e) => e.code)).toEqual(['BODY_HTML_NOT_ALLOWED', 'BODY_HTML_NOT_ALLOWED']);
    expect(errors[0].message).toContain('<img');
    expect(unsafeParts('<!-- 注释 -->').map((e) => e.code)).toEqual(['BODY_HTML_NOT_ALLOWED']);
  });

  it('refuses links and images with schemes that could run or smuggle content', () => {
    for (const body of [
      '[点我](javascript:alert(1))',
      '[点我](JaVaScRiPt:alert(1))',
      '<javascript:alert(1)>',
      '![x](data:image/svg+xml;base64,PHN2Zz4=)',
      '[x](vbscript:msgbox)',
      '[相对](/etc/passwd)',
      '[引用][r]\n\n[r]: javascript:alert(1)',
    ])
      expect(unsafeParts(body).map((e) => e.code)).toEqual(['BODY_URL_NOT_ALLOWED']);
  });

  it('renders to HTML with raw HTML escaped, never passed through', () => {
    expect(renderBody('**重要** [链接](https://example.com)')).toBe(
      '<p><strong>重要</strong> <a href="https://example.com">链接</a></p>\n',
    );
    expect(renderBody('<script>alert(1)</script>')).not.toContain('<script>');
  });
});
