/** Types of patch-dependencies.mjs, which stays plain JavaScript: it runs before tsx is installed. */
export declare const linearGrouping: string;
export declare function fixProduceGrouping(
  nodeModules: string,
): 'applied' | 'present' | 'absent' | 'unknown-version';
