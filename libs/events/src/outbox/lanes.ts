/**
 * The outbox is split into lanes by partition key. A key always maps to the same lane and a
 * lane is relayed by one instance at a time (an advisory-lock lease), so per-key order holds
 * with several relays, which share the lanes between them.
 */
export function laneOf(key: string, lanes: number): number {
  // FNV-1a: stable across processes and versions, cheap.
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % lanes;
}
