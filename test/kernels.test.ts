import { beforeAll, describe, it } from 'vitest';
import * as mg from '../src/index.js';
import { allCases } from './cases/all.js';

beforeAll(async () => {
  await mg.init();
  mg.getDevice().poisonOutputs(true);
});

describe('kernels against float64 references and finite differences', () => {
  for (const c of allCases) it(c.name, c.run);
});
