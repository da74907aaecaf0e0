/**
 * The service under test runs in its own process, never in the load generator's event loop:
 * `esbench serve --ready-json` with the trial's settings, stopped with SIGTERM afterwards.
 *
 * The trial's settings travel whole: the resolved Config is written as JSON to the child's stdin
 * (`serve --config -`), validated there by the same resolveConfig, and echoed back in the child's
 * ready line; a child whose echo differs from what was sent is stopped and reported. (Turning the
 * config into flags and parsing them again lost the replica pool's idle/lifetime/acquire/statement
 * settings.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import { fileURLToPath } from 'node:url';
import readline from 'node:readline';
import type { Config } from '../core/config.ts';
import { redactConfig } from '../core/redact.ts';
import { EsbenchError } from '../core/errors.ts';

const BIN = fileURLToPath(new URL('../../bin/esbench.js', import.meta.url));

export interface ServiceProcess {
  url: string;
  pid: number;
  /** Lines the service wrote to stderr (warnings), for the run record. */
  stderr: string[];
  /** The config the child resolved and runs with (echoed by `serve --ready-json`). */
  config: unknown;
  stop(): Promise<void>;
}

export interface ServiceProcessOptions {
  /**
   * The whole resolved config (cluster URLs, pools, service). Sent as `serve --config -`.
   * Its cluster.primaryUrl / replicaUrl are the ones the service uses.
   */
  config?: Readonly<Config>;
  /** Legacy: `serve` flags (pool sizes...) for callers without a Config; ignored when `config` is set. */
  args?: readonly string[];
  primaryUrl: string;
  replicaUrl: string;
  startTimeoutMs?: number;
  /** Environment for the child (the CLI's, passed down; nothing read here). */
  env: Readonly<Record<string, string | undefined>>;
}

/** The config a child receives: the caller's, pointed at this target, on any free port. */
export function childConfig(config: Readonly<Config>, primaryUrl: string, replicaUrl: string): Config {
  const c = structuredClone(config) as Config;
  c.cluster.primaryUrl = primaryUrl;
  c.cluster.replicaUrl = replicaUrl;
  c.service.port = 0;
  return c;
}

/** The parts of an echoed config safe to print (the cluster part holds URLs with passwords). */
function pick(config: unknown): unknown {
  const c = config as { pools?: unknown; service?: unknown } | undefined;
  return { pools: c?.pools, service: c?.service };
}

export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const sent = options.config ? childConfig(options.config, options.primaryUrl, options.replicaUrl) : undefined;
  const args = sent
    ? [BIN, 'serve', '--ready-json', '--config', '-']
    : [BIN, 'serve', '--ready-json', '--port', '0', '--primary-url', options.primaryUrl, '--replica-url', options.replicaUrl, ...(options.args ?? [])];
  const child: ChildProcess = spawn(process.execPath, args, {
    stdio: [sent ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    env: { ...options.env } as NodeJS.ProcessEnv,
  });
  if (sent) {
    child.stdin!.on('error', () => undefined); // a child that died early: reported by its exit below
    child.stdin!.end(JSON.stringify(sent));
  }
  const stderr: string[] = [];
  readline.createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await new Promise<{ url: string; config: unknown }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new EsbenchError('INTERNAL', `the service did not start within ${options.startTimeoutMs ?? 30_000} ms`)), options.startTimeoutMs ?? 30_000);
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; url?: string; config?: unknown };
        if (msg.event === 'listening' && msg.url) {
          clearTimeout(timer);
          resolve({ url: msg.url, config: msg.config });
        }
      } catch {
        /* not a JSON line: ignore */
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new EsbenchError('INTERNAL', `the service exited (code ${code}) before listening: ${stderr.slice(-2).join(' | ')}`));
    });
  })
    .then((r) => {
      // The child echoes its config with the passwords redacted; compare like with like.
      if (sent && !isDeepStrictEqual(r.config, JSON.parse(JSON.stringify(redactConfig(sent))))) {
        throw new EsbenchError('SERVICE_CONFIG_MISMATCH', `the service runs with another config than the trial sent (pools/service: ${JSON.stringify(pick(r.config))})`);
      }
      return r;
    })
    .catch(async (e: unknown) => {
      child.kill('SIGKILL');
      await exited;
      throw e;
    });
  return {
    url: ready.url,
    pid: child.pid ?? -1,
    stderr,
    config: ready.config,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
