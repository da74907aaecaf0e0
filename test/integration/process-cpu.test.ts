import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { processTreeCpuSeconds } from '../../src/observe/process-cpu.ts';

const BUSY_MS = 400;
/** Of the child's ~0.4 s busy loop, at least this much must show up in the tree's CPU. */
const MIN_CHILD_CPU_S = 0.2;

/**
 * A node child that spins until it has used BUSY_MS of CPU (not of wall-clock time: on a loaded
 * machine a wall-clock loop gets less CPU than that), prints "busy done", then stays alive or exits.
 */
function burner(stayAlive: boolean): ChildProcess {
  const code = `const t0 = process.cpuUsage(); for (;;) { const u = process.cpuUsage(t0); if ((u.user + u.system) / 1000 >= ${BUSY_MS}) break; } process.stdout.write('busy done\\n');${stayAlive ? ' setInterval(() => {}, 1000);' : ''}`;
  return spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
}

async function printed(child: ChildProcess, text: string): Promise<void> {
  let out = '';
  for await (const chunk of child.stdout!) {
    out += String(chunk);
    if (out.includes(text)) return;
  }
  throw new Error(`child ended without printing '${text}'`);
}

/** This process's own CPU so far (all threads), s; subtracted so only the child's share is judged. */
const ownCpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await once(c, 'exit');
    }
  }
});

describe('processTreeCpuSeconds', () => {
  it.skipIf(process.platform !== 'linux')('is null for a pid that does not exist', () => {
    // Above the kernel's pid_max limit (2^22), so no process can have it.
    expect(processTreeCpuSeconds(2 ** 22 + 1)).toBeNull();
    expect(processTreeCpuSeconds(-1)).toBeNull();
  });

  it.skipIf(process.platform !== 'linux')('counts a live child\'s CPU', async () => {
    const tree0 = processTreeCpuSeconds(process.pid);
    const own0 = ownCpu();
    expect(tree0).not.toBeNull();
    const child = burner(true);
    children.push(child);
    await printed(child, 'busy done');
    // The child is still running (idle) here: its CPU is counted as a live child's.
    const tree1 = processTreeCpuSeconds(process.pid)!;
    const own1 = ownCpu();
    expect(child.exitCode).toBeNull();
    expect(tree1 - tree0! - (own1 - own0)).toBeGreaterThanOrEqual(MIN_CHILD_CPU_S);
  });

  it.skipIf(process.platform !== 'linux')('keeps counting a child after it has exited and been reaped (cutime)', async () => {
    const tree0 = processTreeCpuSeconds(process.pid);
    const own0 = ownCpu();
    expect(tree0).not.toBeNull();
    const child = burner(false);
    children.push(child);
    // Node reaps the child before it emits 'exit'; its CPU is then in this process's cutime + cstime.
    await once(child, 'exit');
    const tree1 = processTreeCpuSeconds(process.pid)!;
    const own1 = ownCpu();
    expect(child.exitCode).toBe(0);
    expect(tree1 - tree0! - (own1 - own0)).toBeGreaterThanOrEqual(MIN_CHILD_CPU_S);
  });
});
