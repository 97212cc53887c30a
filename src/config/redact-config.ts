import type { Config } from './config.js';

export const redacted = '[redacted]';

/**
 * A copy of the configuration that is safe to log: the SASL password is masked, and so is any
 * password inside the schema registry URL.
 */
export function redactConfig(config: Config): unknown {
  const copy = structuredClone(config) as {
    kafka: { sasl: { password: string } | undefined };
    stream: { schemaRegistryUrl: string | undefined };
  };
  if (copy.kafka.sasl !== undefined) copy.kafka.sasl.password = redacted;
  if (copy.stream.schemaRegistryUrl !== undefined) {
    copy.stream.schemaRegistryUrl = redactUrl(copy.stream.schemaRegistryUrl);
  }
  return copy;
}

/** `https://user:secret@host/` → `https://user:[redacted]@host/`. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password === '') return text;
    url.password = 'redacted';
    return url.toString().replace(':redacted@', `:${redacted}@`);
  } catch {
    return text;
  }
}
