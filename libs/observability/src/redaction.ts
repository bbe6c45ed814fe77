import { KEY_TOKEN_IN_TEXT } from '@lib/contracts';

/** What replaces a secret in logs and traces. */
export const REDACTED = '[REDACTED]';

/**
 * Query parameters whose values are credentials: a presigned URL's signature, credential scope and session
 * token, and object keys (`objectKey=` of the public download, `key=` of storage's internal routes; any
 * parameter whose name ends in `key` is blanked too). `=` may be URL-encoded; the value ends at `&`, `%26`,
 * `#`, whitespace, a quote or a backslash (the end of a JSON string). No look-behind and no
 * case-insensitive flag: either would make every log line cost several times more to scan.
 */
const SECRET_PARAMETER =
  '(?<parameter>[Xx]-[Aa]mz-(?:[Ss]ignature|[Cc]redential|[Ss]ecurity-[Tt]oken)|objectKey|object_key|key)' +
  '(?<equals>=|%3[Dd])(?:[^&#\\s"\'\\\\%]|%(?!26))*';

const SECRETS = new RegExp(`${KEY_TOKEN_IN_TEXT.source}|${SECRET_PARAMETER}`, 'g');

interface SecretGroups {
  before?: string;
  parameter?: string;
  equals?: string;
}

/**
 * `text` with the download capabilities it quotes blanked out: object key tokens (an object key is a
 * download capability) wherever a key appears, and the values of credential query parameters. Applied to
 * every log line and to every exported span, so neither ever carries a key or a signature.
 */
export function redactSecrets(text: string): string {
  return text.replace(SECRETS, (...args: unknown[]) => {
    const groups = args[args.length - 1] as SecretGroups;
    return groups.before !== undefined
      ? `${groups.before}${REDACTED}`
      : `${groups.parameter}${groups.equals}${REDACTED}`;
  });
}
