// The secured mode of the local broker: SASL_SSL with SCRAM-SHA-512 on the client port.
//
// makeCertificateAuthority()  a self-signed CA (keytool, PKCS#12 keystore + PEM certificate).
// securedBroker()             a CA, a broker certificate it signs (SAN IP:127.0.0.1 and localhost),
//                             SCRAM users for the broker and a client, and the server.properties
//                             lines, kafka-storage arguments and kafkajs options that go with them.
//
// Everything is made with the JDK's keytool (the broker needs a JDK anyway), offline, in the
// broker's run directory. The controller listener stays PLAINTEXT on the loopback interface: only
// the broker's client port is secured.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SCRAM_MECHANISM = 'SCRAM-SHA-512';
export const CLIENT_USER = 'dec-stream';
const BROKER_USER = 'broker';
const validityDays = '30';

/** keytool from JAVA_HOME when set, else the one next to `java` on the PATH. */
function keytoolPath() {
  const home = process.env.JAVA_HOME;
  if (home && existsSync(join(home, 'bin', 'keytool'))) return join(home, 'bin', 'keytool');
  return 'keytool';
}

function keytool(args) {
  // A short-lived JVM: the quick compiler and the serial collector start it fastest.
  const jvm = ['-J-XX:TieredStopAtLevel=1', '-J-XX:+UseSerialGC'];
  const run = spawnSync(keytoolPath(), [...jvm, ...args], { encoding: 'utf8' });
  if (run.error)
    throw new Error(`Could not run keytool (is a JDK installed?): ${run.error.message}`);
  if (run.status !== 0) {
    throw new Error(`keytool ${args[0]} failed (exit ${run.status}):\n${run.stdout}${run.stderr}`);
  }
}

/** A password for keystores and SCRAM users: 18 random bytes, URL-safe base64 (no quoting needed). */
function newSecret() {
  return randomBytes(18).toString('base64url');
}

/**
 * A self-signed certificate authority in `dir`: `<name>.p12` (its key, for signing) and
 * `<name>.pem` (its certificate, for clients to trust).
 * @returns {{ caFile: string; keystore: string; storePassword: string; alias: string }}
 */
export function makeCertificateAuthority({ dir, name = 'ca', commonName = 'dec-stream local CA' }) {
  mkdirSync(dir, { recursive: true });
  const keystore = join(dir, `${name}.p12`);
  const caFile = join(dir, `${name}.pem`);
  rmSync(keystore, { force: true });
  const storePassword = newSecret();
  const store = ['-keystore', keystore, '-storetype', 'PKCS12', '-storepass', storePassword];
  keytool([
    '-genkeypair',
    '-alias',
    name,
    '-keyalg',
    'EC',
    '-groupname',
    'secp256r1',
    '-dname',
    `CN=${commonName}`,
    '-ext',
    'bc:c',
    '-validity',
    validityDays,
    ...store,
  ]);
  keytool(['-exportcert', '-rfc', '-alias', name, '-file', caFile, ...store]);
  return { caFile, keystore, storePassword, alias: name };
}

/**
 * The broker's PKCS#12 keystore in `dir`: a key pair whose certificate `ca` signs, valid for
 * 127.0.0.1 and localhost, stored with the CA's certificate so the broker presents the chain.
 */
function makeBrokerKeystore(dir, ca) {
  const keystore = join(dir, 'broker.p12');
  const request = join(dir, 'broker.csr');
  const signed = join(dir, 'broker.pem');
  rmSync(keystore, { force: true });
  const password = newSecret();
  const store = ['-keystore', keystore, '-storetype', 'PKCS12', '-storepass', password];
  keytool([
    '-genkeypair',
    '-alias',
    'broker',
    '-keyalg',
    'EC',
    '-groupname',
    'secp256r1',
    '-dname',
    'CN=127.0.0.1',
    '-validity',
    validityDays,
    ...store,
  ]);
  keytool(['-certreq', '-alias', 'broker', '-file', request, ...store]);
  keytool([
    '-gencert',
    '-rfc',
    '-alias',
    ca.alias,
    '-keystore',
    ca.keystore,
    '-storetype',
    'PKCS12',
    '-storepass',
    ca.storePassword,
    '-infile',
    request,
    '-outfile',
    signed,
    '-ext',
    'SAN=IP:127.0.0.1,DNS:localhost',
    '-validity',
    validityDays,
  ]);
  keytool(['-importcert', '-noprompt', '-alias', 'ca', '-file', ca.caFile, ...store]);
  keytool(['-importcert', '-alias', 'broker', '-file', signed, ...store]);
  return { keystore, password };
}

/** What a client needs to reach the secured broker, kept beside it for a later `startBroker`. */
function credentialsFile(dir) {
  return join(dir, 'tls', 'client.json');
}

/**
 * Makes the CA, the broker keystore and the SCRAM users of a secured broker in `dir` (its run
 * directory).
 * @returns {{
 *   listenerProperties: string[];
 *   formatArgs: string[];
 *   client: { caFile: string; mechanism: 'scram-sha-512'; username: string; password: string };
 * }}
 */
export function securedBroker({ dir, port, controllerPort }) {
  const tlsDir = join(dir, 'tls');
  rmSync(tlsDir, { recursive: true, force: true });
  const ca = makeCertificateAuthority({ dir: tlsDir });
  const brokerStore = makeBrokerKeystore(tlsDir, ca);
  const brokerPassword = newSecret();
  const client = {
    caFile: ca.caFile,
    mechanism: 'scram-sha-512',
    username: CLIENT_USER,
    password: newSecret(),
  };
  writeFileSync(credentialsFile(dir), `${JSON.stringify(client)}\n`, { mode: 0o600 });

  const jaas =
    'org.apache.kafka.common.security.scram.ScramLoginModule required ' +
    `username="${BROKER_USER}" password="${brokerPassword}";`;
  const listenerProperties = [
    `listeners=SASL_SSL://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=SASL_SSL://127.0.0.1:${port}`,
    'listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=SASL_SSL',
    `sasl.enabled.mechanisms=${SCRAM_MECHANISM}`,
    `sasl.mechanism.inter.broker.protocol=${SCRAM_MECHANISM}`,
    `listener.name.sasl_ssl.${SCRAM_MECHANISM.toLowerCase()}.sasl.jaas.config=${jaas}`,
    'ssl.keystore.type=PKCS12',
    `ssl.keystore.location=${brokerStore.keystore}`,
    `ssl.keystore.password=${brokerStore.password}`,
    `ssl.key.password=${brokerStore.password}`,
    // The broker is also a client of its own listener: it trusts the same CA.
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${ca.caFile}`,
    'ssl.client.auth=none',
  ];
  // KRaft stores SCRAM credentials in the metadata log: they are added when storage is formatted.
  const formatArgs = [
    '--add-scram',
    `${SCRAM_MECHANISM}=[name=${BROKER_USER},password=${brokerPassword}]`,
    '--add-scram',
    `${SCRAM_MECHANISM}=[name=${client.username},password=${client.password}]`,
  ];
  return { listenerProperties, formatArgs, client };
}

/** The client credentials of the secured broker whose run directory is `dir`, if it has them. */
export function securedBrokerClient(dir) {
  const file = credentialsFile(dir);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** kafkajs connection options for a client of the secured broker. */
export function kafkajsSecurity(client) {
  return {
    ssl: { ca: [readFileSync(client.caFile, 'utf8')] },
    sasl: { mechanism: client.mechanism, username: client.username, password: client.password },
  };
}
