import { keywordQuery, termsOf } from './tokenizer';

describe('text-search tokenizer', () => {
  it('indexes Chinese as bigrams, so words are found inside unspaced text', () => {
    const terms = termsOf('这款理财产品收益很高');
    expect(terms).toEqual(expect.arrayContaining(['理财', '财产', '产品', '收益', '高']));
    expect(keywordQuery('理财')).toBe("'理财'");
    expect(keywordQuery('理财产品')).toBe("('理财' & '财产' & '产品')");
  });

  it('lowercases Latin words, splits mixed runs and keeps digit runs', () => {
    const terms = termsOf('Call 13800138000 about iPhone15 order ORD-2024-0001，ＡＢＣ');
    expect(terms).toEqual(
      expect.arrayContaining([
        'call',
        '13800138000',
        'iphone15',
        'iphone',
        '15',
        'ord',
        '2024',
        '0001',
        'abc',
      ]),
    );
    expect(keywordQuery('IPHONE15')).toBe("'iphone15'");
  });

  it('splits Chinese from Latin letters and digits written against it', () => {
    expect(termsOf('我用iPhone下单了')).toEqual(['我用', '用', 'iphone', '下单', '单了', '了']);
    const file = termsOf('2024年Q3季度财报.pdf');
    expect(file).toEqual(
      expect.arrayContaining(['2024', '年', 'q3', 'q', '3', '季度', '度财', '财报', 'pdf']),
    );
    expect(file).not.toContain('2024年q3季度财报');
    expect(keywordQuery('iPhone下单')).toBe("('iphone' & '下单')");
    expect(keywordQuery('Q3财报')).toBe("('q3' & '财报')");
  });

  it('turns a single Chinese character into a prefix query and ignores punctuation', () => {
    expect(keywordQuery('钱')).toBe("'钱':*");
    expect(termsOf('要钱')).toEqual(['要钱', '钱']);
    expect(keywordQuery('，。!')).toBeNull();
  });
});
