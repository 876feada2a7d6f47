// CLI commands of @ocrops/services, mounted by @ocrops/cli as `ocrops services start|stop|status`.
import { OcropsError, parseCommand, type CommandSpec, type CommandTable } from '@ocrops/common';
import { DEFAULT_S3_PORT, seaweedStatus, startSeaweed, stopSeaweed } from './seaweed.js';
import { DEFAULT_TRACKER_PORT, startTracker, stopTracker, trackerStatus } from './tracker-service.js';

type Values = Record<string, string | boolean | undefined>;

/** Parses argv (handles --help); values keyed by long option name. */
function parse(spec: CommandSpec, argv: string[]): Values {
  return parseCommand(spec, argv).values as Values;
}

const startSpec: CommandSpec = {
  usage: 'ocrops services start [--s3-port 8333] [--tracker-port 5959] [--no-tracker]',
  description:
    'Starts the local services in the background, reusing those already running: SeaweedFS (`weed mini`, S3 on\n' +
    '127.0.0.1, data in .ocrops/seaweedfs, bucket `ocrops`, credentials of .dvc/config.local) and the tracker server\n' +
    '(`ocrops tracker serve`, data in .ocrops/tracker, log in .ocrops/logs/tracker.log).',
  options: {
    's3-port': { type: 'string', default: String(DEFAULT_S3_PORT) },
    'tracker-port': { type: 'string', default: String(DEFAULT_TRACKER_PORT) },
    'no-tracker': { type: 'boolean', default: false },
    'no-seaweed': { type: 'boolean', default: false },
  },
  help: {
    's3-port': 'SeaweedFS S3 port (master/volume/filer/admin use the next 4 ports, gRPC +10000)',
    'tracker-port': 'tracker server port',
    'no-tracker': 'start only SeaweedFS',
    'no-seaweed': 'start only the tracker server',
  },
};

function port(v: unknown, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new OcropsError('OCROPS_USAGE', `--${flag} must be a port number, got '${String(v)}'`);
  return n;
}

const stopSpec: CommandSpec = {
  usage: 'ocrops services stop',
  description: 'Stops the SeaweedFS and tracker server started by `ocrops services start` (data is kept).',
  options: {},
  help: {},
};

const statusSpec: CommandSpec = {
  usage: 'ocrops services status [--json]',
  description: 'Shows whether the local SeaweedFS and tracker server run, with their URLs and pids.',
  options: { json: { type: 'boolean', default: false } },
  help: { json: 'print JSON' },
};

export const servicesCommands: CommandTable = {
  start: {
    summary: 'start SeaweedFS (S3) and the tracker server in the background',
    async run(argv) {
      const values = parse(startSpec, argv);
      if (!values['no-seaweed']) {
        const sw = await startSeaweed({ s3Port: port(values['s3-port'], 's3-port') });
        console.log(
          `SeaweedFS ${sw.reused ? 'already running' : 'started'}: S3 ${sw.endpoint} (bucket ${sw.bucket}, pid ${sw.pid}, log ${sw.logFile})`,
        );
      }
      if (!values['no-tracker']) {
        const tr = await startTracker({ port: port(values['tracker-port'], 'tracker-port') });
        console.log(
          `tracker ${tr.reused ? 'already running' : 'started'}: ${tr.url}${tr.pid ? ` (pid ${tr.pid})` : ''}, log ${tr.logFile}`,
        );
      }
    },
  },
  stop: {
    summary: 'stop the background SeaweedFS and tracker server',
    async run(argv) {
      parse(stopSpec, argv);
      const tr = await stopTracker();
      console.log(tr.stopped ? `tracker stopped (pid ${tr.pid})` : 'tracker was not running (from this checkout)');
      const sw = await stopSeaweed();
      console.log(sw.stopped ? `SeaweedFS stopped (pid ${sw.pid})` : 'SeaweedFS was not running');
    },
  },
  status: {
    summary: 'show whether SeaweedFS and the tracker server run',
    async run(argv) {
      const values = parse(statusSpec, argv);
      const sw = seaweedStatus();
      const tr = await trackerStatus();
      if (values.json) {
        console.log(JSON.stringify({ seaweedfs: sw, tracker: tr }, null, 2));
        return;
      }
      console.log(
        sw.running
          ? `SeaweedFS: running, S3 ${sw.endpoint} (pid ${sw.pid}, since ${sw.startedAt})`
          : `SeaweedFS: stopped (data in ${sw.dataDir})`,
      );
      console.log(
        tr.running ? `tracker:   running, ${tr.url}${tr.pid ? ` (pid ${tr.pid})` : ''}` : 'tracker:   stopped',
      );
    },
  },
};
