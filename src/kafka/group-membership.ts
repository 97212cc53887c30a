/**
 * The group coordinator's answers to a member it no longer counts: its session expired (the
 * process was frozen, or starved of CPU, for longer than the session timeout), or a rebalance
 * moved the group to a new generation while it worked. The member must rejoin; nothing it
 * published is wrong, only its offset commit was refused.
 */
const LostMembershipTypes: ReadonlySet<string> = new Set([
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'REBALANCE_IN_PROGRESS',
]);

/** Deep enough for kafkajs's wrappers (a non-retriable error around the protocol error). */
const MaxCauseDepth = 4;

/**
 * The coordinator's protocol error inside `error`, when it says this member lost its place in
 * the group; otherwise undefined. kafkajs's commit gives up on these at once and wraps them as
 * non-retriable, and its consumer rejoins only for the protocol error itself.
 */
export function lostMembership(error: unknown): (Error & { type: string }) | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < MaxCauseDepth && current instanceof Error; depth++) {
    const type = (current as { type?: unknown }).type;
    if (typeof type === 'string' && LostMembershipTypes.has(type)) {
      return current as Error & { type: string };
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
