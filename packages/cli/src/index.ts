export { groups, type Command, type CommandTable } from "./commands.js";
