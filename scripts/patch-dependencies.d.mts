/** Types of patch-dependencies.mjs, which stays plain JavaScript: it runs before tsx is installed. */
export interface DependencyFix {
  readonly name: string;
  /** Under node_modules. */
  readonly path: string;
  readonly originalSha256: string;
  readonly earlierSha256?: readonly string[];
  readonly fixedSha256: string;
  fix(text: string): string;
}
export type FixState = 'applied' | 'present' | 'absent' | 'unknown-version';
export declare const linearGrouping: string;
export declare const fixes: readonly DependencyFix[];
export declare function applyFix(nodeModules: string, fix: DependencyFix): FixState;
