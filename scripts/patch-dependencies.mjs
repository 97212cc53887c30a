// Runs after every install (the package's postinstall): fixes what the pinned kafkajs 2.2.4 does
// wastefully on the worker's hot path, where its producer sets the worker's pace. Each fix checks
// the file it changes by hash, so it changes only the exact file it was written for; on any other
// version it warns and changes nothing, and kafkajs then works as shipped, only slower.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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

/**
 * path: under node_modules. originalSha256 / fixedSha256: the file as kafkajs 2.2.4 ships it and
 * as `fix` leaves it; earlierSha256: as earlier versions of a fix left it, which `fix` also turns
 * into the fixed file.
 */
export const fixes = [
  {
    // Every produce call groups its messages by partition with a reduce that copies the
    // partition's whole list for each message it adds (`[...current, message]`): quadratic in the
    // messages per partition. A 1,000-record unit for one partition copies half a million array
    // slots and leaves as much garbage; it was 14 % of the publishing thread's CPU.
    name: 'produce grouping in one pass',
    path: join('kafkajs', 'src', 'producer', 'groupMessagesPerPartition.js'),
    originalSha256: 'ea72357721fbf67770b5e06b9bf4260faa1e60f3affb556bff2cc7892c1881fb',
    fixedSha256: sha256(linearGrouping),
    fix: () => linearGrouping,
  },
  {
    // Every record and every header is encoded by an Encoder of its own, which starts with a
    // zero-filled 512-byte buffer of its own (Buffer.alloc: a fresh allocation, zeroed). The
    // encoder only ever reads back what it wrote (its `buffer` is buf[0, offset)), so the zeroing
    // is wasted; Buffer.allocUnsafe takes small buffers from Node's shared pool instead.
    // And every varint (a record's length, offset delta, key, value and header lengths: seven or
    // more per record) and varlong (its timestamp delta) was collected in an array of its own,
    // turned into a Buffer of its own and then copied into the encoder. They are now written
    // straight into the encoder's buffer: the same bytes, with no garbage per varint.
    name: 'encoder buffers from the pool, varints written in place',
    path: join('kafkajs', 'src', 'protocol', 'encoder.js'),
    originalSha256: '9977889e184a9e910e4f6098c36ec6a0ca36c183aa6ead0f24191b6aa1c9a777',
    // The file as an earlier version of this script left it (pooled buffers only).
    earlierSha256: ['315d41b5defc8e8bebb8d1e68ad2c818084654eea640162ea8c21a0bc5aec57f'],
    fixedSha256: '346f52f02c44665194144dba03e9f5e6850abaeb9af255a3521fba6e3b8f80ed',
    fix: (text) =>
      text
        .replace(
          'this.buf = Buffer.alloc(Encoder.nextPowerOfTwo(initialSize))',
          'this.buf = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(initialSize))',
        )
        .replace(
          'const newBuffer = Buffer.alloc(newLength)',
          'const newBuffer = Buffer.allocUnsafe(newLength)',
        )
        .replace(
          `  writeUVarInt(value) {
    const byteArray = []
    while ((value & UNSIGNED_INT32_MAX_NUMBER) !== 0) {
      byteArray.push((value & OTHER_BITS) | MOST_SIGNIFICANT_BIT)
      value >>>= 7
    }
    byteArray.push(value & OTHER_BITS)
    this.writeBufferInternal(Buffer.from(byteArray))
    return this
  }`,
          `  writeUVarInt(value) {
    // At most five bytes: the mask reads value as 32 bits, and >>> shifts zeros in.
    this.ensureAvailable(5)
    const buf = this.buf
    let offset = this.offset
    while ((value & UNSIGNED_INT32_MAX_NUMBER) !== 0) {
      buf[offset++] = (value & OTHER_BITS) | MOST_SIGNIFICANT_BIT
      value >>>= 7
    }
    buf[offset++] = value & OTHER_BITS
    this.offset = offset
    return this
  }`,
        )
        .replace(
          `  writeVarLong(value) {
    const byteArray = []
    let longValue = Encoder.encodeZigZag64(value)

    while (longValue.and(UNSIGNED_INT64_MAX_NUMBER).notEquals(Long.fromInt(0))) {
      byteArray.push(
        longValue
          .and(OTHER_BITS)
          .or(MOST_SIGNIFICANT_BIT)
          .toInt()
      )
      longValue = longValue.shiftRightUnsigned(7)
    }

    byteArray.push(longValue.toInt())

    this.writeBufferInternal(Buffer.from(byteArray))
    return this
  }`,
          `  writeVarLong(value) {
    // At most ten bytes for 64 bits.
    this.ensureAvailable(10)
    let longValue = Encoder.encodeZigZag64(value)

    while (longValue.and(UNSIGNED_INT64_MAX_NUMBER).notEquals(Long.fromInt(0))) {
      this.buf[this.offset++] = longValue
        .and(OTHER_BITS)
        .or(MOST_SIGNIFICANT_BIT)
        .toInt()
      longValue = longValue.shiftRightUnsigned(7)
    }

    this.buf[this.offset++] = longValue.toInt()
    return this
  }`,
        ),
  },
  {
    // Every header of every record is encoded by an Encoder of its own (a buffer from the pool,
    // a varint buffer per length), then copied into the record's encoder; the worker adds a
    // header to every record it writes, so this doubled the cost of encoding one. The record's
    // encoder now writes its headers itself: the same bytes, with no encoder per header. And a
    // headers object that carries its own encoding under Symbol.for('dec-stream.encodedHeaders')
    // (src/kafka/encoded-headers.ts: the worker's records share one headers object per unit) is
    // not encoded at all: those bytes are copied in. Object.keys skips symbol keys, so any other
    // headers object is encoded as before.
    name: 'record headers written in place, or copied when encoded before',
    path: join('kafkajs', 'src', 'protocol', 'recordBatch', 'record', 'v0', 'index.js'),
    originalSha256: 'ffbc628c1f35f5de8ba798165616b1009d9af1c27ca959999a10e6e3c18f8215',
    fixedSha256: '79a5e8a4ee7a4534c22414e61df1264d69e8bb69614e67c21100e69b3459f4ce',
    fix: (text) =>
      text
        .replace(
          "const Header = require('../../header/v0')\n",
          "// dec-stream: the encoded headers a headers object may carry.\nconst ENCODED_HEADERS = Symbol.for('dec-stream.encodedHeaders')\n",
        )
        .replace(
          `module.exports = ({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }) => {
  const headersArray = Object.keys(headers).flatMap(headerKey =>
    !Array.isArray(headers[headerKey])
      ? [{ key: headerKey, value: headers[headerKey] }]
      : headers[headerKey].map(headerValue => ({ key: headerKey, value: headerValue }))
  )
`,
          `module.exports = ({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }) => {
  const encodedHeaders = headers[ENCODED_HEADERS]
  const headersArray =
    encodedHeaders !== undefined
      ? []
      : Object.keys(headers).flatMap(headerKey =>
          !Array.isArray(headers[headerKey])
            ? [{ key: headerKey, value: headers[headerKey] }]
            : headers[headerKey].map(headerValue => ({ key: headerKey, value: headerValue }))
        )
`,
        )
        .replace(
          `    sizeOfHeaders(headersArray)

  return new Encoder()
    .writeVarInt(sizeOfBody)`,
          `    (encodedHeaders !== undefined ? encodedHeaders.length : sizeOfHeaders(headersArray))

  const encoder = new Encoder()
    .writeVarInt(sizeOfBody)`,
        )
        .replace(
          `    .writeVarIntBytes(value)
    .writeVarIntArray(headersArray.map(Header))
}`,
          `    .writeVarIntBytes(value)
  if (encodedHeaders !== undefined) {
    return encoder.writeBuffer(encodedHeaders)
  }
  encoder.writeVarInt(headersArray.length)
  for (const header of headersArray) {
    encoder.writeVarIntString(header.key).writeVarIntBytes(header.value)
  }
  return encoder
}`,
        ),
  },
];

function sha256(text) {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Applies `fix` in `nodeModules`. Returns 'applied' (just now), 'present' (already), 'absent' (no
 * such file) or 'unknown-version' (left alone).
 */
export function applyFix(nodeModules, fix) {
  const path = join(nodeModules, fix.path);
  if (!existsSync(path)) return 'absent';
  const text = readFileSync(path, 'utf8');
  const hash = sha256(text);
  if (hash === fix.fixedSha256) return 'present';
  if (hash !== fix.originalSha256 && !(fix.earlierSha256 ?? []).includes(hash)) {
    return 'unknown-version';
  }
  const fixed = fix.fix(text);
  // A fix that does not give exactly the file it was checked against changes nothing.
  if (sha256(fixed) !== fix.fixedSha256) return 'unknown-version';
  writeFileSync(path, fixed);
  return 'applied';
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const nodeModules = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules');
  for (const fix of fixes) {
    const state = applyFix(nodeModules, fix);
    if (state === 'unknown-version') {
      process.stderr.write(
        `patch-dependencies: ${fix.path} is not the kafkajs 2.2.4 file; "${fix.name}" not applied\n`,
      );
    } else if (state === 'applied') {
      process.stdout.write(`patch-dependencies: ${fix.path}: ${fix.name}\n`);
    }
  }
}
