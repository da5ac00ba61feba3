/**
 * `objects mirror` and `objects verify`: one merge walk per bucket and prefix; the decisions it
 * needs a request for (a HEAD, a copy, a delete) run on `--jobs` workers while the walk waits
 * for a free one, so memory stays bounded by the listing pages and the transfers in flight.
 */
import { IncomingMessage } from "node:http";
import type * as Minio from "minio";
import { MigrateError } from "../lib/errors";
import type { Reporter } from "../lib/progress";
import { redact } from "../lib/redact";
import * as fmt from "../lib/format";
import { firstLook, SOURCE_ETAG_META, stampMatches } from "./compare";
import { describeS3, errorCode, s3Client, s3Error } from "./endpoint";
import { bucketExists, listSorted, Listed, mergeWalk, Pair } from "./listing";
import type { BucketPair, ObjectsOptions } from "./options";
import { uploadObject } from "./upload";

/** Counts of one bucket and prefix (or of the whole run). */
export interface Counts {
  /** Keys present on both sides with equal content. */
  equal: number;
  /** mirror: objects copied; verify: objects the target lacks. */
  copied: number;
  missing: number;
  different: number;
  /** Objects only the target has. */
  extra: number;
  deleted: number;
  /** Bytes copied. */
  bytes: number;
  /** Source objects that vanished between listing and copying (lifecycle expiry): not errors. */
  vanished: number;
  errors: number;
}

export interface Scope extends Counts {
  sourceBucket: string;
  targetBucket: string;
  prefix: string;
}

export interface Failure {
  bucket: string;
  key: string;
  message: string;
}

export interface WalkResult {
  command: "mirror" | "verify";
  ok: boolean;
  totals: Counts;
  scopes: Scope[];
  /** The first failures (mirror) or differences (verify), for the report. */
  examples: Failure[];
  seconds: number;
}

const MAX_EXAMPLES = 50;

function zero(): Counts {
  return {
    equal: 0,
    copied: 0,
    missing: 0,
    different: 0,
    extra: 0,
    deleted: 0,
    bytes: 0,
    vanished: 0,
    errors: 0,
  };
}

/** Run tasks on at most `jobs` at once; `submit` waits while all are busy. */
class Workers {
  private running = new Set<Promise<void>>();
  constructor(private readonly jobs: number) {}

  async submit(task: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.jobs) await Promise.race(this.running);
    const p: Promise<void> = task().finally(() => this.running.delete(p));
    this.running.add(p);
  }

  async drain(): Promise<void> {
    await Promise.all(this.running);
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** User metadata and content type of a GET response, to carry over to the copy. */
function carriedHeaders(res: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (typeof value !== "string") continue;
    if (name.startsWith("x-amz-meta-") || name === "content-type") out[name] = value;
  }
  return out;
}

class Run {
  readonly source: Minio.Client;
  readonly target: Minio.Client;
  readonly totals = zero();
  readonly examples: Failure[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly opts: ObjectsOptions,
    readonly reporter: Reporter,
  ) {
    this.source = s3Client(opts.source, opts.partSize);
    this.target = s3Client(opts.target, opts.partSize);
  }

  startProgress(): void {
    // A line every few seconds: a million small logs must not become a million lines.
    this.timer = setInterval(() => this.reporter.info(this.progressLine()), 5000);
    this.timer.unref();
  }

  stopProgress(): void {
    if (this.timer) clearInterval(this.timer);
  }

  progressLine(): string {
    const t = this.totals;
    return this.opts.command === "mirror"
      ? `progress: ${fmt.count(t.copied)} copied (${fmt.bytes(t.bytes)}), ${fmt.count(t.equal)} unchanged, ` +
          `${fmt.count(t.deleted)} deleted, ${fmt.count(t.errors)} failed`
      : `progress: ${fmt.count(t.equal)} equal, ${fmt.count(t.missing)} missing, ` +
          `${fmt.count(t.different)} different, ${fmt.count(t.extra)} extra`;
  }

  add(scope: Counts, field: keyof Counts, n = 1): void {
    scope[field] += n;
    this.totals[field] += n;
  }

  note(bucket: string, key: string, text: string): void {
    if (this.examples.length < MAX_EXAMPLES)
      this.examples.push({ bucket, key, message: redact(text) });
  }

  /** The stamp of the target copy, read with a HEAD request. */
  async targetStamp(bucket: string, key: string): Promise<string | undefined> {
    try {
      const stat = await this.target.statObject(bucket, key);
      const value: unknown = stat.metaData[SOURCE_ETAG_META];
      return typeof value === "string" ? value : undefined;
    } catch (err) {
      throw s3Error(err, this.opts.target, `reading "${key}" in bucket "${bucket}"`);
    }
  }

  /** Whether the target holds a copy of the source object (HEAD only when ETags differ). */
  async isCopy(pair: Pair, targetBucket: string): Promise<boolean> {
    if (!pair.source || !pair.target) return false;
    const look = firstLook(pair.source, pair.target);
    if (look !== "ask-stamp") return look === "equal";
    return stampMatches(pair.source, await this.targetStamp(targetBucket, pair.key));
  }

  /**
   * Stream one object from source to target. The stamp is the ETag of the version actually read
   * (from the GET response), not the listed one, in case it changed in between.
   */
  async copy(b: BucketPair, src: Listed, scope: Counts): Promise<void> {
    let res: IncomingMessage;
    try {
      const body = await this.source.getObject(b.source, src.key);
      if (!(body instanceof IncomingMessage)) throw new Error("unexpected response body type");
      res = body;
    } catch (err) {
      if (errorCode(err) === "NoSuchKey") {
        this.add(scope, "vanished");
        return;
      }
      throw s3Error(err, this.opts.source, `reading "${src.key}" in bucket "${b.source}"`);
    }
    const size = Number(res.headers["content-length"] ?? src.size);
    const etag = (res.headers.etag ?? src.etag).replace(/"/g, "");
    try {
      await uploadObject({
        client: this.target,
        bucket: b.target,
        key: src.key,
        body: res,
        size,
        headers: { ...carriedHeaders(res), [`x-amz-meta-${SOURCE_ETAG_META}`]: etag },
        partSize: this.opts.partSize,
      });
    } catch (err) {
      res.destroy();
      throw s3Error(err, this.opts.target, `copying "${src.key}" to bucket "${b.target}"`);
    }
    this.add(scope, "copied");
    this.add(scope, "bytes", size);
  }

  async mirrorPair(b: BucketPair, pair: Pair, scope: Counts): Promise<void> {
    const bucket = pair.source ? b.source : b.target;
    try {
      if (pair.source) {
        if (await this.isCopy(pair, b.target)) this.add(scope, "equal");
        else {
          this.add(scope, pair.target ? "different" : "missing");
          await this.copy(b, pair.source, scope);
        }
      } else if (this.opts.delete) {
        await this.target.removeObject(b.target, pair.key).catch((err: unknown) => {
          throw s3Error(err, this.opts.target, `deleting "${pair.key}" from bucket "${b.target}"`);
        });
        this.add(scope, "deleted");
      } else {
        this.add(scope, "extra");
      }
    } catch (err) {
      this.add(scope, "errors");
      const text = message(err);
      this.note(bucket, pair.key, text);
      this.reporter.warn(`${bucket}/${pair.key}: ${text}`);
    }
  }

  async verifyPair(b: BucketPair, pair: Pair, scope: Counts): Promise<void> {
    if (!pair.target) {
      this.add(scope, "missing");
      this.note(b.source, pair.key, "missing on target");
    } else if (!pair.source) {
      this.add(scope, "extra");
      if (this.opts.strict) this.note(b.target, pair.key, "only on target");
    } else if (await this.isCopy(pair, b.target)) {
      this.add(scope, "equal");
    } else {
      this.add(scope, "different");
      this.note(b.source, pair.key, "different on target");
    }
  }

  async prepareBuckets(b: BucketPair): Promise<boolean> {
    if (!(await bucketExists(this.source, this.opts.source, b.source))) {
      throw new MigrateError(
        `bucket "${b.source}" does not exist on the ${describeS3(this.opts.source)}: ` +
          `check --buckets (default airbyte-bucket) and --source-s3`,
      );
    }
    if (await bucketExists(this.target, this.opts.target, b.target)) return true;
    if (this.opts.command === "verify") return false;
    try {
      await this.target.makeBucket(b.target, this.opts.target.region);
    } catch (err) {
      throw s3Error(err, this.opts.target, `creating bucket "${b.target}"`);
    }
    this.reporter.info(`created bucket "${b.target}" on the ${describeS3(this.opts.target)}`);
    return true;
  }

  async walkScope(b: BucketPair, prefix: string, targetExists: boolean): Promise<Scope> {
    const scope: Scope = { sourceBucket: b.source, targetBucket: b.target, prefix, ...zero() };
    const list = (client: Minio.Client, side: "source" | "target", bucket: string) =>
      listSorted({
        client,
        endpoint: side === "source" ? this.opts.source : this.opts.target,
        bucket,
        prefix,
        pageSize: this.opts.pageSize,
      });
    const sourceList = list(this.source, "source", b.source);
    const targetList = targetExists ? list(this.target, "target", b.target) : emptyListing();
    const workers = new Workers(this.opts.jobs);
    try {
      for await (const pair of mergeWalk(sourceList, targetList)) {
        if (this.opts.command === "mirror") {
          // Equal ETags and sizes need no request: judged here, not queued.
          if (pair.source && pair.target && firstLook(pair.source, pair.target) === "equal") {
            this.add(scope, "equal");
            continue;
          }
          await workers.submit(() => this.mirrorPair(b, pair, scope));
        } else {
          await workers.submit(() => this.verifyPair(b, pair, scope));
        }
      }
    } finally {
      await workers.drain();
    }
    return scope;
  }
}

async function* emptyListing(): AsyncGenerator<Listed> {}

function failed(r: Counts, opts: ObjectsOptions): boolean {
  if (opts.command === "mirror") return r.errors > 0;
  return r.missing + r.different + (opts.strict ? r.extra : 0) > 0;
}

/** Mirror or verify every bucket and prefix of `opts`. */
export async function runObjects(opts: ObjectsOptions, reporter: Reporter): Promise<WalkResult> {
  const started = Date.now();
  const run = new Run(opts, reporter);
  const scopes: Scope[] = [];
  run.startProgress();
  try {
    for (const b of opts.buckets) {
      const targetExists = await run.prepareBuckets(b);
      for (const prefix of opts.prefixes) {
        reporter.phase(
          b.source === b.target ? b.source : `${b.source} -> ${b.target}`,
          `${opts.command} ${prefix ? `prefix "${prefix}"` : "all keys"}`,
        );
        scopes.push(await run.walkScope(b, prefix, targetExists));
      }
    }
  } finally {
    run.stopProgress();
  }
  return {
    command: opts.command,
    ok: !failed(run.totals, opts),
    totals: run.totals,
    scopes,
    examples: run.examples,
    seconds: (Date.now() - started) / 1000,
  };
}
