import { randomIndex, type Rng } from './prng.ts';

/**
 * A set with O(1) add, delete and uniform random pick (swap-remove over an array). The seeder and
 * the load generator's library model both draw "an available copy" / "a lent copy" this way.
 */
export class PickSet<T> {
  private readonly items: T[] = [];
  private readonly pos = new Map<T, number>();

  get size(): number {
    return this.items.length;
  }

  has(v: T): boolean {
    return this.pos.has(v);
  }

  add(v: T): void {
    if (this.pos.has(v)) return;
    this.pos.set(v, this.items.length);
    this.items.push(v);
  }

  delete(v: T): void {
    const i = this.pos.get(v);
    if (i === undefined) return;
    const last = this.items.pop()!;
    this.pos.delete(v);
    if (last !== v) {
      this.items[i] = last;
      this.pos.set(last, i);
    }
  }

  pick(rng: Rng): T | undefined {
    return this.items.length === 0 ? undefined : this.items[randomIndex(rng, this.items.length)];
  }
}
