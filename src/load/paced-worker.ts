/**
 * A generator worker process (see paced-workers.ts): waits for its task, builds its workload,
 * runs the paced engine on its share of the schedule, and reports seconds, phases and its result
 * over IPC. Not an entry point for users.
 */
import { isEsbenchError } from '../core/errors.ts';
import { runPaced } from './paced-engine.ts';
import type { ParentMessage, WorkerMessage } from './paced-workers.ts';
import { createWorkload } from './workload.ts';

const send = (m: WorkerMessage): void => {
  process.send?.(m);
};

const abort = new AbortController();

process.on('message', (m: ParentMessage) => {
  if (m.type === 'abort') abort.abort();
  if (m.type !== 'run') return;
  const task = m.task;
  void (async () => {
    try {
      const workload = createWorkload(task.spec, task.snapshot ? { snapshot: task.snapshot } : {});
      const result = await runPaced({
        url: task.url,
        workload,
        rate: task.rate,
        durationMs: task.durationMs,
        warmupMs: task.warmupMs,
        arrival: task.arrival,
        seed: task.seed,
        ...(task.timeoutMs !== undefined ? { timeoutMs: task.timeoutMs } : {}),
        ...(task.maxConcurrency !== undefined ? { maxConcurrency: task.maxConcurrency } : {}),
        ...(task.queueSize !== undefined ? { queueSize: task.queueSize } : {}),
        ...(task.headers ? { headers: task.headers } : {}),
        ...(task.thresholds ? { thresholds: task.thresholds } : {}),
        ...(task.keepSeconds !== undefined ? { keepSeconds: task.keepSeconds } : {}),
        // One origin and one schedule for all workers: the engine waits for the instant itself.
        share: task.share,
        startAtEpochMs: task.startAtEpochMs,
        signal: abort.signal,
        onProgress: (record, live) => send({ type: 'second', record, live }),
        onPhase: (phase, at) => send({ type: 'phase', phase, at }),
      });
      send({ type: 'result', result });
    } catch (e) {
      send({ type: 'error', code: isEsbenchError(e) ? e.code : 'INTERNAL', message: (e as Error).message });
    } finally {
      process.disconnect?.();
      // Nothing is left to do; a lingering handle must not keep the parent waiting.
      setTimeout(() => process.exit(0), 200).unref();
    }
  })();
});

// A parent that dies takes its workers with it.
process.on('disconnect', () => abort.abort());
send({ type: 'ready' });
