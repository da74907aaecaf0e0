/**
 * A tiny seeded pseudo-random generator (sfc32, seeded through splitmix32).
 *
 * Why not Math.random: it cannot be seeded. A seed makes a trial's offered load reproducible — the
 * same Poisson arrival times and the same endpoint / ID draws — so two trials that differ in one
 * setting (MinConns 2 vs 20, fastupdate on vs off) can be driven by the same sequence (common random
 * numbers), which removes one source of variance from the comparison. The seed is echoed in the
 * result so a run can be replayed. sfc32 is small, fast, and passes PractRand far beyond what a load
 * generator draws; it is not for cryptography.
 */
import { randomInt } from 'node:crypto';

/** Returns a float in [0, 1). */
export type Rng = () => number;

/** splitmix32: spreads a 32-bit seed into well-mixed state words (sfc32 is weak on low-entropy seeds). */
function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export function createRng(seed: number): Rng {
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer (got ${seed})`);
  const mix = splitmix32(seed);
  let a = mix();
  let b = mix();
  let c = mix();
  let d = mix();
  const next = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  // Discard the first outputs: they still carry structure from the seeding.
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** A fresh seed for runs that did not ask for one (reported in the result so they can be replayed). */
export function randomSeed(): number {
  return randomInt(0, 2 ** 31 - 1);
}

/** Uniform integer in [0, n). */
export function randomIndex(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}
