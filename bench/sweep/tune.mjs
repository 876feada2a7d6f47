// Quick tuning harness: median regret of ocrops bayes on one benchmark function with overrides of `bayesTuning`.
// Usage: node --conditions=@ocrops/source --import tsx bench/sweep/tune.mjs <branin|hartmann6|inner_dim> '<json overrides>' [seeds]
import { optimizerAlgorithm, Rng, bayesTuning } from '@ocrops/search';
import { FUNCTIONS, observe } from './functions.mjs';

const [name, overrides = '{}', seedsArg = '20', minSample = '0'] = process.argv.slice(2);
Object.assign(bayesTuning, JSON.parse(overrides));
const fn = FUNCTIONS.find((f) => f.name.startsWith(name));
const seeds = Number(seedsArg);
const regrets = { 20: [], 50: [] };
for (let seed = 0; seed < seeds; seed++) {
  const cfg = {
    algorithm: 'bayes',
    spec: { metric: 'v', seed, minSampleSize: Number(minSample) },
    parameters: fn.params,
  };
  const noise = new Rng(1000 + seed);
  const trials = [];
  let best = Infinity;
  let bestTruth = 0;
  for (let i = 0; i < 50; i++) {
    const [p] = optimizerAlgorithm.suggest(cfg, trials, 1);
    const y = observe(fn, p, () => noise.next());
    trials.push({ pid: String(i), trial: 1, parameters: p, status: 'completed', score: y });
    if (y < best) {
      best = y;
      bestTruth = fn.truth(p);
    }
    if (i + 1 === 20 || i + 1 === 50) regrets[i + 1].push(bestTruth - fn.min);
  }
}
const med = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2;
};
console.log(
  name,
  overrides,
  'minSample',
  minSample,
  'median@20',
  med(regrets[20]).toPrecision(4),
  'median@50',
  med(regrets[50]).toPrecision(4),
);
