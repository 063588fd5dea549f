// npm run compliance:verify -- <corpId> — recomputes a corp's archive and access-log chains and
// checks the signed heads, straight against the database (DATABASE_URL, COMPLIANCE_SIGNING_KEY),
// without the service running; with S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY (and ARCHIVE_BUCKET)
// also against the signed heads stored in object storage. Exits 0 when both chains verify, 1
// when a link is broken.
import { asCorpId, createDataSource } from '@qiwei/persistence';
import { ObjectStorage, storageConfigSchema } from '@qiwei/storage';
import { parseSigningKeys } from '../chain/chain-signing-keys';
import { verifyChain, type HeadStore } from '../chain/chain-verifier';

async function main(): Promise<number> {
  const corpId = process.argv[2];
  const url = process.env.DATABASE_URL;
  const keys = process.env.COMPLIANCE_SIGNING_KEY;
  if (!corpId || !url || !keys) {
    process.stderr.write(
      'usage: DATABASE_URL=… COMPLIANCE_SIGNING_KEY=… npm run compliance:verify -- <corpId>\n',
    );
    return 2;
  }
  const dataSource = createDataSource({
    url,
    applicationName: 'qiwei-compliance-verify',
    entities: [],
    migrations: [],
  });
  await dataSource.initialize();
  try {
    const signing = parseSigningKeys(keys);
    const store: HeadStore | undefined = process.env.S3_ENDPOINT
      ? {
          objects: new ObjectStorage(storageConfigSchema.parse(process.env)),
          bucket: process.env.ARCHIVE_BUCKET || 'qiwei-compliance-archive',
        }
      : undefined;
    const reports = [
      await verifyChain(dataSource, signing, asCorpId(corpId), 'archive', store),
      await verifyChain(dataSource, signing, asCorpId(corpId), 'access', store),
    ];
    process.stdout.write(`${JSON.stringify({ corpId, reports }, null, 2)}\n`);
    return reports.every((r) => r.ok) ? 0 : 1;
  } finally {
    await dataSource.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  },
);
