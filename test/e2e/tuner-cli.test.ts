/** The tuner's CLI edges that need no cluster: bad plans, serve --config / --print-config. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/core/config.ts';
import { esbench, errLines } from './cli.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esb-tuner-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('esbench sweep / capacity / serve --config', () => {
  it('rejects a bad factor, level or threshold with one line and exit 2, before any cluster starts', async () => {
    for (const [args, code] of [
      [['sweep', '--factor', 'pool-mni=2,20'], 'BAD_PLAN'],
      [['sweep', '--factor', 'pool-min=two'], 'BAD_PLAN'],
      [['sweep', '--factor', 'autovacuum=nope'], 'BAD_PLAN'],
      [['sweep', '--factor', 'pool-min=2,20', '--threshold', 'five'], 'BAD_FLAG'],
      [['sweep', '--resume', dir], 'SWEEP_DIR_INVALID'],
      [['capacity', '--slo', 'p99<'], 'BAD_FLAG'],
    ] as const) {
      const r = await esbench([...args, '--data-dir', path.join(dir, 'none')]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(errLines(r)).toEqual([expect.stringMatching(new RegExp(`^esbench: ${code}: `))]);
    }
  });

  it('serve --config file --print-config resolves every field of the file (and refuses other config flags)', async () => {
    const config = resolveConfig({
      cluster: { primaryUrl: 'postgres://u:secret@127.0.0.1:1/db', replicaUrl: 'postgres://u@127.0.0.1:2/db' },
      pools: { primary: { max: 9, min: 3, idleTimeoutMs: 1111 }, replica: { max: 7, min: 1, idleTimeoutMs: 2222, maxLifetimeMs: 3333, acquireTimeoutMs: 444, statementTimeoutMs: 5555 } },
      service: { appendStrategy: 'baseline', decisions: 'full', snapshotThreshold: 17, readModelsFrom: 'primary', replicaFallback: false },
    });
    const file = path.join(dir, 'config.json');
    fs.writeFileSync(file, JSON.stringify(config));
    const r = await esbench(['serve', '--config', file, '--print-config']);
    expect(r.code, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(printed.pools).toEqual(config.pools);
    expect(printed.service).toEqual(config.service);
    expect(printed.cluster.primaryUrl).toBe('postgres://u:***@127.0.0.1:1/db'); // redacted for people
    const clash = await esbench(['serve', '--config', file, '--pool-min', '3']);
    expect(clash.code).toBe(2);
    expect(errLines(clash)).toEqual([expect.stringMatching(/^esbench: BAD_FLAG: --config carries the whole config; drop --pool-min/)]);
    fs.writeFileSync(file, JSON.stringify({ pools: { primary: { mni: 1 } } }));
    const typo = await esbench(['serve', '--config', file, '--print-config']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/BAD_CONFIG: .*unknown key\(s\) pools\.primary\.mni/);
  });
});
