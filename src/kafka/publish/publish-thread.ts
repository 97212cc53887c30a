/**
 * The publishing thread: the worker's Kafka producers, off the thread that consumes. Producing is
 * most of what the Kafka client costs per record (record encoding, CRC, request building), so it
 * gets a core of its own. Messages are handled strictly in arrival order: units publish in the
 * order the worker sent them, and a claim or release falls between the units around it.
 */
import { parentPort } from 'node:worker_threads';
import type { ErrorData } from '../../worker/labeller/protocol.js';
import { errorData } from '../../worker/labeller/protocol.js';
import type { Logger, LogFields, LogLevel } from '../../runtime/logger.js';
import { toLoggable } from '../../runtime/logger.js';
import { createKafka } from '../client.js';
import { ExactlyOnceSink, UnitProducer } from '../output-sink.js';
import type { FromPublisher, PublisherSettings, ToPublisher } from './protocol.js';
import { unpackUnit } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('publish-thread must run as a worker thread');

function send(message: FromPublisher): void {
  port?.postMessage(message);
}

/** Log lines go to the worker's logger on the main thread. */
function forwardingLogger(base: LogFields = {}): Logger {
  const emit =
    (level: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      send({
        type: 'log',
        level,
        message,
        fields: toLoggable({ ...base, ...fields }) as Record<string, unknown>,
      });
    };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (fields) => forwardingLogger({ ...base, ...fields }),
  };
}

/** At-least-once produces here and the worker commits; exactly-once runs whole transactions here. */
type Output =
  | { readonly delivery: 'at-least-once'; readonly producer: UnitProducer }
  | { readonly delivery: 'exactly-once'; readonly sink: ExactlyOnceSink };

let output: Output | undefined;
/**
 * At-least-once: the first failed unit. The worker may have handed over later units before it
 * learnt of the failure; none of them is produced, so no partition's output skips a unit.
 */
let halted: ErrorData | undefined;

async function open(settings: PublisherSettings): Promise<Output> {
  const logger = forwardingLogger({ thread: 'publish' });
  const kafka = createKafka(settings.kafka, logger.child({ component: 'kafka' }));
  const common = {
    kafka,
    groupId: settings.groupId,
    outputTopic: settings.outputTopic,
    dlqTopic: settings.dlqTopic,
    logger,
    ...(settings.compression === undefined ? {} : { compression: settings.compression }),
    ...(settings.maxRequestBytes === undefined
      ? {}
      : { maxRequestBytes: settings.maxRequestBytes }),
  };
  if (settings.delivery === 'exactly-once') {
    const sink = new ExactlyOnceSink({
      ...common,
      transactionalIdPrefix: settings.transactionalIdPrefix,
    });
    await sink.start();
    return { delivery: 'exactly-once', sink };
  }
  const producer = new UnitProducer(common);
  await producer.start();
  return { delivery: 'at-least-once', producer };
}

function opened(): Output {
  if (output === undefined) throw new Error('the publishing thread has no producer yet');
  return output;
}

async function handle(message: ToPublisher): Promise<void> {
  if (message.type === 'init') {
    try {
      output = await open(message.settings);
      send({ type: 'ready' });
    } catch (error) {
      send({ type: 'init-failed', error: errorData(error) });
    }
    return;
  }
  try {
    let offset: string | undefined;
    const out = opened();
    switch (message.type) {
      case 'claim':
        if (out.delivery === 'exactly-once') {
          offset = await out.sink.claim(message.topic, message.partition);
        }
        break;
      case 'release':
        if (out.delivery === 'exactly-once')
          await out.sink.release(message.topic, message.partitions);
        break;
      case 'publish': {
        const unit = unpackUnit(message.unit);
        if (out.delivery === 'exactly-once') {
          await out.sink.publish(unit);
          break;
        }
        if (halted !== undefined) {
          send({
            type: 'failed',
            id: message.id,
            error: {
              ...halted,
              message: `not produced after an earlier unit failed: ${halted.message}`,
            },
          });
          return;
        }
        try {
          await out.producer.produce(unit);
        } catch (error) {
          halted = errorData(error);
          throw error;
        }
        break;
      }
      case 'close':
        output = undefined;
        if (out.delivery === 'exactly-once') await out.sink.close();
        else await out.producer.close();
        break;
    }
    send({ type: 'done', id: message.id, offset });
  } catch (error) {
    send({ type: 'failed', id: message.id, error: errorData(error) });
  }
}

let queue: Promise<void> = Promise.resolve();
port.on('message', (message: ToPublisher) => {
  queue = queue.then(() => handle(message));
});
