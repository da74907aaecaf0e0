/**
 * Progress for long operations on stderr: a bar on a terminal (cli-progress), one line per 10%
 * otherwise (CI logs stay readable).
 */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number): void;
  stop(): void;
}

export function createProgress(label: string, total: number, write: (t: string) => void, isTTY = Boolean(process.stderr.isTTY)): Progress {
  if (isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% {value}/{total} {eta_formatted} left`, stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { update: (d) => bar.update(d), stop: () => bar.stop() };
  }
  let lastDecile = -1;
  return {
    update(done) {
      const decile = Math.floor((done / Math.max(1, total)) * 10);
      if (decile !== lastDecile) {
        lastDecile = decile;
        write(`${label}: ${done}/${total} (${decile * 10}%)\n`);
      }
    },
    stop() {},
  };
}
