/**
 * ConvertToPdf through LibreOffice headless (`soffice --convert-to pdf`).
 *
 * Each call gets its own temporary directory holding the input, the output and a private
 * LibreOffice profile (`-env:UserInstallation`): two soffice processes sharing a profile
 * block on its lock, and the second silently produces nothing. The directory is removed
 * whatever happens. A timeout kills the whole process group, because `soffice` is a launcher
 * script whose real work happens in a child process. LibreOffice runs in a sandbox (sandbox.ts)
 * with a clean environment, behind a fair, bounded queue (conversion-queue.ts), and only ever
 * sees documents whose external references were removed or refused (external-references.ts).
 */
import { spawn } from 'node:child_process';
import { availableParallelism, tmpdir } from 'node:os';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defaultDocumentLimits } from '../config.js';
import { AppError, validationFailed } from '../errors/catalogue.js';
import { ConversionQueue } from './conversion-queue.js';
import { locateConverter } from './converter-locate.js';
import { withoutExternalReferences } from './external-references.js';
import { bubblewrapArgs, cleanEnvironment, resolveSandbox, type SandboxMode, type SandboxSetting } from './sandbox.js';
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
  /** CONVERT_SANDBOX: bubblewrap, none, or auto (bubblewrap where it can run). */
  sandbox?: SandboxSetting;
  /** Conversions waiting at most (CONVERT_QUEUE_MAX) and for how long (CONVERT_QUEUE_WAIT_SECONDS). */
  queueMax?: number;
  queueWaitMs?: number;
}

export interface Converter {
  available(): Promise<boolean>;
  /** How LibreOffice is confined: `bubblewrap`, or `none` (the document filter alone). */
  readonly sandbox: SandboxMode;
  /** The format to convert from: the declared one checked against the bytes, or the sniffed one. */
  resolveFormat(input: Buffer, sourceFormat: string | undefined, path?: string): SourceFormat;
  /** Converts a document already cleaned of external references, in `orgId`'s turn. */
  convertPrepared(input: Buffer, format: SourceFormat, orgId: string, path?: string): Promise<Buffer>;
  /** resolveFormat, the external-reference filter (in this thread) and convertPrepared in one. */
  convertToPdf(input: Buffer, sourceFormat?: string, path?: string, orgId?: string): Promise<Buffer>;
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
  const sandbox = resolveSandbox(options.sandbox ?? 'auto');
  const queue = new ConversionQueue({
    slots: options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT_CONVERSIONS,
    maxWaiting: options.queueMax ?? 16,
    maxWaitMs: options.queueWaitMs ?? 60_000,
  });
  let located: Promise<string | null> | undefined;
  const command = (): Promise<string | null> => (located ??= options.command !== undefined ? Promise.resolve(options.command) : locateConverter());

  const converter: Converter = {
    available: async () => (await command()) !== null,
    sandbox,
    resolveFormat: resolveSourceFormat,
    async convertPrepared(input, format, orgId, path = 'file') {
      const soffice = await command();
      if (soffice === null) {
        throw new AppError(
          'converter_unavailable',
          'Converting to PDF is not available on this server right now (the document converter is not installed). Try again later or contact the Build a Doc operator.',
        );
      }
      return queue.run(orgId, () => runConversion({ soffice, sandbox, input, format, timeoutMs, tmpRoot: options.tmpRoot ?? tmpdir(), path }));
    },
    async convertToPdf(input, sourceFormat, path = 'file', orgId = 'default') {
      const format = converter.resolveFormat(input, sourceFormat, path);
      return converter.convertPrepared(withoutExternalReferences(input, format, defaultDocumentLimits(), path), format, orgId, path);
    },
  };
  return converter;
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

/** The format to convert `input` from: `sourceFormat` when given (checked against the content), else inferred from it. */
export function resolveSourceFormat(input: Buffer, sourceFormat: string | undefined, path = 'file'): SourceFormat {
  // Sniffed once: for a ZIP that means opening its directory, and inferring the format,
  // checking it and explaining a mismatch all need the answer.
  const type = sniffFileType(input);
  const format = resolveFormat(type, sourceFormat);
  assertMatchesFormat(type, format, path);
  return format;
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

interface Conversion {
  soffice: string;
  sandbox: SandboxMode;
  input: Buffer;
  format: SourceFormat;
  timeoutMs: number;
  tmpRoot: string;
  path: string;
}

async function runConversion({ soffice, sandbox, input, format, timeoutMs, tmpRoot, path }: Conversion): Promise<Buffer> {
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
    const run =
      sandbox === 'bubblewrap'
        ? await runProcess('bwrap', bubblewrapArgs(workDir, soffice, args), timeoutMs, workDir)
        : await runProcess(soffice, args, timeoutMs, workDir);
    if (run.timedOut) {
      // The work had started: the quota place stays used, so a slow document cannot be replayed for free.
      throw new AppError(
        'document_too_complex',
        `Converting the ${format} file to PDF took longer than ${Math.max(1, Math.round(timeoutMs / 1000))} seconds (DOC_TIMEOUT_SECONDS) and was stopped. Send a smaller or simpler document.`,
        { billed: true, extras: { limit: 'DOC_TIMEOUT_SECONDS', limitSeconds: timeoutMs / 1000 } },
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
    // A clean environment (no server variable reaches LibreOffice); HOME too is private:
    // LibreOffice writes caches under it, and concurrent calls must not share them.
    const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnvironment(home) });
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
