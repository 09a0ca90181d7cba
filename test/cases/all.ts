/** Every kernel case: run by test/kernels.test.ts under vitest and by the Chromium suite. */
import type { Case } from '../support/cases.js';
import elementwise, { activationCases, seScaleCases } from './elementwise.cases.js';
import matmulCases from './matmul.cases.js';
import augmentCases from './augment.cases.js';
import batchnormCases, { poolCases } from './batchnorm.cases.js';
import lossCases, { dropoutCases } from './loss.cases.js';
import weightedLossCases from './weighted-loss.cases.js';
import optimCases from './optim.cases.js';
import convCases from './conv.cases.js';
import int8Cases from './int8.cases.js';
import fakeQuantCases from './int8-fakequant.cases.js';
import int8ModelCases from './int8-model.cases.js';
import convBnActCases from './conv-bn-act.cases.js';
import squeezeExciteCases from './squeeze-excite.cases.js';

export const allCases: Case[] = [...elementwise, ...seScaleCases, ...activationCases, ...matmulCases, ...augmentCases, ...batchnormCases, ...poolCases, ...lossCases, ...weightedLossCases, ...dropoutCases, ...optimCases, ...convCases, ...convBnActCases, ...squeezeExciteCases, ...int8Cases, ...fakeQuantCases, ...int8ModelCases];
