import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { FuzzFormat } from '../../../bench/chaos/fuzz.js';
import { createHarness, runFuzzScenario } from '../../../bench/chaos/fuzz.js';
import type { Payload } from '../../../bench/chaos/fuzz-payloads.js';
import {
  avroPayload,
  confluentPayload,
  csvPayload,
  jsonLinesPayload,
  jsonPayload,
} from '../../../bench/chaos/fuzz-payloads.js';

const arbitraries: Record<FuzzFormat, fc.Arbitrary<Payload>> = {
  json: jsonPayload,
  avro: avroPayload,
  confluent: confluentPayload,
  csv: csvPayload,
  jsonl: jsonLinesPayload,
};

for (const format of Object.keys(arbitraries) as FuzzFormat[]) {
  void test(`every fuzzed ${format} payload is labelled with finite features or refused with a known reason`, async () => {
    const harness = await createHarness(format);
    try {
      // fast-check shrinks a failing chunk to the smallest one that still breaks the property.
      await fc.assert(
        fc.asyncProperty(
          fc.array(arbitraries[format], { minLength: 1, maxLength: 25 }),
          async (payloads) => {
            const outcome = await harness.check(payloads);
            assert.deepEqual(outcome.violations, []);
          },
        ),
        { numRuns: 40, seed: 20_261_205 },
      );
    } finally {
      harness.dispose();
    }
  });
}

void test('runFuzzScenario() reports payloads per format, outcomes by reason, no crash and no violation', async () => {
  const result = await runFuzzScenario({ payloads: 800, seed: 3 });
  assert.equal(result.name, 'fuzz');
  assert.ok(result.passed, result.notes.join('\n'));
  const { figures } = result;
  assert.equal(figures.crashes, 0);
  assert.equal(figures.violations, 0);
  for (const format of ['json', 'avro', 'confluent', 'csv', 'jsonl']) {
    assert.ok(Number(figures[`payloads_${format}`]) > 0, `${format} payloads`);
    assert.ok(Number(figures[`accepted_${format}`]) > 0, `${format} accepted`);
  }
  assert.ok(Number(figures.payloads) >= 800);
  assert.ok(Number(figures.rejected_undecodable) > 0);
  assert.ok(Number(figures['rejected_non-finite']) > 0);
  assert.ok(Number(figures['rejected_usage-error']) > 0);
  assert.ok(Number(figures.payloads_per_s) > 0);
});
