/**
 * ConvertToPdf through LibreOffice headless (`soffice --convert-to pdf`).
 *
 * Each call gets its own temporary directory holding the input, the output and a private
 * LibreOffice profile (`-env:UserInstallation`): two soffice processes sharing a profile
 * block on its lock, and the second silently produces nothing. The directory is removed
 * whatever happens. A timeout kills the whole process group, because `soffice` is a launcher
 * script whose real work happens in a child process.
 */
import { spawn } from 'node:child_process';
import { availableParallelism, tmpdir } from 'node:os';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AppError, validationFailed } from '../errors/catalogue.js';
import { locateConverter } from './converter-locate.js';
import { sniffFileType, type SniffedType } from './file-type.js';
import { FORMAT_SPECS, assertMatchesFormat, inferSourceFormat, normalizeSourceFormat, type SourceFormat } from './source-formats.js';

export { SOURCE_FORMATS, normalizeSourceFormat, type SourceFormat } from './source-formats.js';

export const DEFAULT_CONVERT_TIMEOUT_MS = 120_000;
/** Each soffice process takes a few hundred MB; more than this queue instead of thrashing. */
export const DEFAULT_MAX_CONCURRENT_CONVERSIONS = Math.max(1, Math.min(4, Math.floor(availableParallelism() / 2)));
const MAX_CAPTURED_OUTPUT = 16 * 1024;

export interface ConverterOptions {
  /** Launcher to run; null means "not installed"; undefined looks for soffice/libreoffice on PATH. */
  command?: string | null;
  timeoutMs?: number;
  maxConcurrent?: number;
  /** Where the per-call temporary directories go (default: the OS temp directory). */
  tmpRoot?: string;
}

export interface Converter {
  available(): Promise<boolean>;
  convertToPdf(input: Buffer, sourceFormat?: string, path?: string): Promise<Buffer>;
}

/**
 * Documents are untrusted: no macros, no fetching of linked images or documents, no
 * updating of links to other files. Written into each fresh profile before soffice starts.
 */
const LOCKED_DOWN_PROFILE = `<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Writer/Content/Update"><prop oor:name="Link" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Content/Update"><prop oor:name="Link" oor:op="fuse"><value>1</value></prop></item>
</oor:items>
`;

export function createConverter(options: ConverterOptions = {}): Converter {
  const timeoutMs = options.timeoutMs ?? DEFAULT_CONVERT_TIMEOUT_MS;
  const limit = createLimiter(options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT_CONVERSIONS);
  let located: Promise<string | null> | undefined;
  const command = (): Promise<string | null> =>
    (located ??= options.command !== undefined ? Promise.resolve(options.command) : locateConverter());

  return {
    available: async () => (await command()) !== null,
    async convertToPdf(input, sourceFormat, path = 'file') {
      // Sniffed once: for a ZIP that means opening its directory, and inferring the format,
      // checking it and explaining a mismatch all need the answer.
      const type = sniffFileType(input);
      const format = resolveFormat(type, sourceFormat);
      assertMatchesFormat(type, format, path);
      const soffice = await command();
      if (soffice === null) {
        throw new AppError(
          'converter_unavailable',
          'Converting to PDF is not available on this server right now (the document converter is not installed). Try again later or contact the Build a Doc operator.',
        );
      }
      return limit(() => runConversion(soffice, input, format, timeoutMs, options.tmpRoot ?? tmpdir(), path));
    },
  };
}

const defaultConverter = createConverter();

/** Converts with LibreOffice found on PATH. See createConverter for the knobs. */
export function convertToPdf(input: Buffer, sourceFormat?: string, path = 'file'): Promise<Buffer> {
  return defaultConverter.convertToPdf(input, sourceFormat, path);
}

/** Whether LibreOffice is on PATH; looked up once per process. */
export function converterAvailable(): Promise<boolean> {
  return defaultConverter.available();
}

function resolveFormat(type: SniffedType, sourceFormat: string | undefined): SourceFormat {
  if (sourceFormat !== undefined && sourceFormat.trim() !== '') return normalizeSourceFormat(sourceFormat);
  const inferred = inferSourceFormat(type);
  if (inferred) return inferred;
  throw validationFailed(
    [{ path: 'sourceFormat', message: 'is required for this file' }],
    'The source format could not be told from the file. Set sourceFormat to the file\'s extension, e.g. "html" or "docx".',
  );
}

async function runConversion(
  soffice: string,
  input: Buffer,
  format: SourceFormat,
  timeoutMs: number,
  tmpRoot: string,
  path: string,
): Promise<Buffer> {
  const workDir = await mkdtemp(join(tmpRoot, 'bdoc-convert-'));
  try {
    const profileDir = join(workDir, 'profile');
    const outDir = join(workDir, 'out');
    const inputPath = join(workDir, `document.${format}`);
    await mkdir(join(profileDir, 'user'), { recursive: true });
    await writeFile(join(profileDir, 'user', 'registrymodifications.xcu'), LOCKED_DOWN_PROFILE);
    await writeFile(inputPath, input);

    const spec = FORMAT_SPECS[format];
    const args = [
      '--headless',
      '--invisible',
      '--nologo',
      '--nodefault',
      '--nolockcheck',
      '--norestore',
      `-env:UserInstallation=${pathToFileURL(profileDir).href}`,
      ...(spec.importFilter ? [`--infilter=${spec.importFilter}`] : []),
      '--convert-to',
      spec.exportFilter,
      '--outdir',
      outDir,
      inputPath,
    ];
    const run = await runProcess(soffice, args, timeoutMs, workDir);
    if (run.timedOut) {
      throw new AppError(
        'unavailable',
        `Converting the ${format} file to PDF took longer than ${Math.round(timeoutMs / 1000)} seconds and was stopped. Try a smaller document, or try again later.`,
      );
    }
    try {
      return await readFile(join(outDir, 'document.pdf'));
    } catch {
      if (/could not be loaded|general input\/output error/i.test(run.output)) {
        throw validationFailed(
          [{ path, message: `could not be opened as a ${format} file` }],
          `The converter could not open the file as ${format}. It may be damaged or password-protected; open and re-save it, then try again.`,
        );
      }
      // A plain Error: the HTTP edge answers 500 without details and logs this message,
      // which tells operators why but names server paths.
      throw new Error(`PDF conversion produced no output (exit ${run.exitCode}): ${run.output.slice(0, 2000)}`);
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

interface ProcessResult {
  exitCode: number | null;
  timedOut: boolean;
  output: string;
}

function runProcess(command: string, args: string[], timeoutMs: number, home: string): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    // HOME too is private: LibreOffice writes caches under it, and concurrent calls must not share them.
    const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: home } });
    let output = '';
    const capture = (chunk: Buffer): void => {
      if (output.length < MAX_CAPTURED_OUTPUT) output += chunk.toString('utf8');
    };
    child.stdout.on('data', capture);
    child.stderr.on('data', capture);

    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutMs);

    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (exitCode) => {
      clearTimeout(timer);
      resolve({ exitCode, timedOut, output });
    });
  });
}

/** The launcher's group holds soffice.bin too; `detached` made the launcher its leader. */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** A minimal FIFO semaphore: at most `max` tasks run at once. */
function createLimiter(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    // A finishing task hands its slot straight to the next waiter, so a newcomer arriving
    // in between cannot take it too.
    if (running >= max) await new Promise<void>((resume) => waiting.push(resume));
    else running++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
