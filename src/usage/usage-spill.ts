/**
 * Usage the database could not take when a node shut down, kept as files in DATA_DIR
 * (`usage-unwritten-*.json`) and written by the next start of a node with that folder. A file
 * is claimed by renaming it before it is read (`….claimed-<host>-<pid>`), so two nodes sharing
 * the folder never both write it; a claim left by a process of this machine that has since
 * ended (it stopped before writing) is claimed again.
 */
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
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
  // What every claim by a process of this machine has before its pid: `.claimed-<host>-`.
  const claimMark = claimedName('', '');
  for (const name of names.sort()) {
    if (!name.startsWith(PREFIX)) continue;
    const kept = name.endsWith('.json') ? name : abandonedClaim(name, claimMark);
    if (!kept) continue;
    const file = path.join(dataDir, kept);
    const mine = claimedName(file, process.pid);
    try {
      renameSync(path.join(dataDir, name), mine);
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

/** The name a kept file takes while process `pid` of this machine writes it. */
export function claimedName(kept: string, pid: number | string): string {
  return `${kept}.claimed-${os.hostname().replace(/[^A-Za-z0-9.]/g, '_')}-${pid}`;
}

/** The kept file's own name when `name` is a claim of it by a process of this machine that has ended. */
function abandonedClaim(name: string, claimMark: string): string | undefined {
  const at = name.lastIndexOf(claimMark);
  if (at < 0 || !name.slice(0, at).endsWith('.json')) return undefined;
  const pid = Number(name.slice(at + claimMark.length));
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || isRunning(pid)) return undefined;
  return name.slice(0, at);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
