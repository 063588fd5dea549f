"use strict";
Object.defineProperty(exports, "__esModule", {
    value: true
});
function _export(target, all) {
    for(var name in all)Object.defineProperty(target, name, {
        enumerable: true,
        get: Object.getOwnPropertyDescriptor(all, name).get
    });
}
_export(exports, {
    get CE_SPECVERSION () {
        return CE_SPECVERSION;
    },
    get HEADER () {
        return HEADER;
    },
    get decodeEvent () {
        return decodeEvent;
    },
    get encodeEvent () {
        return encodeEvent;
    },
    get eventTypeOf () {
        return eventTypeOf;
    },
    get headersOf () {
        return headersOf;
    }
});
const _nodecrypto = require("node:crypto");
const _protobuf = require("@bufbuild/protobuf");
const _errors = require("../../dist/libs/events/src/errors.js");
const CE_SPECVERSION = '1.0';
const HEADER = {
    id: 'ce_id',
    source: 'ce_source',
    type: 'ce_type',
    specversion: 'ce_specversion',
    time: 'ce_time',
    subject: 'ce_subject',
    tenant: 'ce_tenant',
    dataschema: 'ce_dataschema',
    contentType: 'content-type',
    traceparent: 'traceparent',
    tracestate: 'tracestate'
};
function eventTypeOf(topic, type) {
    const definition = topic.events.find((e)=>e.type === type);
    if (!definition) throw new Error(`Event type ${type} is not declared on topic ${topic.name}`);
    return definition;
}
function encodeEvent(topic, source, event, traceHeaders = {}) {
    const definition = eventTypeOf(topic, event.type);
    const schema = definition.schema;
    const id = event.id ?? (0, _nodecrypto.randomUUID)();
    return {
        id,
        topic: topic.name,
        key: event.key,
        // Every field, defaults included: readers with any JSON tool see the whole state.
        value: (0, _protobuf.toJsonString)(schema, (0, _protobuf.create)(schema, event.data), {
            alwaysEmitImplicit: true
        }),
        headers: {
            [HEADER.id]: id,
            [HEADER.source]: source,
            [HEADER.type]: event.type,
            [HEADER.specversion]: CE_SPECVERSION,
            [HEADER.time]: (event.time ?? new Date()).toISOString(),
            [HEADER.subject]: event.subject,
            [HEADER.tenant]: event.tenant,
            [HEADER.dataschema]: schema.typeName,
            [HEADER.contentType]: 'application/json',
            ...traceHeaders
        }
    };
}
function headersOf(record) {
    const headers = {};
    for (const [name, value] of Object.entries(record.headers ?? {})){
        if (value === undefined) continue;
        const last = Array.isArray(value) ? value[value.length - 1] : value;
        if (last !== undefined) headers[name] = last.toString();
    }
    return headers;
}
function decodeEvent(topic, record) {
    const headers = headersOf(record);
    for (const name of [
        HEADER.id,
        HEADER.source,
        HEADER.type,
        HEADER.specversion,
        HEADER.time,
        HEADER.tenant
    ]){
        if (!headers[name]) throw new _errors.PoisonMessageError(`missing CloudEvents header ${name}`);
    }
    if (headers[HEADER.specversion] !== CE_SPECVERSION) {
        throw new _errors.PoisonMessageError(`unsupported ce_specversion ${headers[HEADER.specversion]}`);
    }
    const definition = topic.events.find((e)=>e.type === headers[HEADER.type]);
    if (!definition) throw new _errors.PoisonMessageError(`event type ${headers[HEADER.type]} is not declared on ${topic.name}`);
    if (headers[HEADER.dataschema] && headers[HEADER.dataschema] !== definition.schema.typeName) {
        throw new _errors.PoisonMessageError(`ce_dataschema ${headers[HEADER.dataschema]} does not match ${definition.schema.typeName} for ${definition.type}`);
    }
    const time = new Date(headers[HEADER.time]);
    if (Number.isNaN(time.getTime())) throw new _errors.PoisonMessageError(`invalid ce_time ${headers[HEADER.time]}`);
    if (!record.value) throw new _errors.PoisonMessageError('empty payload');
    let data;
    const payload = record.value.toString('utf8');
    try {
        data = (0, _protobuf.fromJsonString)(definition.schema, payload, {
            ignoreUnknownFields: true
        });
    } catch (error) {
        throw new _errors.PoisonMessageError(`payload is not a valid ${definition.schema.typeName}: ${error.message}`, {
            cause: error
        });
    }
    return {
        id: headers[HEADER.id],
        type: headers[HEADER.type],
        source: headers[HEADER.source],
        subject: headers[HEADER.subject] ?? '',
        tenant: headers[HEADER.tenant],
        time,
        key: record.key ? record.key.toString('utf8') : null,
        dataschema: definition.schema.typeName,
        data,
        payload,
        headers,
        topic: record.topic,
        partition: record.partition,
        offset: record.offset
    };
}


//# sourceMappingURL=cloud-event.js.map