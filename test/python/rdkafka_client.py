"""librdkafka (PyPI's confluent-kafka) as a peer client of the integration tests.

  python rdkafka_client.py produce BOOTSTRAP TOPIC CODEC PREFIX
      every stdin line as one record value, in one batch compressed with CODEC, to partition 0;
      key PREFIX-<i>, header source=rdkafka-<CODEC>
  python rdkafka_client.py transact BOOTSTRAP TOPIC CODEC PREFIX PLAN
      the same records in transactions: PLAN is a comma-separated list such as c20,a10,c20
      (commit 20 records, abort the next 10, commit 20); each record carries header txn=commit|abort
  python rdkafka_client.py consume BOOTSTRAP TOPIC COUNT
      reads COUNT records from the start of TOPIC (read_committed) and prints one line per record:
      key, value and headers (name=value, comma-separated), tab-separated; exits 1 when fewer
      than COUNT arrive within 90 s
"""
import sys
import time
import uuid

from confluent_kafka import Consumer, KafkaException, Producer


def fail_on_error(err, _msg):
    if err is not None:
        raise KafkaException(err)


def batching_producer(bootstrap, codec, extra=None):
    # One batch for all: a long linger and more room per batch than the records need.
    config = {
        'bootstrap.servers': bootstrap,
        'compression.type': codec,
        'linger.ms': 5000,
        'batch.num.messages': 100000,
        'batch.size': 8 * 1024 * 1024,
    }
    config.update(extra or {})
    return Producer(config)


def produce(bootstrap, topic, codec, prefix):
    producer = batching_producer(bootstrap, codec)
    values = sys.stdin.read().splitlines()
    for i, value in enumerate(values):
        producer.produce(topic, value=value.encode(), key=f'{prefix}-{i}'.encode(), partition=0,
                         headers=[('source', f'rdkafka-{codec}'.encode())], on_delivery=fail_on_error)
    if producer.flush(60) != 0:
        raise SystemExit('records left unsent after 60 s')


def transact(bootstrap, topic, codec, prefix, plan):
    producer = batching_producer(bootstrap, codec, {'transactional.id': f'rdkafka-{uuid.uuid4()}'})
    producer.init_transactions(30)
    values = iter(sys.stdin.read().splitlines())
    i = 0
    for step in plan.split(','):
        outcome, count = ('commit' if step[0] == 'c' else 'abort'), int(step[1:])
        producer.begin_transaction()
        for _ in range(count):
            producer.produce(topic, value=next(values).encode(), key=f'{prefix}-{i}'.encode(),
                             partition=0, headers=[('txn', outcome.encode())],
                             on_delivery=fail_on_error)
            i += 1
        if outcome == 'commit':
            producer.commit_transaction(30)
        else:
            producer.flush(30)  # the aborted records reach the log first, as in a real failure
            producer.abort_transaction(30)


def consume(bootstrap, topic, count):
    consumer = Consumer({
        'bootstrap.servers': bootstrap,
        'group.id': f'rdkafka-check-{uuid.uuid4()}',
        'auto.offset.reset': 'earliest',
        'enable.auto.commit': False,
        'isolation.level': 'read_committed',
    })
    consumer.subscribe([topic])
    seen = 0
    deadline = time.monotonic() + 90
    try:
        while seen < count and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                raise KafkaException(msg.error())
            headers = ','.join(f'{k}={v.decode()}' for k, v in (msg.headers() or []))
            key = (msg.key() or b'').decode()
            print(f'{key}\t{msg.value().decode()}\t{headers}', flush=True)
            seen += 1
    finally:
        consumer.close()
    if seen < count:
        raise SystemExit(f'read {seen} of {count} records of {topic} in 90 s')


def main(args):
    command = args[0]
    if command == 'produce':
        produce(*args[1:5])
    elif command == 'transact':
        transact(*args[1:6])
    elif command == 'consume':
        consume(args[1], args[2], int(args[3]))
    else:
        raise SystemExit(f'unknown command {command}')


if __name__ == '__main__':
    main(sys.argv[1:])
