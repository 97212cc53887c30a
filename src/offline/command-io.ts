import type { Readable } from 'node:stream';

import type { ProgressStream } from './progress.js';

/** The streams a command talks to; the CLI passes the process's own. */
export interface CommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: ProgressStream;
  readonly stdin: Readable;
}

/** Writes text, waiting when the stream asks for back-pressure. */
export async function writeText(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (!stream.write(text)) {
    await new Promise<void>((resolve, reject) => {
      const onDrain = (): void => {
        stream.off('error', onError);
        resolve();
      };
      const onError = (error: unknown): void => {
        stream.off('drain', onDrain);
        reject(error instanceof Error ? error : new Error(String(error)));
      };
      stream.once('drain', onDrain);
      stream.once('error', onError);
    });
  }
}
