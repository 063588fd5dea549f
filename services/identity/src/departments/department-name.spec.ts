import { assertValidDepartmentName } from './department-name';

describe('department names', () => {
  it.each(['销售部', 'R&D', 'a'.repeat(64), '部'.repeat(64), 'Sales (East) - 华东'])(
    'accepts %s',
    (name) => {
      expect(() => assertValidDepartmentName(name)).not.toThrow();
    },
  );

  it.each([
    '',
    ' ',
    'a'.repeat(65),
    '部'.repeat(65),
    'a\\b',
    'a:b',
    'a*b',
    'a?b',
    'a"b',
    'a<b',
    'a>b',
    'a|b',
    'a\nb',
  ])('refuses %j', (name) => {
    expect(() => assertValidDepartmentName(name)).toThrow(
      expect.objectContaining({ code: 'DEPARTMENT_NAME_INVALID' }),
    );
  });

  it('counts characters, not UTF-16 units', () => {
    expect(() => assertValidDepartmentName('😀'.repeat(64))).not.toThrow();
  });
});
