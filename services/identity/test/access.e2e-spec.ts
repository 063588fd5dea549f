import { IDENTITY_MEMBER_TOPIC } from '@qiwei/contracts';
import type { Role } from '@qiwei/auth';
import { DataSource } from 'typeorm';
import { AccessTokensService } from '../src/tokens/access-tokens.service';
import { corpEventsOn } from './corp-events';
import { bootIdentity, type CreatedCorp, type IdentityTestApp } from './identity-test-app';

/**
 * Roles and admin scopes (a department admin acts only inside their subtrees, with the
 * permissions granted there) and department visibility (hidden and restricted departments
 * disappear from the directory for whoever may not see them).
 */
describe('identity: roles, admin scopes and visibility', () => {
  let identity: IdentityTestApp;
  let corp: CreatedCorp;
  // 1 root ─┬─ sales ── east
  //         ├─ finance (restricted to management)
  //         ├─ management
  //         └─ secret (hidden)
  let sales: number;
  let east: number;
  let finance: number;
  let management: number;
  let secret: number;

  beforeAll(async () => {
    identity = await bootIdentity();
  });
  afterAll(() => identity.close());

  const call = (token: string) => {
    const auth = (req: import('supertest').Test) => req.set('authorization', `Bearer ${token}`);
    const http = () => identity.http();
    return {
      get: (path: string) => auth(http().get(path)),
      post: (path: string, body: object = {}) => auth(http().post(path).send(body)),
      patch: (path: string, body: object) => auth(http().patch(path).send(body)),
      put: (path: string, body: object) => auth(http().put(path).send(body)),
      delete: (path: string) => auth(http().delete(path)),
    };
  };
  const admin = () => call(corp.token);
  const department = async (name: string, parentId = 1) =>
    (await admin().post('/v1/departments', { name, parentId }).expect(201)).body.id as number;
  const member = async (userid: string, departments: number[]) =>
    admin()
      .post('/v1/members', { userid, name: userid, departments: departments.map((id) => ({ id })) })
      .expect(201);
  const tokenOf = async (userid: string, roles?: Role[]) => {
    const read = await admin().get(`/v1/members/${userid}`).expect(200);
    return (
      await identity.app.get(AccessTokensService).issue({
        corpId: corp.corpId,
        userId: userid,
        roles: roles ?? (read.body.roles as Role[]),
      })
    ).accessToken;
  };
  const grant = (userid: string, roles: string[], scopes?: object[]) =>
    admin().put(`/v1/members/${userid}/roles`, { roles, ...(scopes ? { scopes } : {}) });

  beforeEach(async () => {
    corp = await identity.createCorp();
    sales = await department('销售部');
    east = await department('华东区', sales);
    finance = await department('财务部');
    management = await department('管理层');
    secret = await department('保密项目');
    await member('salesadmin', [sales]);
    await member('seller', [east]);
    await member('accountant', [finance]);
    await member('boss', [management]);
    await member('agent', [secret]);
    await member('bridge', [finance, sales]);
    await admin()
      .patch(`/v1/departments/${finance}`, {
        visibility: { mode: 'restricted', departmentIds: [management] },
      })
      .expect(200);
    await admin()
      .patch(`/v1/departments/${secret}`, { visibility: { mode: 'hidden' } })
      .expect(200);
  });

  describe('roles', () => {
    it('makes a department admin with a scope, lists admins, shows them on the department and announces it', async () => {
      const granted = await grant(
        'salesadmin',
        ['department_admin'],
        [{ departmentId: sales, permissions: ['contacts:edit', 'tags:manage'] }],
      ).expect(200);
      expect(granted.body).toMatchObject({
        roles: ['member', 'department_admin'],
        adminScopes: [{ departmentId: sales, permissions: ['contacts:edit', 'tags:manage'] }],
      });
      const admins = await admin().get('/v1/admins').expect(200);
      expect(admins.body.items.map((m: { userid: string }) => m.userid)).toEqual([
        'admin',
        'salesadmin',
      ]);
      const read = await admin().get(`/v1/departments/${sales}`).expect(200);
      expect(read.body.admins).toEqual([
        { userid: 'salesadmin', permissions: ['contacts:edit', 'tags:manage'] },
      ]);
      const events = await corpEventsOn(identity.brokers, IDENTITY_MEMBER_TOPIC.name, corp.corpId, [
        // The corp's first super admin, then six members.
        ...Array(7).fill('qiwei.identity.member.created.v1'),
        'qiwei.identity.member.updated.v1',
      ]);
      expect(JSON.parse(events[7].value).member).toMatchObject({
        userid: 'salesadmin',
        roles: ['member', 'department_admin'],
        adminScopes: [{ departmentId: sales, permissions: ['contacts:edit', 'tags:manage'] }],
      });
      const audit = await identity.app
        .get(DataSource)
        .query(
          `SELECT actor_id, target_id FROM audit_log WHERE corp_id = $1 AND action = 'member.roles_changed'`,
          [corp.corpId],
        );
      expect(audit).toEqual([{ actor_id: 'admin', target_id: 'salesadmin' }]);
    });

    it('never removes the last super admin, and a demotion revokes the demoted member’s tokens at once', async () => {
      const refused = await grant('admin', []).expect(422);
      expect(refused.body.code).toBe('LAST_SUPER_ADMIN');
      await grant('boss', ['super_admin']).expect(200);
      const bossToken = await tokenOf('boss');
      await call(bossToken).get('/v1/admins').expect(200);
      await call(bossToken)
        .put('/v1/members/admin/roles', { roles: ['compliance_officer'] })
        .expect(200);
      const old = await admin().get('/v1/admins').expect(401);
      expect(old.body.code).toBe('TOKEN_REVOKED');
      const lastOne = await call(bossToken)
        .put('/v1/members/boss/roles', { roles: [] })
        .expect(422);
      expect(lastOne.body.code).toBe('LAST_SUPER_ADMIN');
    });

    it('refuses malformed role changes, other corps’ members and anyone but a super admin', async () => {
      const cases: [object, number, string][] = [
        [{ roles: ['root'] }, 400, 'VALIDATION_FAILED'],
        [{ roles: 'super_admin' }, 400, 'VALIDATION_FAILED'],
        [{ roles: [], extra: 1 }, 400, 'VALIDATION_FAILED'],
        [{ roles: ['department_admin'] }, 422, 'ADMIN_SCOPE_INVALID'],
        [
          {
            roles: ['compliance_officer'],
            scopes: [{ departmentId: sales, permissions: ['contacts:edit'] }],
          },
          422,
          'ADMIN_SCOPE_INVALID',
        ],
        [
          { roles: ['department_admin'], scopes: [{ departmentId: sales, permissions: ['root'] }] },
          400,
          'VALIDATION_FAILED',
        ],
        [
          {
            roles: ['department_admin'],
            scopes: [{ departmentId: 9999, permissions: ['contacts:edit'] }],
          },
          422,
          'MEMBER_DEPARTMENT_NOT_FOUND',
        ],
        [
          {
            roles: ['department_admin'],
            scopes: [
              { departmentId: sales, permissions: ['contacts:edit'] },
              { departmentId: sales, permissions: ['tags:manage'] },
            ],
          },
          422,
          'ADMIN_SCOPE_INVALID',
        ],
      ];
      for (const [body, status, code] of cases) {
        const response = await admin().put('/v1/members/seller/roles', body).expect(status);
        expect(response.body.code).toBe(code);
      }
      const other = await identity.createCorp();
      await call(other.token)
        .put('/v1/members/seller/roles', { roles: ['super_admin'] })
        .expect(404);
      const sellerToken = await tokenOf('seller');
      const refused = await call(sellerToken)
        .put('/v1/members/seller/roles', { roles: ['super_admin'] })
        .expect(403);
      expect(refused.body.code).toBe('ROLE_REQUIRED');
      await call(sellerToken).get('/v1/admins').expect(403);
      const seller = await admin().get('/v1/members/seller').expect(200);
      expect(seller.body.roles).toEqual(['member']);
    });
  });

  describe('a department admin', () => {
    let token: string;
    beforeEach(async () => {
      await grant(
        'salesadmin',
        ['department_admin'],
        [{ departmentId: sales, permissions: ['contacts:edit'] }],
      ).expect(200);
      token = await tokenOf('salesadmin');
    });

    it('manages departments and members inside the scope', async () => {
      const west = await call(token)
        .post('/v1/departments', { name: '华西区', parentId: sales })
        .expect(201);
      await call(token).patch(`/v1/departments/${west.body.id}`, { parentId: east }).expect(200);
      await call(token)
        .post('/v1/members', { userid: 'newseller', name: '新销售', departments: [{ id: east }] })
        .expect(201);
      await call(token).patch('/v1/members/seller', { position: '经理' }).expect(200);
      await call(token).post('/v1/members/seller/disable').expect(200);
      // A member in and out of the scope is theirs; memberships outside stay untouched.
      await call(token).patch('/v1/members/bridge', { position: '对接人' }).expect(200);
      await call(token).delete(`/v1/departments/${west.body.id}`).expect(204);
    });

    it('is refused everything outside the scope, and changes nothing', async () => {
      const refusals: [import('supertest').Test, number, string][] = [
        [
          call(token).post('/v1/departments', { name: 'x', parentId: 1 }),
          403,
          'OUTSIDE_ADMIN_SCOPE',
        ],
        [
          call(token).patch(`/v1/departments/${management}`, { name: 'x' }),
          403,
          'OUTSIDE_ADMIN_SCOPE',
        ],
        [
          call(token).patch(`/v1/departments/${east}`, { parentId: management }),
          403,
          'OUTSIDE_ADMIN_SCOPE',
        ],
        [
          call(token).patch(`/v1/departments/${sales}`, { parentId: management }),
          403,
          'SCOPE_ROOT_IMMUTABLE',
        ],
        [call(token).delete(`/v1/departments/${sales}`), 403, 'SCOPE_ROOT_IMMUTABLE'],
        [
          call(token).post('/v1/members', {
            userid: 'spy',
            name: 'spy',
            departments: [{ id: management }],
          }),
          403,
          'OUTSIDE_ADMIN_SCOPE',
        ],
        [call(token).patch('/v1/members/boss', { position: 'x' }), 403, 'OUTSIDE_ADMIN_SCOPE'],
        [
          call(token).patch('/v1/members/seller', { departments: [{ id: management }] }),
          403,
          'OUTSIDE_ADMIN_SCOPE',
        ],
        [
          call(token).patch('/v1/members/bridge', { departments: [{ id: sales }] }),
          403,
          'OUTSIDE_ADMIN_SCOPE',
        ],
        [call(token).post('/v1/members/boss/disable'), 403, 'OUTSIDE_ADMIN_SCOPE'],
        [call(token).delete('/v1/members/boss'), 403, 'OUTSIDE_ADMIN_SCOPE'],
        [
          call(token).post('/v1/members/salesadmin/leave'),
          403,
          'ADMIN_TARGET_REQUIRES_SUPER_ADMIN',
        ],
        [
          call(token).put('/v1/members/seller/roles', { roles: ['super_admin'] }),
          403,
          'ROLE_REQUIRED',
        ],
        [call(token).post('/v1/tags', { name: 'x' }), 403, 'PERMISSION_REQUIRED'],
        // Hidden from them: as if it did not exist.
        [call(token).get(`/v1/departments/${secret}`), 404, 'DEPARTMENT_NOT_FOUND'],
      ];
      for (const [request, status, code] of refusals) {
        const response = await request;
        expect([response.status, response.body.code, request.url]).toEqual([
          status,
          code,
          request.url,
        ]);
      }
      const boss = await admin().get('/v1/members/boss').expect(200);
      expect(boss.body).toMatchObject({ status: 'active', position: '' });
      const bridge = await admin().get('/v1/members/bridge').expect(200);
      expect(bridge.body.departments.map((d: { id: number }) => d.id).sort()).toEqual(
        [sales, finance].sort(),
      );
      const root = await admin().get('/v1/departments/1/children').expect(200);
      expect(root.body.items).toHaveLength(4);
    });

    it('without contacts:edit, reads but cannot change its subtree; with tags:manage, tags only inside it', async () => {
      await grant(
        'salesadmin',
        ['department_admin'],
        [{ departmentId: sales, permissions: ['tags:manage'] }],
      ).expect(200);
      const tagsOnly = await tokenOf('salesadmin');
      const refused = await call(tagsOnly)
        .patch('/v1/members/seller', { position: 'x' })
        .expect(403);
      expect(refused.body.code).toBe('OUTSIDE_ADMIN_SCOPE');
      const tag = await call(tagsOnly).post('/v1/tags', { name: '骨干' }).expect(201);
      await call(tagsOnly)
        .post(`/v1/tags/${tag.body.id}/members`, {
          userids: ['seller', 'bridge'],
          departmentIds: [east],
        })
        .expect(200);
      const outside = await call(tagsOnly)
        .post(`/v1/tags/${tag.body.id}/members`, { userids: ['boss'] })
        .expect(403);
      expect(outside.body.code).toBe('OUTSIDE_ADMIN_SCOPE');
      const outsideDepartment = await call(tagsOnly)
        .post(`/v1/tags/${tag.body.id}/members`, { departmentIds: [management] })
        .expect(403);
      expect(outsideDepartment.body.code).toBe('OUTSIDE_ADMIN_SCOPE');
      const read = await admin().get(`/v1/tags/${tag.body.id}`).expect(200);
      expect(read.body).toMatchObject({ userids: ['bridge', 'seller'], departmentIds: [east] });
    });
  });

  describe('visibility', () => {
    const ids = (body: { items: { id?: number; userid?: string }[] }) =>
      body.items.map((i) => i.id ?? i.userid);

    it('hides restricted and hidden departments, and members only there, from an ordinary member', async () => {
      const seller = call(await tokenOf('seller'));
      await seller.get(`/v1/departments/${finance}`).expect(404);
      await seller.get(`/v1/departments/${secret}`).expect(404);
      await seller.get(`/v1/departments/${finance}/children`).expect(404);
      await seller.get(`/v1/departments/${finance}/members`).expect(404);
      expect(ids((await seller.get('/v1/departments/1/children').expect(200)).body)).toEqual([
        sales,
        management,
      ]);
      expect(ids((await seller.get('/v1/departments/1/subtree').expect(200)).body)).toEqual([
        1,
        sales,
        east,
        management,
      ]);
      expect(
        ids((await seller.get('/v1/departments/1/members?recursive=true').expect(200)).body),
      ).toEqual(['admin', 'boss', 'bridge', 'salesadmin', 'seller']);
      await seller.get('/v1/members/accountant').expect(404);
      await seller.get('/v1/members/agent').expect(404);
      // Also in a visible department: visible.
      await seller.get('/v1/members/bridge').expect(200);
    });

    it('shows a restricted department to its audience and its own members, a hidden one only to its members and super admins', async () => {
      const boss = call(await tokenOf('boss'));
      await boss.get(`/v1/departments/${finance}`).expect(200);
      await boss.get('/v1/members/accountant').expect(200);
      await boss.get(`/v1/departments/${secret}`).expect(404);
      const accountant = call(await tokenOf('accountant'));
      await accountant.get(`/v1/departments/${finance}`).expect(200);
      const agent = call(await tokenOf('agent'));
      await agent.get(`/v1/departments/${secret}`).expect(200);
      await agent.get('/v1/members/agent').expect(200);
      expect(ids((await admin().get('/v1/departments/1/children').expect(200)).body)).toHaveLength(
        4,
      );
      // By role: compliance officers see Finance once it names the role.
      await admin()
        .patch(`/v1/departments/${finance}`, {
          visibility: {
            mode: 'restricted',
            roles: ['compliance_officer'],
            departmentIds: [management],
          },
        })
        .expect(200);
      await grant('seller', ['compliance_officer']).expect(200);
      await call(await tokenOf('seller'))
        .get(`/v1/departments/${finance}`)
        .expect(200);
    });

    it('filters tags’ effective members and contents by visibility', async () => {
      const tag = await admin().post('/v1/tags', { name: '全员' }).expect(201);
      await admin()
        .post(`/v1/tags/${tag.body.id}/members`, {
          userids: ['accountant', 'seller'],
          departmentIds: [secret, management],
        })
        .expect(200);
      const seller = call(await tokenOf('seller'));
      const read = await seller.get(`/v1/tags/${tag.body.id}`).expect(200);
      expect(read.body).toMatchObject({ userids: ['seller'], departmentIds: [management] });
      const effective = await seller.get(`/v1/tags/${tag.body.id}/effective-members`).expect(200);
      expect(ids(effective.body)).toEqual(['boss', 'seller']);
    });

    it('refuses inconsistent visibility settings and changes nothing', async () => {
      const cases: [object, number, string][] = [
        [{ visibility: { mode: 'restricted' } }, 422, 'DEPARTMENT_VISIBILITY_INVALID'],
        [
          { visibility: { mode: 'hidden', roles: ['super_admin'] } },
          422,
          'DEPARTMENT_VISIBILITY_INVALID',
        ],
        [
          { visibility: { mode: 'restricted', departmentIds: [9999] } },
          422,
          'DEPARTMENT_VISIBILITY_INVALID',
        ],
        [{ visibility: { mode: 'secret' } }, 400, 'VALIDATION_FAILED'],
        [{ visibility: { mode: 'restricted', roles: ['root'] } }, 400, 'VALIDATION_FAILED'],
        [{ visibility: { mode: 'public', extra: true } }, 400, 'VALIDATION_FAILED'],
        [{ visibility: 'public' }, 400, 'VALIDATION_FAILED'],
      ];
      for (const [body, status, code] of cases) {
        const response = await admin().patch(`/v1/departments/${sales}`, body).expect(status);
        expect(response.body.code).toBe(code);
      }
      const read = await admin().get(`/v1/departments/${sales}`).expect(200);
      expect(read.body.visibility).toEqual({ mode: 'public', roles: [], departmentIds: [] });
      const seller = call(await tokenOf('seller'));
      const refused = await seller
        .patch(`/v1/departments/${sales}`, { visibility: { mode: 'hidden' } })
        .expect(403);
      expect(refused.body.code).toBe('ROLE_REQUIRED');
    });
  });
});
