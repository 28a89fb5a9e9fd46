import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('configuration is parsed once and a bad value names its variable', () => {
  it('has the CONTRACT defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      redisUrl: undefined,
      publicUrl: 'http://localhost:3000',
      logLevel: 'info',
    });
    expect(config.dataDir).toMatch(/\/data$/);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      DATA_DIR: '/tmp/x',
      DATABASE_URL: 'postgres://u@db:5432/bdoc',
      REDIS_URL: 'redis://cache:6379',
      PUBLIC_URL: 'https://keys.example.com/',
      LOG_LEVEL: 'WARN',
      TRUST_PROXY: 'true',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      dataDir: '/tmp/x',
      databaseUrl: 'postgres://u@db:5432/bdoc',
      redisUrl: 'redis://cache:6379',
      publicUrl: 'https://keys.example.com',
      logLevel: 'warn',
      trustProxy: true,
    });
  });

  it.each([
    [{ PORT: 'eighty' }, /^PORT must be a whole number/],
    [{ PORT: '70000' }, /^PORT must be between 0 and 65535/],
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL must start with postgres:\/\/ or postgresql:\/\//],
    [{ DATABASE_URL: 'not a url' }, /^DATABASE_URL must be a URL/],
    [{ DATABASE_LISTEN_URL: 'postgres://127.0.0.1/portal' }, /^DATABASE_LISTEN_URL is for PostgreSQL: set DATABASE_URL too/],
    [{ DATABASE_URL: 'postgres://127.0.0.1/portal', DATABASE_LISTEN_URL: 'http://x' }, /^DATABASE_LISTEN_URL must start with postgres:\/\//],
    [{ REDIS_URL: 'http://x' }, /^REDIS_URL must start with redis:\/\//],
    [{ PUBLIC_URL: 'ftp://x' }, /^PUBLIC_URL must start with http:\/\/ or https:\/\//],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of/],
    [{ TRUST_PROXY: 'maybe' }, /^TRUST_PROXY must be true or false/],
    [{ USAGE_FLUSH_MS: '5000' }, /^USAGE_FLUSH_MS must be between 10 and 1000/],
  ])('%o is refused', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('never echoes a database password', () => {
    for (const url of ['postgres//user:hunter2@db', 'post gres://user:hunter2@db']) {
      let message = '';
      expect(() => {
        try {
          loadConfig({ DATABASE_URL: url });
        } catch (error) {
          message = (error as Error).message;
          throw error;
        }
      }).toThrow(/^DATABASE_URL must be a URL/);
      expect(message).not.toContain('hunter2');
    }
  });
});
