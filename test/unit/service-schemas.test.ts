/**
 * The routes' schemas are built with TypeBox; the JSON they emit (what Fastify/Ajv validates and
 * what a client sees) must stay what it was when they were written out by hand as `as const`
 * literals (test/fixtures/service/schemas.json, captured from that version).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as schemas from '../../src/service/schemas.ts';

const before = JSON.parse(readFileSync(new URL('../fixtures/service/schemas.json', import.meta.url), 'utf8')) as Record<
  string,
  unknown
>;

describe('service schemas', () => {
  it('emit the same JSON schema as the hand-written literals they replace', () => {
    const now = JSON.parse(JSON.stringify(schemas)) as Record<string, unknown>;
    expect(Object.keys(now).sort()).toEqual(Object.keys(before).sort());
    for (const name of Object.keys(before)) expect(now[name], name).toStrictEqual(before[name]);
  });
});
