/**
 * Runs a library command as the study did: query the boundary on the primary → decide → conditional
 * append; on a concurrency conflict, retry (6 tries, 10 ms base doubling, ±30% jitter by default).
 */
import { ConcurrencyConflict, EsbenchError } from '../core/errors.ts';
import type { Timing } from '../store/db-pool.ts';
import type { EventStore } from '../store/event-store.ts';
import { boundaryOf, decide, foldBoundary, type LibraryCommand } from './library-commands.ts';

export interface RetryPolicy {
  tries: number;
  baseMs: number;
  jitter: number;
}

/** Command labels: a CommandKind, or 'append' for the generic append route. */
export interface CommandObserver {
  conflict?(command: string): void;
  retry?(command: string): void;
  rejected?(command: string, code: string): void;
}

export interface CommandOutcome {
  sequenceNumber: number;
  retries: number;
}

export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const base = policy.baseMs * 2 ** (attempt - 1);
  return Math.max(0, base * (1 + policy.jitter * (2 * random() - 1)));
}

export class CommandHandler {
  constructor(
    private readonly store: EventStore,
    private readonly policy: RetryPolicy,
    private readonly observer: CommandObserver = {},
  ) {}

  async handle(cmd: LibraryCommand, timing?: Timing): Promise<CommandOutcome> {
    const filter = boundaryOf(cmd);
    for (let attempt = 1; ; attempt++) {
      const { events, version } = await this.store.query(filter, { consistent: true, ...(timing ? { timing } : {}) });
      let newEvents;
      try {
        newEvents = decide(cmd, foldBoundary(cmd, events), { command: cmd.kind });
      } catch (e) {
        if (e instanceof EsbenchError) this.observer.rejected?.(cmd.kind, e.code);
        throw e;
      }
      try {
        const r = await this.store.append(newEvents, { filter, expectedVersion: version }, timing);
        return { sequenceNumber: r.version, retries: attempt - 1 };
      } catch (e) {
        if (!(e instanceof ConcurrencyConflict)) throw e;
        this.observer.conflict?.(cmd.kind);
        if (attempt >= this.policy.tries) {
          throw new EsbenchError('RETRIES_EXHAUSTED', `${cmd.kind} conflicted ${attempt} times`, { details: { tries: attempt } });
        }
        this.observer.retry?.(cmd.kind);
        await new Promise((r) => setTimeout(r, backoffMs(this.policy, attempt)));
      }
    }
  }
}
