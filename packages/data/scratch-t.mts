import { SyntheticLines } from './src/synth.ts';
import { defaultSyntheticOptions } from './src/config.ts';
const H = 64;
for (const [label, o] of [['default', {}], ['noblur', { blur: { p: 0, radius: [0, 0] } }], ['nonoise', { noise: [0, 0] }], ['neither', { blur: { p: 0, radius: [0, 0] }, noise: [0, 0] }]] as const) {
  const g = new SyntheticLines({ ...defaultSyntheticOptions(), ...(o as object) }, H);
  for (let i = 0; i < 20; i++) g.line(i);
  const t0 = performance.now();
  for (let i = 0; i < 300; i++) g.line(100 + i);
  console.log(label, (300 / ((performance.now() - t0) / 1000)).toFixed(0));
}
