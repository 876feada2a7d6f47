// Machine-readable progress lines for the sweep and other supervisors: with env OCROPS_EVENTS=1, one stdout line
// per event, `@@ocrops-event {"type":"epoch",...}`.

/** Prefix of every event line on stdout. */
export const EVENT_PREFIX = '@@ocrops-event ';

/** An epoch finished: its metrics (the reference recipe's names) and the global step. `epoch` counts from 1. */
export interface EpochEvent {
  type: 'epoch';
  epoch: number;
  step: number;
  metrics: Record<string, number>;
  experimentKey: string;
}

/** The run ended (finished, stopped early, interrupted or failed). */
export interface EndEvent {
  type: 'end';
  status: 'finished' | 'stopped_early' | 'interrupted' | 'failed';
  experimentKey: string;
  monitor: string;
  best: { value: number; epoch: number; step: number } | null;
  final: { metrics: Record<string, number> };
  epochs: number;
  resultPath?: string;
  error?: string;
}

export type TrainEvent = EpochEvent | EndEvent;

/** Prints an event line when OCROPS_EVENTS=1 (non-finite numbers become null, as JSON requires). */
export function emitEvent(ev: TrainEvent): void {
  if (process.env.OCROPS_EVENTS !== '1') return;
  process.stdout.write(`${EVENT_PREFIX}${JSON.stringify(ev)}\n`);
}

/** Parses an event line (for supervisors and tests); undefined for any other line. */
export function parseEventLine(line: string): TrainEvent | undefined {
  if (!line.startsWith(EVENT_PREFIX)) return undefined;
  try {
    return JSON.parse(line.slice(EVENT_PREFIX.length)) as TrainEvent;
  } catch {
    return undefined;
  }
}
