/**
 * Errors the user can act on. Every message says what is wrong and what to do; the CLI prints it
 * (redacted) and exits non-zero without a stack trace.
 */
export class MigrateError extends Error {
  /** Process exit code: 1 for a failure, 2 for a usage error. */
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = "MigrateError";
    this.exitCode = exitCode;
  }
}

/** A usage error: a flag or environment variable is missing or malformed. */
export function usageError(message: string): MigrateError {
  return new MigrateError(message, 2);
}

/** The SQLSTATE and message of an error thrown by `pg`, if it is one. */
export function pgErrorInfo(err: unknown): { code?: string; message: string } {
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    return { code: typeof code === "string" ? code : undefined, message: err.message };
  }
  return { message: String(err) };
}
