/**
 * Real S3 servers for the object storage tests: s3rver instances on free loopback ports, each in
 * its own temporary folder, spoken to over HTTP by the CLI and by the test's own MinIO client.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import * as Minio from "minio";

/** Credentials the servers accept besides s3rver's built-in pair; '/' and '+' as AWS keys have. */
export const ACCESS_KEY = "mirror-tester";
export const SECRET_KEY = "Sup3r/S3cret+Key-9081";

export interface S3Server {
  port: number;
  /** `http://KEY:SECRET@127.0.0.1:PORT` with the credentials percent-encoded. */
  url(accessKey?: string, secretKey?: string): string;
  /** A client of the test itself (multipart above `partSize`). */
  client(partSize?: number): Minio.Client;
  stop(): Promise<void>;
}

const MAIN = path.join(__dirname, "s3rver-main.ts");

/** Start an s3rver process (see s3rver-main.ts) holding `buckets`, in a fresh temporary folder. */
export async function startS3(buckets: string[] = []): Promise<S3Server> {
  const directory = await mkdtemp(path.join(os.tmpdir(), "s3rver-"));
  const child = spawn(
    process.execPath,
    ["--openssl-legacy-provider", "--require", "tsx/cjs", MAIN, directory, ...buckets],
    {
      env: { ...process.env, S3_TEST_ACCESS_KEY: ACCESS_KEY, S3_TEST_SECRET_KEY: SECRET_KEY },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const line = /^\{.*\}$/m.exec(out);
      if (line) resolve((JSON.parse(line[0]) as { port: number }).port);
    });
    child.once("exit", (code) => reject(new Error(`s3rver exited with ${code} before listening`)));
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    port,
    url: (accessKey = ACCESS_KEY, secretKey = SECRET_KEY) =>
      `http://${encodeURIComponent(accessKey)}:${encodeURIComponent(secretKey)}@127.0.0.1:${port}`,
    client: (partSize = 64 * 1024 * 1024) =>
      new Minio.Client({
        endPoint: "127.0.0.1",
        port,
        useSSL: false,
        accessKey: ACCESS_KEY,
        secretKey: SECRET_KEY,
        region: "us-east-1",
        pathStyle: true,
        partSize,
      }),
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Deterministic bytes: `size` of them from `seed`, so equal seeds mean equal content. */
export function content(size: number, seed: number): Buffer {
  const buf = Buffer.alloc(size);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    buf[i] = x >>> 24;
  }
  return buf;
}

/** Every object of a bucket: key → size and ETag. */
export async function listAll(
  client: Minio.Client,
  bucket: string,
): Promise<Map<string, { size: number; etag: string }>> {
  const out = new Map<string, { size: number; etag: string }>();
  for await (const item of client.listObjectsV2(
    bucket,
    "",
    true,
  ) as AsyncIterable<Minio.BucketItem>) {
    if (item.name !== undefined) out.set(item.name, { size: item.size, etag: item.etag });
  }
  return out;
}

export async function readObject(
  client: Minio.Client,
  bucket: string,
  key: string,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of (await client.getObject(bucket, key)) as Readable)
    chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
