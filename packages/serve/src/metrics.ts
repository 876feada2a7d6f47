// Prometheus metrics of the inference server (prom-client, one registry per server).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ServeMetrics {
  registry: Registry;
  requests: Counter<'route' | 'status'>;
  errors: Counter<'route' | 'code'>;
  latency: Histogram<'route'>;
  batchSize: Histogram<string>;
  batchSeconds: Histogram<string>;
  queueDepth: Gauge<string>;
  lines: Counter<string>;
}

/** Requests, errors, latency per route, batch sizes and run times, queue depth, lines read, plus process metrics. */
export function createMetrics(maxBatch: number): ServeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ocrops_serve_' });
  const sizes = [...new Set([1, 2, 4, 8, 16, 32, 64, 128, maxBatch])]
    .filter((s) => s <= maxBatch)
    .sort((a, b) => a - b);
  return {
    registry,
    requests: new Counter({
      name: 'ocrops_serve_requests_total',
      help: 'HTTP requests by route and status code',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'ocrops_serve_errors_total',
      help: 'requests answered with an error, by route and error code',
      labelNames: ['route', 'code'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'ocrops_serve_request_duration_seconds',
      help: 'request latency by route',
      labelNames: ['route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'ocrops_serve_batch_size',
      help: 'lines per model run',
      buckets: sizes,
      registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: 'ocrops_serve_batch_duration_seconds',
      help: 'time of one model run (batch)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'ocrops_serve_queue_depth',
      help: 'lines waiting for a batch',
      registers: [registry],
    }),
    lines: new Counter({ name: 'ocrops_serve_lines_total', help: 'lines read', registers: [registry] }),
  };
}
