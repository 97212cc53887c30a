import { isIP } from 'node:net';
import { connect } from 'node:tls';
import type { ConnectionOptions } from 'node:tls';
import type { KafkaConfig } from '../config/config.js';
import { KafkaAccessError, KafkaAccessFailure } from '../errors.js';
import { tlsOptions } from './client.js';

/** A broker that has not finished its handshake by then is left to the client's own retries. */
const handshakeTimeoutMs = 10_000;

/**
 * Completes one TLS handshake with `broker` without rejecting its certificate, and resolves with
 * why the certificate did not verify (an OpenSSL or Node code such as SELF_SIGNED_CERT_IN_CHAIN
 * or ERR_TLS_CERT_ALTNAME_INVALID), or undefined when it verified or the broker was not reached.
 */
function certificateProblem(
  broker: string,
  options: ConnectionOptions,
): Promise<string | undefined> {
  const colon = broker.lastIndexOf(':');
  const host = broker.slice(0, colon);
  const port = Number(broker.slice(colon + 1));
  return new Promise((resolve) => {
    // Like kafkajs: SNI carries host names only (RFC 6066 forbids IP addresses there).
    const socket = connect({
      ...options,
      host,
      port,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      rejectUnauthorized: false,
    });
    const done = (problem: string | undefined): void => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(handshakeTimeoutMs, () => done(undefined));
    socket.once('secureConnect', () =>
      done(socket.authorized ? undefined : String(socket.authorizationError)),
    );
    // Refused, reset, unreachable: a passing fault the client retries and reports.
    socket.once('error', () => done(undefined));
  });
}

/**
 * Checks, before any client connects, that every bootstrap broker's certificate verifies against
 * the trusted CAs (KAFKA_SSL_CA_FILE, else the system's). kafkajs would treat a certificate that
 * fails verification as a passing connection error and retry it for half a minute; this turns it
 * into a KafkaAccessError at once. Nothing to check without TLS or with
 * KAFKA_SSL_REJECT_UNAUTHORIZED=false.
 */
export async function checkBrokerCertificates(config: KafkaConfig): Promise<void> {
  const options = tlsOptions(config);
  if (options === false || !config.ssl.rejectUnauthorized) return;
  const problems = await Promise.all(
    config.brokers.map((broker) => certificateProblem(broker, options)),
  );
  const index = problems.findIndex((problem) => problem !== undefined);
  if (index === -1) return;
  const problem = problems[index] as string;
  throw new KafkaAccessError(
    KafkaAccessFailure.UntrustedCertificate,
    `cannot connect to Kafka at ${config.brokers[index]}: its TLS certificate did not verify ` +
      `(${problem}); ${remedy(problem, config)}`,
  );
}

/** What to change for a certificate that failed with `problem`. */
function remedy(problem: string, config: KafkaConfig): string {
  if (problem === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return 'the certificate does not name that host; list the brokers in KAFKA_BROKERS by a name it holds';
  }
  return config.ssl.caFile === undefined
    ? "the system's certificate authorities do not trust it; set KAFKA_SSL_CA_FILE to the CA that signed it"
    : `check that KAFKA_SSL_CA_FILE (${config.ssl.caFile}) holds the CA that signed it`;
}
