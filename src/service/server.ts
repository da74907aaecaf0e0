/** Starts the app on a port and returns its URL and a clean close (pools drained). */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../core/config.ts';
import { buildApp } from './app.ts';

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

export async function startServer(config: Readonly<Config>, primaryUrl: string, replicaUrl: string, logger = false): Promise<RunningServer> {
  const app = await buildApp({ config, primaryUrl, replicaUrl, logger });
  await app.listen({ host: config.service.host, port: config.service.port });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { url: `http://${host}:${address.port}`, app, close: () => app.close() };
}
