/**
 * CPU profile of every Node process of a run, including the service child that `esbench run`
 * spawns (`--cpu-prof` is refused in NODE_OPTIONS, `--import` is not):
 *
 *   ESBENCH_CPU_PROFILE_DIR=/tmp/prof NODE_OPTIONS="--import $PWD/bench/cpu-profile-preload.mjs" \
 *     node bin/esbench.js run --rate 60 --duration 30s ...
 *
 * Each process writes <dir>/<pid>-<argv tail>.cpuprofile when it exits (also after SIGTERM, which
 * `serve` handles by closing cleanly). Summarise with `tsx bench/cpu-profile-summary.ts <file>`.
 * A bench tool: it reads its directory from the environment because it runs before any CLI code.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Session } from 'node:inspector';

const dir = process.env.ESBENCH_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  // Same-thread session: post() dispatches synchronously, so the profile can be taken in 'exit'.
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: Number(process.env.ESBENCH_CPU_PROFILE_INTERVAL_US ?? 500) });
  session.post('Profiler.start');
  process.on('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      fs.mkdirSync(dir, { recursive: true });
      const tag = process.argv.slice(2, 4).join('-').replace(/[^a-z0-9-]/gi, '_') || 'node';
      fs.writeFileSync(path.join(dir, `${process.pid}-${tag}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
