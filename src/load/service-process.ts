/**
 * The service under test runs in its own process, never in the load generator's event loop:
 * `esbench serve --ready-json` with the trial's settings, stopped with SIGTERM afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import readline from 'node:readline';
import { EsbenchError } from '../core/errors.ts';

const BIN = fileURLToPath(new URL('../../bin/esbench.js', import.meta.url));

export interface ServiceProcess {
  url: string;
  pid: number;
  /** Lines the service wrote to stderr (warnings), for the run record. */
  stderr: string[];
  stop(): Promise<void>;
}

export interface ServiceProcessOptions {
  /** `serve` flags: pool sizes, strategy, decisions... (already validated by the caller). */
  args: readonly string[];
  primaryUrl: string;
  replicaUrl: string;
  startTimeoutMs?: number;
  /** Environment for the child (the CLI's, passed down; nothing read here). */
  env: Readonly<Record<string, string | undefined>>;
}

export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [BIN, 'serve', '--ready-json', '--port', '0', '--primary-url', options.primaryUrl, '--replica-url', options.replicaUrl, ...options.args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...options.env } as NodeJS.ProcessEnv },
  );
  const stderr: string[] = [];
  readline.createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new EsbenchError('INTERNAL', `the service did not start within ${options.startTimeoutMs ?? 30_000} ms`)), options.startTimeoutMs ?? 30_000);
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; url?: string };
        if (msg.event === 'listening' && msg.url) {
          clearTimeout(timer);
          resolve(msg.url);
        }
      } catch {
        /* not a JSON line: ignore */
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new EsbenchError('INTERNAL', `the service exited (code ${code}) before listening: ${stderr.slice(-2).join(' | ')}`));
    });
  }).catch(async (e: unknown) => {
    child.kill('SIGKILL');
    await exited;
    throw e;
  });
  return {
    url,
    pid: child.pid ?? -1,
    stderr,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
