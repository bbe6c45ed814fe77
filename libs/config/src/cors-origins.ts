/**
 * `CORS_ALLOWED_ORIGINS`: the web origins whose pages may call the public API from the browser and use the
 * bucket's presigned URLs, comma-separated, each exact (`https://app.example.com`, `http://localhost:5173`):
 * scheme, host and port only, as a browser sends it in `Origin`. No wildcards. Empty or unset: none.
 */
export const CORS_ALLOWED_ORIGINS = 'CORS_ALLOWED_ORIGINS';

/** What is wrong with a `CORS_ALLOWED_ORIGINS` value (the message names it), or undefined. */
export function corsOriginsProblem(value: string | undefined): string | undefined {
  for (const entry of splitOrigins(value)) {
    const problem = originProblem(entry);
    if (problem) return `${CORS_ALLOWED_ORIGINS} ${problem}`;
  }
  return undefined;
}

/** The origins of a valid `CORS_ALLOWED_ORIGINS` value, without duplicates; throws on an invalid one. */
export function parseCorsOrigins(value: string | undefined): string[] {
  const problem = corsOriginsProblem(value);
  if (problem) throw new Error(problem);
  return [...new Set(splitOrigins(value))];
}

function splitOrigins(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

function originProblem(entry: string): string | undefined {
  const expected = 'an exact origin such as https://app.example.com (scheme, host and port only)';
  if (entry.includes('*')) return `takes exact origins, not wildcards: "${entry}"`;
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return `must list origins, each ${expected}: "${entry}" is not one`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `must list http or https origins: "${entry}"`;
  }
  // What a browser sends: lower-case host, no default port, no path, query or credentials.
  if (url.origin !== entry) {
    return `must list origins, each ${expected}, as a browser sends it ("${url.origin}"): "${entry}" is not one`;
  }
  return undefined;
}
