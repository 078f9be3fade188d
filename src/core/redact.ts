/**
 * The one redaction function: every message, log line, plan and `--json` result that may carry a user's or Azure's
 * secret goes through here before it is printed or written. Two shapes of secret are recognised:
 * - inside text: SAS signatures and other credential query parameters (`sig=`, `code=`, `token=`, `key=`, ...),
 *   `Authorization: Bearer ...` values, `AccountKey=`/`SharedAccessKey=`/`Password=` parts of connection strings;
 * - by name: a field or environment variable whose name says it holds a secret (`isSecretName`), whose value is
 *   never shown at all.
 */

/** What replaces a secret value. */
export const REDACTED = '<redacted>'

// Query parameters that authorise a request on their own (SAS `sig`, function keys, tokens).
const SECRET_QUERY_PARAMS = ['sig', 'signature', 'code', 'token', 'access_token', 'key', 'apikey', 'api-key', 'api_key', 'password', 'secret', 'client_secret']

const QUERY_RE = new RegExp(`([?&](?:${SECRET_QUERY_PARAMS.map((p) => p.replace(/[-_]/g, '[-_]')).join('|')})=)(?!<redacted>)[^&#\\s"'<>]*`, 'gi')
// `AccountKey=...;` and friends in storage / service bus / SQL connection strings.
const CONNECTION_STRING_RE = /\b((?:AccountKey|SharedAccessKey|SharedAccessSignature|Password|Pwd|ClientSecret)=)(?!<redacted>)[^;\s"']*/gi
const BEARER_RE = /\b(Bearer\s+)(?!<redacted>)[A-Za-z0-9\-._~+/]+=*/g

/** `text` with every credential-shaped substring replaced by `<redacted>`. Idempotent. */
export function redactSecrets(text: string): string {
  return text
    .replace(QUERY_RE, `$1${REDACTED}`)
    .replace(CONNECTION_STRING_RE, `$1${REDACTED}`)
    .replace(BEARER_RE, `$1${REDACTED}`)
}

const SECRET_NAME_RE = /(secret|password|passwd|pwd|token|(^|[_-])key($|[_-])|apikey|api_key|connection_?string|conn_?str|credential|sas|signature|private)/i

/**
 * True for a field or variable name that says it holds a secret (`API_KEY`, `db_password`, `SAS_TOKEN`,
 * `primaryKey`, `AZURE_CLIENT_SECRET`), whose value is never printed: plans show only that it changed.
 */
export function isSecretName(name: string): boolean {
  return SECRET_NAME_RE.test(name) || /[a-z]Key$/.test(name)
}

/**
 * A JSON value with every secret taken out: strings through `redactSecrets`, the value of every key `isSecretName`
 * names replaced by `<redacted>`, at any depth. For values a plan or result shows (a SAS in a model URI, a token in a
 * property).
 */
export function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return redactSecrets(value)
  if (Array.isArray(value)) return value.map(redactValue)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isSecretName(k) ? REDACTED : redactValue(v)]))
  }
  return value
}
