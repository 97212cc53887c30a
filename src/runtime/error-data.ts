/**
 * Errors as plain data, so that they can cross between threads (structured clone keeps neither the
 * class nor the extra fields of an error) and be rebuilt on the other side with their code.
 */
import { DecStreamError, PoisonRecordError } from '../errors.js';
import type { PoisonReason } from '../errors.js';

/** An error as plain data; `code` and `retriable` survive the trip (DecStreamError). */
export interface ErrorData {
  readonly name: string;
  readonly message: string;
  readonly code: string | undefined;
  readonly retriable: boolean;
  /** PoisonRecordError's reason, when the error is one. */
  readonly reason: string | undefined;
}

export function errorData(error: unknown): ErrorData {
  if (!(error instanceof Error)) {
    return {
      name: 'Error',
      message: String(error),
      code: undefined,
      retriable: false,
      reason: undefined,
    };
  }
  const fields = error as Error & { code?: unknown; retriable?: unknown; reason?: unknown };
  return {
    name: error.name,
    message: error.message,
    code: typeof fields.code === 'string' ? fields.code : undefined,
    retriable: fields.retriable === true,
    reason: typeof fields.reason === 'string' ? fields.reason : undefined,
  };
}

/** The error `data` describes, with its code, retriability and poison reason where it had them. */
export function rebuildError(data: ErrorData): Error {
  if (data.reason !== undefined && data.code?.startsWith('POISON_') === true) {
    return new PoisonRecordError(data.reason as PoisonReason, data.message);
  }
  if (data.code !== undefined) {
    return new DecStreamError(data.code, data.message, { retriable: data.retriable });
  }
  const error = new Error(data.message);
  error.name = data.name;
  return error;
}
