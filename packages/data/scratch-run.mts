import { commands } from './src/commands.ts';
const [name, ...rest] = process.argv.slice(2);
await commands[name].run(rest);
