/** Types of what TypeScript callers use from broker.mjs, which stays plain JavaScript. */
export const KAFKA_VERSION: string;
/** Resolves the Kafka jars once (Maven) and returns their directory. */
export function resolveKafka(version?: string, log?: (line: string) => void): string;
/** Directory holding the config, data, logs and pid of the local broker on one port. */
export function runDir(port: number): string;
/** The pid of the broker this script runs on `port`, if one is alive. */
export function runningBrokerPid(port: number): number | undefined;

/** What a client needs to reach a broker started with `security: 'sasl-ssl'`. */
export interface SecuredBrokerClient {
  /** PEM certificate of the CA that signed the broker's certificate. */
  readonly caFile: string;
  readonly mechanism: 'scram-sha-512';
  readonly username: string;
  readonly password: string;
}

export interface StartedBroker {
  readonly bootstrap: string;
  readonly pid: number;
  readonly alreadyRunning: boolean;
  readonly startupMs: number;
  readonly security: 'plaintext' | 'sasl-ssl';
  /** Set for a sasl-ssl broker. */
  readonly client: SecuredBrokerClient | undefined;
}

/**
 * Starts the local broker on `port` (fresh storage unless keepData finds a formatted one):
 * plaintext, or SASL_SSL with SCRAM-SHA-512 and a self-signed CA.
 */
export function startBroker(options?: {
  port?: number;
  log?: (line: string) => void;
  keepData?: boolean;
  security?: 'plaintext' | 'sasl-ssl';
}): Promise<StartedBroker>;
/** Stops the local broker on `port` (SIGTERM, then SIGKILL after 30 s); false when none ran. */
export function stopBroker(options?: {
  port?: number;
  log?: (line: string) => void;
}): Promise<boolean>;
