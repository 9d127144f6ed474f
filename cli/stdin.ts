/**
 * Reading a secret value from standard input without echoing it.
 *
 * Piped (`< value.json`, `pass show x | ...`): everything until end of input. On a terminal:
 * the terminal's echo is turned off (raw mode) and one line is read, so the value never
 * appears on screen, in scrollback or in the shell history (it is not an argument).
 */
import { AppError } from '../shared/errors/app-error';

/** At most this many bytes: every secret value is a small JSON object. */
export const MAX_SECRET_INPUT_BYTES = 64 * 1024;

type Input = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };

export async function readSecretInput(opts: { stdin?: Input; prompt: (text: string) => void }): Promise<string> {
  const stdin = opts.stdin ?? (process.stdin as Input);
  if (stdin.isTTY && typeof stdin.setRawMode === 'function') return readHiddenLine(stdin as Input & { setRawMode: (raw: boolean) => unknown }, opts.prompt);
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += b.length;
    if (size > MAX_SECRET_INPUT_BYTES) throw new AppError('CLI.INPUT_TOO_LARGE', `The value on standard input is larger than ${MAX_SECRET_INPUT_BYTES} bytes.`, { status: 400 });
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function readHiddenLine(stdin: Input & { setRawMode: (raw: boolean) => unknown }, prompt: (text: string) => void): Promise<string> {
  prompt('Paste the JSON value (it is not shown), then press Enter:');
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (err?: Error) => {
      stdin.removeListener('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of String(chunk)) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new AppError('CLI.CANCELLED', 'Cancelled; nothing was stored.', { status: 400 }));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
        if (value.length > MAX_SECRET_INPUT_BYTES) return done(new AppError('CLI.INPUT_TOO_LARGE', `The value is larger than ${MAX_SECRET_INPUT_BYTES} bytes.`, { status: 400 }));
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}
