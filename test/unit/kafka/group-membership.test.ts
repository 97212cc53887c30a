import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import kafkajs from 'kafkajs';
import { lostMembership } from '../../../src/kafka/group-membership.js';

// kafkajs's type declarations leave out the cause its retrier passes.
const KafkaJSNonRetriableError = kafkajs.KafkaJSNonRetriableError as unknown as new (
  error: Error,
  options: { cause: Error },
) => Error;
// kafkajs builds a protocol error from the coordinator's error code; its type names the cause.
const { createErrorFromCode } = createRequire(import.meta.url)('kafkajs/src/protocol/error') as {
  createErrorFromCode: (code: number) => Error & { type: string };
};
const UnknownMemberId = 25;
const IllegalGeneration = 22;
const RebalanceInProgress = 27;
const NotLeaderOrFollower = 6;

/** What consumer.commitOffsets rejects with once its retrier gives up on a protocol error. */
function asCommitRejects(error: Error): Error {
  return new KafkaJSNonRetriableError(error, { cause: error });
}

test('a commit refused because the group dropped this member gives back the coordinator error', () => {
  for (const code of [UnknownMemberId, IllegalGeneration, RebalanceInProgress]) {
    const protocol = createErrorFromCode(code);
    const found = lostMembership(asCommitRejects(protocol));
    assert.equal(found, protocol, `code ${code}`);
    assert.equal(lostMembership(protocol), protocol);
  }
});

test('other failures are not taken for a lost membership', () => {
  assert.equal(
    lostMembership(asCommitRejects(createErrorFromCode(NotLeaderOrFollower))),
    undefined,
  );
  assert.equal(lostMembership(new Error('UNKNOWN_MEMBER_ID')), undefined);
  assert.equal(lostMembership('UNKNOWN_MEMBER_ID'), undefined);
  assert.equal(lostMembership(undefined), undefined);
});
