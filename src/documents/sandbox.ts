/**
 * Where LibreOffice runs. With bubblewrap (Debian's `bubblewrap`), every conversion gets new
 * namespaces with no network at all, a read-only view of /usr and the few files of /etc that
 * fonts and LibreOffice read, a private /tmp, and its own work directory as the only place it
 * can write or read anything of ours; the environment is cleared (the server's variables,
 * DATABASE_URL among them, never reach it). Without bubblewrap (`CONVERT_SANDBOX=none`, or
 * `auto` where it cannot run) LibreOffice runs as a plain process with the same clean
 * environment, and only the document filter (external-references.ts) keeps it off the network.
 */
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';

export type SandboxMode = 'bubblewrap' | 'none';
export type SandboxSetting = SandboxMode | 'auto';

/** The only variables a conversion sees. */
export function cleanEnvironment(workDir: string): Record<string, string> {
  return { HOME: workDir, TMPDIR: workDir, LANG: 'C.UTF-8', PATH: '/usr/local/bin:/usr/bin:/bin', SAL_USE_VCLPLUGIN: 'svp' };
}

const READ_ONLY = [
  '/usr',
  '/etc/fonts',
  '/etc/libreoffice',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/alternatives',
  '/var/cache/fontconfig',
];

/** The bwrap arguments that wrap `command args` in the sandbox, `workDir` its only writable place. */
export function bubblewrapArgs(workDir: string, command: string, args: string[]): string[] {
  const env = Object.entries(cleanEnvironment(workDir)).flatMap(([name, value]) => ['--setenv', name, value]);
  return [
    '--unshare-all', // network, PID, IPC, UTS, user and cgroup namespaces: nothing to reach
    '--die-with-parent',
    '--new-session',
    ...READ_ONLY.flatMap((path) => ['--ro-bind-try', path, path]),
    '--symlink',
    'usr/lib',
    '/lib',
    '--symlink',
    'usr/lib64',
    '/lib64',
    '--symlink',
    'usr/bin',
    '/bin',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--tmpfs',
    '/tmp',
    '--bind',
    workDir,
    workDir,
    '--chdir',
    workDir,
    '--clearenv',
    ...env,
    '--',
    command,
    ...args,
  ];
}

let probed: SandboxMode | undefined;

/** Whether bubblewrap can make a sandbox here (namespaces may be forbidden in a container). */
export function bubblewrapWorks(): boolean {
  // The very sandbox a conversion gets, around `true`, in the system's temporary directory.
  const run = spawnSync('bwrap', bubblewrapArgs(tmpdir(), '/usr/bin/true', []), {
    stdio: 'ignore',
    timeout: 10_000,
  });
  return run.status === 0;
}

/** The mode a setting resolves to; `auto` is probed once per process. Throws when bubblewrap is required but cannot run. */
export function resolveSandbox(setting: SandboxSetting): SandboxMode {
  if (setting === 'none') return 'none';
  probed ??= bubblewrapWorks() ? 'bubblewrap' : 'none';
  if (setting === 'bubblewrap' && probed !== 'bubblewrap') {
    throw new Error(
      'CONVERT_SANDBOX=bubblewrap, but bubblewrap cannot run here: install the Debian package bubblewrap (and allow user namespaces), or set CONVERT_SANDBOX=auto',
    );
  }
  return probed;
}
