// npm run kafka:start — starts the local broker on KAFKA_PORT (default 9092) and prints its address.
import { KAFKA_VERSION, brokerPort, runDir, startBroker } from './broker.mjs';

const port = brokerPort();
try {
  const broker = await startBroker({ port });
  if (broker.alreadyRunning) {
    console.log(`A Kafka broker is already running at ${broker.bootstrap} (pid ${broker.pid}).`);
  } else {
    const seconds = (broker.startupMs / 1000).toFixed(1);
    console.log(`Kafka ${KAFKA_VERSION} broker ready in ${seconds} s (pid ${broker.pid}).`);
    console.log(`Logs and data: ${runDir(port)}`);
  }
  console.log(`KAFKA_BROKERS=${broker.bootstrap}`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
