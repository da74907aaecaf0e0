/**
 * Race test through the service over real HTTP (test/helpers/race-scenarios.ts): 32 concurrent
 * clients fight over one copy and push one reader past the limit, with the safe append and full or
 * snapshot decisions. Snapshot mode with threshold 0 writes snapshots after every command: the
 * race-freedom of the append must hold unchanged when decisions start from snapshots.
 */
import { describeRaces } from '../helpers/race-scenarios.ts';

describeRaces('race through the service (safe append, %s)', [
  ['full decisions, snapshot threshold 50', { decisions: 'full', snapshotThreshold: 50 }],
  ['snapshot decisions, snapshot threshold 0', { decisions: 'snapshot', snapshotThreshold: 0 }],
]);
