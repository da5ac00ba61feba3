/**
 * Sequences (Airbyte: the identity sequences of `jobs.id` and `attempts.id`). Their values are not
 * part of the schema sections and are not transactional, so they are read from the source after
 * the rows and set on the target with setval.
 */
import type { Client } from "pg";
import type { Sequence } from "./catalog";
import { qualified } from "./endpoint";

export interface SequenceValue extends Sequence {
  lastValue: string;
  isCalled: boolean;
}

export async function readSequences(
  client: Client,
  sequences: Sequence[],
): Promise<SequenceValue[]> {
  const out: SequenceValue[] = [];
  for (const s of sequences) {
    const { rows } = await client.query<{ last_value: string; is_called: boolean }>(
      `SELECT last_value::text, is_called FROM ${qualified(s.schema, s.name)}`,
    );
    out.push({ ...s, lastValue: rows[0].last_value, isCalled: rows[0].is_called });
  }
  return out;
}

export async function setSequences(target: Client, values: SequenceValue[]): Promise<void> {
  for (const v of values) {
    await target.query(`SELECT setval($1::regclass, $2::int8, $3)`, [
      qualified(v.schema, v.name),
      v.lastValue,
      v.isCalled,
    ]);
  }
}

/** The next value a sequence would hand out (with increment 1), as a BigInt. */
export function nextValue(v: Pick<SequenceValue, "lastValue" | "isCalled">): bigint {
  return BigInt(v.lastValue) + (v.isCalled ? 1n : 0n);
}
