/**
 * Finds the LibreOffice launcher on PATH. Debian installs `soffice` and `libreoffice` in
 * /usr/bin; the macOS app bundle and some distributions only have one of the two.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

export const CONVERTER_NAMES = ['soffice', 'libreoffice'] as const;

/** Absolute path of the first executable LibreOffice launcher on `pathEnv`, or null. */
export async function locateConverter(pathEnv: string | undefined = process.env['PATH']): Promise<string | null> {
  const dirs = (pathEnv ?? '').split(delimiter).filter((dir) => dir !== '');
  for (const dir of dirs) {
    for (const name of CONVERTER_NAMES) {
      const candidate = join(dir, name);
      try {
        await access(candidate, constants.X_OK);
        return candidate;
      } catch {
        // Not here; keep looking.
      }
    }
  }
  return null;
}
