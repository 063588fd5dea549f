import { createHash, randomBytes } from 'node:crypto';
import { MESSAGING_ANNOUNCEMENT_TOPIC } from '@qiwei/contracts';
import { bearer, eventually } from '@qiwei/testing';
import { DataSource } from 'typeorm';
import { AnnouncementScheduler } from '../src/announcements/announcement-scheduler';
import { bootMessaging, type MessagingTestApp, type TestCorp } from './messaging-test-app';
import { listen, StreamClient } from './stream-client';
import { TopicRecorder } from './topic-recorder';

const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();

/**
 * Announcements (公告): who may publish to whom, recipients resolved and stored when published,
 * reading and statistics, scheduling (once, across instances and restarts), expiry, pinning,
 * withdrawal, reminders of the unread, attachments, events and WebSocket frames, bad input.
 */
describe('messaging: announcements', () => {
  let messaging: MessagingTestApp;
  let corp: TestCorp;
  let other: TestCorp;
  let db: DataSource;
  let recorder: TopicRecorder;
  let baseUrl: string;
  const streams: StreamClient[] = [];
  let sales: number;
  let east: number;
  let finance: number;
  let tag: number;
  const t: Record<string, string> = {};

  beforeAll(async () => {
    messaging = await bootMessaging({
      // Only the boot-time pass runs by itself: the tests drive the scheduler's passes.
      ANNOUNCEMENT_SCHEDULER_INTERVAL_MS: '3600000',
      ANNOUNCEMENT_BODY_MAX_BYTES: '2048',
      ANNOUNCEMENT_REMINDERS_MAX: '2',
      ANNOUNCEMENT_IMPORTANT_AUTO_REMINDERS: '2',
    });
    db = messaging.app.get(DataSource);
    corp = await messaging.createCorp();
    other = await messaging.createCorp();
    t.admin = corp.adminToken;
    const department = async (name: string, parentId: number) => {
      const created = await corp.identity('POST', '/v1/departments', { name, parentId });
      return (created.body as { id: number }).id;
    };
    sales = await department('销售部', 1);
    east = await department('华东区', sales);
    finance = await department('财务部', 1);
    t.alice = await corp.member('alice');
    t.bob = await corp.member('bob', sales);
    t.carol = await corp.member('carol', east);
    t.dave = await corp.member('dave', finance);
    await corp.member('erin', sales);
    await corp.member('frank', finance);
    t.otherAdmin = other.adminToken;
    const created = await corp.identity('POST', '/v1/tags', { name: '项目组' });
    tag = (created.body as { id: number }).id;
    await corp.identity('POST', `/v1/tags/${tag}/members`, {
      userids: ['dave'],
      departmentIds: [east],
    });
    // erin may announce in sales; frank administers finance but may not announce.
    const roles = await corp.identity('PUT', '/v1/members/erin/roles', {
      roles: ['department_admin'],
      scopes: [{ departmentId: sales, permissions: ['announcements:publish'] }],
    });
    expect(roles.status).toBe(200);
    await corp.identity('PUT', '/v1/members/frank/roles', {
      roles: ['department_admin'],
      scopes: [{ departmentId: finance, permissions: ['contacts:edit'] }],
    });
    t.erin = await signIn('erin');
    t.frank = await signIn('frank');
    await eventually(
      async () => {
        const [row] = await db.query<{ d: number; t: number; s: number }[]>(
          `SELECT (SELECT count(*)::int FROM directory_departments WHERE corp_id = $1) AS d,
                  (SELECT count(*)::int FROM directory_tags WHERE corp_id = $1 AND 'dave' = ANY(userids)) AS t,
                  (SELECT count(*)::int FROM directory_admin_scopes WHERE corp_id = $1) AS s`,
          [corp.corpId],
        );
        expect(row).toEqual({ d: 4, t: 1, s: 2 });
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    recorder = await TopicRecorder.start(messaging.brokers, MESSAGING_ANNOUNCEMENT_TOPIC);
    baseUrl = await listen(messaging);
  }, 180_000);
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await recorder?.stop();
    await messaging?.close();
  });

  async function signIn(userid: string): Promise<string> {
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const set = await corp.identity('PUT', `/v1/members/${userid}/password`, { password });
    expect(set.status).toBe(204);
    const session = await corp.identity('POST', '/v1/auth/sign-in', {
      corpId: corp.corpId,
      userid,
      password,
    });
    expect(session.status).toBe(200);
    return (session.body as { accessToken: string }).accessToken;
  }

  const as = (token: string) => bearer(messaging, token);
  let n = 0;
  const announce = (token: string, targets: object, extra: object = {}) =>
    as(token).post('/v1/announcements', {
      title: `通知 ${++n}`,
      body: `第 ${n} 号通知：**请知悉**。`,
      targets,
      ...extra,
    });
  const recipientsOf = async (id: string) =>
    (
      await db.query<{ userid: string }[]>(
        `SELECT userid FROM announcement_recipients WHERE corp_id = $1 AND announcement_id = $2 ORDER BY userid`,
        [corp.corpId, id],
      )
    ).map((r) => r.userid);
  const received = async (token: string, query = '') =>
    (await as(token).get(`/v1/announcements${query}`).expect(200)).body.items.map(
      (i: { id: string }) => i.id,
    );
  const upload = async (token: string, bytes: Buffer, filename: string, complete = true) => {
    const asked = await as(token)
      .post('/v1/media/uploads', {
        kind: 'file',
        filename,
        contentType: 'application/pdf',
        size: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      })
      .expect(201);
    if (complete) {
      expect((await fetch(asked.body.upload.url, { method: 'PUT', body: bytes })).status).toBe(200);
      await as(token).post(`/v1/media/uploads/${asked.body.mediaId}/complete`).expect(200);
    }
    return asked.body.mediaId as string;
  };

  it('a super admin publishes to a department subtree, a tag and a member: recipients are resolved, stored and evented', async () => {
    const created = await announce(t.admin, {
      departmentIds: [sales],
      tagIds: [tag],
      userids: ['alice'],
    }).expect(201);
    expect(created.body).toMatchObject({
      status: 'published',
      format: 'markdown',
      priority: 'normal',
      publisher: 'admin',
      recipientCount: 5,
      readCount: 0,
      targets: { all: false, departmentIds: [sales], tagIds: [tag], userids: ['alice'] },
    });
    expect(created.body.html).toContain('<strong>请知悉</strong>');
    const id = created.body.id as string;
    // sales subtree (bob, erin; carol in east), the tag (dave, and east again), alice by name.
    expect(await recipientsOf(id)).toEqual(['alice', 'bob', 'carol', 'dave', 'erin']);
    expect(await received(t.carol)).toContain(id);
    expect(await received(t.dave)).toContain(id);
    expect(await received(t.frank)).not.toContain(id);

    const seen = await recorder.waitFor(
      (e) => e.key === id && e.type === 'qiwei.messaging.announcement.published.v1',
    );
    expect(seen[0].data).toMatchObject({
      announcement: { corpId: corp.corpId, id, publisher: 'admin', format: 'markdown' },
      recipients: ['alice', 'bob', 'carol', 'dave', 'erin'],
    });

    // Everyone: every active member messaging knows of in the corp.
    const everyone = await announce(t.admin, { all: true }).expect(201);
    const active = await db.query<{ userid: string }[]>(
      `SELECT userid FROM directory_members WHERE corp_id = $1 AND status = 'active' ORDER BY userid`,
      [corp.corpId],
    );
    expect(active.map((m) => m.userid)).toEqual(
      expect.arrayContaining(['alice', 'bob', 'carol', 'dave', 'erin', 'frank']),
    );
    expect(await recipientsOf(everyone.body.id)).toEqual(active.map((m) => m.userid));
  });

  it('members read what is addressed to them; the publisher sees read counts, time to read and the unread list, paginated', async () => {
    const id = (await announce(t.admin, { departmentIds: [sales] }).expect(201)).body.id as string;
    const view = await as(t.carol).get(`/v1/announcements/${id}`).expect(200);
    expect(view.body).toMatchObject({ id, readAt: null, status: 'published' });
    expect(view.body.targets).toBeUndefined(); // recipients do not see whom else it reached
    await as(t.dave).get(`/v1/announcements/${id}`).expect(404);
    await as(t.dave).post(`/v1/announcements/${id}/read`).expect(404);

    await as(t.carol).post(`/v1/announcements/${id}/read`).expect(204);
    await as(t.carol).post(`/v1/announcements/${id}/read`).expect(204); // the first read counts
    const read = await as(t.carol).get(`/v1/announcements/${id}`).expect(200);
    expect(read.body.readAt).not.toBeNull();

    const stats = await as(t.admin).get(`/v1/announcements/${id}/stats`).expect(200);
    expect(stats.body).toMatchObject({ recipients: 3, read: 1, unread: 2, readRate: 0.3333 });
    expect(stats.body.secondsToRead.median).toBeGreaterThanOrEqual(0);
    await as(t.carol).get(`/v1/announcements/${id}/stats`).expect(403); // a recipient, not a manager
    await as(t.dave).get(`/v1/announcements/${id}/stats`).expect(404);

    const first = await as(t.admin)
      .get(`/v1/announcements/${id}/recipients?state=unread&limit=1`)
      .expect(200);
    expect(first.body.items).toEqual([
      { userid: 'bob', name: 'bob', status: 'active', readAt: null, secondsToRead: null },
    ]);
    const second = await as(t.admin)
      .get(
        `/v1/announcements/${id}/recipients?state=unread&limit=1&cursor=${first.body.nextCursor}`,
      )
      .expect(200);
    expect(second.body.items.map((r: { userid: string }) => r.userid)).toEqual(['erin']);
    expect(second.body.nextCursor).toBeNull();
    const readers = await as(t.admin).get(`/v1/announcements/${id}/recipients?state=read`);
    expect(readers.body.items).toHaveLength(1);
    expect(readers.body.items[0].userid).toBe('carol');
    expect(readers.body.items[0].secondsToRead).toBeGreaterThanOrEqual(0);

    const events = await recorder.waitFor(
      (e) => e.key === id && e.type === 'qiwei.messaging.announcement.read.v1',
    );
    expect(events).toHaveLength(1);
    expect(events[0].data).toMatchObject({ id, userid: 'carol' });
  });

  it('a department admin with announcements:publish announces inside their scope only; others may not announce', async () => {
    const east1 = await announce(t.erin, { departmentIds: [east] }).expect(201);
    expect(await recipientsOf(east1.body.id)).toEqual(['carol']);
    // A tag may name anyone; only its members inside erin's scope are reached.
    const tagged = await announce(t.erin, { tagIds: [tag] }).expect(201);
    expect(await recipientsOf(tagged.body.id)).toEqual(['carol']);
    for (const targets of [{ departmentIds: [finance] }, { userids: ['dave'] }, { all: true }]) {
      const refused = await announce(t.erin, targets);
      expect([refused.status, refused.body.code]).toEqual([403, 'OUTSIDE_ADMIN_SCOPE']);
    }
    const frank = await announce(t.frank, { departmentIds: [finance] });
    expect([frank.status, frank.body.code]).toEqual([403, 'PERMISSION_REQUIRED']);
    const bob = await announce(t.bob, { departmentIds: [sales] });
    expect([bob.status, bob.body.code]).toEqual([403, 'ROLE_REQUIRED']);
    const app = await corp.app({ departmentIds: [1], userids: [], tagIds: [] });
    const byApp = await announce(app.token, { departmentIds: [sales] });
    expect([byApp.status, byApp.body.code]).toEqual([403, 'ROLE_REQUIRED']);

    // erin manages her own; the super admin manages every one.
    const mine = await as(t.erin).get('/v1/announcements/managed').expect(200);
    expect(mine.body.items.map((i: { publisher: string }) => i.publisher)).toEqual([
      'erin',
      'erin',
    ]);
    const all = await as(t.admin).get('/v1/announcements/managed?limit=2').expect(200);
    expect(all.body.items.map((i: { id: string }) => i.id)).toEqual([
      tagged.body.id,
      east1.body.id,
    ]);
    const next = await as(t.admin)
      .get(`/v1/announcements/managed?limit=2&cursor=${all.body.nextCursor}`)
      .expect(200);
    expect(next.body.items[0].publisher).toBe('admin');
    const admins = (await announce(t.admin, { departmentIds: [sales] }).expect(201)).body.id;
    const erinOnAdmins = await as(t.erin).post(`/v1/announcements/${admins}/withdraw`);
    expect([erinOnAdmins.status, erinOnAdmins.body.code]).toEqual([
      403,
      'ANNOUNCEMENT_MANAGE_FORBIDDEN',
    ]);
    await as(t.erin).post(`/v1/announcements/${east1.body.id}/withdraw`).expect(200);
    await as(t.bob).get('/v1/announcements/managed').expect(403);
    // Taking the role away takes the scope away (from identity's member event).
    const demoted = await corp.identity('PUT', '/v1/members/erin/roles', { roles: [] });
    expect(demoted.status).toBe(200);
    await eventually(async () => {
      const rows = await db.query(
        `SELECT 1 FROM directory_admin_scopes WHERE corp_id = $1 AND userid = 'erin'`,
        [corp.corpId],
      );
      expect(rows).toEqual([]);
    });
  });

  it('publishes a scheduled announcement once when due — by whichever instance claims it, after a restart too — resolving recipients then', async () => {
    const scheduled: string[] = [];
    for (let i = 0; i < 6; i++)
      scheduled.push(
        (
          await announce(t.admin, { departmentIds: [east] }, { publishAt: inSeconds(1.5) }).expect(
            201,
          )
        ).body.id,
      );
    const first = await as(t.admin).get(`/v1/announcements/${scheduled[0]}`).expect(200);
    expect(first.body).toMatchObject({ status: 'scheduled', publishedAt: null, recipientCount: 0 });
    expect(await received(t.carol)).not.toContain(scheduled[0]);
    // Someone joins east before the time comes: departments are expanded when published.
    t.gina = await corp.member('gina', east);
    await eventually(
      async () => {
        const [row] = await db.query<{ due: number }[]>(
          `SELECT count(*)::int AS due FROM announcements
            WHERE corp_id = $1 AND id = ANY($2::uuid[]) AND status = 'scheduled' AND publish_at <= now()`,
          [corp.corpId, scheduled],
        );
        expect(row.due).toBe(6);
      },
      { timeoutMs: 10_000 },
    );
    // A freshly started instance (its boot-time pass) and this one's pass race for them.
    // (bootMessaging closes the instance it started.)
    await Promise.all([messaging.app.get(AnnouncementScheduler).pass(), messaging.startInstance()]);
    await eventually(async () => {
      const rows = await db.query<{ status: string }[]>(
        'SELECT status FROM announcements WHERE corp_id = $1 AND id = ANY($2::uuid[])',
        [corp.corpId, scheduled],
      );
      expect(rows.map((r) => r.status)).toEqual(Array(6).fill('published'));
    });
    const published = await db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM event_outbox
        WHERE topic = $1 AND partition_key = ANY($2::text[]) AND headers LIKE '%announcement.published%'`,
      [MESSAGING_ANNOUNCEMENT_TOPIC.name, scheduled],
    );
    expect(published[0].n).toBe(6);
    // No instance tripped over another (a second publish would have failed and been recorded).
    const attempts = await db.query<{ failures: number }[]>(
      `SELECT count(*)::int AS failures FROM announcements
        WHERE corp_id = $1 AND id = ANY($2::uuid[]) AND (publish_attempts > 0 OR last_error IS NOT NULL)`,
      [corp.corpId, scheduled],
    );
    expect(attempts[0].failures).toBe(0);
    for (const id of scheduled) expect(await recipientsOf(id)).toEqual(['carol', 'gina']);
    expect(await received(t.gina)).toEqual(expect.arrayContaining(scheduled));
    // Someone who joins after publishing is not a recipient.
    await corp.member('hank', east);
    expect(await recipientsOf(scheduled[0])).toEqual(['carol', 'gina']);
  });

  it('records a failed scheduled publishing, tries it again after a backoff, and publishes the others meanwhile', async () => {
    const broken = (
      await announce(t.admin, { departmentIds: [east] }, { publishAt: inSeconds(1) }).expect(201)
    ).body.id as string;
    const fine = (
      await announce(t.admin, { departmentIds: [east] }, { publishAt: inSeconds(1) }).expect(201)
    ).body.id as string;
    // An attachment snapshot no event can be built from: publishing it fails.
    await db.query(
      `UPDATE announcements SET attachments = '[{"mediaId": "lost"}]'::jsonb WHERE corp_id = $1 AND id = $2`,
      [corp.corpId, broken],
    );
    await eventually(async () => {
      const [row] = await db.query<{ due: number }[]>(
        `SELECT count(*)::int AS due FROM announcements
          WHERE corp_id = $1 AND id = ANY($2::uuid[]) AND publish_at <= now()`,
        [corp.corpId, [broken, fine]],
      );
      expect(row.due).toBe(2);
    });
    await messaging.app.get(AnnouncementScheduler).pass();
    const failed = await as(t.admin).get(`/v1/announcements/${broken}`).expect(200);
    expect(failed.body).toMatchObject({ status: 'scheduled', recipientCount: 0 });
    expect(failed.body.lastError).toMatch(/\S/);
    expect((await as(t.admin).get(`/v1/announcements/${fine}`).expect(200)).body.status).toBe(
      'published',
    );
    const [retry] = await db.query<{ attempts: number; backoff: number }[]>(
      `SELECT publish_attempts AS attempts,
              round(extract(epoch FROM retry_at - now()))::int AS backoff
         FROM announcements WHERE corp_id = $1 AND id = $2`,
      [corp.corpId, broken],
    );
    expect(retry.attempts).toBe(1);
    expect(retry.backoff).toBeLessThanOrEqual(5);
    // Once fixed and its retry time has come, it goes out.
    await db.query(
      `UPDATE announcements SET attachments = '[]'::jsonb, retry_at = now() WHERE corp_id = $1 AND id = $2`,
      [corp.corpId, broken],
    );
    await messaging.app.get(AnnouncementScheduler).pass();
    const published = await as(t.admin).get(`/v1/announcements/${broken}`).expect(200);
    expect(published.body).toMatchObject({ status: 'published', lastError: null });
  });

  it('archives (never deletes) an announcement when its expiry passes; members find it among the archived', async () => {
    const id = (
      await announce(t.admin, { departmentIds: [sales] }, { expiresAt: inSeconds(1) }).expect(201)
    ).body.id as string;
    expect(await received(t.bob)).toContain(id);
    await eventually(async () => {
      const [row] = await db.query<{ past: boolean }[]>(
        'SELECT expires_at <= now() AS past FROM announcements WHERE corp_id = $1 AND id = $2',
        [corp.corpId, id],
      );
      expect(row.past).toBe(true);
    });
    await messaging.app.get(AnnouncementScheduler).pass();
    const view = await as(t.bob).get(`/v1/announcements/${id}`).expect(200);
    expect(view.body.status).toBe('archived');
    expect(view.body.archivedAt).not.toBeNull();
    expect(await received(t.bob)).not.toContain(id);
    expect(await received(t.bob, '?archived=true')).toContain(id);
    expect(await recipientsOf(id)).toEqual(['bob', 'carol', 'erin', 'gina', 'hank']);
    await recorder.waitFor(
      (e) => e.key === id && e.type === 'qiwei.messaging.announcement.expired.v1',
    );
    const refused = await as(t.admin).patch(`/v1/announcements/${id}`, { pinned: true });
    expect([refused.status, refused.body.code]).toEqual([409, 'ANNOUNCEMENT_CLOSED']);
  });

  it('lists pinned ones first; a published one changes only pinned and expiry; a scheduled one changes in anything', async () => {
    const older = (await announce(t.admin, { departmentIds: [finance] }).expect(201)).body.id;
    const newer = (await announce(t.admin, { departmentIds: [finance] }).expect(201)).body.id;
    expect((await received(t.dave)).slice(0, 2)).toEqual([newer, older]);
    const pinned = await as(t.admin)
      .patch(`/v1/announcements/${older}`, { pinned: true, expiresAt: inSeconds(3600) })
      .expect(200);
    expect(pinned.body).toMatchObject({ pinned: true, status: 'published' });
    expect((await received(t.dave)).slice(0, 2)).toEqual([older, newer]);
    const page = await as(t.dave).get('/v1/announcements?limit=1').expect(200);
    const rest = await as(t.dave)
      .get(`/v1/announcements?limit=50&cursor=${page.body.nextCursor}`)
      .expect(200);
    expect(page.body.items[0].id).toBe(older);
    expect(rest.body.items[0].id).toBe(newer);
    await recorder.waitFor(
      (e) => e.key === older && e.type === 'qiwei.messaging.announcement.updated.v1',
    );
    const frozen = await as(t.admin).patch(`/v1/announcements/${older}`, { title: '改标题' });
    expect([frozen.status, frozen.body.code]).toEqual([409, 'ANNOUNCEMENT_PUBLISHED_IMMUTABLE']);
    const past = await as(t.admin).patch(`/v1/announcements/${older}`, {
      expiresAt: inSeconds(-60),
    });
    expect([past.status, past.body.code]).toEqual([422, 'ANNOUNCEMENT_SCHEDULE_INVALID']);

    const scheduled = (
      await announce(t.admin, { departmentIds: [finance] }, { publishAt: inSeconds(3600) }).expect(
        201,
      )
    ).body.id;
    const changed = await as(t.admin)
      .patch(`/v1/announcements/${scheduled}`, {
        title: '改期通知',
        body: '新的正文',
        priority: 'important',
        targets: { userids: ['bob'] },
        publishAt: inSeconds(7200),
      })
      .expect(200);
    expect(changed.body).toMatchObject({
      title: '改期通知',
      body: '新的正文',
      priority: 'important',
      status: 'scheduled',
      targets: { all: false, departmentIds: [], tagIds: [], userids: ['bob'] },
    });
    await as(t.admin).patch(`/v1/announcements/${scheduled}`, {}).expect(400);
  });

  it('withdraws: a published one disappears for its recipients (statistics stay); a scheduled one is never published', async () => {
    const id = (await announce(t.admin, { departmentIds: [sales] }).expect(201)).body.id;
    await as(t.bob).post(`/v1/announcements/${id}/read`).expect(204);
    const withdrawn = await as(t.admin).post(`/v1/announcements/${id}/withdraw`).expect(200);
    expect(withdrawn.body).toMatchObject({ status: 'withdrawn', withdrawnBy: 'admin' });
    await as(t.bob).get(`/v1/announcements/${id}`).expect(404);
    expect(await received(t.bob)).not.toContain(id);
    const stats = await as(t.admin).get(`/v1/announcements/${id}/stats`).expect(200);
    expect(stats.body).toMatchObject({ status: 'withdrawn', read: 1 });
    const again = await as(t.admin).post(`/v1/announcements/${id}/withdraw`);
    expect([again.status, again.body.code]).toEqual([409, 'ANNOUNCEMENT_ALREADY_WITHDRAWN']);
    await recorder.waitFor(
      (e) => e.key === id && e.type === 'qiwei.messaging.announcement.withdrawn.v1',
    );

    const scheduled = (
      await announce(t.admin, { departmentIds: [sales] }, { publishAt: inSeconds(1) }).expect(201)
    ).body.id;
    await as(t.admin).post(`/v1/announcements/${scheduled}/withdraw`).expect(200);
    await eventually(async () => {
      const [row] = await db.query<{ due: boolean }[]>(
        'SELECT publish_at <= now() AS due FROM announcements WHERE corp_id = $1 AND id = $2',
        [corp.corpId, scheduled],
      );
      expect(row.due).toBe(true);
    });
    await messaging.app.get(AnnouncementScheduler).pass();
    const view = await as(t.admin).get(`/v1/announcements/${scheduled}`).expect(200);
    expect(view.body).toMatchObject({ status: 'withdrawn', publishedAt: null, recipientCount: 0 });
    expect(await recipientsOf(scheduled)).toEqual([]);
  });

  it('pushes announcement frames: important ones with a strong reminder, reminders to the unread only, withdrawals', async () => {
    const bob = await StreamClient.open(baseUrl, t.bob);
    const carol = await StreamClient.open(baseUrl, t.carol);
    const admin = await StreamClient.open(baseUrl, t.admin);
    streams.push(bob, carol, admin);
    const id = (
      await announce(t.admin, { departmentIds: [sales] }, { priority: 'important', pinned: true })
        .set('idempotency-key', 'remind-flow')
        .expect(201)
    ).body.id as string;
    for (const stream of [bob, carol]) {
      const frame = await stream.next(
        (f) => f.type === 'announcement' && f.event === 'published' && f.id === id,
      );
      expect(frame).toMatchObject({
        strongReminder: true,
        announcement: { id, priority: 'important', pinned: true, publisher: 'admin' },
      });
    }
    await as(t.bob).post(`/v1/announcements/${id}/read`).expect(204);
    expect(
      await admin.next((f) => f.type === 'announcement' && f.event === 'read' && f.id === id),
    ).toMatchObject({ userid: 'bob' });

    const reminded = await as(t.admin)
      .post(`/v1/announcements/${id}/remind`)
      .set('idempotency-key', 'remind-1')
      .expect(201);
    expect(reminded.body).toMatchObject({ reminded: 4, remindersLeft: 1 }); // all but bob
    const replay = await as(t.admin)
      .post(`/v1/announcements/${id}/remind`)
      .set('idempotency-key', 'remind-1')
      .expect(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.id).toBe(reminded.body.id);
    const frame = await carol.next(
      (f) => f.type === 'announcement' && f.event === 'reminded' && f.id === id,
    );
    expect(frame).toMatchObject({ strongReminder: true, priority: 'important' });
    const events = await recorder.waitFor(
      (e) => e.key === id && e.type === 'qiwei.messaging.announcement.reminded.v1',
    );
    expect(events[0].data).toMatchObject({
      userids: ['carol', 'erin', 'gina', 'hank'],
      remindedBy: 'admin',
      priority: 'important',
    });
    const tooSoon = await as(t.admin).post(`/v1/announcements/${id}/remind`);
    expect([tooSoon.status, tooSoon.body.code]).toEqual([429, 'ANNOUNCEMENT_REMIND_LIMITED']);
    await db.query(
      `UPDATE announcement_reminders SET reminded_at = reminded_at - interval '2 hours'
        WHERE corp_id = $1 AND announcement_id = $2`,
      [corp.corpId, id],
    );
    await as(t.admin).post(`/v1/announcements/${id}/remind`).expect(201);
    await db.query(
      `UPDATE announcement_reminders SET reminded_at = reminded_at - interval '2 hours'
        WHERE corp_id = $1 AND announcement_id = $2`,
      [corp.corpId, id],
    );
    const limit = await as(t.admin).post(`/v1/announcements/${id}/remind`);
    expect([limit.status, limit.body.code]).toEqual([429, 'ANNOUNCEMENT_REMIND_LIMITED']);
    const [{ n }] = await db.query<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM announcement_reminders WHERE corp_id = $1 AND announcement_id = $2',
      [corp.corpId, id],
    );
    expect(n).toBe(2);
    expect(
      bob.frames.some((f) => f.type === 'announcement' && f.event === 'reminded' && f.id === id),
    ).toBe(false);

    const everyoneRead = (await announce(t.admin, { userids: ['bob'] }).expect(201)).body.id;
    await as(t.bob).post(`/v1/announcements/${everyoneRead}/read`).expect(204);
    const nothing = await as(t.admin).post(`/v1/announcements/${everyoneRead}/remind`);
    expect([nothing.status, nothing.body.code]).toEqual([422, 'NOTHING_TO_REMIND']);

    await as(t.admin).post(`/v1/announcements/${id}/withdraw`).expect(200);
    await carol.next((f) => f.type === 'announcement' && f.event === 'withdrawn' && f.id === id);
  });

  it('re-notifies the unread of an important announcement by itself, a configured number of times, until everyone has read it', async () => {
    const carol = await StreamClient.open(baseUrl, t.carol);
    const bob = await StreamClient.open(baseUrl, t.bob);
    streams.push(carol, bob);
    const scheduler = messaging.app.get(AnnouncementScheduler);
    const dueNow = (id: string) =>
      db.query(
        `UPDATE announcements SET next_auto_remind_at = now() - interval '1 second'
          WHERE corp_id = $1 AND id = $2 AND next_auto_remind_at IS NOT NULL`,
        [corp.corpId, id],
      );
    const automaticReminders = (id: string) =>
      recorder.events.filter(
        (e) =>
          e.key === id &&
          e.type === 'qiwei.messaging.announcement.reminded.v1' &&
          e.data.automatic === true,
      );
    const created = await announce(
      t.admin,
      { userids: ['bob', 'carol', 'dave'] },
      { priority: 'important' },
    ).expect(201);
    const id = created.body.id as string;
    const publishedAt = Date.parse(created.body.publishedAt as string);
    // The first is due ANNOUNCEMENT_IMPORTANT_REMIND_MINUTES (60) after publishing.
    expect(created.body).toMatchObject({ autoReminders: 0 });
    expect(Date.parse(created.body.nextAutoRemindAt as string) - publishedAt).toBe(3_600_000);
    // A normal one re-notifies nobody by itself.
    const normal = (await announce(t.admin, { userids: ['carol'] }).expect(201)).body;
    expect(normal.nextAutoRemindAt).toBeNull();
    await as(t.bob).post(`/v1/announcements/${id}/read`).expect(204);

    // Not yet due: a pass sends nothing.
    await scheduler.pass();
    expect(
      (await as(t.admin).get(`/v1/announcements/${id}/reminders`).expect(200)).body.items,
    ).toEqual([]);

    await dueNow(id);
    await scheduler.pass();
    const [first] = await recorder.waitFor(
      (e) =>
        e.key === id &&
        e.type === 'qiwei.messaging.announcement.reminded.v1' &&
        e.data.automatic === true,
    );
    // The unread only (bob read it), for the SMS/e-mail channels; no manager asked.
    expect(first.data).toMatchObject({ id, priority: 'important', userids: ['carol', 'dave'] });
    expect(first.data.remindedBy ?? '').toBe('');
    expect(
      await carol.next((f) => f.type === 'announcement' && f.event === 'reminded' && f.id === id),
    ).toMatchObject({ automatic: true, strongReminder: true, priority: 'important' });
    const listed = await as(t.admin).get(`/v1/announcements/${id}/reminders`).expect(200);
    expect(listed.body).toMatchObject({
      items: [{ remindedBy: '', automatic: true, reminded: 2 }],
      remindersLeft: 2,
    });
    const afterFirst = Date.parse(listed.body.nextAutoRemindAt as string);
    expect(afterFirst - Date.parse(listed.body.items[0].remindedAt as string)).toBe(3_600_000);
    // A second pass right away: nothing more is due.
    await scheduler.pass();
    expect(
      (await as(t.admin).get(`/v1/announcements/${id}/reminders`).expect(200)).body.items,
    ).toHaveLength(1);

    // A manager's reminder waits ANNOUNCEMENT_REMIND_INTERVAL_MINUTES after any reminder, and
    // pushes the next automatic one back as far.
    const soon = await as(t.admin).post(`/v1/announcements/${id}/remind`);
    expect([soon.status, soon.body.code]).toEqual([429, 'ANNOUNCEMENT_REMIND_LIMITED']);
    await db.query(
      `UPDATE announcement_reminders SET reminded_at = reminded_at - interval '2 hours'
        WHERE corp_id = $1 AND announcement_id = $2`,
      [corp.corpId, id],
    );
    await db.query(
      `UPDATE announcements SET next_auto_remind_at = now() + interval '1 minute'
        WHERE corp_id = $1 AND id = $2`,
      [corp.corpId, id],
    );
    const manual = await as(t.admin).post(`/v1/announcements/${id}/remind`).expect(201);
    expect(manual.body).toMatchObject({ reminded: 2, remindersLeft: 1 });
    const view = await as(t.admin).get(`/v1/announcements/${id}`).expect(200);
    expect(
      Date.parse(view.body.nextAutoRemindAt as string) -
        Date.parse(manual.body.remindedAt as string),
    ).toBe(3_600_000);

    // The second and last automatic one (ANNOUNCEMENT_IMPORTANT_AUTO_REMINDERS = 2).
    await as(t.carol).post(`/v1/announcements/${id}/read`).expect(204);
    await dueNow(id);
    await scheduler.pass();
    const both = await recorder.waitFor((e) => automaticReminders(id).includes(e), 2);
    expect(both[1].data).toMatchObject({ userids: ['dave'] });
    const done = await as(t.admin).get(`/v1/announcements/${id}`).expect(200);
    expect(done.body).toMatchObject({ autoReminders: 2, nextAutoRemindAt: null });
    const all = await as(t.admin).get(`/v1/announcements/${id}/reminders`).expect(200);
    expect(all.body.items.map((r: { automatic: boolean }) => r.automatic)).toEqual([
      true,
      false,
      true,
    ]);
    expect(all.body.nextAutoRemindAt).toBeNull();
    expect(
      bob.frames.some((f) => f.type === 'announcement' && f.event === 'reminded' && f.id === id),
    ).toBe(false);

    // Everyone read it before it was due: no reminder, and no more are due.
    const read = (await announce(t.admin, { userids: ['bob'] }, { priority: 'important' }))
      .body as { id: string };
    await as(t.bob).post(`/v1/announcements/${read.id}/read`).expect(204);
    await dueNow(read.id);
    await scheduler.pass();
    const quiet = await as(t.admin).get(`/v1/announcements/${read.id}`).expect(200);
    expect(quiet.body).toMatchObject({ autoReminders: 0, nextAutoRemindAt: null });
    // A withdrawn one is never re-notified.
    const gone = (await announce(t.admin, { userids: ['dave'] }, { priority: 'important' }))
      .body as { id: string };
    await as(t.admin).post(`/v1/announcements/${gone.id}/withdraw`).expect(200);
    expect(
      (await as(t.admin).get(`/v1/announcements/${gone.id}`).expect(200)).body.nextAutoRemindAt,
    ).toBeNull();
    await scheduler.pass();
    expect(automaticReminders(read.id)).toEqual([]);
    expect(automaticReminders(gone.id)).toEqual([]);

    // Reminders are for managers: a recipient is refused, others and other corps find nothing.
    const recipient = await as(t.dave).get(`/v1/announcements/${id}/reminders`);
    expect([recipient.status, recipient.body.code]).toEqual([403, 'ANNOUNCEMENT_MANAGE_FORBIDDEN']);
    const stranger = await as(t.frank).get(`/v1/announcements/${id}/reminders`);
    expect([stranger.status, stranger.body.code]).toEqual([404, 'ANNOUNCEMENT_NOT_FOUND']);
    const malformed = await as(t.admin).get('/v1/announcements/not-a-uuid/reminders');
    expect(malformed.status).toBe(400);
    await messaging.http().get(`/v1/announcements/${id}/reminders`).expect(401);
  });

  it('carries ready uploads of the publisher as attachments, downloadable by its recipients only', async () => {
    const bytes = Buffer.from('%PDF-1.7 员工手册 handbook', 'utf8');
    const mediaId = await upload(t.admin, bytes, '员工手册.pdf');
    const created = await announce(
      t.admin,
      { userids: ['bob'] },
      { attachments: [mediaId] },
    ).expect(201);
    expect(created.body.attachments).toEqual([
      {
        mediaId,
        kind: 'file',
        filename: '员工手册.pdf',
        contentType: 'application/pdf',
        size: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      },
    ]);
    const id = created.body.id as string;
    const download = await as(t.bob)
      .get(`/v1/announcements/${id}/attachments/${mediaId}`)
      .expect(200);
    expect(Buffer.from(await (await fetch(download.body.url)).arrayBuffer())).toEqual(bytes);
    await as(t.carol).get(`/v1/announcements/${id}/attachments/${mediaId}`).expect(404);
    const missing = await as(t.bob).get(
      `/v1/announcements/${id}/attachments/00000000-0000-4000-8000-000000000000`,
    );
    expect([missing.status, missing.body.code]).toEqual([404, 'ATTACHMENT_NOT_FOUND']);
    const published = await recorder.waitFor(
      (e) => e.key === id && e.type === 'qiwei.messaging.announcement.published.v1',
    );
    expect(published[0].data).toMatchObject({
      announcement: { attachments: [{ mediaId, size: String(bytes.length), kind: 'file' }] },
    });

    const someoneElses = await upload(t.bob, bytes, 'bob.pdf');
    const pending = await upload(t.admin, bytes, 'pending.pdf', false);
    for (const attachment of [someoneElses, pending]) {
      const refused = await announce(t.admin, { userids: ['bob'] }, { attachments: [attachment] });
      expect([refused.status, refused.body.code]).toEqual([422, 'ANNOUNCEMENT_ATTACHMENT_INVALID']);
    }
  });

  it('retries safely with an Idempotency-Key: the first announcement is answered and nothing more is published', async () => {
    const body = { title: '幂等', body: '只发一次', targets: { userids: ['bob'] } };
    const first = await as(t.admin)
      .post('/v1/announcements', body)
      .set('idempotency-key', 'create-1')
      .expect(201);
    const again = await as(t.admin)
      .post('/v1/announcements', body)
      .set('idempotency-key', 'create-1')
      .expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    const reused = await as(t.admin)
      .post('/v1/announcements', { ...body, title: '别的' })
      .set('idempotency-key', 'create-1');
    expect([reused.status, reused.body.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    const [{ n }] = await db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM announcements WHERE corp_id = $1 AND title = '幂等'`,
      [corp.corpId],
    );
    expect(n).toBe(1);
  });

  it('refuses malformed, oversized, unsafe, badly scheduled and unknown input, and changes nothing', async () => {
    const count = async () =>
      (
        await db.query<{ n: number }[]>(
          'SELECT count(*)::int AS n FROM announcements WHERE corp_id = $1',
          [corp.corpId],
        )
      )[0].n;
    const before = await count();
    const ok = { title: '标题', body: '正文', targets: { departmentIds: [sales] } };
    const cases: [object, number, string][] = [
      [{ ...ok, title: undefined }, 400, 'VALIDATION_FAILED'],
      [{ ...ok, title: 'x'.repeat(129) }, 400, 'VALIDATION_FAILED'],
      [{ ...ok, title: '   ' }, 400, 'VALIDATION_FAILED'],
      [{ ...ok, body: '字'.repeat(700) }, 413, 'ANNOUNCEMENT_TOO_LARGE'],
      [{ ...ok, body: '<script>alert(1)</script>' }, 422, 'ANNOUNCEMENT_BODY_UNSAFE'],
      [{ ...ok, body: '[x](javascript:alert(1))' }, 422, 'ANNOUNCEMENT_BODY_UNSAFE'],
      [{ ...ok, targets: {} }, 400, 'VALIDATION_FAILED'],
      [{ ...ok, targets: { all: true, userids: ['bob'] } }, 400, 'VALIDATION_FAILED'],
      [{ ...ok, targets: { departmentIds: [99999] } }, 422, 'ANNOUNCEMENT_TARGETS_INVALID'],
      [{ ...ok, targets: { tagIds: [99999] } }, 422, 'ANNOUNCEMENT_TARGETS_INVALID'],
      [{ ...ok, targets: { userids: ['ghost'] } }, 422, 'ANNOUNCEMENT_TARGETS_INVALID'],
      [{ ...ok, targets: { departmentIds: ['x'] } }, 400, 'VALIDATION_FAILED'],
      [{ ...ok, targets: { userids: Array(1001).fill('bob') } }, 400, 'VALIDATION_FAILED'],
      [{ ...ok, targets: 'all' }, 400, 'VALIDATION_FAILED'],
      [{ ...ok, publishAt: inSeconds(-60) }, 422, 'ANNOUNCEMENT_SCHEDULE_INVALID'],
      [{ ...ok, publishAt: '2099-01-01T00:00:00' }, 400, 'VALIDATION_FAILED'],
      [{ ...ok, publishAt: 'tomorrow' }, 400, 'VALIDATION_FAILED'],
      [{ ...ok, publishAt: '2026-02-30T09:00:00Z' }, 400, 'VALIDATION_FAILED'],
      [{ ...ok, publishAt: inSeconds(400 * 86400) }, 422, 'ANNOUNCEMENT_SCHEDULE_INVALID'],
      [
        { ...ok, publishAt: inSeconds(3600), expiresAt: inSeconds(1800) },
        422,
        'ANNOUNCEMENT_SCHEDULE_INVALID',
      ],
      [{ ...ok, expiresAt: inSeconds(-1) }, 422, 'ANNOUNCEMENT_SCHEDULE_INVALID'],
      [{ ...ok, attachments: ['not-a-uuid'] }, 400, 'VALIDATION_FAILED'],
      [
        { ...ok, attachments: Array.from({ length: 21 }, () => crypto.randomUUID()) },
        400,
        'VALIDATION_FAILED',
      ],
      [{ ...ok, priority: 'urgent' }, 400, 'VALIDATION_FAILED'],
      [{ ...ok, pinned: 'yes' }, 400, 'VALIDATION_FAILED'],
      [{ ...ok, forwardable: false }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [body, status, code] of cases) {
      const response = await as(t.admin).post('/v1/announcements', body);
      expect([JSON.stringify(body).slice(0, 80), response.status, response.body.code]).toEqual([
        JSON.stringify(body).slice(0, 80),
        status,
        code,
      ]);
    }
    const unknown = await as(t.admin).post('/v1/announcements', {
      ...ok,
      targets: { departmentIds: [99999], userids: ['ghost', 'bob'] },
    });
    expect(unknown.body.errors).toEqual([
      expect.objectContaining({ field: 'targets.departmentIds', code: 'TARGET_UNKNOWN' }),
      expect.objectContaining({
        field: 'targets.userids',
        message: 'No such active member: ghost',
      }),
    ]);
    await messaging.http().post('/v1/announcements').send(ok).expect(401);
    await as(t.admin).get('/v1/announcements/not-a-uuid').expect(400);
    await as(t.admin).get('/v1/announcements?cursor=forged').expect(400);
    await as(t.admin).get('/v1/announcements?archived=maybe').expect(400);
    await as(t.admin).get('/v1/announcements/managed?status=lost').expect(400);
    await as(t.admin)
      .get(`/v1/announcements/${crypto.randomUUID()}/recipients?state=everyone`)
      .expect(400);
    await as(t.admin)
      .post('/v1/announcements', ok)
      .set('idempotency-key', 'bad key with spaces')
      .expect(400);
    expect(await count()).toBe(before);
  });

  it('documents announcements and urgent reminders in OpenAPI, with Idempotency-Key on the creating calls', async () => {
    const doc = (await messaging.http().get('/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
    };
    const idempotent = (path: string) =>
      (doc.paths[path]?.post?.parameters ?? []).some(
        (p) => p.in === 'header' && p.name === 'Idempotency-Key',
      );
    for (const path of [
      '/v1/announcements',
      '/v1/announcements/{id}/remind',
      '/v1/conversations/{id}/messages/{seq}/urgent',
    ])
      expect([path, idempotent(path)]).toEqual([path, true]);
    for (const path of [
      '/v1/announcements/managed',
      '/v1/announcements/{id}',
      '/v1/announcements/{id}/withdraw',
      '/v1/announcements/{id}/read',
      '/v1/announcements/{id}/stats',
      '/v1/announcements/{id}/recipients',
      '/v1/announcements/{id}/reminders',
      '/v1/announcements/{id}/attachments/{mediaId}',
    ])
      expect(doc.paths[path]).toBeDefined();
  });

  it('never shows or lets anyone touch another corp’s announcements', async () => {
    const id = (await announce(t.admin, { all: true }).expect(201)).body.id as string;
    const calls = [
      as(t.otherAdmin).get(`/v1/announcements/${id}`),
      as(t.otherAdmin).get(`/v1/announcements/${id}/stats`),
      as(t.otherAdmin).get(`/v1/announcements/${id}/recipients`),
      as(t.otherAdmin).get(`/v1/announcements/${id}/reminders`),
      as(t.otherAdmin).patch(`/v1/announcements/${id}`, { pinned: true }),
      as(t.otherAdmin).post(`/v1/announcements/${id}/withdraw`),
      as(t.otherAdmin).post(`/v1/announcements/${id}/remind`),
      as(t.otherAdmin).post(`/v1/announcements/${id}/read`),
    ];
    for (const call of calls) {
      const response = await call;
      expect([response.status, response.body.code]).toEqual([404, 'ANNOUNCEMENT_NOT_FOUND']);
    }
    expect(
      (await as(t.otherAdmin).get('/v1/announcements/managed').expect(200)).body.items,
    ).toEqual([]);
    expect(await received(t.otherAdmin)).toEqual([]);
    // The other corp's everyone is its own.
    await other.member('olga');
    const theirs = await announce(t.otherAdmin, { all: true }).expect(201);
    const theirRecipients = await db.query<{ userid: string }[]>(
      'SELECT userid FROM announcement_recipients WHERE corp_id = $1 AND announcement_id = $2',
      [other.corpId, theirs.body.id],
    );
    expect(theirRecipients.map((r) => r.userid)).toContain('olga');
    expect(theirRecipients.map((r) => r.userid)).not.toContain('alice');
    const view = await as(t.admin).get(`/v1/announcements/${id}`).expect(200);
    expect(view.body.status).toBe('published');
  });
});
