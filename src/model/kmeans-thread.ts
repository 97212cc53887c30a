/**
 * The thread that runs the guard's baseline k-means (tensor-kmeans.ts) while the thread that
 * started it pretrains: its own tfjs backend, one request, then it ends. The generator's state
 * travels both ways, so the baseline and every later draw from its stream are what they would be
 * had the baseline run on the calling thread.
 */
import { initBackend } from './backend.js';
import { serveThread, Transferring } from '../runtime/thread-channel.js';
import { SeededRandom } from './rng.js';
import { tensorKmeans } from './tensor-kmeans.js';
import type { KmeansProtocol } from './threaded-kmeans.js';

serveThread<KmeansProtocol>({
  init: ({ backend }) => initBackend(backend),
  requests: {
    async kmeans({ x, clusters, restarts, random }, context) {
      const rng = new SeededRandom(0);
      rng.restore(random);
      const result = await tensorKmeans(x, clusters, restarts, rng);
      context.finish();
      const answer = { result, random: rng.state() };
      return new Transferring(answer, [
        result.centroids.buffer as ArrayBuffer,
        result.labels.buffer as ArrayBuffer,
      ]);
    },
  },
});
