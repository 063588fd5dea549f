import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import archiver from 'archiver';
import type { ExportJob } from './export-job';
import { exportKeys } from './export-job';
import { csvHead, safeName, type ExportMedia, type ManifestEntry } from './export-format';
import type { ExportStorage } from './export-storage';

export interface BundleFile {
  name: string;
  sha256: string;
  bytes: number;
}

export interface BundleResult {
  key: string;
  sha256: string;
  bytes: number;
  mediaFiles: number;
}

export interface SignedHead {
  chainSeq: number;
  hash: string;
  signedAt: string;
  keyId: string;
  signature: string;
}

type MediaStatus = 'included' | 'missing' | 'sha256_mismatch' | 'not_copied' | 'not_requested';

async function* concat(storage: ExportStorage, keys: string[], head = ''): AsyncGenerator<Buffer> {
  if (head) yield Buffer.from(head, 'utf8');
  for (const key of keys) {
    for await (const chunk of await storage.objects.get(storage.bucket, key)) yield chunk as Buffer;
  }
}

/**
 * Builds the export's zip from the parts its chunks wrote and streams it into EXPORT_BUCKET:
 * `records.jsonl`, `records.csv` (as asked), `media/<chainSeq>/<mediaId>-<file>` (each copy's
 * SHA-256 checked while it streams) and, last, `manifest.json` — every file's SHA-256, every
 * record's chain position, hash and previous hash, each medium's outcome, the chain range
 * covered and the latest signed chain head. Entries are written one after another (zip
 * streams are sequential), so memory stays flat whatever the export's size.
 */
export async function writeBundle(
  storage: ExportStorage,
  job: ExportJob,
  context: { signedHead: SignedHead | null; range: { first: number; last: number } | null },
): Promise<BundleResult> {
  const keys = exportKeys(job.corpId, job.id);
  const chunks = Array.from({ length: job.chunks }, (_, i) => i + 1);
  const zipHash = createHash('sha256');
  let zipBytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      zipHash.update(chunk);
      zipBytes += chunk.length;
      done(null, chunk);
    },
  });
  const zip = archiver('zip', { zlib: { level: 6 } });
  let failure: Error | undefined;
  const pendingEntries = new Map<string, () => void>();
  const fail = (err: Error) => {
    failure = err;
    for (const settle of [...pendingEntries.values()]) settle();
  };
  zip.on('warning', fail);
  zip.on('error', fail);
  // Into a local file first: its size known, the upload streams in fixed-size parts instead of
  // buffering one part as large as an unknown-size upload must assume.
  const dir = await mkdtemp(join(tmpdir(), 'qiwei-export-'));
  const file = join(dir, 'bundle.zip');
  const written = pipeline(zip, tap, createWriteStream(file));
  written.catch(fail);
  try {
    zip.on('entry', (entry) => pendingEntries.get(entry.name)?.());

    const add = (name: string, source: Readable): Promise<BundleFile> =>
      new Promise((resolve, reject) => {
        const hash = createHash('sha256');
        let bytes = 0;
        const hashed = new Transform({
          transform(chunk: Buffer, _enc, done) {
            hash.update(chunk);
            bytes += chunk.length;
            done(null, chunk);
          },
        });
        source.on('error', reject);
        source.pipe(hashed);
        pendingEntries.set(name, () => {
          pendingEntries.delete(name);
          if (failure) reject(failure);
          else resolve({ name, sha256: hash.digest('hex'), bytes });
        });
        zip.append(hashed, { name, date: job.createdAt });
      });

    const files: BundleFile[] = [];
    const parts = (what: 'jsonl' | 'csv' | 'manifest') => chunks.map((c) => keys.part(c, what));
    if (job.formats.includes('jsonl'))
      files.push(await add('records.jsonl', Readable.from(concat(storage, parts('jsonl')))));
    if (job.formats.includes('csv'))
      files.push(await add('records.csv', Readable.from(concat(storage, parts('csv'), csvHead()))));

    // Media, record by record, from the manifest parts.
    const outcomes = new Map<string, { status: MediaStatus; file: string | null }>();
    let mediaFiles = 0;
    const mediaKey = (chainSeq: number, m: ExportMedia) => `${chainSeq}/${m.mediaId}`;
    for (const key of parts('manifest')) {
      for (const entry of await readManifestPart(storage, key)) {
        for (const m of entry.media) {
          const id = mediaKey(entry.chainSeq, m);
          if (!job.includeMedia) {
            outcomes.set(id, { status: 'not_requested', file: null });
            continue;
          }
          if (!m.bucket || !m.key) {
            outcomes.set(id, { status: 'not_copied', file: null });
            continue;
          }
          if (!(await storage.objects.stat(m.bucket, m.key))) {
            outcomes.set(id, { status: 'missing', file: null });
            continue;
          }
          const name = `media/${entry.chainSeq}/${safeName(`${m.mediaId}-${m.filename}`)}`;
          const file = await add(name, await storage.objects.get(m.bucket, m.key));
          files.push(file);
          mediaFiles++;
          outcomes.set(id, {
            status: m.sha256 && m.sha256 !== file.sha256 ? 'sha256_mismatch' : 'included',
            file: name,
          });
        }
      }
    }

    const manifestHead = {
      format: 'qiwei-archive-export/1',
      exportId: job.id,
      corpId: job.corpId,
      requestedBy: job.requestedBy,
      source: job.source,
      filters: job.filters.map((f) => ({
        ...f,
        from: f.from?.toISOString() ?? null,
        to: f.to?.toISOString() ?? null,
      })),
      coverage: job.coverage,
      createdAt: job.createdAt.toISOString(),
      records: job.records,
      chain: {
        name: 'archive',
        first: context.range?.first ?? null,
        last: context.range?.last ?? null,
        signedHead: context.signedHead,
        howToVerify:
          'hash = SHA-256(bytes of prevHash || canonical JSON of the record line without hash); the archive chain at these positions has these hashes',
      },
      files,
    };
    const head = JSON.stringify(manifestHead, null, 2);
    async function* manifest(): AsyncGenerator<string> {
      yield `${head.slice(0, -2)},\n  "entries": [`;
      let first = true;
      for (const key of parts('manifest')) {
        for (const entry of await readManifestPart(storage, key)) {
          const line = JSON.stringify({
            ...entry,
            media: entry.media.map((m) => ({
              mediaId: m.mediaId,
              filename: m.filename,
              sha256: m.sha256,
              ...outcomes.get(mediaKey(entry.chainSeq, m)),
            })),
          });
          yield `${first ? '' : ','}\n    ${line}`;
          first = false;
        }
      }
      yield '\n  ]\n}\n';
    }
    await add('manifest.json', Readable.from(manifest()));
    await zip.finalize();
    await written;
    if (failure) throw failure;
    await storage.objects.put(
      storage.bucket,
      keys.bundle,
      createReadStream(file),
      zipBytes,
      'application/zip',
    );
    return { key: keys.bundle, sha256: zipHash.digest('hex'), bytes: zipBytes, mediaFiles };
  } catch (error) {
    zip.abort();
    await written.catch(() => undefined);
    throw error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function readManifestPart(storage: ExportStorage, key: string): Promise<ManifestEntry[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of await storage.objects.get(storage.bucket, key))
    chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ManifestEntry);
}
