const { create, fromJson } = require('@bufbuild/protobuf');
const c = require('../dist/libs/contracts/src/index.js');
const S = c.DepartmentCreatedSchema, D = c.DepartmentSchema;
const json = JSON.parse('{"department":{"corpId":"ww0000000000000000","id":0,"name":"华东区销售部 0","order":0,"depth":3,"path":[1,7,0],"visibility":"","visibleToRoles":[],"visibleToDepartmentIds":[]}}');
const N=50000;
const fns = {
  fromJson: () => fromJson(S, json, { ignoreUnknownFields: true }),
  createEmpty2: () => { const m = create(S); m.department = create(D); return m; },
  createInit: () => create(S, { department: create(D, json.department) }),
  literal: () => ({ $typeName: 'qiwei.identity.v1.DepartmentCreated', department: { $typeName: 'qiwei.identity.v1.Department', corpId: json.department.corpId, id: json.department.id, name: json.department.name, order: 0, depth: 3, path: json.department.path.slice(), visibility: '', visibleToRoles: [], visibleToDepartmentIds: [] } }),
};
const res = {}; for (const k in fns) res[k] = [];
for (let r = 0; r < 12; r++) for (const k in fns) { const t = process.cpuUsage(); for (let i = 0; i < N; i++) fns[k](); const u = process.cpuUsage(t); if (r >= 3) res[k].push((u.user + u.system) / N); }
const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
for (const k in fns) console.log(k.padEnd(14), med(res[k]).toFixed(3), 'µs');
console.log(create(S, { department: create(D, json.department) }));
