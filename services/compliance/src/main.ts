import './instrumentation'; // first: OpenTelemetry patches http and pg before they load
import { runService } from '@qiwei/platform';
import { ComplianceModule } from './compliance.module';
import { complianceConfigSchema } from './config';
import { COMPLIANCE_OPENAPI } from './openapi';

void runService({
  name: 'compliance',
  configSchema: complianceConfigSchema,
  appModule: (config) => ComplianceModule.register(config),
  openapi: COMPLIANCE_OPENAPI,
});
