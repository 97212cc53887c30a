/** A thread for the channel's tests: each request exercises one thing the channel must carry. */
import { DecStreamError, PoisonRecordError } from '../../../src/errors.js';
import type { Call } from '../../../src/runtime/thread-channel.js';
import { serveThread, Transferring } from '../../../src/runtime/thread-channel.js';

export type TestProtocol = {
  readonly init: { readonly greeting: string; readonly failToStart: boolean };
  readonly ready: string;
  readonly requests: {
    readonly echo: Call<string, string>;
    /** Answers after `ms`, so a later request could overtake it if order were not kept. */
    readonly slowEcho: Call<{ readonly text: string; readonly ms: number }, string>;
    readonly failWithCode: Call<{ readonly code: string; readonly retriable: boolean }, never>;
    readonly failPoison: Call<undefined, never>;
    /** Doubles every value; the answer's buffer is transferred back. */
    readonly double: Call<Float64Array, Float64Array>;
    readonly log: Call<string, undefined>;
    /** Never answers. */
    readonly hang: Call<undefined, undefined>;
    /** Answers at once, then ends the thread with exit code `code` after `ms`. */
    readonly exitSoon: Call<{ readonly code: number; readonly ms: number }, undefined>;
    /** Answers, then closes the thread's end so that the thread ends by itself. */
    readonly finish: Call<undefined, string>;
  };
  readonly event: string;
};

serveThread<TestProtocol>({
  init({ greeting, failToStart }) {
    if (failToStart) throw new DecStreamError('TEST_NO_START', 'told not to start');
    return `${greeting}, ready`;
  },
  requests: {
    echo: (text) => text,
    slowEcho: ({ text, ms }) => new Promise((resolve) => setTimeout(() => resolve(text), ms)),
    failWithCode({ code, retriable }) {
      throw new DecStreamError(code, `failed with ${code}`, { retriable });
    },
    failPoison() {
      throw new PoisonRecordError('non-numeric', 'field x is not a number');
    },
    double(values) {
      const out = values.map((v) => v * 2);
      return new Transferring(out, [out.buffer]);
    },
    log(line, context) {
      context.emit(line);
      return undefined;
    },
    hang: () => new Promise<undefined>(() => undefined),
    exitSoon({ code, ms }) {
      setTimeout(() => process.exit(code), ms);
      return undefined;
    },
    finish(_body, context) {
      context.finish();
      return 'bye';
    },
  },
});
