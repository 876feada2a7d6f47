// A table of runs-query cases (filter, sort, expected run names) over four runs that can be logged to a real server:
// the shared query module and `GET /api/ocrops/runs` must both give these results.

/** What a test run logs: its name, parameters, metric values (in step order) and tags. */
export interface CaseRun {
  name: string;
  params: Record<string, string | number>;
  metrics: Record<string, number[]>;
  tags: string[];
}

export const CASE_RUNS: CaseRun[] = [
  {
    name: 'run-2',
    params: { lr: 0.01, arch: 'vgg', optimizer: 'adam w' },
    metrics: { val_loss: [0.9, 0.5, 0.6], 'val.cer': [0.3] },
    tags: ['best', 'Baseline'],
  },
  {
    name: 'run-10',
    params: { lr: 0.001, arch: 'resnet', optimizer: 'sgd' },
    metrics: { val_loss: [0.8, 0.3, 0.35] },
    tags: [],
  },
  { name: 'run-3', params: { lr: '0.1', arch: 'vgg' }, metrics: {}, tags: ['bestish'] },
  {
    name: 'Run-4',
    params: { lr: 0.05, arch: 'VGG-big', optimizer: 'adam' },
    metrics: { val_loss: [1.2, 0.7] },
    tags: ['best'],
  },
];

/** One query and the run names it gives, in order (`sort` defaults to `experimentName`, ascending: natural order, run-2 before run-10). */
export interface QueryCase {
  filter: string;
  sort?: string;
  order?: 'asc' | 'desc';
  expect: string[];
}

export const QUERY_CASES: QueryCase[] = [
  // numeric comparison of metric summaries (min, last = the default), params as numbers or numeric strings
  { filter: 'metrics.val_loss.min<0.6', sort: 'metrics.val_loss.min', expect: ['run-10', 'run-2'] },
  { filter: 'metrics.val_loss<0.7', sort: 'metrics.val_loss', order: 'desc', expect: ['run-2', 'run-10'] },
  { filter: 'params.lr>=0.01', expect: ['run-2', 'run-3', 'Run-4'] },
  { filter: 'params.lr=0.1', expect: ['run-3'] },
  { filter: 'params.lr==0.100', expect: ['run-3'] },
  // metric names with dots
  { filter: 'metrics.val.cer.last<=0.3', expect: ['run-2'] },
  // missing values fail every operator but !=
  { filter: 'metrics.val_loss.min!=0.3', expect: ['run-2', 'run-3', 'Run-4'] },
  { filter: 'metrics.val_loss.count>=2', expect: ['run-2', 'Run-4', 'run-10'] },
  { filter: 'params.optimizer!=sgd', expect: ['run-2', 'run-3', 'Run-4'] },
  // quoted values hold spaces; `and` and `&&` join conditions (any case)
  { filter: `params.optimizer="adam w"`, expect: ['run-2'] },
  { filter: `params.optimizer='adam w' AND params.arch=vgg`, expect: ['run-2'] },
  { filter: 'params.arch=vgg && metrics.val_loss.min>0.4', expect: ['run-2'] },
  // `~` is "contains", case-insensitive, on text and on each tag
  { filter: 'params.arch~VGG', expect: ['run-2', 'run-3', 'Run-4'] },
  { filter: 'tags~BASE', expect: ['run-2'] },
  { filter: 'name~run-1', expect: ['run-10'] },
  // tags are a list: = means "has the tag", != "does not have it"
  { filter: 'tags=best', expect: ['run-2', 'Run-4'] },
  { filter: 'tags!=best', expect: ['run-3', 'run-10'] },
  // an empty filter keeps every run; text sorts in natural order, missing values last in both orders
  { filter: '', sort: 'experimentName', expect: ['run-2', 'run-3', 'Run-4', 'run-10'] },
  { filter: '', sort: 'metrics.val_loss.min', order: 'desc', expect: ['Run-4', 'run-2', 'run-10', 'run-3'] },
  { filter: '', sort: 'params.lr', expect: ['run-10', 'run-2', 'Run-4', 'run-3'] },
];
