// npm run kafka:stop — stops the local broker on KAFKA_PORT (default 9092), if one runs.
import { brokerPort, stopBroker } from './broker.mjs';

const port = brokerPort();
try {
  const wasRunning = await stopBroker({ port });
  console.log(
    wasRunning
      ? `The Kafka broker on 127.0.0.1:${port} has stopped.`
      : `No Kafka broker started by this project is running on 127.0.0.1:${port}.`,
  );
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
