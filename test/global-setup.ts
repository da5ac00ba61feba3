/**
 * Runs once before any test worker: installs PostgreSQL's client programs when missing, so
 * parallel test files never race each other for apt's lock on a fresh machine.
 */
import { ensurePgClientTools } from "./support/pg-client-tools";

export default function setup(): void {
  ensurePgClientTools();
}
