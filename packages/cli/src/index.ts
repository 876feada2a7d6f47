export { groups } from "./commands.js";
