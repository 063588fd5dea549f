import './instrumentation'; // first: OpenTelemetry patches http and pg before they load
import { runService } from '@qiwei/platform';
import { messagingConfigSchema } from './config';
import { MessagingModule } from './messaging.module';
import { MESSAGING_OPENAPI } from './openapi';

void runService({
  name: 'messaging',
  configSchema: messagingConfigSchema,
  appModule: (config) => MessagingModule.register(config),
  openapi: MESSAGING_OPENAPI,
});
