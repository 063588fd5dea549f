const { create, fromJsonString, fromJson, toJsonString } = require('@bufbuild/protobuf');
const c = require('../dist/libs/contracts/src/index.js');
const ce = require('../dist/libs/events/src/cloud-event.js');
const topic = c.defineTopic({ name: 'qiwei.bench.x.v1', publisher: 'bench', summary: 's', key: 'corp', partitions: 6, retentionMs: -1,
  events: [{ type: 'qiwei.bench.x.created.v1', schema: c.DepartmentCreatedSchema, summary: 'c' }] });
const N = 30000;
const recs = [];
for (let i = 0; i < N; i++) {
  const corp = `ww${(i % 64).toString(16).padStart(16, '0')}`;
  const e = ce.encodeEvent(topic, '/qiwei/bench', { type: topic.events[0].type, tenant: corp, key: corp, subject: `department/${i}`,
    data: { department: create(c.DepartmentSchema, { corpId: corp, id: i, name: `华东区销售部 ${i}`, order: i % 10, depth: 3, path: [1, 7, i] }) } });
  const headers = {}; for (const [k, v] of Object.entries(e.headers)) headers[k] = Buffer.from(v);
  recs.push({ topic: topic.name, partition: 0, offset: String(i), key: Buffer.from(e.key), value: Buffer.from(e.value), headers });
}
console.log(recs[0].value.toString());
function time(label, f) { for (let r = 0; r < 3; r++) { const t = process.hrtime.bigint(); for (let i = 0; i < N; i++) f(recs[i]); const us = Number(process.hrtime.bigint() - t) / 1e3 / N; if (r === 2) console.log(label.padEnd(30), us.toFixed(2), 'µs'); } }
time('decodeEvent', (r) => ce.decodeEvent(topic, r));
time('headersOf', (r) => ce.headersOf(r));
time('value toString', (r) => r.value.toString('utf8'));
time('JSON.parse', (r) => JSON.parse(r.value.toString('utf8')));
time('fromJsonString', (r) => fromJsonString(c.DepartmentCreatedSchema, r.value.toString('utf8'), { ignoreUnknownFields: true }));
time('fromJson(JSON.parse)', (r) => fromJson(c.DepartmentCreatedSchema, JSON.parse(r.value.toString('utf8')), { ignoreUnknownFields: true }));
time('new Date(iso)', (r) => new Date('2026-01-01T00:00:00.000Z'));
const hs = recs.map((r) => ce.headersOf(r));
let k = 0;
time('fromJsonString (2nd)', (r) => fromJsonString(c.DepartmentCreatedSchema, r.value.toString('utf8'), { ignoreUnknownFields: true }));
time('decodeEvent (2nd)', (r) => ce.decodeEvent(topic, r));
