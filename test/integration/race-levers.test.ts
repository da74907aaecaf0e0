/**
 * The race scenarios of race.test.ts (test/helpers/race-scenarios.ts) over the command path's cost
 * levers (issue 15): one transaction holding the boundary's locks from read to append
 * (`locking: 'held'`), the btree boundary index, named prepared statements. Same guarantees: no
 * copy lent twice, no reader above 10 books, every acknowledged (2xx) command in the log.
 */
import { describeRaces } from '../helpers/race-scenarios.ts';

describeRaces('race through the service (safe append; %s)', [
  ['held, gin, snapshots every command', { locking: 'held', boundaryIndex: 'gin', decisions: 'snapshot', snapshotThreshold: 0 }],
  ['held, btree, prepared, snapshots every command', { locking: 'held', boundaryIndex: 'btree', preparedStatements: true, decisions: 'snapshot', snapshotThreshold: 0 }],
  ['held, btree, full decisions', { locking: 'held', boundaryIndex: 'btree', decisions: 'full' }],
  ['check, btree, prepared, snapshots', { locking: 'check', boundaryIndex: 'btree', preparedStatements: true, decisions: 'snapshot', snapshotThreshold: 0 }],
]);
