/**
 * Where the machine's CPU went during a measured window, per process: the service, this process
 * (load generator + observer), and each PostgreSQL node's whole process tree (postmaster, backends,
 * WAL sender/receiver, autovacuum, ...; the observer's own backends included). Read from /proc
 * (Linux; see process-cpu.ts) and process.cpuUsage(); a process that cannot be read is null.
 *
 * Why: on a small machine that runs everything (service, two nodes, generator), a run that misses
 * its rate is usually one that ran out of CPU, and latency figures alone cannot say so. CPU per
 * request also gives an upper bound for the rate the machine could hold if CPU were the only
 * limit, which tells a user whether a target (the study's 300 req/s) is reachable on it at all.
 */
import os from 'node:os';
import { processTreeCpuSeconds } from './process-cpu.ts';

export type CpuProcess = 'service' | 'postgres-primary' | 'postgres-replica' | 'generator';

export interface CpuTargets {
  servicePid: number;
  /** Postmaster pids of an embedded cluster; null for a node that is not ours (external URL). */
  postgres?: { primary: number | null; replica: number | null };
  /** Generator worker processes (`--workers`), counted with the generator. */
  generatorPids?: readonly number[];
}

export interface CpuReading {
  /** Epoch ms. */
  at: number;
  seconds: Record<CpuProcess, number | null>;
}

export function readCpu(targets: CpuTargets): CpuReading {
  const own = process.cpuUsage();
  const tree = (pid: number | null | undefined): number | null => (pid ? processTreeCpuSeconds(pid) : null);
  return {
    at: Date.now(),
    seconds: {
      service: tree(targets.servicePid),
      'postgres-primary': tree(targets.postgres?.primary),
      'postgres-replica': tree(targets.postgres?.replica),
      generator: (own.user + own.system) / 1e6 + (targets.generatorPids ?? []).reduce((sum, pid) => sum + (tree(pid) ?? 0), 0),
    },
  };
}

export interface CpuShare {
  process: CpuProcess;
  label: string;
  cpuSeconds: number | null;
  /** Cores busy on average over the window (1 = one core). */
  cores: number | null;
  msPerRequest: number | null;
}

export interface CpuWindow {
  measuredAt: string;
  windowSeconds: number;
  /** Requests the figures are divided by (sent in the window). */
  requests: number;
  processes: CpuShare[];
  /** Sum over the processes that could be read; null if none could. */
  totalMsPerRequest: number | null;
  /** Processes that could not be read (their CPU is missing from the total). */
  unread: CpuProcess[];
  cpus: number;
  /**
   * cpus x 1000 / totalMsPerRequest: the rate at which the measured processes would use every
   * core. An upper bound from CPU alone (queueing makes latency grow well before it), not a rate
   * that was measured. Null when a process could not be read (e.g. PostgreSQL on another host):
   * a bound that leaves out part of the work would overstate what the machine can carry.
   */
  cpuBoundRateEstimate: number | null;
}

const LABELS: Record<CpuProcess, string> = {
  service: 'service (own process)',
  'postgres-primary': 'PostgreSQL primary (all its processes; the observer\'s backends included)',
  'postgres-replica': 'PostgreSQL replica (all its processes: WAL receive and replay)',
  generator: 'load generator + observer (this process and its generator workers)',
};

export function cpuWindow(a: CpuReading, b: CpuReading, requests: number, cpus = os.cpus().length): CpuWindow {
  const windowSeconds = (b.at - a.at) / 1000;
  const processes: CpuShare[] = (Object.keys(LABELS) as CpuProcess[]).map((p) => {
    const x = a.seconds[p];
    const y = b.seconds[p];
    const cpuSeconds = x === null || y === null ? null : Math.max(0, y - x);
    return {
      process: p,
      label: LABELS[p],
      cpuSeconds,
      cores: cpuSeconds === null || windowSeconds <= 0 ? null : cpuSeconds / windowSeconds,
      msPerRequest: cpuSeconds === null || requests <= 0 ? null : (cpuSeconds * 1000) / requests,
    };
  });
  const read = processes.filter((p) => p.msPerRequest !== null);
  const totalMsPerRequest = read.length === 0 ? null : read.reduce((s, p) => s + p.msPerRequest!, 0);
  return {
    measuredAt: 'CPU time of each process between the start and the end of the measured window (/proc on Linux; process.cpuUsage for this process)',
    windowSeconds,
    requests,
    processes,
    totalMsPerRequest,
    unread: processes.filter((p) => p.cpuSeconds === null).map((p) => p.process),
    cpus,
    cpuBoundRateEstimate: totalMsPerRequest && totalMsPerRequest > 0 && read.length === processes.length ? (cpus * 1000) / totalMsPerRequest : null,
  };
}
