import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fromJsonString } from '@bufbuild/protobuf';
import { IDENTITY_MEMBER_TOPIC, MemberCreatedSchema } from '@qiwei/contracts';
import { ObjectStorage, storageConfigSchema } from '@qiwei/storage';
import { eventually } from '@qiwei/testing';
import { WecomMediaStore } from '@qiwei/wecom';
import * as wecomCrypto from '@wecom/crypto';
import { DataSource } from 'typeorm';
import { corpEventsOn } from './corp-events';
import { bootIdentity, type CreatedCorp, type IdentityTestApp } from './identity-test-app';
import {
  corpWithSyncApp,
  directoryFootprint,
  wecomApp,
  wecomClient,
  type WecomBody,
  type WecomClient,
} from './wecom-client';

/** WeCom's user template, as its download has it (with columns Qiwei ignores). */
const USER_HEADER = [
  '姓名',
  '帐号',
  '手机号',
  '邮箱',
  '所在部门',
  '职位',
  '性别',
  '是否部门内领导',
  '排序',
  '别名',
  '地址',
  '座机',
  '禁用',
  '禁用项说明：(0-启用;1-禁用)',
];
const PARTY_HEADER = ['部门名称', '部门ID', '父部门ID', '排序'];
const AES_KEY = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';

const csv = (header: string[], rows: string[][]) =>
  `${[header, ...rows]
    .map((r) => r.map((c) => (/[",\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(','))
    .join('\r\n')}\r\n`;

/** A user row: the template's columns by name, the others empty. */
const userRow = (cells: Partial<Record<(typeof USER_HEADER)[number], string>>) =>
  USER_HEADER.map((h) => cells[h] ?? '');

/** GBK bytes, as Excel saves a CSV on Chinese Windows (the table built from the decoder). */
function gbk(text: string): Buffer {
  const table = new Map<string, number[]>();
  const decoder = new TextDecoder('gbk');
  for (let hi = 0x81; hi <= 0xfe; hi++)
    for (let lo = 0x40; lo <= 0xfe; lo++)
      if (lo !== 0x7f) table.set(decoder.decode(Uint8Array.of(hi, lo)), [hi, lo]);
  return Buffer.from(
    [...text].flatMap((c) => (c.charCodeAt(0) < 0x80 ? [c.charCodeAt(0)] : (table.get(c) ?? []))),
  );
}

describe('identity: WeCom batch API (batch/syncuser, replaceuser, replaceparty, getresult)', () => {
  let identity: IdentityTestApp;
  let media: WecomMediaStore;
  let corp: CreatedCorp;
  let sync: WecomClient;
  let syncToken: string;
  let agentid: number;
  let db: DataSource;

  beforeAll(async () => {
    identity = await bootIdentity({
      IMPORT_MAX_FILE_BYTES: String(64 * 1024 * 1024),
      BATCH_CALLBACK_MAX_ATTEMPTS: '2',
      BATCH_CALLBACK_RETRY_DELAY_MS: '0',
      BATCH_CALLBACK_TIMEOUT_MS: '2000',
    });
    media = new WecomMediaStore(new ObjectStorage(storageConfigSchema.parse(identity.s3.env)), {
      bucket: identity.config.WECOM_MEDIA_BUCKET,
    });
    await media.ensureBucket();
    db = identity.app.get(DataSource);
  });
  afterAll(() => identity.close());
  beforeEach(async () => {
    const created = await corpWithSyncApp(identity);
    corp = created.corp;
    sync = created.app.client;
    syncToken = created.app.token;
    agentid = created.app.agentid;
  });

  /** The CSV as messaging's media/upload stores it (type file), for this corp. */
  const upload = async (
    content: string | Buffer,
    options: { corpId?: string; type?: 'file' | 'image'; filename?: string } = {},
  ) =>
    (
      await media.put(options.corpId ?? corp.corpId, {
        type: options.type ?? 'file',
        filename: options.filename ?? (options.type === 'image' ? 'a.png' : 'batch.csv'),
        bytes: Buffer.isBuffer(content) ? content : Buffer.from(content),
        uploader: `app:${agentid}`,
      })
    ).mediaId;
  const result = (jobid: string, client = sync) =>
    eventually(
      async () => {
        const answer = await client.get('batch/getresult', { jobid });
        if (answer.status !== 3) throw new Error(`job ${jobid}: ${JSON.stringify(answer)}`);
        return answer as WecomBody & {
          status: number;
          type: string;
          total: number;
          percentage: number;
          result: {
            userid?: string;
            partyid?: number;
            action?: number;
            errcode: number;
            errmsg: string;
          }[];
        };
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
  const submit = async (path: string, body: object, client = sync) => {
    const answer = await client.post(`batch/${path}`, body);
    expect(answer).toEqual({
      errcode: 0,
      errmsg: 'ok',
      jobid: expect.stringMatching(/^[\w-]{1,64}$/),
    });
    return answer.jobid as string;
  };
  const run = async (path: string, content: string | Buffer, body: object = {}) =>
    result(await submit(path, { media_id: await upload(content), ...body }));
  const user = (userid: string) => sync.get('user/get', { userid });
  const department = async (name: string, parentid = 1, id?: number) =>
    (await sync.post('department/create', { name, parentid, ...(id ? { id } : {}) })).id as number;
  const createUser = (userid: string, department: number[] = [1], extra: object = {}) =>
    sync.post('user/create', { userid, name: userid, department, ...extra });

  it('syncuser adds new members and updates existing ones from WeCom’s template; others are untouched', async () => {
    const sales = await department('销售部', 1, 10);
    const east = await department('华东区', sales, 11);
    await createUser('existing', [sales], { email: 'old@example.com', position: '旧职位' });
    await createUser('bystander', [1], { position: '不动' });
    const job = await run(
      'syncuser',
      csv(USER_HEADER, [
        userRow({
          姓名: '张三',
          帐号: 'zhangsan',
          手机号: '13800138000',
          邮箱: 'zs@example.com',
          所在部门: `${east};${sales}`,
          职位: '经理',
          性别: '男',
          是否部门内领导: '1;0',
          排序: '10;20',
          别名: 'Sam',
          '禁用项说明：(0-启用;1-禁用)': '说明',
        }),
        // A path from the root's name: a missing level is created, as the member import does.
        userRow({ 姓名: '李四', 帐号: 'lisi', 所在部门: `${await rootName()}/研发部/后端组` }),
        // Empty cells keep an existing member's values in sync_user.
        userRow({ 姓名: '老员工', 帐号: 'existing', 职位: '新职位', 禁用: '1' }),
      ]),
      { to_invite: false },
    );
    expect(job).toEqual({
      errcode: 0,
      errmsg: 'ok',
      status: 3,
      type: 'sync_user',
      total: 3,
      percentage: 100,
      result: [
        { userid: 'zhangsan', errcode: 0, errmsg: 'ok' },
        { userid: 'lisi', errcode: 0, errmsg: 'ok' },
        { userid: 'existing', errcode: 0, errmsg: 'ok' },
      ],
    });
    expect(await user('zhangsan')).toMatchObject({
      name: '张三',
      mobile: '13800138000',
      email: 'zs@example.com',
      position: '经理',
      gender: '1',
      department: [sales, east],
      main_department: east,
      status: 1,
    });
    const zhangsan = await user('zhangsan');
    const byDept = (d: number) => (zhangsan.department as number[]).indexOf(d);
    expect((zhangsan.is_leader_in_dept as number[])[byDept(east)]).toBe(1);
    expect((zhangsan.order as number[])[byDept(sales)]).toBe(20);
    const lisi = await user('lisi');
    const backend = (await sync.get('department/list')).department as {
      id: number;
      name: string;
      parentid: number;
    }[];
    const rd = backend.find((d) => d.name === '研发部');
    const be = backend.find((d) => d.name === '后端组');
    expect(be?.parentid).toBe(rd?.id);
    expect(lisi).toMatchObject({ department: [be?.id], status: 1 });
    expect(await user('existing')).toMatchObject({
      name: '老员工',
      email: 'old@example.com',
      position: '新职位',
      department: [sales],
      status: 2,
    });
    expect(await user('bystander')).toMatchObject({ position: '不动', status: 1 });

    // Events carry the full state; the audit log names the app, as for every /cgi-bin change.
    const events = await corpEventsOn(identity.brokers, IDENTITY_MEMBER_TOPIC.name, corp.corpId, [
      'qiwei.identity.member.created.v1', // the corp's first super admin
      'qiwei.identity.member.created.v1', // existing (user/create)
      'qiwei.identity.member.created.v1', // bystander (user/create)
      'qiwei.identity.member.created.v1',
      'qiwei.identity.member.created.v1',
      'qiwei.identity.member.updated.v1',
      'qiwei.identity.member.disabled.v1',
    ]);
    const created = fromJsonString(MemberCreatedSchema, events[3].value).member;
    expect(created).toMatchObject({ userid: 'zhangsan', mainDepartmentId: east, gender: 'male' });
    const audit = await db.query(
      `SELECT action, actor_type, actor_id FROM audit_log WHERE corp_id = $1
          AND (action LIKE 'wecom_batch.%' OR action LIKE 'member.%' OR action = 'department.created')
          AND actor_type = 'app' ORDER BY id`,
      [corp.corpId],
    );
    expect(audit.map((a: { action: string }) => a.action).slice(-8)).toEqual([
      'wecom_batch.created',
      'department.created',
      'department.created',
      'member.created',
      'member.created',
      'member.updated',
      'member.disabled',
      'wecom_batch.finished',
    ]);
    expect(audit.every((a: { actor_id: string }) => a.actor_id === `app:${agentid}`)).toBe(true);
  });

  it('reads a GBK CSV as Excel saves it, and the 账号 / 职务 / 部门 spellings', async () => {
    const file = gbk(
      csv(['姓名', '账号', '手机', '部门', '职务'], [['王五', 'wangwu', '', '1', '工程师']]),
    );
    const job = await run('syncuser', file);
    expect(job.result).toEqual([{ userid: 'wangwu', errcode: 0, errmsg: 'ok' }]);
    expect(await user('wangwu')).toMatchObject({ name: '王五', position: '工程师' });
  });

  it('answers each refused row with WeCom’s errcode and changes nothing for it; the others apply', async () => {
    await createUser('holder', [1], { mobile: '13900000000' });
    const before = await directoryFootprint(identity, corp.corpId);
    const job = await run(
      'syncuser',
      csv(USER_HEADER, [
        userRow({ 姓名: '好', 帐号: 'good' }),
        userRow({ 姓名: '坏帐号', 帐号: 'bad userid!' }),
        userRow({ 姓名: '', 帐号: 'noname' }),
        userRow({ 姓名: '坏手机', 帐号: 'badmobile', 手机号: '12345' }),
        userRow({ 姓名: '坏邮箱', 帐号: 'bademail', 邮箱: 'not-an-email' }),
        userRow({ 姓名: '占用', 帐号: 'taken', 手机号: '13900000000' }),
        userRow({ 姓名: '无部门', 帐号: 'nodept', 所在部门: '999' }),
        userRow({ 姓名: '领导', 帐号: 'leader', 所在部门: '1', 是否部门内领导: '1;1' }),
        userRow({ 姓名: '性别', 帐号: 'gender', 性别: '未定' }),
        userRow({ 姓名: '重复', 帐号: 'good' }),
        userRow({ 姓名: '', 帐号: '', 职位: '无帐号' }),
      ]),
    );
    expect(job.result.map((r) => [r.userid, r.errcode])).toEqual([
      ['good', 0],
      ['bad userid!', 40003],
      ['noname', 60112],
      ['badmobile', 60103],
      ['bademail', 60105],
      ['taken', 60104],
      ['nodept', 60123],
      ['leader', 60132],
      ['gender', 40058],
      ['good', 302003],
      ['', 41009],
    ]);
    expect(job.result[6].errmsg).toBe(
      'invalid party id, hint: [DEPARTMENT_NOT_FOUND] Department 999 does not exist.',
    );
    const after = await directoryFootprint(identity, corp.corpId);
    expect(after.members).toBe(before.members + 1);
    expect((await user('taken')).errcode).toBe(60111);
  });

  it('replaceuser makes the file the truth: empty cells clear, unnamed members are deleted, admins are kept', async () => {
    const team = await department('团队');
    await createUser('keep', [team], { email: 'keep@example.com', position: '职位' });
    for (const userid of ['gone1', 'gone2']) await createUser(userid, [team]);
    const job = await run(
      'replaceuser',
      csv(
        ['姓名', '帐号', '邮箱', '所在部门', '职位'],
        [
          ['留下', 'keep', '', String(team), ''],
          ['新人', 'newbie', '', '', ''],
        ],
      ),
    );
    expect(job.type).toBe('replace_user');
    expect(job.total).toBe(2);
    expect(job.result).toEqual([
      { userid: 'keep', errcode: 0, errmsg: 'ok' },
      { userid: 'newbie', errcode: 0, errmsg: 'ok' },
      { userid: 'gone1', errcode: 0, errmsg: 'deleted' },
      { userid: 'gone2', errcode: 0, errmsg: 'deleted' },
      {
        userid: corp.adminUserid,
        errcode: 60011,
        errmsg: expect.stringContaining('a batch job never deletes admins'),
      },
    ]);
    expect(await user('keep')).toMatchObject({ name: '留下', email: '', position: '' });
    expect(await user('newbie')).toMatchObject({ department: [1] });
    expect((await user('gone1')).errcode).toBe(60111);
    expect(await user(corp.adminUserid)).toMatchObject({ errcode: 0 });
    await corpEventsOn(identity.brokers, IDENTITY_MEMBER_TOPIC.name, corp.corpId, [
      'qiwei.identity.member.created.v1', // the corp's first super admin
      'qiwei.identity.member.created.v1',
      'qiwei.identity.member.created.v1',
      'qiwei.identity.member.created.v1',
      'qiwei.identity.member.updated.v1',
      'qiwei.identity.member.created.v1',
      'qiwei.identity.member.deleted.v1',
      'qiwei.identity.member.deleted.v1',
    ]);
  });

  it('replaceuser stops before changing anything when it would delete most of the directory (45026)', async () => {
    for (let i = 1; i <= 5; i++) await createUser(`m${i}`);
    const before = await directoryFootprint(identity, corp.corpId);
    const job = await run('replaceuser', csv(['姓名', '帐号'], [['唯一', 'only']]));
    expect(job).toMatchObject({ errcode: 45026, status: 3, type: 'replace_user', percentage: 100 });
    expect(job.errmsg).toContain('BATCH_DELETE_PROTECTION');
    expect(job.result).toEqual([]);
    const after = await directoryFootprint(identity, corp.corpId);
    expect({ ...after, audit: 0 }).toEqual({ ...before, audit: 0 });
  });

  it('replaceparty makes the file the department tree: creates, renames, moves, reorders; deletes only empty ones', async () => {
    const old = await department('旧部门', 1, 30);
    const occupied = await department('有人', 1, 31);
    await department('空子部门', old, 32);
    await createUser('worker', [occupied]);
    const root = await rootName();
    const job = await run(
      'replaceparty',
      csv(PARTY_HEADER, [
        [root, '1', '0', ''],
        ['研发中心', '20', '1', '100'],
        ['后端', '21', '20', '5'],
        ['前端', '22', '20', ''],
        ['改名了', '30', '20', '7'],
        ['环', '40', '41', ''],
        ['环二', '41', '40', ''],
        ['重名', '22', '1', ''],
        ['孤儿', '50', '999', ''],
      ]),
    );
    expect(job.type).toBe('replace_party');
    expect(job.result).toEqual([
      { partyid: 1, action: 0, errcode: 0, errmsg: 'ok' },
      { partyid: 20, action: 1, errcode: 0, errmsg: 'ok' },
      { partyid: 21, action: 1, errcode: 0, errmsg: 'ok' },
      { partyid: 22, action: 1, errcode: 0, errmsg: 'ok' },
      { partyid: 30, action: 2 | 4 | 8, errcode: 0, errmsg: 'ok' },
      { partyid: 40, action: 0, errcode: 60010, errmsg: expect.any(String) },
      { partyid: 41, action: 0, errcode: 60010, errmsg: expect.any(String) },
      { partyid: 22, action: 0, errcode: 302006, errmsg: expect.any(String) },
      { partyid: 50, action: 0, errcode: 60124, errmsg: expect.any(String) },
      { partyid: 32, action: 16, errcode: 0, errmsg: 'deleted' },
      {
        partyid: occupied,
        action: 0,
        errcode: 60005,
        errmsg: expect.stringContaining('still has members'),
      },
    ]);
    const list = (await sync.get('department/list')).department as {
      id: number;
      name: string;
      parentid: number;
      order: number;
    }[];
    expect(list.map((d) => [d.id, d.name, d.parentid, d.order])).toEqual([
      [1, root, 0, 0],
      [20, '研发中心', 1, 100],
      [21, '后端', 20, 5],
      [22, '前端', 20, 0],
      [30, '改名了', 20, 7],
      [occupied, '有人', 1, 0],
    ]);
    // The next department/create continues after the file's ids.
    expect(await department('之后')).toBeGreaterThan(30);
    const events = await db.query(
      `SELECT action FROM audit_log WHERE corp_id = $1 AND action LIKE 'department.%' AND actor_type = 'app'
        ORDER BY id`,
      [corp.corpId],
    );
    expect(events.map((e: { action: string }) => e.action).slice(3, 9)).toEqual([
      'department.created',
      'department.created',
      'department.created',
      'department.moved',
      'department.deleted',
      'department.created',
    ]);
  });

  it('posts the batch_job_result event to the callback, encrypted and signed as WeCom does', async () => {
    const received: { url: string; body: string }[] = [];
    const server = await listen((req, body) => {
      received.push({ url: req.url ?? '', body });
      return 200;
    });
    try {
      const token = 'QDG6eK';
      const jobid = await submit('syncuser', {
        media_id: await upload(csv(['姓名', '帐号'], [['回调', 'callback']])),
        callback: { url: `${server.url}/wecom?x=1`, token, encodingaeskey: AES_KEY },
      });
      await eventually(() => expect(received).toHaveLength(1), { timeoutMs: 30_000 });
      const [{ url, body }] = received;
      const query = new URL(url, server.url).searchParams;
      const encrypt = /<Encrypt><!\[CDATA\[(.*)\]\]><\/Encrypt>/.exec(body)?.[1] as string;
      expect(body).toContain(`<ToUserName><![CDATA[${corp.corpId}]]></ToUserName>`);
      expect(query.get('x')).toBe('1');
      expect(query.get('msg_signature')).toBe(
        wecomCrypto.getSignature(
          token,
          query.get('timestamp') as string,
          query.get('nonce') as string,
          encrypt,
        ),
      );
      const { message, id } = wecomCrypto.decrypt(AES_KEY, encrypt);
      expect(id).toBe(corp.corpId);
      expect(message).toContain('<Event><![CDATA[batch_job_result]]></Event>');
      expect(message).toContain(
        `<BatchJob><JobId><![CDATA[${jobid}]]></JobId><JobType><![CDATA[sync_user]]></JobType><ErrCode>0</ErrCode><ErrMsg><![CDATA[ok]]></ErrMsg></BatchJob>`,
      );
      await eventually(async () =>
        expect(await callbackState(jobid)).toMatchObject({
          callback_state: 'delivered',
          callback_attempts: 1,
          callback_secret: null,
        }),
      );
    } finally {
      await server.close();
    }
  });

  it('records a callback that keeps failing on the job, after bounded attempts, without holding the job up', async () => {
    let calls = 0;
    const server = await listen(() => {
      calls++;
      return 503;
    });
    try {
      const jobid = await submit('syncuser', {
        media_id: await upload(csv(['姓名', '帐号'], [['失败', 'failing']])),
        callback: { url: server.url, token: 'tok', encodingaeskey: AES_KEY },
      });
      expect((await result(jobid)).result).toEqual([
        { userid: 'failing', errcode: 0, errmsg: 'ok' },
      ]);
      await eventually(
        async () =>
          expect(await callbackState(jobid)).toMatchObject({
            callback_state: 'failed',
            callback_attempts: 2,
            callback_error: 'HTTP 503 (after 2 attempts)',
            callback_secret: null,
          }),
        { timeoutMs: 30_000 },
      );
      expect(calls).toBe(2);
    } finally {
      await server.close();
    }
  });

  it('fails a job whose file is not the template, with WeCom’s 40092 and the reason', async () => {
    const cases: [string | Buffer, string][] = [
      [csv(['姓名', '手机号'], [['缺帐号', '13800000000']]), 'missing the required column(s) 帐号'],
      [csv(['姓名', '帐号', '姓名'], [['a', 'b', 'c']]), 'the column 姓名 appears twice'],
      [csv(['姓名', '帐号'], []), 'no rows'],
      [Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x00, 0x42, 0x00, 0x43]), 'binary'],
      [
        Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0x0a, 0x81]),
        'neither UTF-8 nor GB18030',
      ],
    ];
    for (const [file, reason] of cases) {
      const job = await run('syncuser', file);
      expect([reason, job.errcode, job.status, job.result]).toEqual([reason, 40092, 3, []]);
      expect(job.errmsg).toContain(reason);
    }
    const party = await run('replaceparty', csv(['部门名称', '部门ID'], [['a', '2']]));
    expect(party).toMatchObject({ errcode: 40092, type: 'replace_party' });
    expect(party.errmsg).toContain('父部门ID');
  });

  it('refuses bad calls with WeCom’s errcodes and creates no job', async () => {
    const jobs = async () =>
      Number(
        (
          await db.query('SELECT count(*) AS n FROM wecom_batch_jobs WHERE corp_id = $1', [
            corp.corpId,
          ])
        )[0].n,
      );
    const other = await corpWithSyncApp(identity);
    const otherMedia = await upload(csv(['姓名', '帐号'], [['a', 'a']]), {
      corpId: other.corp.corpId,
    });
    const good = await upload(csv(['姓名', '帐号'], [['a', 'a']]));
    const image = await upload(Buffer.from('\x89PNG\r\n\x1a\nxxxx'), { type: 'image' });
    const readOnly = await wecomApp(identity, corp, '只读', { departmentIds: [1] });
    const refusals: [string, object, number, WecomClient?][] = [
      ['syncuser', {}, 41006],
      ['syncuser', { media_id: 'no-such-media-id-0000000000' }, 40007],
      ['syncuser', { media_id: otherMedia }, 40007],
      ['syncuser', { media_id: image }, 40004],
      ['syncuser', { media_id: 42 }, 40007],
      ['syncuser', { media_id: good, to_invite: 'yes' }, 40058],
      ['syncuser', { media_id: good, unknown: 1 }, 40058],
      [
        'replaceuser',
        { media_id: good, callback: { url: 'ftp://x', token: 't', encodingaeskey: AES_KEY } },
        40057,
      ],
      [
        'replaceuser',
        {
          media_id: good,
          callback: { url: 'http://127.0.0.1/', token: 't', encodingaeskey: 'short' },
        },
        40058,
      ],
      ['replaceparty', { media_id: good, callback: 'http://x' }, 40058],
      ['syncuser', { media_id: good }, 60011, readOnly.client],
      ['syncuser', { media_id: good }, 40014, wecomClient(identity, corp.token)],
      ['syncuser', { media_id: good }, 40014, wecomClient(identity, 'forged.token.value')],
    ];
    for (const [path, body, errcode, client] of refusals) {
      const answer = await (client ?? sync).post(`batch/${path}`, body);
      expect([path, body, answer.errcode]).toEqual([path, body, errcode]);
      expect(answer.jobid).toBeUndefined();
    }
    const noToken = await identity
      .http()
      .post('/cgi-bin/batch/syncuser')
      .send({ media_id: good })
      .expect(200);
    expect(noToken.body.errcode).toBe(41001);
    const malformed = await identity
      .http()
      .post('/cgi-bin/batch/syncuser')
      .query({ access_token: syncToken })
      .set('content-type', 'application/json')
      .send('{"media_id":')
      .expect(200);
    expect(malformed.body.errcode).toBe(47001);
    expect(await jobs()).toBe(0);

    // getresult: unknown, another corp's, another app's job are all "jobid not found".
    expect((await sync.get('batch/getresult', { jobid: 'nope' })).errcode).toBe(40088);
    expect((await sync.get('batch/getresult')).errcode).toBe(40058);
    const mine = await submit('syncuser', { media_id: good });
    expect((await other.app.client.get('batch/getresult', { jobid: mine })).errcode).toBe(40088);
    expect((await readOnly.client.get('batch/getresult', { jobid: mine })).errcode).toBe(40088);
    expect((await result(mine)).errcode).toBe(0);
  });

  it('refuses a file larger than IMPORT_MAX_FILE_BYTES before creating a job (40006)', async () => {
    const small = await bootIdentity({ IMPORT_MAX_FILE_BYTES: '1024' });
    try {
      const store = new WecomMediaStore(
        new ObjectStorage(storageConfigSchema.parse(small.s3.env)),
        {
          bucket: small.config.WECOM_MEDIA_BUCKET,
        },
      );
      await store.ensureBucket();
      const { corp: c, app } = await corpWithSyncApp(small);
      const big = await store.put(c.corpId, {
        type: 'file',
        filename: 'big.csv',
        bytes: Buffer.from(
          csv(
            ['姓名', '帐号'],
            Array.from({ length: 200 }, (_, i) => [`n${i}`, `u${i}`]),
          ),
        ),
        uploader: 'test',
      });
      const answer = await app.client.post('batch/syncuser', { media_id: big.mediaId });
      expect(answer.errcode).toBe(40006);
      expect(answer.errmsg).toContain('BATCH_FILE_TOO_LARGE');
    } finally {
      await small.close();
    }
  });

  it('keeps a department-scoped app inside its scope: rows outside are 60011, replace deletes only inside', async () => {
    const inside = await department('范围内', 1, 60);
    const outside = await department('范围外', 1, 61);
    await createUser('in1', [inside]);
    await createUser('in2', [inside]);
    await createUser('out1', [outside]);
    const scoped = await wecomApp(identity, corp, '部门同步', { departmentIds: [inside] }, [
      'contacts:edit',
    ]);
    const jobid = await submit(
      'replaceuser',
      {
        media_id: await upload(
          csv(
            ['姓名', '帐号', '所在部门'],
            [
              ['内一', 'in1', String(inside)],
              ['外一', 'out1', String(inside)],
              ['新外', 'newout', String(outside)],
              ['新内', 'newin', String(inside)],
            ],
          ),
        ),
      },
      scoped.client,
    );
    const job = await result(jobid, scoped.client);
    expect(job.result.map((r) => [r.userid, r.errcode, r.errmsg === 'deleted'])).toEqual([
      ['in1', 0, false],
      ['out1', 60011, false],
      ['newout', 60123, false],
      ['newin', 0, false],
      ['in2', 0, true],
    ]);
    expect((await user('out1')).department).toEqual([outside]);
    expect((await user('in2')).errcode).toBe(60111);
  });

  it('resumes a job whose worker died from its last committed chunk, each row applied once', async () => {
    const file = csv(
      ['姓名', '帐号'],
      [
        ['已处理', 'done'],
        ['未处理一', 'todo1'],
        ['未处理二', 'todo2'],
      ],
    );
    const stored = await media.put(corp.corpId, {
      type: 'file',
      filename: 'resume.csv',
      bytes: Buffer.from(file),
      uploader: 'test',
    });
    await db.query(
      `INSERT INTO wecom_batch_jobs (corp_id, jobid, type, status, agentid, media_id, media_sha256,
                                     media_bytes, to_invite, total, processed, attempts, claim_token,
                                     heartbeat_at)
       VALUES ($1, 'resumed-job', 'sync_user', 'running', $2, $3, $4, $5, true, 3, 1, 1,
               gen_random_uuid(), now() - interval '10 minutes')`,
      [corp.corpId, agentid, stored.mediaId, stored.sha256, stored.size],
    );
    await db.query(
      `INSERT INTO wecom_batch_results (corp_id, jobid, n, userid, errcode, errmsg)
       VALUES ($1, 'resumed-job', 2, 'done', 0, 'ok')`,
      [corp.corpId],
    );
    const job = await result('resumed-job');
    expect(job.result.map((r) => r.userid)).toEqual(['done', 'todo1', 'todo2']);
    expect((await user('todo1')).errcode).toBe(0);
    expect((await user('done')).errcode).toBe(60111); // counted as committed: not applied twice
    const [row] = await db.query(
      `SELECT attempts, status FROM wecom_batch_jobs WHERE corp_id = $1 AND jobid = 'resumed-job'`,
      [corp.corpId],
    );
    expect(row).toEqual({ attempts: 2, status: 'finished' });
  });

  it('runs each job once with two instances on one database, and a job of 50,000 rows', async () => {
    // A second replica: the same database and object storage.
    const second = await bootIdentity(identity.s3.env, {
      name: 'shared',
      url: identity.databaseUrl,
      drop: async () => undefined,
    });
    try {
      const rows = Array.from({ length: 50_000 }, (_, i) => [
        `成员${i}`,
        `u${String(i).padStart(5, '0')}`,
        '1',
      ]);
      const big = await submit('syncuser', {
        media_id: await upload(csv(['姓名', '帐号', '所在部门'], rows)),
      });
      const small = await Promise.all(
        [1, 2, 3].map(async (n) =>
          submit('syncuser', {
            media_id: await upload(csv(['姓名', '帐号'], [[`小${n}`, `small${n}`]])),
          }),
        ),
      );
      const job = await eventually(() => result(big), { timeoutMs: 240_000 });
      expect(job).toMatchObject({ errcode: 0, total: 50_000, percentage: 100 });
      expect(job.result).toHaveLength(50_000);
      expect(job.result.every((r) => r.errcode === 0)).toBe(true);
      for (const jobid of small) expect((await result(jobid)).result[0].errcode).toBe(0);
      const attempts = await db.query(
        `SELECT jobid, attempts FROM wecom_batch_jobs WHERE corp_id = $1 ORDER BY jobid`,
        [corp.corpId],
      );
      expect(attempts.every((j: { attempts: number }) => j.attempts === 1)).toBe(true);
      const [{ n }] = await db.query(
        `SELECT count(*)::int AS n FROM members WHERE corp_id = $1 AND userid LIKE 'u%'`,
        [corp.corpId],
      );
      expect(n).toBe(50_000);
    } finally {
      await second.close();
    }
  }, 300_000);

  it('documents /cgi-bin/batch in the OpenAPI document under the wecom tag', async () => {
    const doc = (await identity.http().get('/docs-json').expect(200)).body;
    for (const path of ['syncuser', 'replaceuser', 'replaceparty'])
      expect(doc.paths[`/cgi-bin/batch/${path}`].post.tags).toEqual(['wecom']);
    expect(doc.paths['/cgi-bin/batch/getresult'].get.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'jobid', required: true })]),
    );
    expect(doc.components.schemas.WecomBatchResultResponse.properties.status.enum).toEqual([
      1, 2, 3,
    ]);
  });

  async function rootName(): Promise<string> {
    return ((await sync.get('department/get', { id: 1 })).department as { name: string }).name;
  }

  function callbackState(jobid: string) {
    return db
      .query(
        `SELECT callback_state, callback_attempts, callback_error, callback_secret
           FROM wecom_batch_jobs WHERE corp_id = $1 AND jobid = $2`,
        [corp.corpId, jobid],
      )
      .then((rows: Record<string, unknown>[]) => rows[0]);
  }
});

/** A callback receiver on loopback answering each POST with the status `answer` returns. */
async function listen(
  answer: (req: IncomingMessage, body: string) => number,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => res.writeHead(answer(req, body)).end('success'));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((done) => server.close(() => done())),
  };
}
