/** Types of what TypeScript callers use from broker.mjs, which stays plain JavaScript. */
export const KAFKA_VERSION: string;
/** Resolves the Kafka jars once (Maven) and returns their directory. */
export function resolveKafka(version?: string, log?: (line: string) => void): string;
/** Directory holding the config, data, logs and pid of the local broker on one port. */
export function runDir(port: number): string;
