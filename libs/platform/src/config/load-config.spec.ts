import { z } from 'zod';
import { ConfigurationError, loadConfig, platformConfigSchema } from './load-config';

describe('loadConfig', () => {
  const schema = platformConfigSchema.extend({ API_KEY: z.string().min(8) });

  it('applies defaults and converts types', () => {
    const config = loadConfig(schema, { PORT: '4001', API_KEY: '12345678' });
    expect(config).toMatchObject({
      PORT: 4001,
      HOST: '0.0.0.0',
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_MS: 10_000,
    });
  });

  it('names every missing or invalid variable', () => {
    let error: unknown;
    try {
      loadConfig(schema, { PORT: 'x', LOG_LEVEL: 'loud', API_KEY: '' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    const problems = (error as ConfigurationError).problems.map((p) => p.variable).sort();
    expect(problems).toEqual(['API_KEY', 'LOG_LEVEL', 'PORT']);
    expect((error as Error).message).toContain('API_KEY: is required but not set');
  });
});
