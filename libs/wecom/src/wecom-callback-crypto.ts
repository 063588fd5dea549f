import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * WeCom's callback scheme (回调加解密): what a receiver configured with a `token` and a 43-character
 * `EncodingAESKey` expects of every message pushed to it.
 * - the key is base64(EncodingAESKey + "="): 32 bytes for AES-256-CBC, the IV its first 16 bytes;
 * - the plaintext is 16 random bytes, the message's length (4 bytes, big-endian), the message and
 *   the receiver id (the corp id), PKCS#7-padded to a multiple of 32 bytes; `Encrypt` is base64;
 * - `msg_signature` = SHA1 of token, timestamp, nonce and Encrypt, sorted and joined.
 */

/** A token WeCom accepts: letters and digits, at most 32. */
export const WECOM_CALLBACK_TOKEN = /^[A-Za-z0-9]{1,32}$/;
/** An EncodingAESKey: 43 letters and digits (base64 of 32 bytes without its `=`). */
export const WECOM_ENCODING_AES_KEY = /^[A-Za-z0-9]{43}$/;

const BLOCK = 32;

function keyOf(encodingAesKey: string): Buffer {
  if (!WECOM_ENCODING_AES_KEY.test(encodingAesKey))
    throw new Error('An EncodingAESKey is 43 letters and digits');
  return Buffer.from(`${encodingAesKey}=`, 'base64');
}

/** `msg_signature`: SHA1 of the four values sorted as strings and concatenated. */
export function wecomSignature(
  token: string,
  timestamp: string,
  nonce: string,
  encrypt: string,
): string {
  return createHash('sha1')
    .update([token, timestamp, nonce, encrypt].sort().join(''))
    .digest('hex');
}

/** `Encrypt` of a message for the receiver `receiveId` (a corp id). */
export function wecomEncrypt(
  encodingAesKey: string,
  message: string,
  receiveId: string,
  random: Buffer = randomBytes(16),
): string {
  const key = keyOf(encodingAesKey);
  const body = Buffer.from(message, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length, 0);
  const plain = Buffer.concat([random, length, body, Buffer.from(receiveId, 'utf8')]);
  const pad = BLOCK - (plain.length % BLOCK);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([
    cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])),
    cipher.final(),
  ]).toString('base64');
}

/** The message and receiver id inside an `Encrypt`; throws when it is not one. */
export function wecomDecrypt(
  encodingAesKey: string,
  encrypt: string,
): { message: string; receiveId: string } {
  const key = keyOf(encodingAesKey);
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  decipher.setAutoPadding(false);
  const padded = Buffer.concat([decipher.update(Buffer.from(encrypt, 'base64')), decipher.final()]);
  const pad = padded[padded.length - 1] ?? 0;
  if (pad < 1 || pad > BLOCK) throw new Error('Not a WeCom callback ciphertext (padding)');
  const plain = padded.subarray(0, padded.length - pad);
  const length = plain.readUInt32BE(16);
  if (20 + length > plain.length) throw new Error('Not a WeCom callback ciphertext (length)');
  return {
    message: plain.subarray(20, 20 + length).toString('utf8'),
    receiveId: plain.subarray(20 + length).toString('utf8'),
  };
}

export interface SealedWecomCallback {
  msgSignature: string;
  timestamp: string;
  nonce: string;
  encrypt: string;
  /** The POST body: `<xml><ToUserName/><Encrypt/><AgentID/></xml>`. */
  body: string;
}

const cdata = (value: string) => `<![CDATA[${value.replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;

/** A message as WeCom posts it to a callback URL (the query string carries the signature). */
export function sealWecomCallback(options: {
  token: string;
  encodingAesKey: string;
  receiveId: string;
  agentId?: number;
  message: string;
  timestamp?: string;
  nonce?: string;
}): SealedWecomCallback {
  const timestamp = options.timestamp ?? String(Math.floor(Date.now() / 1000));
  const nonce = options.nonce ?? randomBytes(8).toString('hex');
  const encrypt = wecomEncrypt(options.encodingAesKey, options.message, options.receiveId);
  return {
    msgSignature: wecomSignature(options.token, timestamp, nonce, encrypt),
    timestamp,
    nonce,
    encrypt,
    body:
      `<xml><ToUserName>${cdata(options.receiveId)}</ToUserName>` +
      `<Encrypt>${cdata(encrypt)}</Encrypt>` +
      `<AgentID>${cdata(options.agentId === undefined ? '' : String(options.agentId))}</AgentID></xml>`,
  };
}

/** An XML element of WeCom's messages: text in CDATA. */
export function wecomXmlText(name: string, value: string): string {
  return `<${name}>${cdata(value)}</${name}>`;
}
