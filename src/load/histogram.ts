/**
 * A latency histogram: an HdrHistogram (hdr-histogram-js, pure-JS build, so nothing native or WASM
 * is needed) for percentiles, plus exact count / sum / sum of squares / min / max kept beside it.
 *
 * Why both: HdrHistogram is lossless only to its precision (3 significant digits here, i.e. a
 * value is known to within 0.1 %), and hdr-histogram-js computes `mean` and `stdDeviation` from
 * bucket midpoints and reports `maxValue` as the top of the max's bucket once decoded. The exact
 * side-figures make the mean (which the split adds up) exact, and keep max truthful.
 *
 * Values are recorded in integer microseconds (the library's buckets are integers) and reported
 * in milliseconds. Percentiles follow the HdrHistogram convention (the highest value equivalent
 * to the bucket, so they err high by at most 0.1 %), clamped to the exact [min, max].
 */
import * as hdr from 'hdr-histogram-js';

export interface LatencySummary {
  unit: 'ms';
  count: number;
  /** Exact (from the raw values), not from buckets. null when count = 0. */
  mean: number | null;
  /** Population standard deviation, exact. */
  stddev: number | null;
  min: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
}

/** A summary plus the histogram itself, so runs can be merged and re-analysed later. */
export interface EncodedHistogram extends LatencySummary {
  /** HdrHistogram V2 compressed, base64; values in microseconds. null when count = 0. */
  hdr: string | null;
  /** Sum of squares of the values in ms², exact; lets merged histograms keep an exact stddev. */
  sumSquares: number;
}

const HIGHEST_TRACKABLE_US = 60_000_000; // 60 s; autoResize extends it if ever needed.

function buildHdr(): hdr.Histogram {
  return hdr.build({
    useWebAssembly: false,
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_US,
    numberOfSignificantValueDigits: 3,
  });
}

export class LatencyHistogram {
  private readonly h: hdr.Histogram = buildHdr();
  private n = 0;
  private sum = 0;
  private sumSq = 0;
  private lo = Number.POSITIVE_INFINITY;
  private hi = Number.NEGATIVE_INFINITY;

  get count(): number {
    return this.n;
  }

  get sumMs(): number {
    return this.sum;
  }

  /** Records one value in ms; negative values are recorded as 0 (a clock can step by a few µs). */
  record(ms: number): void {
    const v = ms > 0 && Number.isFinite(ms) ? ms : 0;
    this.h.recordValue(Math.round(v * 1000));
    this.n += 1;
    this.sum += v;
    this.sumSq += v * v;
    if (v < this.lo) this.lo = v;
    if (v > this.hi) this.hi = v;
  }

  add(other: LatencyHistogram): void {
    if (other.n === 0) return;
    this.h.add(other.h);
    this.n += other.n;
    this.sum += other.sum;
    this.sumSq += other.sumSq;
    this.lo = Math.min(this.lo, other.lo);
    this.hi = Math.max(this.hi, other.hi);
  }

  reset(): void {
    this.h.reset();
    this.n = 0;
    this.sum = 0;
    this.sumSq = 0;
    this.lo = Number.POSITIVE_INFINITY;
    this.hi = Number.NEGATIVE_INFINITY;
  }

  /** Value at a percentile (0–100) in ms, clamped to the exact min/max; null when empty. */
  percentile(p: number): number | null {
    if (this.n === 0) return null;
    const v = this.h.getValueAtPercentile(p) / 1000;
    return Math.min(this.hi, Math.max(this.lo, v));
  }

  summary(): LatencySummary {
    if (this.n === 0) {
      return { unit: 'ms', count: 0, mean: null, stddev: null, min: null, p50: null, p90: null, p99: null, p999: null, max: null };
    }
    const mean = this.sum / this.n;
    return {
      unit: 'ms',
      count: this.n,
      mean,
      stddev: Math.sqrt(Math.max(0, this.sumSq / this.n - mean * mean)),
      min: this.lo,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      p999: this.percentile(99.9),
      max: this.hi,
    };
  }

  toJSON(): EncodedHistogram {
    return { ...this.summary(), hdr: this.n === 0 ? null : hdr.encodeIntoCompressedBase64(this.h), sumSquares: this.sumSq };
  }

  /** Rebuilds a histogram from its JSON form (exact side-figures included). */
  static fromJSON(encoded: EncodedHistogram): LatencyHistogram {
    const out = new LatencyHistogram();
    if (encoded.count === 0 || encoded.hdr === null) return out;
    const decoded = hdr.decodeFromCompressedBase64(encoded.hdr, 32, false);
    out.h.add(decoded);
    decoded.destroy();
    out.n = encoded.count;
    out.sum = (encoded.mean ?? 0) * encoded.count;
    out.sumSq = encoded.sumSquares;
    out.lo = encoded.min ?? 0;
    out.hi = encoded.max ?? 0;
    return out;
  }
}

/** Merges encoded histograms (e.g. the seconds of a window, or repeated runs) into one. */
export function mergeHistograms(parts: readonly EncodedHistogram[]): LatencyHistogram {
  const out = new LatencyHistogram();
  for (const p of parts) out.add(LatencyHistogram.fromJSON(p));
  return out;
}
