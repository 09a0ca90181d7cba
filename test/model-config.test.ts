import { describe, expect, it } from 'vitest';
import { describeMobileNetV3Small, makeDivisible } from '../src/models/mobilenet-v3-config.js';

describe('MobileNetV3-Small config table', () => {
  it('has torchvision\'s parameter counts', () => {
    expect(describeMobileNetV3Small({ numClasses: 1000 }).params).toBe(2542856);
    expect(describeMobileNetV3Small({ numClasses: 10 }).params).toBe(1528106);
  });
  it('has the reference multiply-adds at 224 px', () => {
    const d = describeMobileNetV3Small({ numClasses: 1000 }, 224);
    expect(d.macs).toBe(56510400);
    const byKind = (k: string) => d.layers.filter((l) => l.kind === k).reduce((n, l) => n + l.macs, 0);
    expect(byKind('pointwise')).toBe(41558272);
    expect(byKind('depthwise')).toBe(7460544);
    expect(byKind('conv')).toBe(5419008);
    expect(byKind('se-fc')).toBe(458752);
  });
  it('rounds squeeze widths as torchvision', () => {
    expect([16, 96, 240, 120, 144, 288, 576].map((c) => makeDivisible(Math.floor(c / 4), 8))).toEqual([8, 24, 64, 32, 40, 72, 144]);
  });
});
