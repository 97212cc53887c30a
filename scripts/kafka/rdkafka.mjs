// librdkafka, the C client most non-Java Kafka producers and consumers are built on, as a second
// independent peer for the integration tests: PyPI's confluent-kafka wheel bundles it with every
// codec. Installed once into a virtual environment in ~/.cache/dec-stream/ (like the broker's jars).
//
// resolveRdkafkaPython()  creates ~/.cache/dec-stream/confluent-kafka-<version>/ once and returns
//                         its python.

import { resolvePythonEnv } from '../python/env.mjs';

/** The confluent-kafka release (and so the librdkafka inside it) the tests run against. */
export const CONFLUENT_KAFKA_VERSION = process.env.CONFLUENT_KAFKA_VERSION ?? '2.16.1';

/**
 * The python of a virtual environment holding confluent-kafka, created on first use.
 * @returns {string} path of the environment's python
 */
export function resolveRdkafkaPython(version = CONFLUENT_KAFKA_VERSION, log = console.log) {
  return resolvePythonEnv(`confluent-kafka-${version}`, [`confluent-kafka==${version}`], log);
}
