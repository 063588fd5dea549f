const { create } = require('@bufbuild/protobuf');
const c = require('../dist/libs/contracts/src/index.js');
const ceNew = require('../dist/libs/events/src/cloud-event.js');
const ceOld = require('./old/cloud-event.js');
const topic = c.defineTopic({ name: 'qiwei.bench.x.v1', publisher: 'bench', summary: 's', key: 'corp', partitions: 6, retentionMs: -1,
  events: [{ type: 'qiwei.bench.x.created.v1', schema: c.DepartmentCreatedSchema, summary: 'c' }] });
const N = 20000;
const recs = [];
for (let i = 0; i < N; i++) {
  const corp = `ww${(i % 64).toString(16).padStart(16, '0')}`;
  const e = ceNew.encodeEvent(topic, '/qiwei/bench', { type: topic.events[0].type, tenant: corp, key: corp, subject: `department/${i}`,
    data: { department: create(c.DepartmentSchema, { corpId: corp, id: i, name: `华东区销售部 ${i}`, order: i % 10, depth: 3, path: [1, 7, i] }) } });
  const headers = {}; for (const [k, v] of Object.entries(e.headers)) headers[k] = Buffer.from(v);
  recs.push({ topic: topic.name, partition: 0, offset: String(i), key: Buffer.from(e.key), value: Buffer.from(e.value), headers });
}
const fns = { old: (r) => ceOld.decodeEvent(topic, r), new: (r) => ceNew.decodeEvent(topic, r) };
const res = { old: [], new: [] };
for (let round = 0; round < 15; round++) for (const k of round % 2 ? ['old', 'new'] : ['new', 'old']) {
  const t = process.cpuUsage(); for (let i = 0; i < N; i++) fns[k](recs[i]); const u = process.cpuUsage(t);
  if (round >= 3) res[k].push((u.user + u.system) / N);
}
const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
console.log('µs per decode (CPU, median of interleaved rounds): old', med(res.old).toFixed(2), 'new', med(res.new).toFixed(2));
