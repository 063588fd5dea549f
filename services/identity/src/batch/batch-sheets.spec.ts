import {
  batchSheet,
  PARTY_COLUMNS,
  preparePartyRows,
  prepareUserRows,
  USER_COLUMNS,
  type UserRowInput,
} from './batch-sheets';
import { BatchFileInvalidException } from './batch.exceptions';

const records = (rows: string[][]) => rows.map((cells, i) => ({ row: i + 1, cells }));

describe('WeCom batch templates', () => {
  it('finds columns by any of their headers, ignores the others, and requires 姓名 and 帐号', () => {
    const sheet = batchSheet(
      records([
        ['\uFEFF账号', '别名', '姓名', '职务', '禁用项说明：(0-启用;1-禁用)'],
        ['zs', 'Sam', '张三', '经理', 'x'],
      ]),
      USER_COLUMNS,
    );
    expect(sheet.rows).toEqual([
      { row: 2, cells: { userid: 'zs', name: '张三', position: '经理' } },
    ]);
    expect(sheet.ignored).toEqual(['别名', '禁用项说明：(0-启用;1-禁用)']);
    expect(() => batchSheet(records([['姓名'], ['a']]), USER_COLUMNS)).toThrow(
      'missing the required column(s) 帐号',
    );
    expect(() =>
      batchSheet(
        records([
          ['姓名', '帐号', '账号'],
          ['a', 'b', 'c'],
        ]),
        USER_COLUMNS,
      ),
    ).toThrow(BatchFileInvalidException);
    expect(() => batchSheet(records([['部门名称', '部门ID', '父部门ID']]), PARTY_COLUMNS)).toThrow(
      'no rows',
    );
  });

  it('keeps empty cells in sync_user and clears them in replace_user; absent columns are kept in both', () => {
    const sheet = batchSheet(
      records([
        ['姓名', '帐号', '邮箱', '所在部门', '是否部门内领导', '排序', '性别', '禁用'],
        ['张三', 'zs', '', '', '', '', '', ''],
      ]),
      USER_COLUMNS,
    );
    const [sync] = prepareUserRows(sheet, 'sync', 15) as UserRowInput[];
    expect(sync).toMatchObject({
      email: undefined,
      departments: undefined,
      leader: undefined,
      gender: undefined,
      disabled: undefined,
      mobile: undefined,
    });
    const [replace] = prepareUserRows(sheet, 'replace', 15) as UserRowInput[];
    expect(replace).toMatchObject({
      email: null,
      departments: null,
      leader: null,
      order: null,
      gender: null,
      disabled: null,
      mobile: undefined,
    });
  });

  it('reads departments as ids or paths with one leader flag and order per department', () => {
    const sheet = batchSheet(
      records([
        ['姓名', '帐号', '所在部门', '是否部门内领导', '排序', '性别', '禁用'],
        ['张三', 'zs', '2；总部/销售部;2', '1;否;0', '10;;3', '女', '1'],
      ]),
      USER_COLUMNS,
    );
    expect(prepareUserRows(sheet, 'sync', 15)).toEqual([
      expect.objectContaining({
        departments: [{ id: 2 }, { path: ['总部', '销售部'] }, { id: 2 }],
        leader: [true, false, false],
        order: [10, 0, 3],
        gender: 'female',
        disabled: true,
      }),
    ]);
  });

  it('answers a bad row with its first problem as WeCom’s errcode, and repeated userids after the first', () => {
    const sheet = batchSheet(
      records([
        ['姓名', '帐号', '手机号', '所在部门', '排序'],
        ['甲', 'a', '', '1', '1;2'],
        ['乙', 'b', '', 'x/', ''],
        ['丙', 'c', '', Array.from({ length: 101 }, (_, i) => String(i + 1)).join(';'), ''],
        ['丁', 'd', '', '2147483648', ''],
        ['戊', 'e', '', '1', ''],
        ['戊二', 'e', '', '1', ''],
      ]),
      USER_COLUMNS,
    );
    const rows = prepareUserRows(sheet, 'sync', 15) as { outcome?: { errcode: number } }[];
    expect(rows.map((r) => r.outcome?.errcode ?? 0)).toEqual([
      40058, 60123, 60110, 60123, 0, 302003,
    ]);
  });

  it('reads the department template: the root has parent 0, 排序 0 or empty keeps the order', () => {
    const sheet = batchSheet(
      records([
        ['部门名称', '部门ID', '父部门ID', '排序'],
        ['总部', '1', '0', ''],
        ['研发', '2', '1', '0'],
        ['销售', '3', '1', '8'],
        ['坏', '1', '2', ''],
        ['孤', '4', '0', ''],
        ['自己', '5', '5', ''],
        ['重复', '3', '1', ''],
        ['a:b', '6', '1', ''],
        ['', '7', '1', ''],
        ['x', 'y', '1', ''],
      ]),
      PARTY_COLUMNS,
    );
    const rows = preparePartyRows(sheet);
    expect(rows.slice(0, 3)).toEqual([
      { row: 2, id: 1, parentId: 0, name: '总部', order: null },
      { row: 3, id: 2, parentId: 1, name: '研发', order: null },
      { row: 4, id: 3, parentId: 1, name: '销售', order: 8 },
    ]);
    expect(rows.slice(3).map((r) => ('outcome' in r ? [r.partyid, r.outcome.errcode] : r))).toEqual(
      [
        [1, 60007],
        [4, 60124],
        [5, 60010],
        [3, 302006],
        [6, 60009],
        [7, 60001],
        [null, 60123],
      ],
    );
  });
});
