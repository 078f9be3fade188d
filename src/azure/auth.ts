import {
  AzureCliCredential,
  DefaultAzureCredential,
  EnvironmentCredential,
  ManagedIdentityCredential,
  WorkloadIdentityCredential,
  type AccessToken,
  type TokenCredential,
} from '@azure/identity'

import {RemoteError, UsageError} from '../core/errors.js'

export const AUTH_METHODS = ['cli', 'env', 'workload-identity', 'managed-identity'] as const
export type AuthMethod = (typeof AUTH_METHODS)[number]

/** A credential plus a human name for it (never the token). */
export interface ResolvedCredential {
  credential: TokenCredential
  /** e.g. `AZURE_ACCESS_TOKEN`, `DefaultAzureCredential`, `AzureCliCredential`. */
  source: string
}

/**
 * A token the pipeline already holds (AZURE_ACCESS_TOKEN). It is used as is: no refresh, so a long `--wait` can
 * outlive it; ARM then answers 401 and the error says so.
 */
export class StaticTokenCredential implements TokenCredential {
  constructor(private readonly token: string) {}
  async getToken(): Promise<AccessToken> {
    return {token: this.token, expiresOnTimestamp: Date.now() + 60 * 60 * 1000}
  }
}

/**
 * Chooses the credential: `--auth` when given; else AZURE_ACCESS_TOKEN when set; else DefaultAzureCredential
 * (environment, workload identity, managed identity, Azure CLI, ... in @azure/identity's order).
 */
export function resolveCredential(method: AuthMethod | undefined, env: NodeJS.ProcessEnv): ResolvedCredential {
  switch (method) {
    case 'cli': {
      // `az account get-access-token --tenant`: the az login may span tenants; AZURE_TENANT_ID picks the one to use,
      // as DefaultAzureCredential's own AzureCliCredential does.
      const tenantId = env.AZURE_TENANT_ID?.trim()
      return {
        credential: tenantId ? new AzureCliCredential({tenantId}) : new AzureCliCredential(),
        source: `AzureCliCredential (--auth cli${tenantId ? `, tenant ${tenantId} from AZURE_TENANT_ID` : ''})`,
      }
    }
    case 'env':
      return {credential: new EnvironmentCredential(), source: 'EnvironmentCredential (--auth env)'}
    case 'workload-identity':
      return {credential: new WorkloadIdentityCredential(), source: 'WorkloadIdentityCredential (--auth workload-identity)'}
    case 'managed-identity': {
      const clientId = env.AZURE_CLIENT_ID
      return {
        credential: clientId ? new ManagedIdentityCredential({clientId}) : new ManagedIdentityCredential(),
        source: 'ManagedIdentityCredential (--auth managed-identity)',
      }
    }
    case undefined:
      break
  }
  const token = env.AZURE_ACCESS_TOKEN?.trim()
  if (token) return {credential: new StaticTokenCredential(token), source: 'AZURE_ACCESS_TOKEN'}
  return {credential: new DefaultAzureCredential(), source: 'DefaultAzureCredential'}
}

interface NamedError {
  name?: string
  message?: string
  errors?: unknown[]
}

function firstLine(s: string | undefined): string {
  return (s ?? '').split('\n')[0].trim()
}

/**
 * Maps a getToken failure to a vitrine error. "No credential available" is a usage error (exit 2): nothing remote
 * failed and retrying will not help until the user logs in or sets variables. A credential that exists but is
 * refused by Entra ID is a remote failure (exit 3). Messages come from @azure/identity and never hold a token.
 */
export function credentialError(err: unknown, source: string): Error {
  const e = (err ?? {}) as NamedError
  const hint =
    'run `az login`, set AZURE_ACCESS_TOKEN, set AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, or choose one with --auth cli|env|workload-identity|managed-identity'
  if (e.name === 'AggregateAuthenticationError' && Array.isArray(e.errors)) {
    const tried = e.errors.map((x) => '  - ' + firstLine((x as NamedError).message))
    const allUnavailable = e.errors.every((x) => (x as NamedError).name === 'CredentialUnavailableError')
    const text = `no Azure credential could be used (${source}). Tried:\n${tried.join('\n')}\n  - AZURE_ACCESS_TOKEN: not set`
    return allUnavailable ? new UsageError(text, {hint}) : new RemoteError(text, {hint})
  }
  if (e.name === 'CredentialUnavailableError') {
    return new UsageError(`no Azure credential could be used. Tried:\n  - ${firstLine(e.message)}`, {hint})
  }
  if (e.name === 'AuthenticationError' || e.name === 'AuthenticationRequiredError') {
    return new RemoteError(`Azure authentication failed (${source}): ${firstLine(e.message)}`, {hint})
  }
  return new RemoteError(`could not get an Azure token (${source}): ${firstLine(e.message) || String(err)}`, {hint})
}

/** Gets one token up front so a missing login is reported before anything is read or sent. */
export async function acquireToken(cred: ResolvedCredential, scope: string): Promise<void> {
  try {
    const t = await cred.credential.getToken(scope)
    if (!t?.token) throw Object.assign(new Error(`${cred.source} returned no token`), {name: 'CredentialUnavailableError'})
  } catch (error) {
    throw credentialError(error, cred.source)
  }
}
