/**
 * The `pigeon` command: parses the command line (node:util parseArgs), runs one command,
 * and turns every failure into one line and an exit code (errors.ts). bin/pigeon.js calls run().
 */
import { parseArgs } from 'node:util';
import type { Command, CommandContext } from './command.js';
import { COMMON_HELP, COMMON_OPTIONS } from './command.js';
import { acceptCommand } from './commands/accept.js';
import { chatCommand } from './commands/chat.js';
import { contactsCommand } from './commands/contacts.js';
import { inboxCommand } from './commands/inbox.js';
import { initCommand } from './commands/init.js';
import { inviteCommand } from './commands/invite.js';
import { listenCommand } from './commands/listen.js';
import { relayCommand } from './commands/relay.js';
import { sendCommand } from './commands/send.js';
import { settingsCommand } from './commands/settings.js';
import { sendFileCommand } from './commands/send-file.js';
import { downloadCommand } from './commands/download.js';
import { verifyCommand } from './commands/verify.js';
import { whoamiCommand } from './commands/whoami.js';
import { groupCommand } from './commands/group.js';
import { linkCommand } from './commands/link.js';
import { devicesCommand } from './commands/devices.js';
import { bridgeCommand } from './commands/bridge.js';
import { doctorCommand } from './commands/doctor.js';
import { statusCommand } from './commands/status.js';
import { MESSAGE_LIFE_COMMANDS } from './commands/message-life.js';
import { EXIT_OK, EXIT_USAGE, UsageError, describeError } from './errors.js';
import { Output, processIo } from './io.js';
import type { Io } from './io.js';
import { profileDir } from './profile.js';

export const COMMANDS: readonly Command[] = [
  initCommand,
  whoamiCommand,
  inviteCommand,
  acceptCommand,
  contactsCommand,
  verifyCommand,
  sendCommand,
  sendFileCommand,
  downloadCommand,
  ...MESSAGE_LIFE_COMMANDS,
  chatCommand,
  inboxCommand,
  listenCommand,
  groupCommand,
  linkCommand,
  devicesCommand,
  settingsCommand,
  relayCommand,
  bridgeCommand,
  statusCommand,
  doctorCommand,
];

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Pigeon: private, end-to-end encrypted messaging without a phone number.

Usage: pigeon <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

${COMMON_HELP}

Run \`pigeon <command> --help\` for the options of one command.`;
}

/** Finds the command word, allowing common options before it (`pigeon --profile X send ...`). */
function splitCommand(argv: readonly string[]): { name: string | undefined; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--profile') {
      i++;
      continue;
    }
    if (arg === '--') break;
    if (arg.startsWith('-')) continue;
    return { name: arg, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { name: undefined, rest: [...argv] };
}

function interruption(): { promise: Promise<void>; dispose: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  const handler = () => resolve();
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return {
    promise,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** Runs one command line; returns the exit code. Never throws. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const wantsJson = argv.includes('--json');
  const out = new Output(io, wantsJson);
  const fail = (err: unknown): number => {
    const d = describeError(err);
    if (wantsJson) io.stdout(JSON.stringify({ error: { code: d.code, message: d.message } }) + '\n');
    io.stderr(`pigeon: ${d.message}\n`);
    if (io.env.PIGEON_DEBUG && err instanceof Error && err.stack) io.stderr(err.stack + '\n');
    return d.exitCode;
  };

  const { name, rest } = splitCommand(argv);
  if (name === undefined || name === 'help') {
    const topic = name === 'help' ? rest.find((a) => !a.startsWith('-')) : undefined;
    const cmd = topic ? COMMANDS.find((c) => c.name === topic) : undefined;
    if (topic && !cmd) return fail(new UsageError(`unknown command "${topic}"`));
    if (name === undefined && !argv.includes('--help') && !argv.includes('-h')) {
      io.stderr(mainHelp() + '\n');
      return EXIT_USAGE;
    }
    io.stdout((cmd ? `${cmd.help}\n\n${COMMON_HELP}` : mainHelp()) + '\n');
    return EXIT_OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) return fail(new UsageError(`unknown command "${name}"`));

  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      options: { ...COMMON_OPTIONS, ...command.options },
      allowPositionals: true,
      strict: true,
    }) as { values: Record<string, string | boolean | undefined>; positionals: string[] });
  } catch (err) {
    return fail(new UsageError(err instanceof Error ? err.message.split('\n')[0]! : 'bad arguments', command.name));
  }
  if (values.help) {
    io.stdout(`${command.help}\n\n${COMMON_HELP}\n`);
    return EXIT_OK;
  }
  const [min, max] = command.positionals;
  if (positionals.length < min) return fail(new UsageError('missing argument', command.name));
  if (positionals.length > max) return fail(new UsageError(`unexpected argument "${positionals[max]}"`, command.name));

  const stop = interruption();
  try {
    const ctx: CommandContext = {
      io,
      out,
      home: profileDir(typeof values.profile === 'string' ? values.profile : undefined, io),
      values,
      positionals,
      interrupted: stop.promise,
    };
    return await command.run(ctx);
  } catch (err) {
    if (err instanceof TypeError && /^--/.test(err.message)) return fail(new UsageError(err.message, command.name));
    return fail(err);
  } finally {
    stop.dispose();
  }
}

/** Entry point of bin/pigeon.js. */
export async function run(argv: readonly string[]): Promise<void> {
  const code = await main(argv);
  process.exit(code);
}
