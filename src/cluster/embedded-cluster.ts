/**
 * An embedded PostgreSQL primary + streaming replica under one project-local directory.
 *
 * There is no pg_basebackup in the npm packages, so the replica is made from a cleanly stopped
 * primary's data directory plus `standby.signal` and `primary_conninfo`, with a physical
 * replication slot so the primary keeps the WAL the replica still needs.
 *
 * Layout of `<dataDir>`: cluster.json (ports, intent), primary/, replica/, primary.log, replica.log.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { EsbenchError } from '../core/errors.ts';
import { binPath, findPgBinaries, type PgBinaries } from './binaries.ts';
import { canExecute, canWrite, resolveRunAs, type OsUser } from './os-user.ts';
import { freePort } from './ports.ts';
import { isAlive, isZombie } from './process.ts';

export type NodeName = 'primary' | 'replica';
export const NODES: readonly NodeName[] = ['primary', 'replica'];
export const DATABASE = 'esbench';
export const SUPERUSER = 'postgres';
const SLOT = 'esbench_replica';

export interface ClusterState {
  version: 1;
  pgVersion: string;
  binDir: string;
  runAs: string | null;
  ports: Record<NodeName, number>;
  /** 'up' after `up`, 'down' after `down`: a node down while intent is 'up' has crashed. */
  intent: 'up' | 'down';
  createdAt: string;
}

export interface EmbeddedClusterOptions {
  dataDir: string;
  tuningDir: string;
  runAs?: string | undefined;
  pgBinDir?: string | undefined;
  /** Called with one line per step (progress). */
  onProgress?: (line: string) => void;
}

export interface NodeProcessStatus {
  node: NodeName;
  port: number;
  pid: number | null;
  state: 'running' | 'stopped' | 'crashed' | 'absent';
  dataDir: string;
  log: string;
}

export function urlFor(port: number, database = DATABASE, user = SUPERUSER): string {
  return `postgres://${user}@127.0.0.1:${port}/${database}`;
}

export class EmbeddedCluster {
  readonly dataDir: string;
  private readonly tuningDir: string;
  private readonly runAsName: string | undefined;
  private readonly pgBinDir: string | undefined;
  private readonly progress: (line: string) => void;
  private user: OsUser | undefined | null = null;
  private bins: PgBinaries | undefined;

  constructor(options: EmbeddedClusterOptions) {
    this.dataDir = path.resolve(options.dataDir);
    this.tuningDir = path.resolve(options.tuningDir);
    this.runAsName = options.runAs;
    this.pgBinDir = options.pgBinDir;
    this.progress = options.onProgress ?? (() => {});
  }

  get stateFile(): string {
    return path.join(this.dataDir, 'cluster.json');
  }

  nodeDir(node: NodeName): string {
    return path.join(this.dataDir, node);
  }

  logFile(node: NodeName): string {
    return path.join(this.dataDir, `${node}.log`);
  }

  readState(): ClusterState | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.stateFile, 'utf8')) as ClusterState;
    } catch {
      return undefined;
    }
  }

  private writeState(state: ClusterState): void {
    const tmp = `${this.stateFile}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(state, null, 2));
    fs.renameSync(tmp, this.stateFile);
  }

  private osUser(): OsUser | undefined {
    if (this.user === null) this.user = resolveRunAs(this.runAsName);
    return this.user;
  }

  private binaries(): PgBinaries {
    if (!this.bins) {
      const bins = findPgBinaries(this.pgBinDir);
      const user = this.osUser();
      if (!canExecute(user, binPath(bins, 'postgres'))) {
        throw new EsbenchError(
          'POSTGRES_NOT_FOUND',
          `user '${user?.name}' cannot execute ${binPath(bins, 'postgres')}: make its directories world-readable or pass --run-as`,
        );
      }
      this.bins = bins;
    }
    return this.bins;
  }

  /** Runs a PostgreSQL program as the unprivileged user; rejects with its output on failure. */
  private run(program: 'initdb' | 'pg_ctl' | 'postgres', args: string[], timeoutMs = 120_000): Promise<string> {
    const user = this.osUser();
    const bins = this.binaries();
    return new Promise((resolve, reject) => {
      const child = spawn(binPath(bins, program), args, {
        ...(user ? { uid: user.uid, gid: user.gid } : {}),
        cwd: this.dataDir,
        // pg_ctl's postmaster must outlive us; it detaches by itself, we only wait for pg_ctl.
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C', TZ: 'UTC' },
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(output);
        else reject(new Error(`${program} ${args.join(' ')} exited with ${code}: ${output.trim().split('\n').slice(-3).join(' | ')}`));
      });
    });
  }

  private chownTree(target: string): void {
    const user = this.osUser();
    if (!user) return;
    fs.chownSync(target, user.uid, user.gid);
    if (fs.statSync(target).isDirectory()) {
      for (const entry of fs.readdirSync(target)) this.chownTree(path.join(target, entry));
    }
  }

  /** The pid recorded in the node's postmaster.pid (alive or not), or null. */
  private recordedPid(node: NodeName): number | null {
    try {
      const pid = Number(fs.readFileSync(path.join(this.nodeDir(node), 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  /**
   * The pid in postmaster.pid when that process is alive and is this node's postgres, else null.
   * After an unclean stop the file stays behind and its pid may since belong to another process
   * (pids are reused, from 1 again after a container restart): trusting kill(pid, 0) alone made
   * `cluster up` skip the start and `cluster down` signal a stranger.
   */
  pidOf(node: NodeName): number | null {
    const pid = this.recordedPid(node);
    if (pid === null) return null;
    try {
      process.kill(pid, 0);
    } catch {
      return null;
    }
    if (isZombie(pid)) return null;
    return attachedTo(pid, this.nodeDir(node)) === false ? null : pid;
  }

  /**
   * Postgres processes still attached to this node's data directory although its postmaster is
   * gone: backends of a postmaster killed with SIGKILL live on until their statement ends (a long
   * query does not notice the death), and PostgreSQL refuses to start while they hold the old
   * shared memory. Linux only (/proc); elsewhere the list is empty and the start error says what to do.
   */
  orphansOf(node: NodeName): number[] {
    if (this.pidOf(node) !== null) return [];
    let entries: string[];
    try {
      entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
    } catch {
      return [];
    }
    const dir = this.nodeDir(node);
    return entries.map(Number).filter((pid) => pid !== process.pid && attachedTo(pid, dir) === true && isPostgres(pid) && !isZombie(pid));
  }

  processStatus(): NodeProcessStatus[] {
    const state = this.readState();
    return NODES.map((node) => {
      const exists = fs.existsSync(path.join(this.nodeDir(node), 'PG_VERSION'));
      const pid = exists ? this.pidOf(node) : null;
      let status: NodeProcessStatus['state'] = 'absent';
      if (exists) status = pid !== null ? 'running' : state?.intent === 'up' ? 'crashed' : 'stopped';
      return { node, port: state?.ports[node] ?? 0, pid, state: status, dataDir: this.nodeDir(node), log: this.logFile(node) };
    });
  }

  private baseSettings(node: NodeName, port: number, primaryPort: number): string {
    const lines = [
      '# Written by esbench on every start; included last so nothing overrides it.',
      `port = ${port}`,
      "listen_addresses = '127.0.0.1'",
      "unix_socket_directories = ''",
      "shared_preload_libraries = 'pg_stat_statements'",
      'pg_stat_statements.track = top',
      // Planning is database time: without it, the planning of every unnamed statement showed up as network.
      'pg_stat_statements.track_planning = on',
      'compute_query_id = on',
      'track_io_timing = on',
      'wal_level = replica',
      'max_wal_senders = 10',
      'max_replication_slots = 10',
      'hot_standby = on',
      'hot_standby_feedback = on',
      "log_line_prefix = '%m [%p] %q%a '",
      'log_autovacuum_min_duration = 0',
      'log_checkpoints = on',
    ];
    if (node === 'replica') {
      lines.push(`primary_conninfo = 'host=127.0.0.1 port=${primaryPort} user=${SUPERUSER} application_name=esbench_replica'`);
      lines.push(`primary_slot_name = '${SLOT}'`);
    }
    return `${lines.join('\n')}\n`;
  }

  /** Writes tuning.conf (from tuning/<node>.conf) and esbench.conf, included from postgresql.conf. */
  private writeSettings(node: NodeName, ports: Record<NodeName, number>): void {
    const dir = this.nodeDir(node);
    const tuningSource = path.join(this.tuningDir, `${node}.conf`);
    const tuning = fs.existsSync(tuningSource) ? fs.readFileSync(tuningSource, 'utf8') : `# no ${tuningSource}\n`;
    fs.writeFileSync(path.join(dir, 'tuning.conf'), `# Copied from ${tuningSource} at start.\n${tuning}`);
    fs.writeFileSync(path.join(dir, 'esbench.conf'), this.baseSettings(node, ports[node], ports.primary));
    const confFile = path.join(dir, 'postgresql.conf');
    const conf = fs.readFileSync(confFile, 'utf8');
    const marker = '# esbench includes';
    if (!conf.includes(marker)) {
      fs.appendFileSync(confFile, `\n${marker}\ninclude_if_exists = 'tuning.conf'\ninclude = 'esbench.conf'\n`);
    }
    this.chownTree(dir);
  }

  private async startNode(node: NodeName): Promise<void> {
    if (this.pidOf(node) !== null) return;
    await this.clearUncleanStop(node);
    this.progress(`starting ${node}`);
    // After a crash (kill -9 of the postmaster) its children may hold the shared memory for a
    // moment; PostgreSQL then refuses to start, so try again briefly before giving up.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.run('pg_ctl', ['-D', this.nodeDir(node), '-l', this.logFile(node), '-w', '-t', '120', 'start']);
        return;
      } catch (e) {
        if (attempt < 4 && this.pidOf(node) === null) {
          await sleep(1000);
          continue;
        }
        const tail = this.tailLog(node, 5);
        const orphans = this.orphansOf(node);
        const what = /shared memory block|lock file .* already exists/.test(tail)
          ? ` — old postgres processes of ${this.nodeDir(node)} are still running${orphans.length > 0 ? ` (pids ${orphans.join(' ')})` : ''}: stop them (kill -9 <pid>), then run \`esbench cluster up\` again`
          : '';
        throw new EsbenchError('CLUSTER_START_FAILED', `${node} failed to start (log ${this.logFile(node)})${what}: ${tail}`, { cause: e });
      }
    }
  }

  /**
   * After an unclean stop (the postmaster killed): terminates the orphaned processes still attached
   * to the data directory (what PostgreSQL's own crash handling would have done, and what its start
   * error asks for), then drops a postmaster.pid whose pid now belongs to another process. Crash
   * recovery (WAL replay) at start does the rest.
   */
  private async clearUncleanStop(node: NodeName): Promise<void> {
    const orphans = this.orphansOf(node);
    if (orphans.length > 0) {
      this.progress(`${node}: terminating ${orphans.length} orphaned postgres process(es) of its killed postmaster (pids ${orphans.join(' ')})`);
      for (const pid of orphans) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      for (let i = 0; i < 50 && this.orphansOf(node).length > 0; i++) await sleep(100);
    }
    const recorded = this.recordedPid(node);
    // Only when /proc shows that nothing is attached to the data directory any more: the pid file
    // is also PostgreSQL's interlock against two servers on one data directory.
    if (recorded !== null && fs.existsSync('/proc/self/cwd') && this.orphansOf(node).length === 0 && isAlive(recorded)) {
      this.progress(`${node}: removing a stale postmaster.pid (pid ${recorded} is another process now)`);
      fs.rmSync(path.join(this.nodeDir(node), 'postmaster.pid'), { force: true });
    }
  }

  private async stopNode(node: NodeName): Promise<void> {
    const pid = this.pidOf(node);
    if (pid === null) return;
    this.progress(`stopping ${node}`);
    try {
      await this.run('pg_ctl', ['-D', this.nodeDir(node), '-m', 'fast', '-w', '-t', '60', 'stop']);
    } catch {
      // pg_ctl could not stop it in time: immediate shutdown, then SIGKILL as the last resort.
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {
        /* already gone */
      }
      await sleep(2000);
      if (this.pidOf(node) !== null) process.kill(pid, 'SIGKILL');
    }
  }

  tailLog(node: NodeName, lines: number): string {
    try {
      return fs.readFileSync(this.logFile(node), 'utf8').trim().split('\n').slice(-lines).join(' | ');
    } catch {
      return '(no log)';
    }
  }

  private prepareDataDir(): void {
    fs.mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    fs.chmodSync(this.dataDir, 0o700);
    const user = this.osUser();
    if (user) fs.chownSync(this.dataDir, user.uid, user.gid);
    if (!canWrite(user, this.dataDir)) {
      throw new EsbenchError(
        'BAD_CONFIG',
        `user '${user?.name}' cannot reach ${this.dataDir} (a parent directory is not traversable): choose --data-dir elsewhere, e.g. under /tmp`,
      );
    }
  }

  private async create(): Promise<ClusterState> {
    const bins = this.binaries();
    this.prepareDataDir();
    const ports = { primary: await freePort(), replica: await freePort() };
    const primaryDir = this.nodeDir('primary');
    this.progress(`initdb (PostgreSQL ${bins.version} from ${bins.source})`);
    await this.run('initdb', ['-D', primaryDir, '-U', SUPERUSER, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-instructions']);
    // trust only on loopback TCP; no unix socket, no other host (initdb's default host lines are loopback only).
    fs.writeFileSync(
      path.join(primaryDir, 'pg_hba.conf'),
      [
        '# esbench embedded cluster: loopback only',
        'host all all 127.0.0.1/32 trust',
        'host replication all 127.0.0.1/32 trust',
        '',
      ].join('\n'),
    );
    this.writeSettings('primary', ports);
    await this.startNode('primary');
    const client = new pg.Client({ connectionString: urlFor(ports.primary, 'postgres') });
    client.on('error', () => {}); // a node dying mid-way fails the query; the event alone must not crash us
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${DATABASE}`);
      await client.query('SELECT pg_create_physical_replication_slot($1)', [SLOT]);
    } finally {
      await client.end();
    }
    // A clean stop leaves a consistent data directory that a standby can start from.
    await this.stopNode('primary');
    this.progress('creating replica from the stopped primary');
    fs.cpSync(primaryDir, this.nodeDir('replica'), { recursive: true });
    fs.rmSync(path.join(this.nodeDir('replica'), 'pg_replslot', SLOT), { recursive: true, force: true });
    fs.writeFileSync(path.join(this.nodeDir('replica'), 'standby.signal'), '');
    this.writeSettings('replica', ports);
    const state: ClusterState = {
      version: 1,
      pgVersion: bins.version,
      binDir: bins.binDir,
      runAs: this.osUser()?.name ?? null,
      ports,
      intent: 'down',
      createdAt: new Date().toISOString(),
    };
    this.writeState(state);
    return state;
  }

  /** Idempotent: creates the cluster on first use, starts whatever is not running, waits for streaming. */
  async up(): Promise<ClusterState> {
    let state = this.readState();
    const initialized = state !== undefined && NODES.every((n) => fs.existsSync(path.join(this.nodeDir(n), 'PG_VERSION')));
    if (!initialized) {
      if (fs.existsSync(this.dataDir) && fs.readdirSync(this.dataDir).some((f) => f === 'primary' || f === 'replica')) {
        throw new EsbenchError(
          'CLUSTER_START_FAILED',
          `${this.dataDir} holds a half-created cluster: remove it (rm -rf ${this.dataDir}) and run \`esbench cluster up\` again`,
        );
      }
      state = await this.create();
    }
    if (!state) throw new EsbenchError('INTERNAL', 'cluster state missing after create');
    for (const node of NODES) this.writeSettings(node, state.ports);
    state = { ...state, intent: 'up' };
    this.writeState(state);
    await this.startNode('primary');
    await this.startNode('replica');
    await this.waitForStreaming(state.ports.primary);
    return state;
  }

  private async waitForStreaming(primaryPort: number, timeoutMs = 60_000): Promise<void> {
    this.progress('waiting for the replica to stream');
    const deadline = Date.now() + timeoutMs;
    const client = new pg.Client({ connectionString: urlFor(primaryPort, 'postgres') });
    client.on('error', () => {}); // as above: the failed query reports it
    await client.connect();
    try {
      for (;;) {
        const r = await client.query<{ state: string }>("SELECT state FROM pg_stat_replication WHERE application_name = 'esbench_replica'");
        if (r.rows[0]?.state === 'streaming') return;
        if (Date.now() > deadline) {
          throw new EsbenchError('CLUSTER_START_FAILED', `replica not streaming after ${timeoutMs / 1000}s: ${this.tailLog('replica', 5)}`);
        }
        await sleep(100);
      }
    } finally {
      await client.end();
    }
  }

  /** Stops replica then primary; afterwards no postgres process of this cluster is left. */
  async down(): Promise<void> {
    const state = this.readState();
    if (state) this.writeState({ ...state, intent: 'down' });
    await this.stopNode('replica');
    await this.stopNode('primary');
    for (const node of NODES) {
      if (this.pidOf(node) !== null) throw new EsbenchError('INTERNAL', `${node} is still running after stop`);
    }
  }

  /** Kills a node's postmaster with SIGKILL (fault tests) and returns its pid. */
  killNode(node: NodeName): number | null {
    const pid = this.pidOf(node);
    if (pid !== null) process.kill(pid, 'SIGKILL');
    return pid;
  }

  /** Stop and delete everything under dataDir. */
  async destroy(): Promise<void> {
    await this.down().catch(() => {});
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/**
 * Does `pid` run in the data directory `dir`? Every postgres process (postmaster and children)
 * has its data directory as working directory. true / false from /proc; undefined where that
 * cannot be read (no /proc, no permission): callers then keep trusting the pid file.
 */
function attachedTo(pid: number, dir: string): boolean | undefined {
  let cwd: string;
  try {
    cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
  try {
    return cwd === fs.realpathSync(dir);
  } catch {
    return false;
  }
}

/** A postgres binary (so a shell someone left in the data directory is never taken for one). */
function isPostgres(pid: number): boolean {
  try {
    // " (deleted)": the binary was replaced (npm ci) while the process kept running.
    return path.basename(fs.readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '')) === 'postgres';
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
