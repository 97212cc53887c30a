// npm run kafka:start — starts the local broker on KAFKA_PORT (default 9092) and prints its address.
// KAFKA_SECURITY=sasl-ssl starts it with a SASL_SSL (SCRAM-SHA-512) client port instead and prints
// the worker's TLS and SASL settings; the password stays in the run directory's tls/client.json.
import { KAFKA_VERSION, brokerPort, runDir, startBroker } from './broker.mjs';

const port = brokerPort();
try {
  const broker = await startBroker({ port, security: process.env.KAFKA_SECURITY ?? 'plaintext' });
  if (broker.alreadyRunning) {
    console.log(`A Kafka broker is already running at ${broker.bootstrap} (pid ${broker.pid}).`);
  } else {
    const seconds = (broker.startupMs / 1000).toFixed(1);
    console.log(`Kafka ${KAFKA_VERSION} broker ready in ${seconds} s (pid ${broker.pid}).`);
    console.log(`Logs and data: ${runDir(port)}`);
  }
  console.log(`KAFKA_BROKERS=${broker.bootstrap}`);
  if (broker.client !== undefined) {
    const { caFile, mechanism, username } = broker.client;
    console.log(`KAFKA_SSL=true KAFKA_SSL_CA_FILE=${caFile}`);
    console.log(`KAFKA_SASL_MECHANISM=${mechanism} KAFKA_SASL_USERNAME=${username}`);
    console.log(`KAFKA_SASL_PASSWORD: the "password" in ${runDir(port)}/tls/client.json`);
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
