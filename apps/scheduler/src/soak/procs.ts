/** The soak's processes, each started in a network namespace with `ip netns exec` (which execs: the pid is the command's). */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

export interface SoakProc {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Set by the soak before it kills the process on purpose: its exit is then no surprise. */
  killedOnPurpose: boolean;
  /** Its last output lines (say why, when it exits on its own). */
  lastLines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
}

/**
 * Starts `cmd args` in namespace `ns`; every output line is appended to `log` and handed to onLine (the JSON lines of
 * the workers tell the soak their training processes' pids).
 */
export function startIn(
  ns: string,
  name: string,
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  log: WriteStream,
  onLine?: (line: string) => void,
  cwd?: string,
): SoakProc {
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  child.on('error', (err) => log.write(`[soak] ${name}: ${err.message}\n`));
  for (const s of [child.stdout, child.stderr]) {
    if (!s) continue;
    createInterface({ input: s }).on('line', (line) => {
      p.lastLines.push(line);
      if (p.lastLines.length > 2) p.lastLines.shift();
      log.write(`${line}\n`);
      onLine?.(line);
    });
  }
  const p: SoakProc = {
    name,
    child,
    pid: child.pid ?? -1,
    killedOnPurpose: false,
    lastLines: [],
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
  };
  return p;
}

export function openLog(file: string): WriteStream {
  return createWriteStream(file, { flags: 'a' });
}

/** Peak resident set size (VmHWM) of a live process, in kB; null when it is gone. */
export function peakRssKb(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** The command line of a live process ('' when it is gone): checked before a kill, so a reused pid is never hit. */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
