import { parseArgs, type ParseArgsConfig } from 'node:util';
import { formatError, OcropsError } from './errors.js';

/** One CLI command of a package: `ocrops <group> <name>` runs `run(argv)` with the arguments after the name. */
export interface Command {
  summary: string;
  run(argv: string[]): Promise<void>;
}
/** A package's commands by name; `@ocrops/cli` mounts each table as a command group. */
export type CommandTable = Record<string, Command>;

export interface CommandSpec {
  /** e.g. `ocrops data prepare` */
  usage: string;
  description: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Help lines per option name: `config: 'path of the data config (YAML)'`. */
  help: Record<string, string>;
  allowPositionals?: boolean;
  examples?: string[];
}

/** Renders `--help` text for a command. */
export function helpText(spec: CommandSpec): string {
  const lines = [`Usage: ${spec.usage}`, '', spec.description, '', 'Options:'];
  for (const [name, opt] of Object.entries(spec.options)) {
    const flag = `${opt.short ? `-${opt.short}, ` : '    '}--${name}${opt.type === 'string' ? ' <value>' : ''}`;
    const def = opt.default !== undefined ? ` (default: ${JSON.stringify(opt.default)})` : '';
    lines.push(`  ${flag.padEnd(30)} ${spec.help[name] ?? ''}${def}`);
  }
  lines.push(`  ${'-h, --help'.padEnd(30)} show this help`);
  if (spec.examples?.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

/**
 * Parses argv for a command; prints help and exits on --help; unknown options become an OcropsError that names them.
 */
export function parseCommand(spec: CommandSpec, argv: string[]) {
  const options = { ...spec.options, help: { type: 'boolean' as const, short: 'h' } };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: spec.allowPositionals ?? false, strict: true });
  } catch (err) {
    throw new OcropsError('OCROPS_USAGE', `${(err as Error).message}\n\n${helpText(spec)}`);
  }
  if (parsed.values.help) {
    console.log(helpText(spec));
    process.exit(0);
  }
  return parsed;
}

/** Runs a CLI entry: prints OcropsErrors cleanly and exits with code 1 (2 for usage errors). */
export async function runMain(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    console.error(formatError(err));
    process.exitCode = err instanceof OcropsError && err.code === 'OCROPS_USAGE' ? 2 : 1;
  }
}
