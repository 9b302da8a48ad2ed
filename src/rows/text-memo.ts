/**
 * A memo of a pure function of a text, for the texts of one batch: each
 * distinct text is computed once, and a repeat gets the first result (the
 * same object). It is how a nested column reads each of its repeated texts
 * once (formats/arrow-batch.ts): CloudTrail's nested cells repeat, one
 * principal's userIdentity in many rows (1,717 distinct in 20,000 sample
 * rows), one client's tlsDetails (172).
 *
 * Why not a Map keyed by the text: a Map hashes every character of every
 * key, and nested texts are hundreds of characters long, so a miss cost
 * about half of what reading the text costs. Here the key is a hash of the
 * length and at most 64 characters spread over the text (so a run of
 * differing characters as short as a text's 64th part, such as an id, is
 * seen), and a bucket
 * holds the texts that share it, compared whole with `===` (which compares
 * the characters, stopping at the first that differs). The result is exact
 * whatever the texts: a text is only ever given the result of an equal
 * text.
 *
 * Bounds: at most BUCKET_SIZE texts per key, so that texts built to share
 * a key cost at most that many comparisons each; a text whose bucket is
 * full is computed every time, never wrongly answered. Holds the texts and
 * results given since it was made: make one per batch.
 */

/** The most texts kept under one key. */
const BUCKET_SIZE = 8;
/** The most characters the key is taken from. */
const SAMPLES = 64;

interface Entry<T> {
  readonly text: string;
  readonly result: T;
}

export class TextMemo<T> {
  private readonly buckets = new Map<number, Array<Entry<T>>>();

  constructor(private readonly compute: (text: string) => T) {}

  /** compute(text), or the result already computed for an equal text. */
  get(text: string): T {
    const key = sampleKey(text);
    const bucket = this.buckets.get(key);
    if (bucket !== undefined) {
      for (let e = 0; e < bucket.length; e++) {
        const entry = bucket[e]!;
        if (entry.text === text) return entry.result;
      }
    }
    const result = this.compute(text);
    if (bucket === undefined) this.buckets.set(key, [{ text, result }]);
    else if (bucket.length < BUCKET_SIZE) bucket.push({ text, result });
    return result;
  }
}

/** A 31-bit hash of a text's length and of at most SAMPLES of its characters, evenly spread. */
export function sampleKey(text: string): number {
  const n = text.length;
  const step = n <= SAMPLES ? 1 : Math.ceil(n / SAMPLES);
  let hash = n;
  // The last character too: texts that differ only near their end (a counter, an id) differ there.
  for (let i = 0; i < n; i += step) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  if (n > 0) hash = (Math.imul(hash, 31) + text.charCodeAt(n - 1)) | 0;
  return hash & 0x7fffffff;
}
