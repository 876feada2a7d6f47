export { groups, type CommandGroup } from './commands.js';
