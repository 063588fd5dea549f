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

  it('finds what a brute-force search finds: the leftmost start, then the longest match', () => {
    // Seeded, so a failure reproduces. Over ASCII, V8's whole-string match decides the language
    // exactly (case folding and classes agree there), whatever its own match priorities.
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
    const atoms = ['a', 'b', 'A', '1', '.', '[ab]', '[^a]', '\\s', '\\w', '\\d', ' '];
    const quantifiers = ['', '', '', '?', '*', '+', '{1,2}', '{2}'];
    const piece = (depth: number): string =>
      depth > 0 && random() < 0.3
        ? `(?:${expression(depth - 1)})${pick(quantifiers)}`
        : `${pick(atoms)}${pick(quantifiers)}`;
    const sequence = (depth: number) =>
      Array.from({ length: 1 + Math.floor(random() * 3) }, () => piece(depth)).join('');
    const expression = (depth: number): string =>
      random() < 0.25 ? `${sequence(depth)}|${sequence(depth)}` : sequence(depth);
    const bruteForce = (pattern: string, text: string, ci: boolean) => {
      const whole = new RegExp(`^(?:${pattern})$`, ci ? 'i' : '');
      for (let i = 0; i <= text.length; i++)
        for (let j = text.length; j >= i; j--)
          if (whole.test(text.slice(i, j))) return { index: i, text: text.slice(i, j) };
      return null;
    };
    for (let k = 0; k < 1_500; k++) {
      const pattern = expression(2);
      const text = Array.from({ length: Math.floor(random() * 14) }, () =>
        pick(['a', 'b', 'A', 'B', '1', ' ', '\n', 'x']),
      ).join('');
      const ci = random() < 0.5;
      expect({ pattern, text, ci, found: BoundedRegex.compile(pattern, ci).exec(text) }).toEqual({
        pattern,
        text,
        ci,
        found: bruteForce(pattern, text, ci),
      });
    }
  });

  it('skips ahead to where a match can start, also in long texts and after assertions', () => {
    const text = `${'无关内容'.repeat(2_000)}保证年化收益${'x'.repeat(100)}`;
    expect(match('保证.{0,6}收益|稳赚不赔', text)).toBe('保证年化收益');
    expect(BoundedRegex.compile('保证.{0,6}收益').exec(text)?.index).toBe(8_000);
    expect(match('\\bpay', 'repay pay')).toBe('pay');
    expect(match('^pay', 'repay')).toBeNull();
    expect(match('x*', 'abc')).toBe('');
    expect(match('a?$', 'bbb')).toBe('');
    expect(match('\u212a', 'k')).toBe('k'); // the Kelvin sign folds to k
    expect(match('Ǆ', 'ǆ')).toBe('ǆ');
  });
});
