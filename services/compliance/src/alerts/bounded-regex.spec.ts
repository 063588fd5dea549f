import { BoundedRegex, RegexRejected } from './bounded-regex';

const match = (pattern: string, text: string, ci = true) =>
  BoundedRegex.compile(pattern, ci).exec(text)?.text ?? null;

describe('BoundedRegex', () => {
  it('matches like a regular expression, leftmost-longest', () => {
    expect(match('保本|保息', '本产品保证保本保息')).toBe('保本');
    expect(match('1[3-9]\\d{9}', '电话 13800138000 联系')).toBe('13800138000');
    expect(match('(?:私下|线下)交易', '我们线下交易吧')).toBe('线下交易');
    expect(match('guaranteed\\s+returns?', 'GUARANTEED  Returns now')).toBe('GUARANTEED  Returns');
    expect(match('guaranteed', 'GUARANTEED', false)).toBeNull();
    expect(match('a+', 'baaab')).toBe('aaa');
    expect(match('^abc$', 'abc')).toBe('abc');
    expect(match('^abc$', 'xabc')).toBeNull();
    expect(match('\\bpay\\b', 'repayment pay')).toBe('pay');
    expect(match('[^0-9]{2}', '12ab')).toBe('ab');
    expect(match('x{2,3}', 'xxxxx')).toBe('xxx');
    expect(match('colou?r', 'color')).toBe('color');
    expect(match('\\u7406\\u8d22', '理财')).toBe('理财');
  });

  it('runs patterns that hang a backtracking engine (linear time, so the test finishes)', () => {
    const text = `${'a'.repeat(4_000)}!`;
    expect(match('(a+)+$', text)).toBeNull();
    expect(match('(a|aa)*b', text)).toBeNull();
    expect(match('(\\d*)*\\d*\\d*x', '1'.repeat(4_000))).toBeNull();
  });

  it('refuses what it cannot run in linear time or does not know, saying why', () => {
    const refused: [string, RegExp][] = [
      ['(a)\\1', /back-references/],
      ['(?=a)b', /look-around/],
      ['(?<name>a)', /look-around and named groups/],
      ['a{1000}', /at most 100/],
      ['x'.repeat(201), /at most 200 characters/],
      ['(a{100}){100}', /states/],
      ['*a', /nothing to repeat/],
      ['(ab', /not closed/],
      ['[z-a]', /backwards/],
      ['\\p{L}', /not supported/],
      ['', /empty/],
    ];
    for (const [pattern, reason] of refused) {
      expect(() => BoundedRegex.compile(pattern)).toThrow(RegexRejected);
      expect(() => BoundedRegex.compile(pattern)).toThrow(reason);
    }
  });
});
