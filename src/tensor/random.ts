/** Seeded pseudo-random numbers (mulberry32 + Box-Muller): the same seed gives the same tensors everywhere. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Standard normal. */
  normal(): number {
    let u = this.next();
    while (u <= 1e-12) u = this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** A fresh 32-bit seed (to derive independent streams). */
  seed(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }
  getState(): number {
    return this.state;
  }
  setState(s: number): void {
    this.state = s >>> 0;
  }
}

let global = new Rng(0x5eed);

/** Re-seeds the global generator used by randn / uniform / parameter initialisation. */
export function seed(s: number): void {
  global = new Rng(s);
}

export function globalRng(): Rng {
  return global;
}
