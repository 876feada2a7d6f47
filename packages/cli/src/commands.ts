// Command groups of the ocrops CLI. Each package exports a command table `{ name: { summary, run(argv) } }`;
// this file only wires them together.
export interface Command {
  summary: string;
  run(argv: string[]): Promise<void>;
}
export type CommandTable = Record<string, Command>;

export const groups: Record<string, CommandTable> = {};
