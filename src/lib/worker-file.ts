import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * A worker thread's module `name` beside the module at `base` (its `import.meta.url`): the
 * compiled JavaScript when there is one (the build), else the TypeScript source run through tsx.
 */
export function workerFile(name: string, base: string): { filename: string; execArgv: string[] } {
  const compiled = fileURLToPath(new URL(`./${name}.js`, base));
  if (existsSync(compiled)) return { filename: compiled, execArgv: [] };
  return { filename: fileURLToPath(new URL(`./${name}.ts`, base)), execArgv: ['--import', 'tsx'] };
}
