/**
 * Password redaction for every message, log line and JSON event the tool prints. Passwords of
 * the endpoints in use are registered here when they are parsed.
 */
const secrets = new Set<string>();

/** Remember a password so `redact` masks it wherever it appears. */
export function registerSecret(secret: string): void {
  // Very short passwords would mask unrelated text; URL masking still covers them in URLs.
  if (secret.length >= 4) secrets.add(secret);
}

/** Mask the password part of any URL in `text`, and every registered password. */
export function redact(text: string): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/gi, "$1***@");
  for (const s of secrets) out = out.split(s).join("***");
  return out;
}
