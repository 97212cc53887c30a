import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DecayingMean,
  DriftMonitor,
  SustainedDrift,
  centroidShift,
  labelChangeRate,
  populationStabilityIndex,
} from '../../../src/online/drift.js';

const close = (actual: number, expected: number, tolerance = 1e-9): void =>
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${actual} is not within ${tolerance} of ${expected}`,
  );

void describe('drift signals', () => {
  void test('PSI matches a hand computation and is zero for identical shares', () => {
    // (0.5-0.25)·ln(0.5/0.25) + (0.5-0.75)·ln(0.5/0.75) = 0.25·ln 2 + 0.25·ln 1.5
    close(
      populationStabilityIndex([0.5, 0.5], [0.25, 0.75]),
      0.25 * Math.log(2) + 0.25 * Math.log(1.5),
    );
    close(populationStabilityIndex([0.5, 0.5], [0.25, 0.75]), 0.2746530721670274, 1e-12);
    close(populationStabilityIndex([3, 1], [30, 10]), 0);
  });

  void test('PSI floors an empty cluster so the index stays finite but large', () => {
    const psi = populationStabilityIndex([1, 0], [0.5, 0.5]);
    // (1-0.5)·ln 2 + (1e-4 - 0.5)·ln(1e-4/0.5)
    close(psi, 0.5 * Math.log(2) + (1e-4 - 0.5) * Math.log(1e-4 / 0.5), 1e-9);
    assert.ok(psi > 4);
  });

  void test('centroid shift reports the largest move, the mean move and the move relative to the spacing', () => {
    const before = Float32Array.from([0, 0, 4, 0]);
    const after = Float32Array.from([3, 4, 4, 0]);
    const shift = centroidShift(before, after, 2, 2);
    close(shift.max, 5, 1e-6);
    close(shift.mean, 2.5, 1e-6);
    close(shift.relative, 5 / 4, 1e-6);
    assert.ok(Number.isNaN(centroidShift(before, Float32Array.from([NaN, 0, 4, 0]), 2, 2).max));
  });

  void test('the label change rate counts rows whose label differs', () => {
    close(labelChangeRate([0, 1, 2, 3], [0, 1, 3, 2]), 0.5);
    close(labelChangeRate([], []), 0);
  });

  void test('a decaying mean forgets old values at the configured half-life', () => {
    const mean = new DecayingMean(10);
    mean.observe(new Float32Array(10).fill(1));
    mean.observe(new Float32Array(10).fill(0));
    // Weights: ten ones decayed by ½ over ten new records, against ten zeros with full weight.
    const a = Math.exp(Math.log(0.5) / 10);
    let ones = 0;
    let zeros = 0;
    for (let i = 0; i < 10; i++) {
      ones += Math.pow(a, 10);
      zeros += 1;
    }
    close(mean.value(), ones / (ones + zeros), 1e-9);
  });

  void test('the monitor turns shares, confidence and window signals into one report', () => {
    const monitor = new DriftMonitor({ clusterSizes: [100, 300], reconstructionError: 0.5 }, 1000);
    const empty = monitor.report([0.25, 0.75]);
    close(empty.psi, 0);
    assert.equal(empty.reconstructionErrorRatio, 1);
    assert.ok(Number.isNaN(empty.meanConfidence));
    monitor.observeConfidence([0.8, 0.6]);
    monitor.observeWindow({
      reconstructionError: 1.5,
      labelChangeRate: 0.1,
      loss: 0.02,
      centroidShift: 0.3,
    });
    const report = monitor.report([0.5, 0.5]);
    close(report.psi, 0.2746530721670274, 1e-12);
    close(report.reconstructionErrorRatio, 3, 1e-12);
    close(report.labelChangeRate, 0.1);
    close(report.meanConfidence, 0.7, 1e-9);
  });

  void test('sustained drift fires only after the drift lasted the configured time, then cools down', () => {
    const detector = new SustainedDrift({
      psiThreshold: 0.25,
      reconstructionRatioThreshold: Infinity,
      sustainMs: 1000,
      cooldownMs: 5000,
    });
    const drifting = {
      psi: 0.5,
      reconstructionErrorRatio: 1,
      labelChangeRate: 0,
      meanConfidence: 0.9,
    };
    const calm = { ...drifting, psi: 0.1 };
    assert.equal(detector.update(drifting, 0), false);
    assert.equal(detector.update(calm, 500), false);
    assert.equal(detector.update(drifting, 600), false);
    assert.equal(detector.update(drifting, 1500), false);
    assert.equal(detector.update(drifting, 1600), true);
    assert.equal(detector.update(drifting, 3000), false);
    assert.equal(detector.update(drifting, 6600), false);
    assert.equal(detector.update(drifting, 7600), true);
  });
});
