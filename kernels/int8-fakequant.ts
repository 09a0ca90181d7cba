/** Fake quantization kernels (quantization-aware training): per tensor with its STE, per output channel. */
import source from '../shaders/int8-fakequant.wgsl';
import { defineKernel, grid1d } from '../src/kernel/define-kernel.js';

export const fakeQuantForward = defineKernel({
  name: 'fake_quant_forward', source, entry: 'fq_forward', inputs: ['fq_x'], outputs: ['fq_y'], uniforms: ['n', 'scale', 'zp', 'lo', 'hi'],
  workgroups: (u) => grid1d(u.n!, 64),
});

export const fakeQuantBackward = defineKernel({
  name: 'fake_quant_backward', source, entry: 'fq_backward', inputs: ['fb_x', 'fb_g'], outputs: ['fb_dx'], uniforms: ['n', 'scale', 'zp', 'lo', 'hi'],
  workgroups: (u) => grid1d(u.n!, 64),
});

export const channelAbsMax = defineKernel({
  name: 'fake_quant_absmax', source, entry: 'fq_absmax', inputs: ['am_w'], outputs: ['am_m'], uniforms: ['rows', 'c'],
  workgroups: (u) => grid1d(u.c!, 64),
});

export const fakeQuantChannels = defineKernel({
  name: 'fake_quant_channels', source, entry: 'fq_channels', inputs: ['fc_w', 'fc_m'], outputs: ['fc_y'], uniforms: ['n', 'c'],
  workgroups: (u) => grid1d(u.n!, 64),
});
