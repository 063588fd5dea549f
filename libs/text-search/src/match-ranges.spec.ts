import { matchRanges } from './match-ranges';

describe('matchRanges', () => {
  it('finds every occurrence, case-insensitively, longest keyword first', () => {
    const text = '理财产品 and 理财 with IPhone15, iphone15';
    expect(matchRanges(text, ['理财', '理财产品', 'iphone15'])).toEqual([
      { start: 0, end: 4 },
      { start: 9, end: 11 },
      { start: 17, end: 25 },
      { start: 27, end: 35 },
    ]);
  });

  it('treats keywords literally and ignores blank ones', () => {
    expect(matchRanges('a+b (c) a+b', ['a+b', '  ', '(c)'])).toEqual([
      { start: 0, end: 3 },
      { start: 4, end: 7 },
      { start: 8, end: 11 },
    ]);
    expect(matchRanges('nothing here', [' '])).toEqual([]);
    expect(matchRanges('', ['x'])).toEqual([]);
  });

  it('stops at the maximum', () => {
    expect(matchRanges('哈'.repeat(50), ['哈'], 3)).toHaveLength(3);
  });
});
