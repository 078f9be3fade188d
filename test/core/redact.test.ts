import {describe, expect, it} from 'vitest'

import {REDACTED, isSecretName, redactSecrets} from '../../src/core/redact.js'

describe('redactSecrets', () => {
  it('removes a SAS signature and keeps the rest of the URL', () => {
    const url = 'https://acct.blob.core.windows.net/c/img.png?sv=2022-11-02&se=2030-01-01&sp=r&sig=abc%2Bdef%3D&x=1'
    expect(redactSecrets(url)).toBe(`https://acct.blob.core.windows.net/c/img.png?sv=2022-11-02&se=2030-01-01&sp=r&sig=${REDACTED}&x=1`)
  })
  it('removes tokens in query strings, connection strings and Bearer headers', () => {
    expect(redactSecrets('GET /x?code=s3cr3t failed')).toBe(`GET /x?code=${REDACTED} failed`)
    expect(redactSecrets('DefaultEndpointsProtocol=https;AccountName=a;AccountKey=QUJD==;EndpointSuffix=x')).toBe(
      `DefaultEndpointsProtocol=https;AccountName=a;AccountKey=${REDACTED};EndpointSuffix=x`,
    )
    expect(redactSecrets('Authorization: Bearer eyJhbGciOi.J9.x-y_z')).toBe(`Authorization: Bearer ${REDACTED}`)
  })
  it('is idempotent and leaves ordinary text alone', () => {
    const once = redactSecrets('u?sig=1&token=2')
    expect(redactSecrets(once)).toBe(once)
    expect(redactSecrets('the keyboard signed in at 3?')).toBe('the keyboard signed in at 3?')
  })
})

describe('isSecretName', () => {
  it('recognises secret-shaped names', () => {
    for (const n of ['API_KEY', 'db_password', 'SAS_TOKEN', 'primaryKey', 'AZURE_CLIENT_SECRET', 'STORAGE_CONNECTION_STRING', 'key']) {
      expect(isSecretName(n), n).toBe(true)
    }
  })
  it('leaves ordinary names alone', () => {
    for (const n of ['WORKER_COUNT', 'MODEL_NAME', 'AZUREML_MODEL_DIR', 'keyboard_layout', 'monkey']) {
      expect(isSecretName(n), n).toBe(false)
    }
  })
})
