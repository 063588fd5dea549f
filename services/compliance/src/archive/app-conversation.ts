import { createHash } from 'node:crypto';

/** The namespace of app conversations' ids (a fixed random UUID). */
const NAMESPACE = Buffer.from('5f1c2a7e9b3d4c8e8a6f0d2b4e6c8a1f', 'hex');

/**
 * The archive conversation of an app's messages: app messages (应用消息) have no conversation in
 * messaging, so each app of a corp gets one here, a name-based UUID (version 5, RFC 9562) of
 * `<corpId>/app/<agentid>`. The same app always has the same id: its messages and recalls are
 * read in order in the context view, held by a matter naming it, and filtered on in search.
 */
export function appConversationId(corpId: string, agentid: number): string {
  const hash = createHash('sha1').update(NAMESPACE).update(`${corpId}/app/${agentid}`).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
