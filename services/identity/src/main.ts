import './instrumentation'; // first: OpenTelemetry patches http and pg before they load
import { runService } from '@qiwei/platform';
import { IdentityModule } from './identity.module';
import { identityConfigSchema } from './config';
import { IDENTITY_OPENAPI } from './openapi';

void runService({
  name: 'identity',
  configSchema: identityConfigSchema,
  appModule: (config) => IdentityModule.register(config),
  openapi: IDENTITY_OPENAPI,
});
