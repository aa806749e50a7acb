import { createInterface } from 'node:readline';

/**
 * The input loop shared by `pigeon chat` and `pigeon chat --group`: reads lines, skips blank ones,
 * ends on /quit, /exit, end of input or an interrupt, and hands each text to `onText` one at a
 * time, in order (a send must not overtake the one typed before it).
 */
export interface ChatInput {
  /** Resolves when input has ended (the handlers of lines already read may still be running). */
  readonly closed: Promise<void>;
  /** Resolves when every line read so far has been handled. */
  drained(): Promise<void>;
}

export function readChatLines(input: NodeJS.ReadableStream, interrupted: Promise<unknown>, onText: (text: string) => Promise<void>): ChatInput {
  const rl = createInterface({ input, terminal: false });
  const closed = new Promise<void>((resolve) => {
    rl.on('close', resolve);
    void interrupted.then(() => rl.close());
  });
  let pending = Promise.resolve();
  rl.on('line', (line) => {
    const text = line.trim();
    if (text === '') return;
    if (text === '/quit' || text === '/exit') {
      rl.close();
      return;
    }
    pending = pending.then(() => onText(text));
  });
  return { closed, drained: () => pending };
}
