/**
 * Which endpoint a statement runs for, without threading it through the store: the service sets it
 * once per request (AsyncLocalStorage follows the request's promises), and the pool's tag function
 * reads it. Outside a request (seed, maintenance, benches) there is none and statements keep their
 * plain name.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const scope = new AsyncLocalStorage<string>();

/** Endpoint names as they may appear in a tag and in a CTE name: short, no quoting needed. */
const ENDPOINT = /^[a-z0-9][a-z0-9-]{0,39}$/;

export function isEndpointName(name: string): boolean {
  return ENDPOINT.test(name);
}

/** Runs `fn` with every statement it sends attributed to `endpoint`. */
export function runForEndpoint<T>(endpoint: string, fn: () => T): T {
  if (!isEndpointName(endpoint)) throw new RangeError(`not an endpoint name: ${endpoint}`);
  return scope.run(endpoint, fn);
}

export function currentEndpoint(): string | undefined {
  return scope.getStore();
}
