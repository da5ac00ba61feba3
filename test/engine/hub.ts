/**
 * What v2's setup Job leaves on the replication hub before core-worker-01's subscription can be
 * created (migrations/replication/job-command.ts, setupJobArgs): the subscriber role with the
 * password from the Job's Secret, db-airbyte and the hub's publication. No kubelet runs the Job
 * here, so the test does it on the hub stand-in, with the password the engine generated and
 * stored in the Secret, and a probe table on both ends to see a row replicate.
 */
import { HUB_SUBSCRIBER_PASSWORD_ENV } from "../../migrations/replication/job-command";
import { NAMES } from "../../migrations/replication/chain";
import { EXTERNAL_DATABASES } from "../../components/external-database";
import type { World } from "./world";

export const HUB_NAMESPACE = "airbyte-replication";
export const SETUP_SECRET = "airbyte-replication-hub-setup";
export const SUBSCRIBER_ROLE = "airbyte_subscriber";
export const PROBE_TABLE = "engine_probe";
const DB = EXTERNAL_DATABASES.airbyte;

/** The subscriber password as the API server stores it in the setup Job's Secret. */
export async function subscriberPassword(world: World): Promise<string> {
  const secret = await world.cluster.api<{ data?: Record<string, string> }>(
    `/api/v1/namespaces/${HUB_NAMESPACE}/secrets/${SETUP_SECRET}`,
  );
  const b64 = secret?.data?.[HUB_SUBSCRIBER_PASSWORD_ENV];
  if (!b64)
    throw new Error(
      `Secret ${HUB_NAMESPACE}/${SETUP_SECRET} has no ${HUB_SUBSCRIBER_PASSWORD_ENV}`,
    );
  return Buffer.from(b64, "base64").toString("utf8");
}

export async function prepareHub(world: World): Promise<void> {
  const password = await subscriberPassword(world);
  const admin = await world.hub.connect("postgres");
  try {
    const exists = await admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [
      SUBSCRIBER_ROLE,
    ]);
    const verb = exists.rowCount ? "ALTER" : "CREATE";
    await admin.query(
      `${verb} ROLE ${SUBSCRIBER_ROLE} LOGIN REPLICATION PASSWORD ${admin.escapeLiteral(password)}`,
    );
    const db = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [DB]);
    if (!db.rowCount) await admin.query(`CREATE DATABASE "${DB}"`);
  } finally {
    await admin.end();
  }
  const hubDb = await world.hub.connect(DB);
  try {
    await hubDb.query(`CREATE TABLE IF NOT EXISTS ${PROBE_TABLE} (id int PRIMARY KEY, note text)`);
    await hubDb.query(`GRANT SELECT ON ${PROBE_TABLE} TO ${SUBSCRIBER_ROLE}`);
    const pub = await hubDb.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [
      NAMES.hubPublication,
    ]);
    if (!pub.rowCount)
      await hubDb.query(`CREATE PUBLICATION ${NAMES.hubPublication} FOR TABLE ${PROBE_TABLE}`);
  } finally {
    await hubDb.end();
  }
  // The schema the setup Job copies to core-worker-01 before the subscription exists.
  const cw = await world.coreWorker.connect(DB);
  try {
    await cw.query(`CREATE TABLE IF NOT EXISTS ${PROBE_TABLE} (id int PRIMARY KEY, note text)`);
  } finally {
    await cw.end();
  }
}
