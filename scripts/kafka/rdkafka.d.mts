/** Types of what TypeScript callers use from rdkafka.mjs, which stays plain JavaScript. */
export const CONFLUENT_KAFKA_VERSION: string;
/** Installs confluent-kafka (librdkafka) into a cached virtual environment once; its python. */
export function resolveRdkafkaPython(version?: string, log?: (line: string) => void): string;
