// npm run demo — for now: proves the local broker starts, then explains what the demo will show.
import { brokerPort, startBroker, stopBroker } from './kafka/broker.mjs';

const port = brokerPort();
let started = false;
try {
  const broker = await startBroker({ port });
  started = !broker.alreadyRunning;
  console.log(`Kafka broker ready at ${broker.bootstrap}.`);
  console.log(
    [
      '',
      'The dec-stream demo will:',
      '  1. produce a stream of feature records to an input topic on this broker;',
      '  2. run the worker, which trains a DEC model on the first window of records (bootstrap);',
      '  3. label every further record with its cluster, confidence and model version on an output topic;',
      '  4. refine the model on mini-batches and print clustering accuracy as it goes.',
      '',
      'The worker is not wired up yet, so this run stops here.',
    ].join('\n'),
  );
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  if (started) await stopBroker({ port });
}
