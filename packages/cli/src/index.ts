export { main, run, COMMANDS, mainHelp } from './main.js';
export { EXIT_OK, EXIT_FAILURE, EXIT_USAGE, UsageError, describeError } from './errors.js';
export type { Io } from './io.js';
