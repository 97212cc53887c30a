/**
 * Chaos scenario: the worker against a secured broker and two misconfigurations of it.
 *
 * It starts the local broker in its SASL_SSL mode (SCRAM-SHA-512, a self-signed CA made in its run
 * directory) on its own port, labels a small stream through it, then starts the worker with a wrong
 * password and with a CA that did not sign the broker's certificate, and searches everything the
 * workers wrote and served for the password. The broker is stopped whatever happens.
 *
 *   node --import tsx bench/chaos/secured-broker.ts     prints the result as JSON
 */
import { pathToFileURL } from 'node:url';
import type { Cleanup } from '../../test/integration/worker-harness.js';
import type { RefusedStart, SecuredBroker } from '../../test/integration/secured-broker.js';
import type { ScenarioResult } from './scenario.js';
import {
  hasStackTrace,
  labelThroughSecuredBroker,
  linesWithSecrets,
  refusedStart,
  startSecuredBroker,
  strangerCa,
} from '../../test/integration/secured-broker.js';

/** The suite's ScenarioResult, its notes a plain array. */
export interface ChaosScenarioResult extends ScenarioResult {
  readonly notes: string[];
}

const records = 300;
const wrongPassword = 'not-the-password-chaos';
/** A refusal must come within this many seconds (kafkajs alone retried a bad certificate ~30 s). */
const refusalLimitSeconds = 30;

/** Clean-up steps run newest first, each even when an earlier one fails. */
function cleanupStack(): Cleanup & { run(): Promise<void> } {
  const steps: (() => unknown)[] = [];
  return {
    after: (fn) => {
      steps.push(fn);
    },
    run: async () => {
      for (const step of steps.reverse()) {
        try {
          await step();
        } catch {
          // Clean-up is best effort: the next step still runs.
        }
      }
    },
  };
}

/** Whether a refusal was clean: exit 1, one line on stderr, the expected code, quick, no stack. */
function refusalProblems(what: string, refused: RefusedStart, code: string): string[] {
  const problems: string[] = [];
  if (refused.exitCode !== 1) problems.push(`${what}: exit code ${refused.exitCode}, not 1`);
  if (refused.stderrLines.length !== 1) {
    problems.push(`${what}: ${refused.stderrLines.length} lines on stderr, not 1`);
  }
  if (refused.loggedCode !== code) {
    problems.push(`${what}: logged error code ${refused.loggedCode ?? 'none'}, not ${code}`);
  }
  if (refused.seconds > refusalLimitSeconds) {
    problems.push(`${what}: gave up after ${refused.seconds.toFixed(1)} s`);
  }
  if (hasStackTrace(refused.output)) problems.push(`${what}: a stack trace in the output`);
  return problems;
}

const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

export async function runSecuredBrokerScenario(): Promise<ChaosScenarioResult> {
  const name = 'secured-broker';
  const figures: Record<string, number | string> = {};
  const notes: string[] = [];
  const cleanup = cleanupStack();
  let broker: SecuredBroker | undefined;
  try {
    const brokerStarted = performance.now();
    broker = await startSecuredBroker();
    figures.brokerStartSeconds = round((performance.now() - brokerStarted) / 1000, 1);
    notes.push(`SASL_SSL (SCRAM-SHA-512) broker at ${broker.bootstrap}`);

    const run = await labelThroughSecuredBroker(cleanup, broker, records);
    figures.recordsProduced = records;
    figures.recordsLabelledViaSaslSsl = run.labelled;
    figures.distinctKeysLabelled = run.distinctKeys;
    figures.secondsToFirstLabel = round(run.secondsToFirstLabel, 1);
    figures.workerExitCodeOnSigterm = run.exitCode;

    const wrong = await refusedStart(cleanup, broker, { KAFKA_SASL_PASSWORD: wrongPassword });
    figures.wrongPasswordExitCode = wrong.exitCode;
    figures.wrongPasswordSeconds = round(wrong.seconds, 1);
    figures.wrongPasswordLine = wrong.stderrLines.join(' | ');

    const caFile = await strangerCa(cleanup);
    const untrusted = await refusedStart(cleanup, broker, { KAFKA_SSL_CA_FILE: caFile });
    figures.untrustedCaExitCode = untrusted.exitCode;
    figures.untrustedCaSeconds = round(untrusted.seconds, 1);
    figures.untrustedCaLine = untrusted.stderrLines.join(' | ');

    const seen = [...run.output, run.metrics, ...wrong.output, ...untrusted.output];
    const leaks = linesWithSecrets(seen, [broker.client.password, wrongPassword]);
    figures.linesSearchedForSecrets = seen.length;
    figures.secretsFoundInLogs = leaks.length;

    const problems = [
      ...(run.labelled === records && run.distinctKeys === records
        ? []
        : [`labelled ${run.labelled} records (${run.distinctKeys} keys) of ${records}`]),
      ...(run.exitCode === 0 ? [] : [`the labelling worker exited ${run.exitCode} on SIGTERM`]),
      ...refusalProblems('wrong password', wrong, 'KAFKA_SASL_FAILED'),
      ...refusalProblems('untrusted CA', untrusted, 'KAFKA_TLS_UNTRUSTED'),
      ...(leaks.length === 0 ? [] : [`${leaks.length} lines hold a password`]),
    ];
    notes.push(...problems);
    return { name, passed: problems.length === 0, figures, notes };
  } catch (error) {
    notes.push(`failed: ${error instanceof Error ? error.message : String(error)}`);
    return { name, passed: false, figures, notes };
  } finally {
    await cleanup.run();
    if (broker !== undefined) await broker.stop();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runSecuredBrokerScenario();
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.exitCode = result.passed ? 0 : 1;
}
