import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TOPIC_CATALOG } from '@qiwei/contracts';
import { buildAsyncApiDocument, renderAsyncApiYaml } from './generate-asyncapi';
import { workspaceVersion } from './workspace-version';

// dist/tools/asyncapi/src/main.js → the repository root.
const REPO_ROOT = resolve(__dirname, '../../../..');
const OUTPUT = join(REPO_ROOT, 'docs/asyncapi.yaml');

const document = buildAsyncApiDocument(TOPIC_CATALOG, { version: workspaceVersion(REPO_ROOT) });
writeFileSync(OUTPUT, renderAsyncApiYaml(document));
process.stdout.write(`Wrote ${OUTPUT}\n`);
