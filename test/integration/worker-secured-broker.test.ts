/**
 * The worker against a secured broker: SASL_SSL with SCRAM-SHA-512 and a self-signed CA. The test
 * starts that broker itself (the local broker's sasl-ssl mode, on a port of its own) and always
 * stops it; the plaintext broker of the other tests is not involved.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SecuredBroker } from './secured-broker.js';
import {
  hasStackTrace,
  labelThroughSecuredBroker,
  linesWithSecrets,
  refusedStart,
  startSecuredBroker,
  strangerCa,
} from './secured-broker.js';

const records = 300;
const wrongPassword = 'not-the-password-5e1f';

void describe(
  'the worker against a SASL_SSL broker with SCRAM-SHA-512',
  { timeout: 420_000 },
  () => {
    let broker: SecuredBroker | undefined;
    /** Everything the workers wrote and served, searched for secrets at the end. */
    const seen: string[] = [];

    before(async () => {
      broker = await startSecuredBroker();
    });
    after(async () => {
      await broker?.stop();
    });
    const securedBroker = (): SecuredBroker => {
      assert.ok(broker !== undefined, 'the secured broker started');
      return broker;
    };

    void test('the worker labels every record of a stream it reads and writes over SASL_SSL', async (t) => {
      const run = await labelThroughSecuredBroker(t, securedBroker(), records);
      seen.push(...run.output, run.metrics);

      assert.equal(run.labelled, records, 'one output record per input record');
      assert.equal(run.distinctKeys, records, 'no key twice');
      assert.ok(
        run.clusters.every((c) => Number.isInteger(c) && c >= 0 && c < 3),
        'every output record carries a cluster of the 3',
      );
      assert.equal(new Set(run.clusters).size, 3, 'the separated mixture fills all 3 clusters');
      assert.match(
        run.metrics,
        new RegExp(`decstream_records_total\\{outcome="labelled"\\} ${records}\\b`),
      );
      assert.ok(run.secondsToFirstLabel > 0, 'a first label was seen');
      assert.equal(run.exitCode, 0, 'SIGTERM stops the worker cleanly');
    });

    void test('a wrong password stops start-up at once with one line naming the SASL settings', async (t) => {
      const refused = await refusedStart(t, securedBroker(), {
        KAFKA_SASL_PASSWORD: wrongPassword,
      });
      seen.push(...refused.output);

      assert.equal(refused.exitCode, 1);
      assert.equal(
        refused.stderrLines.length,
        1,
        `one line on stderr: ${refused.stderrLines.join(' | ')}`,
      );
      assert.match(
        refused.stderrLines[0] ?? '',
        /^dec-stream: cannot connect to Kafka at 127\.0\.0\.1:\d+: SASL SCRAM SHA512 authentication failed: .*\(user "dec-stream", scram-sha-512\); check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD$/,
      );
      assert.equal(refused.loggedCode, 'KAFKA_SASL_FAILED');
      assert.ok(!hasStackTrace(refused.output), 'no stack trace in the output');
      assert.ok(refused.seconds < 30, `gave up after ${refused.seconds.toFixed(1)} s`);
    });

    void test('a CA that did not sign the broker certificate stops start-up at once with one line naming KAFKA_SSL_CA_FILE', async (t) => {
      const caFile = await strangerCa(t);
      const refused = await refusedStart(t, securedBroker(), { KAFKA_SSL_CA_FILE: caFile });
      seen.push(...refused.output);

      assert.equal(refused.exitCode, 1);
      assert.equal(
        refused.stderrLines.length,
        1,
        `one line on stderr: ${refused.stderrLines.join(' | ')}`,
      );
      assert.equal(
        refused.stderrLines[0],
        `dec-stream: cannot connect to Kafka at ${securedBroker().bootstrap}: its TLS certificate ` +
          `did not verify (SELF_SIGNED_CERT_IN_CHAIN); check that KAFKA_SSL_CA_FILE (${caFile}) ` +
          'holds the CA that signed it',
      );
      assert.equal(refused.loggedCode, 'KAFKA_TLS_UNTRUSTED');
      assert.ok(refused.seconds < 30, `gave up after ${refused.seconds.toFixed(1)} s`);
      assert.ok(!hasStackTrace(refused.output), 'no stack trace in the output');
    });

    void test('neither the password nor a wrong one appears in any log line or /metrics answer', () => {
      assert.ok(seen.length > 20, `the earlier tests captured output (${seen.length} lines)`);
      assert.ok(
        seen.some((line) => line.includes('"sasl":"[redacted]"')),
        'the configuration is logged, its credentials masked',
      );
      const secrets = [securedBroker().client.password, wrongPassword];
      assert.deepEqual(linesWithSecrets(seen, secrets), []);
    });
  },
);
