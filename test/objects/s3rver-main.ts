/**
 * One s3rver in its own process: `s3rver-main.ts DIR [BUCKET...]` prints `{"port":N}` once it
 * listens on a free loopback port. Its own process because s3rver encrypts continuation tokens
 * with DES, which needs OpenSSL's legacy provider (a process-wide flag, `--openssl-legacy-provider`).
 */
import S3rver from "s3rver";
import { DUMMY_ACCOUNT } from "s3rver/lib/models/account";

const [directory, ...buckets] = process.argv.slice(2);
const accessKey = process.env.S3_TEST_ACCESS_KEY;
const secretKey = process.env.S3_TEST_SECRET_KEY;
if (!directory || !accessKey || !secretKey) {
  process.stderr.write(
    "usage: S3_TEST_ACCESS_KEY=… S3_TEST_SECRET_KEY=… s3rver-main.ts DIR [BUCKET...]\n",
  );
  process.exit(2);
}
DUMMY_ACCOUNT.createKeyPair(accessKey, secretKey);
const server = new S3rver({
  address: "127.0.0.1",
  port: 0,
  silent: true,
  directory,
  configureBuckets: buckets.map((name) => ({ name })),
});
server.run().then(
  ({ port }) => process.stdout.write(JSON.stringify({ port }) + "\n"),
  (err: unknown) => {
    process.stderr.write(`s3rver failed to start: ${String(err)}\n`);
    process.exit(1);
  },
);
