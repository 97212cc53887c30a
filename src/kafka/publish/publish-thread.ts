/**
 * The publishing thread: the worker's Kafka producers, off the thread that consumes. Producing is
 * most of what the Kafka client costs per record (record encoding, CRC, request building), so it
 * gets a core of its own. Messages are handled strictly in arrival order: units publish in the
 * order the worker sent them, and a claim or release falls between the units around it.
 */
import type { ErrorData } from '../../runtime/error-data.js';
import { errorData, rebuildError } from '../../runtime/error-data.js';
import type { Logger, LogFields, LogLevel } from '../../runtime/logger.js';
import { toLoggable } from '../../runtime/logger.js';
import type { ThreadContext } from '../../runtime/thread-channel.js';
import { serveThread } from '../../runtime/thread-channel.js';
import { createKafka } from '../client.js';
import { ExactlyOnceSink, UnitProducer } from '../output-sink.js';
import type { PublishProtocol, PublisherSettings } from './protocol.js';
import { unpackUnit } from './protocol.js';

/** Log lines go to the worker's logger on the main thread. */
function forwardingLogger(context: ThreadContext<PublishProtocol>, base: LogFields = {}): Logger {
  const emit =
    (level: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      context.emit({
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
    child: (fields) => forwardingLogger(context, { ...base, ...fields }),
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

async function open(
  settings: PublisherSettings,
  context: ThreadContext<PublishProtocol>,
): Promise<Output> {
  const logger = forwardingLogger(context, { thread: 'publish' });
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

serveThread<PublishProtocol>({
  async init(settings, context) {
    output = await open(settings, context);
    return undefined;
  },
  requests: {
    async claim({ topic, partition }) {
      const out = opened();
      return out.delivery === 'exactly-once' ? out.sink.claim(topic, partition) : undefined;
    },
    async release({ topic, partitions }) {
      const out = opened();
      if (out.delivery === 'exactly-once') await out.sink.release(topic, partitions);
      return undefined;
    },
    async publish(packed) {
      const out = opened();
      const unit = unpackUnit(packed);
      if (out.delivery === 'exactly-once') {
        await out.sink.publish(unit);
        return undefined;
      }
      if (halted !== undefined) {
        throw rebuildError({
          ...halted,
          message: `not produced after an earlier unit failed: ${halted.message}`,
        });
      }
      try {
        await out.producer.produce(unit);
      } catch (error) {
        halted = errorData(error);
        throw error;
      }
      return undefined;
    },
    async close() {
      const out = opened();
      output = undefined;
      if (out.delivery === 'exactly-once') await out.sink.close();
      else await out.producer.close();
      return undefined;
    },
  },
});
