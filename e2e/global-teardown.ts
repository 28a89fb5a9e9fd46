import { rmSync } from 'node:fs';

/** The temporary database goes with the run. */
export default function globalTeardown(): void {
  const dir = process.env.E2E_DATA_DIR;
  if (dir?.includes('bdoc-e2e-')) rmSync(dir, { recursive: true, force: true });
}
