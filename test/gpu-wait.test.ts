// The Node wait that keeps Dawn's polling from spinning a core (src/device/gpu-wait.ts): the
// global setImmediate is swapped only while a wait runs, restored after every way a wait ends,
// and callbacks scheduled meanwhile still run. (Its speed effect is measured in bench/, not here.)
import { afterAll, describe, expect, it } from 'vitest';
import { enableGentleWait, gentleWait, SPIN_MS } from '../src/device/gpu-wait.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('gentleWait', () => {
  const original = globalThis.setImmediate;
  enableGentleWait(true);
  afterAll(() => enableGentleWait(true)); // the Node provider's setting

  it('swaps setImmediate during the wait and restores it after', async () => {
    let during: unknown = null;
    const v = await gentleWait(async () => {
      during = globalThis.setImmediate;
      await sleep(2);
      return 42;
    });
    expect(v).toBe(42);
    expect(during).not.toBe(original);
    expect(globalThis.setImmediate).toBe(original);
  });

  it('shares one swap between concurrent waits and restores after the last', async () => {
    let releaseA!: () => void;
    const a = gentleWait(() => new Promise<string>((r) => (releaseA = () => r('a'))));
    const b = gentleWait(async () => (await sleep(3), 'b'));
    expect(await b).toBe('b');
    expect(globalThis.setImmediate).not.toBe(original); // a is still waiting
    releaseA();
    expect(await a).toBe('a');
    expect(globalThis.setImmediate).toBe(original);
  });

  it('restores setImmediate when the awaited work rejects', async () => {
    await expect(gentleWait(async () => {
      await sleep(1);
      throw new Error('device lost');
    })).rejects.toThrow('device lost');
    expect(globalThis.setImmediate).toBe(original);
  });

  it('still runs setImmediate callbacks scheduled during a wait, before and after the spin window', async () => {
    const ran: string[] = [];
    await gentleWait(async () => {
      setImmediate(() => ran.push('early'));
      await sleep(Math.ceil(SPIN_MS) + 2);
      setImmediate((x: string) => ran.push(x), 'late');
      await sleep(5);
    });
    expect(ran).toEqual(['early', 'late']);
  });

  it('clearImmediate cancels a callback deferred during a wait, after the wait too', async () => {
    const ran: string[] = [];
    let late: unknown;
    await gentleWait(async () => {
      await sleep(Math.ceil(SPIN_MS) + 2);
      late = setImmediate(() => ran.push('cancelled'));
      const kept = setImmediate(() => ran.push('kept'));
      void kept;
    });
    clearImmediate(late as ReturnType<typeof setImmediate>);
    await sleep(5);
    const real = setImmediate(() => ran.push('real, cancelled'));
    clearImmediate(real);
    await sleep(2);
    expect(ran).toEqual(['kept']);
  });

  it('is a plain await when disabled (browsers)', async () => {
    enableGentleWait(false);
    let during: unknown = null;
    await gentleWait(async () => {
      during = globalThis.setImmediate;
    });
    expect(during).toBe(original);
    enableGentleWait(true);
  });
});
