import { startTracingFromEnv } from '@qiwei/platform/tracing';

startTracingFromEnv('compliance');
