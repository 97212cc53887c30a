// Runs after every install (the package's postinstall): fixes what the pinned dependencies get
// wrong on the worker's hot path. Each fix checks the file it replaces by hash, so it changes only
// the exact version it was written for; on any other version it warns and changes nothing.
//
// kafkajs 2.2.4, producer/groupMessagesPerPartition.js: every produce call groups its messages by
// partition with a reduce that copies the partition's whole list for each message it adds
// (`[...current, message]`), which is quadratic in the messages per partition. A 1,000-record
// unit for one partition copies half a million array slots and leaves as much garbage. It was 14 %
// of the publishing thread's CPU; the replacement below builds the same grouping in one pass.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const groupingFile = join('kafkajs', 'src', 'producer', 'groupMessagesPerPartition.js');

/** SHA-256 of the file as kafkajs 2.2.4 ships it. */
const groupingOriginalSha256 = 'ea72357721fbf67770b5e06b9bf4260faa1e60f3affb556bff2cc7892c1881fb';

export const linearGrouping = `// Replaced by dec-stream (scripts/patch-dependencies.mjs): the same grouping in one pass.
module.exports = ({ topic, partitionMetadata, messages, partitioner }) => {
  if (partitionMetadata.length === 0) {
    return {}
  }
  const perPartition = {}
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message })
    const list = perPartition[partition]
    if (list === undefined) perPartition[partition] = [message]
    else list.push(message)
  }
  return perPartition
}
`;

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/**
 * Where the produce-grouping fix stands in `nodeModules`: 'applied' (just now), 'present' (already),
 * 'absent' (no kafkajs there) or 'unknown-version' (left alone).
 */
export function fixProduceGrouping(nodeModules) {
  const path = join(nodeModules, groupingFile);
  if (!existsSync(path)) return 'absent';
  const text = readFileSync(path, 'utf8');
  if (text === linearGrouping) return 'present';
  if (sha256(text) !== groupingOriginalSha256) return 'unknown-version';
  writeFileSync(path, linearGrouping);
  return 'applied';
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const nodeModules = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules');
  const state = fixProduceGrouping(nodeModules);
  if (state === 'unknown-version') {
    process.stderr.write(
      `patch-dependencies: ${groupingFile} is not the kafkajs 2.2.4 file; its quadratic ` +
        'grouping fix was not applied\n',
    );
  } else if (state === 'applied') {
    process.stdout.write(`patch-dependencies: ${groupingFile} now groups in one pass\n`);
  }
}
