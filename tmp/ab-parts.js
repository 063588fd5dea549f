const { create, fromJson, fromJsonString } = require('@bufbuild/protobuf');
const c = require('../dist/libs/contracts/src/index.js');
const ce = require('../dist/libs/events/src/cloud-event.js');
const topic = c.defineTopic({ name: 'qiwei.bench.x.v1', publisher: 'bench', summary: 's', key: 'corp', partitions: 6, retentionMs: -1,
  events: [{ type: 'qiwei.bench.x.created.v1', schema: c.DepartmentCreatedSchema, summary: 'c' }] });
const N = 20000; const recs = [];
for (let i = 0; i < N; i++) {
  const corp = `ww${(i % 64).toString(16).padStart(16, '0')}`;
  const e = ce.encodeEvent(topic, '/qiwei/bench', { type: topic.events[0].type, tenant: corp, key: corp, subject: `department/${i}`,
    data: { department: create(c.DepartmentSchema, { corpId: corp, id: i, name: `华东区销售部 ${i}`, order: i % 10, depth: 3, path: [1, 7, i] }) } });
  const headers = {}; for (const [k, v] of Object.entries(e.headers)) headers[k] = Buffer.from(v);
  recs.push({ value: Buffer.from(e.value), headers, str: e.value, json: JSON.parse(e.value) });
}
const S = c.DepartmentCreatedSchema, O = { ignoreUnknownFields: true };
const fns = {
  toString: (r) => r.value.toString('utf8'),
  parse: (r) => JSON.parse(r.str),
  stringify: (r) => JSON.stringify(r.json),
  fromJson: (r) => fromJson(S, r.json, O),
  fromJsonString: (r) => fromJsonString(S, r.str, O),
  headersOf: (r) => ce.headersOf(r),
  decodeEvent: (r) => ce.decodeEvent(topic, { topic: 't', partition: 0, offset: '1', key: null, value: r.value, headers: r.headers }),
};
const res = {}; for (const k in fns) res[k] = [];
for (let round = 0; round < 12; round++) for (const k in fns) {
  const t = process.cpuUsage(); for (let i = 0; i < N; i++) fns[k](recs[i]); const u = process.cpuUsage(t);
  if (round >= 3) res[k].push((u.user + u.system) / N);
}
const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
for (const k in fns) console.log(k.padEnd(16), med(res[k]).toFixed(2), 'µs');
