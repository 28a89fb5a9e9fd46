/**
 * Usage the database could not take when a node shut down, kept as files in DATA_DIR
 * (`usage-unwritten-*.json`) and written by the next start of a node with that folder. A file
 * is claimed by renaming it before it is read, so two nodes sharing the folder never both write it.
 */
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { makeDirectory } from '../lib/make-directory.js';
import path from 'node:path';
import type { UnwrittenUsage } from './usage-buffer.js';

const PREFIX = 'usage-unwritten-';

/** Writes `usage` to a new file in `dataDir` (whole or not at all) and answers its path. */
export function keepUnwrittenUsage(dataDir: string, usage: UnwrittenUsage): string {
  makeDirectory(dataDir);
  const file = path.join(dataDir, `${PREFIX}${Date.now()}-${process.pid}.json`);
  writeFileSync(`${file}.partial`, JSON.stringify(usage));
  renameSync(`${file}.partial`, file);
  return file;
}

/** A kept file this process took (claimed) to write: `done()` once written, `release()` to leave it for the next start. */
export interface ClaimedUsage {
  file: string;
  usage: UnwrittenUsage;
  done(): void;
  release(): void;
}

/** Claims every file of usage kept in `dataDir` (oldest first); none when the folder has none or does not exist. */
export function claimUnwrittenUsage(dataDir: string): ClaimedUsage[] {
  let names: string[];
  try {
    names = readdirSync(dataDir);
  } catch {
    return [];
  }
  const claimed: ClaimedUsage[] = [];
  for (const name of names.filter((n) => n.startsWith(PREFIX) && n.endsWith('.json')).sort()) {
    const file = path.join(dataDir, name);
    const mine = `${file}.claimed-${process.pid}`;
    try {
      renameSync(file, mine);
    } catch {
      continue; // another node claimed it first
    }
    claimed.push({
      file,
      usage: JSON.parse(readFileSync(mine, 'utf8')) as UnwrittenUsage,
      done: () => rmSync(mine, { force: true }),
      release: () => renameSync(mine, file),
    });
  }
  return claimed;
}
