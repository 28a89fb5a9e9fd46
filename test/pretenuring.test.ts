import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');

describe('the server turns V8 pretenuring off', () => {
  it('the flag exists on this Node: V8 takes it without a word (it writes "unrecognized flag" to stderr otherwise)', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', '-e', "import('./src/lib/pretenuring.ts').then((m) => m.disablePretenuring())"], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
  });
});
