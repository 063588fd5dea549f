import { canonicalJson, GENESIS_HASH, linkHash } from './hash-chain';

describe('hash chain', () => {
  it('serialises a record the same way whatever the order of its fields', () => {
    const a = canonicalJson({ b: 1, a: ['x', { d: null, c: '理财' }] });
    const b = canonicalJson({ a: ['x', { c: '理财', d: null }], b: 1 });
    expect(a).toBe(b);
    expect(a).toBe('{"a":["x",{"c":"理财","d":null}],"b":1}');
  });

  it('changes every following link when one record changes', () => {
    const first = linkHash(GENESIS_HASH, canonicalJson({ text: '你好' }));
    const second = linkHash(first, canonicalJson({ text: 'hello' }));
    const forgedFirst = linkHash(GENESIS_HASH, canonicalJson({ text: '您好' }));
    expect(forgedFirst.equals(first)).toBe(false);
    expect(linkHash(forgedFirst, canonicalJson({ text: 'hello' })).equals(second)).toBe(false);
    expect(linkHash(first, canonicalJson({ text: 'hello' })).equals(second)).toBe(true);
  });
});
