import { Readable } from 'node:stream';
import { fromJsonString } from '@bufbuild/protobuf';
import { IDENTITY_MEMBER_TOPIC, MemberCreatedSchema, MemberUpdatedSchema } from '@qiwei/contracts';
import { eventually, unique } from '@qiwei/testing';
import ExcelJS from 'exceljs';
import { DataSource } from 'typeorm';
import type {
  MemberImportResponse,
  MemberImportRowResponse,
} from '../src/imports/dto/member-import.dto';
import { AccessTokensService } from '../src/tokens/access-tokens.service';
import { aDepartment } from './builders';
import { corpEventsOn } from './corp-events';
import { bootIdentity, type CreatedCorp, type IdentityTestApp } from './identity-test-app';

const HEADER = ['姓名', '帐号', '手机', '邮箱', '部门', '职务'];
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const LIMITS = {
  CORP_MEMBER_LIMIT: 20,
  IMPORT_MAX_ROWS: 40,
  IMPORT_MAX_FILE_BYTES: 16_384,
  DEPARTMENT_MAX_PER_CORP: 12,
};

type Job = MemberImportResponse;
type RowResult = MemberImportRowResponse;

const csvOf = (rows: string[][], header = HEADER) =>
  Buffer.from(
    `\uFEFF${[header, ...rows].map((r) => r.map((c) => `"${c.replace(/"/g, '""')}"`).join(',')).join('\r\n')}\r\n`,
  );

async function xlsxOf(rows: (string | number)[][], header = HEADER): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('成员');
  sheet.addRow(header);
  for (const row of rows) sheet.addRow(row);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

async function readXlsx(file: Buffer): Promise<string[][]> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.read(Readable.from([file]));
  const rows: string[][] = [];
  workbook.worksheets[0].eachRow((row) => {
    const values = (row.values as (string | number | undefined)[]).slice(1);
    rows.push(HEADER.map((_, i) => String(values[i] ?? '')));
  });
  return rows;
}

describe('identity: member import and export', () => {
  let identity: IdentityTestApp;
  let corp: CreatedCorp;
  let root: string;
  beforeAll(async () => {
    identity = await bootIdentity(
      Object.fromEntries(Object.entries(LIMITS).map(([k, v]) => [k, String(v)])),
    );
  });
  afterAll(() => identity.close());
  beforeEach(async () => {
    root = unique('总部');
    corp = await identity.createCorp(root);
  });

  const auth = (token = corp.token) => ({ authorization: `Bearer ${token}` });
  const upload = (file: Buffer, contentType: string, mode = 'add', token = corp.token) =>
    identity
      .http()
      .post(`/v1/member-imports?mode=${mode}`)
      .set(auth(token))
      .set('content-type', contentType)
      .send(file);
  const finished = (id: string) =>
    eventually(async () => {
      const job = (await identity.http().get(`/v1/member-imports/${id}`).set(auth()).expect(200))
        .body as Job;
      if (job.status !== 'succeeded' && job.status !== 'failed') {
        throw new Error(`job ${id} is ${job.status}`);
      }
      return job;
    });
  const importFile = async (file: Buffer, contentType: string, mode = 'add') => {
    const res = await upload(file, contentType, mode).expect(202);
    expect(res.headers.location).toBe(`/v1/member-imports/${res.body.id}`);
    return finished(res.body.id as string);
  };
  /** Every item of a cursor-paginated list, following nextCursor (`path` has a query). */
  const allPages = async <T>(path: string): Promise<T[]> => {
    const all: T[] = [];
    let cursor = '';
    for (;;) {
      const page = (await identity.http().get(`${path}${cursor}`).set(auth()).expect(200)).body as {
        items: T[];
        nextCursor: string | null;
      };
      all.push(...page.items);
      if (!page.nextCursor) return all;
      cursor = `&cursor=${page.nextCursor}`;
    }
  };
  const rowsOf = (id: string) => allPages<RowResult>(`/v1/member-imports/${id}/rejections?limit=5`);
  const member = (userid: string) => identity.http().get(`/v1/members/${userid}`).set(auth());
  const department = async (name: string, parentId = 1) =>
    (
      await identity
        .http()
        .post('/v1/departments')
        .set(auth())
        .send(aDepartment().named(name).under(parentId).build())
        .expect(201)
    ).body as { id: number };
  const jobsOfCorp = async () =>
    Number(
      (
        await identity.app
          .get(DataSource)
          .query<{ n: string }[]>('SELECT count(*) AS n FROM member_imports WHERE corp_id = $1', [
            corp.corpId,
          ])
      )[0].n,
    );
  /** A file download: status 200, the body as bytes. */
  const download = (path: string) =>
    identity
      .http()
      .get(path)
      .set(auth())
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);
  const auditOf = async (action: string) =>
    (await identity.http().get(`/v1/audit-logs?action=${action}&limit=100`).set(auth()).expect(200))
      .body.items as { targetId: string; actorId: string | null; after: Record<string, unknown> }[];

  it('serves the template as CSV (with a BOM) and as XLSX, headed 姓名 帐号 手机 邮箱 部门 职务', async () => {
    const csv = await download('/v1/member-imports/template?format=csv');
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect((csv.body as Buffer).toString('utf8')).toBe(`\uFEFF${HEADER.join(',')}\r\n`);

    const xlsx = await download('/v1/member-imports/template');
    expect(xlsx.headers['content-type']).toBe(XLSX);
    expect(xlsx.headers['content-disposition']).toMatch(/^attachment/);
    expect(await readXlsx(xlsx.body as Buffer)).toEqual([HEADER]);
    // The notes sheet shows this corp's root department in its path example.
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.read(Readable.from([xlsx.body as Buffer]));
    expect(JSON.stringify(workbook.worksheets[1].getSheetValues())).toContain(`${root}/销售部`);
  });

  it('imports a CSV in add mode: new members join existing departments, the first one the main', async () => {
    const sales = await department('销售部');
    const east = await department('华东区', sales.id);
    const job = await importFile(
      csvOf([
        [
          '张三',
          'zhangsan',
          '13800138000',
          'zhangsan@example.com',
          `${root}/销售部/华东区;${root}/销售部`,
          '销售经理',
        ],
        ['李四', 'lisi', '', '', '', ''],
      ]),
      'text/csv',
    );
    expect(job).toMatchObject({
      status: 'succeeded',
      mode: 'add',
      format: 'csv',
      totalRows: 2,
      processedRows: 2,
      created: 2,
      rejected: 0,
      departmentsCreated: 0,
    });
    expect((await member('zhangsan').expect(200)).body).toMatchObject({
      name: '张三',
      mobile: '13800138000',
      email: 'zhangsan@example.com',
      position: '销售经理',
      status: 'active',
      mainDepartmentId: east.id,
      departments: [
        { id: sales.id, order: 0, isLeader: false },
        { id: east.id, order: 0, isLeader: false },
      ],
    });
    // An empty 部门 puts a new member in the root department.
    expect((await member('lisi').expect(200)).body).toMatchObject({
      mobile: null,
      mainDepartmentId: 1,
      departments: [{ id: 1 }],
    });
  });

  it('lists every refused row with its row number, column and reason, and applies the others', async () => {
    await department('销售部');
    await identity
      .http()
      .post('/v1/members')
      .set(auth())
      .send({ userid: 'holder', name: '号主', mobile: '13900000000', departments: [{ id: 1 }] })
      .expect(201);
    const deep = [root, ...Array.from({ length: 15 }, (_, i) => `L${i}`)].join('/');
    const rows = [
      ['好人', 'good1', '13800000001', '', `${root}/销售部`, ''], // row 2: applied
      ['', 'noname', '', '', '', ''], // 3
      ['无帐号', '', '', '', '', ''], // 4
      ['坏帐号', 'bad userid!', '', '', '', ''], // 5
      ['坏手机', 'badmobile', '12345', '', '', ''], // 6
      ['坏邮箱', 'bademail', '', 'not-an-email', '', ''], // 7
      ['长职务', 'longposition', '', '', '', 'x'.repeat(129)], // 8
      ['重复', 'good1', '', '', '', ''], // 9: userid of row 2
      ['重号', 'dupmobile', '13800000001', '', '', ''], // 10: mobile of row 2
      ['占号', 'taken', '13900000000', '', '', ''], // 11: the mobile of holder
      ['无部门', 'nodept', '', '', `${root}/不存在`, ''], // 12
      ['错根', 'wrongroot', '', '', '别的公司/销售部', ''], // 13
      ['坏名', 'badname', '', '', `${root}/a*b`, ''], // 14
      ['太深', 'toodeep', '', '', deep, ''], // 15
      ['空层', 'emptylevel', '', '', `${root}//销售部`, ''], // 16
      ['好人二', 'good2', '', 'good2@example.com', '', '工程师'], // 17: applied
    ];
    const job = await importFile(csvOf(rows), 'text/csv');
    expect(job).toMatchObject({ status: 'succeeded', totalRows: 16, created: 2, rejected: 14 });
    const results = await rowsOf(job.id);
    expect(results.map((r) => [r.row, r.column, r.code])).toEqual([
      [3, '姓名', 'NAME_REQUIRED'],
      [4, '帐号', 'USERID_REQUIRED'],
      [5, '帐号', 'USERID_INVALID'],
      [6, '手机', 'MOBILE_INVALID'],
      [7, '邮箱', 'EMAIL_INVALID'],
      [8, '职务', 'POSITION_INVALID'],
      [9, '帐号', 'DUPLICATE_USERID_IN_FILE'],
      [10, '手机', 'DUPLICATE_MOBILE_IN_FILE'],
      [11, '手机', 'MEMBER_MOBILE_TAKEN'],
      [12, '部门', 'DEPARTMENT_NOT_FOUND'],
      [13, '部门', 'DEPARTMENT_PATH_INVALID'],
      [14, '部门', 'DEPARTMENT_NAME_INVALID'],
      [15, '部门', 'DEPARTMENT_TOO_DEEP'],
      [16, '部门', 'DEPARTMENT_PATH_INVALID'],
    ]);
    expect(results.every((r) => r.outcome === 'rejected' && r.message.length > 0)).toBe(true);
    expect(results.find((r) => r.row === 9)?.message).toContain('row 2');
    expect(results.find((r) => r.row === 12)?.message).toContain(`${root}/不存在`);
    await member('good1').expect(200);
    await member('good2').expect(200);
    // Refused rows left nothing behind: no member, no department.
    for (const userid of ['noname', 'badmobile', 'taken', 'nodept', 'badname', 'toodeep']) {
      await member(userid).expect(404);
    }
    const subtree = await identity.http().get('/v1/departments/1/subtree').set(auth()).expect(200);
    expect(subtree.body.items.map((d: { name: string }) => d.name).sort()).toEqual(
      [root, '销售部'].sort(),
    );
  });

  it('skips existing members in add mode and updates them in overwrite mode, creating missing departments', async () => {
    const sales = await department('销售部');
    await identity
      .http()
      .post('/v1/members')
      .set(auth())
      .send({
        userid: 'wangwu',
        name: '王五',
        mobile: '13700000000',
        email: 'wangwu@example.com',
        position: '销售',
        departments: [{ id: sales.id, order: 7, isLeader: true }, { id: 1 }],
        mainDepartmentId: sales.id,
      })
      .expect(201);
    const file = csvOf([
      ['王五(新)', 'wangwu', '13700000001', '', `${root}/销售部;${root}/研发部/后端组`, ''],
      ['赵六', 'zhaoliu', '', '', `${root}/研发部/前端组`, ''],
    ]);

    const added = await importFile(file, 'text/csv', 'add');
    expect(added).toMatchObject({ created: 0, skipped: 1, rejected: 1, updated: 0 });
    expect((await rowsOf(added.id)).map((r) => [r.row, r.outcome, r.code])).toEqual([
      [2, 'skipped', 'MEMBER_EXISTS'],
      [3, 'rejected', 'DEPARTMENT_NOT_FOUND'],
    ]);
    expect((await member('wangwu').expect(200)).body.name).toBe('王五');

    const overwritten = await importFile(file, 'text/csv', 'overwrite');
    expect(overwritten).toMatchObject({
      status: 'succeeded',
      created: 1,
      updated: 1,
      skipped: 0,
      rejected: 0,
      departmentsCreated: 3,
    });
    const tree = (await identity.http().get('/v1/departments/1/subtree').set(auth()).expect(200))
      .body.items as { id: number; name: string; parentId: number | null }[];
    const named = (name: string) =>
      tree.find((d) => d.name === name) as { id: number; parentId: number };
    expect(named('后端组').parentId).toBe(named('研发部').id);
    expect(named('前端组').parentId).toBe(named('研发部').id);
    // Empty cells keep what the member had; a kept membership keeps its order and leader flag.
    expect((await member('wangwu').expect(200)).body).toMatchObject({
      name: '王五(新)',
      mobile: '13700000001',
      email: 'wangwu@example.com',
      position: '销售',
      mainDepartmentId: sales.id,
      departments: [
        { id: sales.id, order: 7, isLeader: true },
        { id: named('后端组').id, order: 0, isLeader: false },
      ],
    });
    expect((await member('zhaoliu').expect(200)).body.mainDepartmentId).toBe(named('前端组').id);

    // The same file again changes nothing.
    const again = await importFile(file, 'text/csv', 'overwrite');
    expect(again).toMatchObject({ created: 0, updated: 0, unchanged: 2, departmentsCreated: 0 });
  });

  it('imports an XLSX (numbers as typed in Excel) and announces accepted rows with their full state', async () => {
    await importFile(
      await xlsxOf([['甲', 'jia', 13600000000, '', `${root}/市场部`, '市场']]),
      XLSX,
      'overwrite',
    );
    const job = await importFile(
      await xlsxOf([
        ['甲', 'jia', 13600000000, 'jia@example.com', `${root}/市场部`, '市场'],
        ['乙', 'yi', 13600000001, '', `${root}/市场部`, ''],
        ['丙', 'bing', 'bad', '', '', ''],
      ]),
      'application/octet-stream',
      'overwrite',
    );
    expect(job).toMatchObject({ format: 'xlsx', created: 1, updated: 1, rejected: 1 });
    expect((await member('jia').expect(200)).body.mobile).toBe('13600000000');

    const events = await corpEventsOn(identity.brokers, IDENTITY_MEMBER_TOPIC.name, corp.corpId, [
      'qiwei.identity.member.created.v1', // the corp's first super admin
      'qiwei.identity.member.created.v1',
      'qiwei.identity.member.updated.v1',
      'qiwei.identity.member.created.v1',
    ]);
    const created = fromJsonString(MemberCreatedSchema, events[3].value);
    expect(created.member).toMatchObject({
      corpId: corp.corpId,
      userid: 'yi',
      name: '乙',
      mobile: '13600000001',
      status: 'active',
    });
    expect(created.member?.departments).toHaveLength(1);
    const updated = fromJsonString(MemberUpdatedSchema, events[2].value);
    expect(updated.member).toMatchObject({ userid: 'jia', email: 'jia@example.com' });
  });

  it('audits the job, each member and each department it created, as the admin who uploaded', async () => {
    const job = await importFile(
      csvOf([['审计', 'audited', '', '', `${root}/审计部`, '']]),
      'text/csv',
      'overwrite',
    );
    const [createdEntry] = await auditOf('member_import.created');
    expect(createdEntry).toMatchObject({ targetId: job.id, actorId: corp.adminUserid });
    expect(createdEntry.after).toMatchObject({ mode: 'overwrite', format: 'csv', totalRows: 1 });
    const [finishedEntry] = await auditOf('member_import.finished');
    expect(finishedEntry).toMatchObject({ targetId: job.id, actorId: corp.adminUserid });
    expect(finishedEntry.after).toMatchObject({ status: 'succeeded', created: 1 });
    expect((await auditOf('member.created')).map((e) => [e.targetId, e.actorId])).toEqual([
      ['audited', corp.adminUserid],
    ]);
    expect((await auditOf('department.created')).length).toBe(1);
  });

  it('refuses rows past the corp’s member limit and departments past the department limit', async () => {
    const over = LIMITS.CORP_MEMBER_LIMIT; // the admin is one member already
    const job = await importFile(
      csvOf(Array.from({ length: over }, (_, i) => [`成员${i}`, `m${i}`, '', '', '', ''])),
      'text/csv',
    );
    expect(job).toMatchObject({ created: over - 1, rejected: 1 });
    expect(await rowsOf(job.id)).toEqual([
      expect.objectContaining({ row: over + 1, code: 'MEMBER_LIMIT_REACHED', column: '帐号' }),
    ]);
    await identity
      .http()
      .post('/v1/members')
      .set(auth())
      .send({ userid: 'onemore', name: '多一个', departments: [{ id: 1 }] })
      .expect(422)
      .expect((res) => expect(res.body.code).toBe('MEMBER_LIMIT_REACHED'));

    corp = await identity.createCorp((root = unique('总部')));
    const departments = Array.from({ length: LIMITS.DEPARTMENT_MAX_PER_CORP }, (_, i) => [
      `部员${i}`,
      `d${i}`,
      '',
      '',
      `${root}/部门${i}`,
      '',
    ]);
    const limited = await importFile(csvOf(departments), 'text/csv', 'overwrite');
    expect(limited).toMatchObject({
      created: LIMITS.DEPARTMENT_MAX_PER_CORP - 1,
      departmentsCreated: LIMITS.DEPARTMENT_MAX_PER_CORP - 1,
      rejected: 1,
    });
    expect((await rowsOf(limited.id)).map((r) => r.code)).toEqual(['DEPARTMENT_LIMIT_REACHED']);
  });

  it('refuses a file that is not a member sheet with a reason, and creates no job', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const refusals: [Buffer, string, number, string][] = [
      [png, 'text/csv', 422, 'IMPORT_FILE_NOT_SPREADSHEET'],
      [Buffer.from('PK\u0003\u0004 not really a zip'), XLSX, 422, 'IMPORT_FILE_NOT_SPREADSHEET'],
      [
        Buffer.from('d0cf11e0a1b11ae1', 'hex'),
        'application/vnd.ms-excel',
        422,
        'IMPORT_FILE_NOT_SPREADSHEET',
      ],
      [
        Buffer.concat([csvOf([]), Buffer.from([0x80, 0xff, 0x2c, 0x0a])]),
        'text/csv',
        422,
        'IMPORT_FILE_ENCODING_INVALID',
      ],
      [
        csvOf([['张三', 'zhangsan', '', '', '', '']], ['name', 'userid']),
        'text/csv',
        422,
        'IMPORT_HEADER_INVALID',
      ],
      [Buffer.from('张三,zhangsan,13800138000,,,\r\n'), 'text/csv', 422, 'IMPORT_HEADER_INVALID'],
      [csvOf([]), 'text/csv', 422, 'IMPORT_FILE_HAS_NO_ROWS'],
      [
        csvOf(
          Array.from({ length: LIMITS.IMPORT_MAX_ROWS + 1 }, (_, i) => [
            `人${i}`,
            `u${i}`,
            '',
            '',
            '',
            '',
          ]),
        ),
        'text/csv',
        422,
        'IMPORT_TOO_MANY_ROWS',
      ],
      [
        await xlsxOf(
          Array.from({ length: LIMITS.IMPORT_MAX_ROWS + 1 }, (_, i) => [`人${i}`, `u${i}`]),
        ),
        XLSX,
        422,
        'IMPORT_TOO_MANY_ROWS',
      ],
      [Buffer.alloc(LIMITS.IMPORT_MAX_FILE_BYTES + 1, 0x41), 'text/csv', 413, 'PAYLOAD_TOO_LARGE'],
      [Buffer.from('{"rows":[]}'), 'application/json', 415, 'IMPORT_FILE_TYPE_UNSUPPORTED'],
      [Buffer.from('GIF89a'), 'image/gif', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ];
    for (const [file, contentType, status, code] of refusals) {
      const res = await upload(file, contentType);
      expect([contentType, res.status, res.body.code]).toEqual([contentType, status, code]);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.detail.length).toBeGreaterThan(0);
    }
    expect(await jobsOfCorp()).toBe(0);
  });

  it('lets only a super admin of the corp import or export, and hides other corps’ jobs', async () => {
    const file = csvOf([['张三', 'zhangsan', '', '', '', '']]);
    await identity
      .http()
      .post('/v1/member-imports')
      .set('content-type', 'text/csv')
      .send(file)
      .expect(401);
    const memberToken = (
      await identity.app
        .get(AccessTokensService)
        .issue({ corpId: corp.corpId, userId: 'admin', roles: ['member'] })
    ).accessToken;
    expect((await upload(file, 'text/csv', 'add', memberToken).expect(403)).body.code).toBe(
      'ROLE_REQUIRED',
    );
    await identity.http().get('/v1/member-export').set(auth(memberToken)).expect(403);
    await identity.http().get('/v1/member-imports/template').set(auth(memberToken)).expect(403);
    expect(await jobsOfCorp()).toBe(0);

    const job = await importFile(file, 'text/csv');
    const other = await identity.createCorp();
    for (const path of [
      `/v1/member-imports/${job.id}`,
      `/v1/member-imports/${job.id}/rejections`,
    ]) {
      const res = await identity.http().get(path).set(auth(other.token)).expect(404);
      expect(res.body.code).toBe('MEMBER_IMPORT_NOT_FOUND');
    }
    await identity.http().get('/v1/member-imports/not-a-uuid').set(auth()).expect(404);
  });

  it('exports a subtree or the whole corp as XLSX that imports back unchanged', async () => {
    const zhangsan = [
      '张三',
      'zhangsan',
      '13800138000',
      'zs@example.com',
      `${root}/销售部/华东区;${root}/研发部`,
      '经理',
    ];
    const lisi = ['李四', 'lisi', '', '', `${root}/研发部`, '工程师'];
    const wangwu = ['王五', 'wangwu', '+85291234567', '', `${root}/销售部`, ''];
    const job = await importFile(csvOf([zhangsan, lisi, wangwu]), 'text/csv', 'overwrite');
    expect(job.created).toBe(3);
    const exportXlsx = async (query = '') => {
      const res = await download(`/v1/member-export${query}`);
      expect(res.headers['content-type']).toBe(XLSX);
      return res.body as Buffer;
    };

    const whole = await exportXlsx();
    // By userid; the main department first.
    expect(await readXlsx(whole)).toEqual([
      HEADER,
      ['管理员', 'admin', '', '', root, ''],
      lisi,
      wangwu,
      zhangsan,
    ]);
    const tree = (await identity.http().get('/v1/departments/1/subtree').set(auth()).expect(200))
      .body.items as { id: number; name: string }[];
    const sales = tree.find((d) => d.name === '销售部') as { id: number };
    expect(
      (await readXlsx(await exportXlsx(`?departmentId=${sales.id}`))).map((r) => r[1]),
    ).toEqual(['帐号', 'wangwu', 'zhangsan']);
    const exported = await auditOf('member.exported');
    expect(exported.map((e) => e.targetId)).toEqual([String(sales.id), '1']);

    const reimported = await importFile(whole, XLSX, 'overwrite');
    expect(reimported).toMatchObject({
      totalRows: 4,
      unchanged: 4,
      updated: 0,
      created: 0,
      rejected: 0,
    });
  });

  it('resumes a job whose worker died from its last committed chunk', async () => {
    const file = csvOf([
      ['已处理', 'done', '', '', '', ''],
      ['未处理一', 'todo1', '', '', '', ''],
      ['未处理二', 'todo2', '', '', '', ''],
    ]);
    // A job left running by a worker that stopped heartbeating after committing the first row.
    const id = '00000000-0000-4000-8000-000000000001';
    await identity.app.get(DataSource).query(
      `INSERT INTO member_imports (corp_id, id, mode, format, status, file, total_rows,
                                   processed_rows, attempts, claim_token, heartbeat_at, requested_by)
       VALUES ($1, $2, 'add', 'csv', 'running', $3, 3, 1, 1, gen_random_uuid(),
               now() - interval '10 minutes', 'admin')`,
      [corp.corpId, id, file],
    );
    const job = await finished(id);
    expect(job).toMatchObject({ status: 'succeeded', processedRows: 3, created: 2 });
    await member('todo1').expect(200);
    await member('todo2').expect(200);
    await member('done').expect(404); // its chunk counted as committed: not applied twice
  });

  it('lists a subtree of thousands of members page by page, each once, in userid order', async () => {
    const division = await department('事业部');
    const team = await department('团队', division.id);
    // 3,000 members: two in three in the subtree (more than a listing collects in one go), the
    // rest elsewhere; written directly, as the member limit of this suite is low.
    await identity.app.get(DataSource).query(
      `WITH m AS (
         INSERT INTO members (corp_id, userid, name)
         SELECT $1, 'p' || lpad(n::text, 4, '0'), 'P' || n FROM generate_series(1, 3000) n
         RETURNING userid)
       INSERT INTO member_departments (corp_id, userid, department_id, is_main)
       SELECT $1, userid,
              CASE substr(userid, 2)::int % 3 WHEN 0 THEN 1 WHEN 1 THEN $2::int ELSE $3::int END, true
         FROM m`,
      [corp.corpId, division.id, team.id],
    );
    const listAll = async (departmentId: number, query: string) =>
      (
        await allPages<{ userid: string }>(
          `/v1/departments/${departmentId}/members?limit=1000${query}`,
        )
      ).map((m) => m.userid);
    const expected = (remainders: number[]) =>
      Array.from({ length: 3000 }, (_, i) => i + 1)
        .filter((n) => remainders.includes(n % 3))
        .map((n) => `p${String(n).padStart(4, '0')}`);
    expect(await listAll(division.id, '&recursive=true')).toEqual(expected([1, 2]));
    expect(await listAll(team.id, '')).toEqual(expected([2]));
  });

  it('streams the export of a department it does not know as a 404, not a broken file', async () => {
    const res = await identity
      .http()
      .get('/v1/member-export?departmentId=999')
      .set(auth())
      .expect(404);
    expect(res.body.code).toBe('DEPARTMENT_NOT_FOUND');
  });
});
