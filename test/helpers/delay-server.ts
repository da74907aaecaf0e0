/**
 * A tiny HTTP server with a known delay per path, in a worker thread: its own event loop, so the
 * load engine under test does not share a loop with it (as the real service runs in its own
 * process). It measures how long it held each request and reports it as Server-Timing `total`,
 * and can be told to stall (hold every request until the stall ends).
 */
import { Worker } from 'node:worker_threads';

export interface DelayServer {
  url: string;
  /** Holds every request arriving in the next `ms` until then (no response before the stall ends). */
  stall(ms: number): Promise<void>;
  close(): Promise<void>;
}

const WORKER = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const delays = workerData.delays;
let stalledUntil = 0;
const server = http.createServer((req, res) => {
  const t0 = performance.now();
  req.resume();
  req.on('end', () => {
    const path = (req.url || '/').split('?')[0];
    const hold = delays[path] || 0;
    const wait = Math.max(0, stalledUntil - t0) + hold;
    const answer = () => {
      if (res.destroyed) return;
      const held = performance.now() - t0;
      res.setHeader('server-timing', 'pool;dur=0, db;dur=0, app;dur=' + held.toFixed(3) + ', total;dur=' + held.toFixed(3));
      res.setHeader('content-type', 'application/json');
      if (path === '/reject') {
        res.statusCode = 422;
        res.end('{"error":{"code":"BOOK_ALREADY_LENT","message":"test"}}');
      } else {
        res.end('{}');
      }
    };
    if (wait > 0) setTimeout(answer, wait); else answer();
  });
});
server.keepAliveTimeout = 60000;
parentPort.on('message', (m) => {
  if (m.type === 'stall') { stalledUntil = performance.now() + m.ms; parentPort.postMessage({ type: 'stalled' }); }
  if (m.type === 'close') { server.closeAllConnections(); server.close(() => parentPort.close()); }
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ type: 'listening', port: server.address().port }));
`;

export async function startDelayServer(delays: Record<string, number>): Promise<DelayServer> {
  const worker = new Worker(WORKER, { eval: true, workerData: { delays } });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: { type: string; port: number }) => resolve(m.port));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stall: (ms) =>
      new Promise<void>((resolve) => {
        worker.once('message', () => resolve());
        worker.postMessage({ type: 'stall', ms });
      }),
    close: async () => {
      worker.postMessage({ type: 'close' });
      await exited;
    },
  };
}
