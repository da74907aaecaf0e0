/**
 * Self time of a V8 .cpuprofile (from `node --cpu-prof` or bench/cpu-profile-preload.mjs), by
 * package and by function: `tsx bench/cpu-profile-summary.ts <file.cpuprofile> [top=25] [from-ms] [until-ms]`
 * (from/until: milliseconds since the profile started, e.g. to leave startup and warmup out).
 * Idle samples ("(idle)") are counted apart: the percentages are of the busy samples.
 * Samples are wall-clock ticks while the thread ran JS or native code; on a contended machine they
 * include preemption inside the sampled frame.
 */
import fs from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** The package a frame belongs to: node_modules/<pkg>, esbench's src/<layer>/<file>, node internals, or the VM. */
export function packageOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') return `(${functionName.replace(/[()]/g, '') || 'native'})`;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url.slice(url.lastIndexOf('node_modules/') - 0));
  if (nm) return nm[1]!;
  const src = /\/src\/(.+?)\.ts/.exec(url);
  if (src) return `esbench:${src[1]}`;
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  return url;
}

/** `skipMs`/`lastMs`: only samples after the first skipMs and before the last lastMs (e.g. startup and shutdown out). */
export function summarise(profile: Profile, top: number, skipMs = 0, untilMs = Infinity): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  // Self time in µs per node: each sample's time delta goes to the node it hit.
  const selfUs = new Map<number, number>();
  let t = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < skipMs * 1000 || t > untilMs * 1000) continue;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0));
  }
  let idle = 0;
  let busy = 0;
  const pkg = new Map<string, number>();
  const fn = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const p = packageOf(node.callFrame);
    pkg.set(p, (pkg.get(p) ?? 0) + us);
    const f = `${node.callFrame.functionName || '(anonymous)'} ${p}:${node.callFrame.lineNumber + 1}`;
    fn.set(f, (fn.get(f) ?? 0) + us);
  }
  const pct = (us: number) => ((100 * us) / busy).toFixed(1).padStart(5);
  const rows = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `  ${pct(us)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`)
      .join('\n');
  const wall = (profile.endTime - profile.startTime) / 1000;
  return [
    `wall ${wall.toFixed(0)} ms, busy ${(busy / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms (percentages: of busy)`,
    'self time by package:',
    rows(pkg),
    'self time by function:',
    rows(fn),
  ].join('\n');
}

const [file, top, skip, until] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: tsx bench/cpu-profile-summary.ts <file.cpuprofile> [top] [from-ms] [until-ms]\n');
  process.exit(2);
}
process.stdout.write(summarise(JSON.parse(fs.readFileSync(file, 'utf8')) as Profile, Number(top ?? 25), Number(skip ?? 0), until === undefined ? Infinity : Number(until)) + '\n');
