/** Types of what TypeScript callers use from broker.mjs, which stays plain JavaScript. */
export const KAFKA_VERSION: string;
/** Resolves the Kafka jars once (Maven) and returns their directory. */
export function resolveKafka(version?: string, log?: (line: string) => void): string;
/** Directory holding the config, data, logs and pid of the local broker on one port. */
export function runDir(port: number): string;
/** The pid of the broker this script runs on `port`, if one is alive. */
export function runningBrokerPid(port: number): number | undefined;
/** Starts the local broker on `port` (fresh storage unless keepData finds a formatted one). */
export function startBroker(options?: {
  port?: number;
  log?: (line: string) => void;
  keepData?: boolean;
}): Promise<{ bootstrap: string; pid: number; alreadyRunning: boolean; startupMs: number }>;
/** Stops the local broker on `port` (SIGTERM, then SIGKILL after 30 s); false when none ran. */
export function stopBroker(options?: {
  port?: number;
  log?: (line: string) => void;
}): Promise<boolean>;
