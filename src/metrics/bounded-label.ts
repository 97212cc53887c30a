/** The label value that stands for every value beyond a label's limit. */
export const OtherLabelValue = 'other';

/**
 * Keeps a label's cardinality bounded: values listed up front always pass, the first `limit`
 * other values seen pass too, and everything after that becomes `other`. Values are also trimmed
 * to a safe alphabet and length, so a message or a key can never become a label value.
 */
export class BoundedLabel {
  private readonly seen = new Set<string>();

  constructor(
    private readonly limit: number,
    known: readonly string[] = [],
  ) {
    for (const value of known) this.seen.add(value);
    this.limit = limit + this.seen.size;
  }

  value(raw: string): string {
    const clean = raw
      .toLowerCase()
      .replace(/[^a-z0-9_.:-]+/g, '-')
      .slice(0, 48);
    const value = clean === '' ? OtherLabelValue : clean;
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.limit) return OtherLabelValue;
    this.seen.add(value);
    return value;
  }
}
