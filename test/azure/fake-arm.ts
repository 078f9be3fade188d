/**
 * An in-process fake of Azure Resource Manager (Azure ML resources) and Azure Blob storage on 127.0.0.1, for tests.
 * It records every request (method, path, query, headers, body) so tests assert on exactly what reached the wire,
 * mimics ARM's long-running operations (201/202 + Azure-AsyncOperation, polled to Succeeded), refuses a deployment
 * whose endpoint is missing or still provisioning and traffic to a deployment that does not exist (as Azure does),
 * and injects faults (409, 429 + Retry-After, 500, 401) on demand.
 */
import {createHash, randomUUID} from 'node:crypto'
import {createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

export type Json = Record<string, unknown>

export interface RecordedRequest {
  method: string
  /** Path without the query. */
  path: string
  query: Record<string, string>
  headers: IncomingHttpHeaders
  body: Buffer
  json?: unknown
  /** ms since the server started. */
  at: number
}

export interface Fault {
  method?: string
  /** Matched against the request path (no query). */
  path: RegExp
  status: number
  headers?: Record<string, string>
  body?: unknown
  /** How many matching requests get the fault (default 1). */
  times?: number
  /** Never answer (a server that accepted the connection and hangs); `status` is then ignored. */
  hang?: boolean
}

interface Operation {
  pollsLeft: number
  final: 'Succeeded' | 'Failed'
  error?: {code: string; message: string}
  onDone: () => void
}


export class FakeArm {
  readonly requests: RecordedRequest[] = []
  /** ARM resources by lower-cased path. */
  readonly resources = new Map<string, Json>()
  /** Committed blobs by `container/blob/path`. */
  readonly blobs = new Map<string, Buffer>()
  private readonly uncommitted = new Map<string, Map<string, Buffer>>()
  private readonly operations = new Map<string, Operation>()
  private readonly faults: Fault[] = []
  private readonly jobGets = new Map<string, number>()
  /** The running operation of each resource being provisioned. */
  private readonly resourceOps = new Map<string, string>()
  /** Token expected in `Authorization: Bearer`. */
  token = 'fake-arm-token'
  location = 'westeurope'
  workspaces = new Set(['vit-ws'])
  /** When set, every operation started from now on ends Failed with this error (the resource too). */
  failOperations?: {code: string; message: string}
  /** InProgress answers before an operation reports its final status. */
  pollsBeforeDone = 2
  /** Each successful blob call is answered after this many ms (failures at once), to hold calls in flight. */
  blobDelayMs = 0
  /** Job status on the 1st, 2nd, ... GET after submission (the last one repeats). */
  jobStatuses = ['NotStarted', 'Running', 'Completed']
  url = ''
  private server?: Server
  private readonly started = Date.now()

  static async start(): Promise<FakeArm> {
    const fake = new FakeArm()
    fake.server = createServer((req, res) => {
      fake.handle(req, res).catch((error: unknown) => {
        res.statusCode = 500
        res.end(JSON.stringify({error: {code: 'FakeServerBug', message: String(error)}}))
      })
    })
    await new Promise<void>((resolve) => fake.server!.listen(0, '127.0.0.1', resolve))
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`
    return fake
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections()
    await new Promise<void>((resolve) => this.server?.close(() => resolve()))
  }

  /** Queues a fault for the next matching request(s). */
  fail(fault: Fault): void {
    this.faults.push({times: 1, ...fault})
  }

  /** Puts a resource in place as if it existed in Azure. */
  seed(path: string, resource: Json): void {
    this.resources.set(path.toLowerCase(), resource)
  }

  get(path: string): Json | undefined {
    return this.resources.get(path.toLowerCase())
  }

  /** Requests that change something (PUT/POST/PATCH/DELETE) to ARM paths. */
  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.method !== 'GET' && r.path.startsWith('/subscriptions/'))
  }

  blobRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path.startsWith('/blob/'))
  }

  clear(): void {
    this.requests.length = 0
  }

  private send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
    res.statusCode = status
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v)
    if (body === undefined) {
      res.end()
      return
    }
    res.setHeader('content-type', typeof body === 'string' ? 'application/xml' : 'application/json')
    res.end(typeof body === 'string' ? body : JSON.stringify(body))
  }

  private armError(res: ServerResponse, status: number, code: string, message: string): void {
    this.send(res, status, {error: {code, message}})
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const body = Buffer.concat(chunks)
    const u = new URL(req.url ?? '/', this.url)
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path: decodeURIComponent(u.pathname),
      query: Object.fromEntries(u.searchParams),
      headers: req.headers,
      body,
      at: Date.now() - this.started,
    }
    if (body.length && String(req.headers['content-type'] ?? '').includes('json')) rec.json = JSON.parse(body.toString('utf8'))
    this.requests.push(rec)

    const fault = this.faults.find((f) => (!f.method || f.method === rec.method) && f.path.test(rec.path) && (f.times ?? 1) > 0)
    if (fault) {
      fault.times = (fault.times ?? 1) - 1
      if (fault.hang) return
      return this.send(res, fault.status, fault.body, fault.headers)
    }
    if (rec.path.startsWith('/blob/')) return this.handleBlob(rec, res)
    if (rec.path.startsWith('/operations/')) return this.handleOperation(rec, res)
    if (!rec.path.startsWith('/subscriptions/')) return this.armError(res, 404, 'NotFound', `no route ${rec.path}`)
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      return this.armError(res, 401, 'InvalidAuthenticationToken', 'The access token is invalid.')
    }
    if (!rec.query['api-version']) return this.armError(res, 400, 'MissingApiVersionParameter', 'The api-version query parameter is required.')
    if (rec.method === 'GET') return this.handleGet(rec, res)
    if (rec.method === 'POST' && rec.path.endsWith('/startPendingUpload')) return this.startPendingUpload(rec, res)
    if (rec.method === 'PUT') return this.handlePut(rec, res)
    return this.armError(res, 405, 'MethodNotAllowed', `${rec.method} ${rec.path}`)
  }

  private handleGet(rec: RecordedRequest, res: ServerResponse): void {
    const m = /\/workspaces\/([^/]+)$/.exec(rec.path)
    if (m) {
      if (!this.workspaces.has(m[1])) return this.armError(res, 404, 'ResourceNotFound', `Workspace ${m[1]} not found`)
      return this.send(res, 200, {id: rec.path, name: m[1], type: 'Microsoft.MachineLearningServices/workspaces', location: this.location, properties: {}})
    }
    const key = rec.path.toLowerCase()
    const r = this.resources.get(key)
    if (!r) return this.armError(res, 404, 'UserError', `Resource ${rec.path} was not found.`)
    // Azure finishes provisioning whether or not anyone polls the operation: each GET of the resource counts too.
    const op = this.resourceOps.get(key)
    if (op && this.operations.has(op)) {
      const o = this.operations.get(op)!
      if (o.pollsLeft > 0) o.pollsLeft--
      else {
        o.onDone()
        this.resourceOps.delete(key)
      }
    }
    if (/\/jobs\/[^/]+$/.test(rec.path)) {
      const n = (this.jobGets.get(key) ?? 0) + 1
      this.jobGets.set(key, n)
      ;(r.properties as Json).status = this.jobStatuses[Math.min(n, this.jobStatuses.length) - 1]
    }
    return this.send(res, 200, r)
  }

  private handleOperation(rec: RecordedRequest, res: ServerResponse): void {
    const id = rec.path.split('/')[2]
    const op = this.operations.get(id)
    if (!op) return this.armError(res, 404, 'NotFound', `operation ${id}`)
    if (op.pollsLeft > 0) {
      op.pollsLeft--
      return this.send(res, 200, {status: 'InProgress'})
    }
    op.onDone()
    return this.send(res, 200, op.final === 'Succeeded' ? {status: 'Succeeded'} : {status: 'Failed', error: op.error})
  }

  /** Starts an operation; its poll URL goes in Azure-AsyncOperation. */
  private operation(resourceKey: string, onDone: () => void): string {
    const id = randomUUID()
    const error = this.failOperations
    const done = error
      ? () => {
          const props = this.resources.get(resourceKey)?.properties as Json | undefined
          if (props) props.provisioningState = 'Failed'
        }
      : onDone
    this.operations.set(id, {pollsLeft: this.pollsBeforeDone, final: error ? 'Failed' : 'Succeeded', error, onDone: done})
    this.resourceOps.set(resourceKey, id)
    return `${this.url}/operations/${id}?api-version=2022-10-01`
  }

  private startPendingUpload(rec: RecordedRequest, res: ServerResponse): void {
    const body = rec.json as Json | undefined
    if (!body || body.pendingUploadType !== 'TemporaryBlobReference' || typeof body.pendingUploadId !== 'string') {
      return this.armError(res, 400, 'UserError', 'pendingUploadId and pendingUploadType TemporaryBlobReference are required')
    }
    const container = `pending-${createHash('sha256').update(String(body.pendingUploadId)).digest('hex').slice(0, 12)}`
    return this.send(res, 200, {
      blobReferenceForConsumption: {
        blobUri: `${this.url}/blob/${container}`,
        storageAccountArmId: '/subscriptions/x/resourceGroups/y/providers/Microsoft.Storage/storageAccounts/fake',
        credential: {credentialType: 'SAS', sasUri: `${this.url}/blob/${container}?sv=2021-08-06&sr=c&sp=rcw&sig=FAKESASSIGNATURE`},
      },
      pendingUploadId: body.pendingUploadId,
      pendingUploadType: 'TemporaryBlobReference',
    })
  }

  private handlePut(rec: RecordedRequest, res: ServerResponse): void {
    const body = rec.json as Json | undefined
    if (!body || typeof body !== 'object') return this.armError(res, 400, 'BadRequest', 'body must be JSON')
    const key = rec.path.toLowerCase()
    const exists = this.resources.has(key)
    const name = rec.path.split('/').pop()!
    const base = (type: string): Json => ({
      id: rec.path,
      name,
      type: `Microsoft.MachineLearningServices/${type}`,
      systemData: {createdBy: 'fake', createdAt: '2026-01-01T00:00:00Z'},
    })
    const props = (body.properties ?? {}) as Json

    if (/\/jobs\/[^/]+$/.test(rec.path)) {
      const stored = {...base('workspaces/jobs'), properties: {...props, status: 'NotStarted', services: {Studio: {endpoint: `https://ml.azure.com/runs/${name}`}}}}
      this.resources.set(key, stored)
      this.jobGets.set(key, 0)
      return this.send(res, exists ? 200 : 201, stored)
    }
    if (/\/registries\/[^/]+\/models\/[^/]+\/versions\/[^/]+$/.test(rec.path)) {
      const stored = {...base('registries/models/versions'), properties: {...props, provisioningState: 'Creating'}}
      this.resources.set(key, stored)
      const op = this.operation(key, () => ((stored.properties as Json).provisioningState = 'Succeeded'))
      return this.send(res, 202, undefined, {'azure-asyncoperation': op, location: `${this.url}${rec.path}?api-version=${rec.query['api-version']}`})
    }
    if (/\/workspaces\/[^/]+\/models\/[^/]+\/versions\/[^/]+$/.test(rec.path)) {
      const stored = {...base('workspaces/models/versions'), properties: {...props, provisioningState: 'Succeeded'}}
      this.resources.set(key, stored)
      return this.send(res, exists ? 200 : 201, stored)
    }
    const dep = /^(.*\/(?:onlineEndpoints|batchEndpoints)\/[^/]+)\/deployments\/[^/]+$/.exec(rec.path)
    if (dep) {
      const ep = this.resources.get(dep[1].toLowerCase())
      if (!ep) return this.armError(res, 404, 'UserError', `Endpoint ${dep[1].split('/').pop()} not found`)
      if ((ep.properties as Json).provisioningState !== 'Succeeded') {
        return this.armError(res, 409, 'Conflict', 'The endpoint is still being provisioned; retry when it is Succeeded.')
      }
    }
    const ep = /\/(onlineEndpoints|batchEndpoints)\/([^/]+)$/.exec(rec.path)
    if (ep) {
      const traffic = (props.traffic ?? {}) as Record<string, number>
      for (const [d, pct] of Object.entries(traffic)) {
        const dp = this.resources.get(`${key}/deployments/${d}`.toLowerCase())
        if (pct > 0 && (!dp || (dp.properties as Json).provisioningState !== 'Succeeded')) {
          return this.armError(res, 400, 'BadArgument', `Traffic to deployment ${d} is not allowed: it does not exist or is not Succeeded.`)
        }
      }
    }
    const kind = ep ? ep[1] : dep ? 'deployments' : 'resources'
    const stored: Json = {
      ...base(kind),
      ...body,
      properties: {
        ...props,
        provisioningState: exists ? 'Updating' : 'Creating',
        ...(ep?.[1] === 'onlineEndpoints' ? {scoringUri: `https://${name}.${this.location}.inference.ml.azure.com/score`, traffic: props.traffic ?? {}} : {}),
        // Azure adds its own entries to properties.properties; apply must not see them as changes.
        properties: {...((props.properties ?? {}) as Json), 'azureml.onlineendpointid': `/fake/${name}`, AzureAsyncOperationUri: `${this.url}/operations/x`},
      },
      ...(body.identity ? {identity: {...(body.identity as Json), principalId: '00000000-0000-0000-0000-00000000abcd', tenantId: 't'}} : {}),
    }
    this.resources.set(key, stored)
    const op = this.operation(key, () => ((stored.properties as Json).provisioningState = 'Succeeded'))
    // Batch deployments answer 202 (accepted) like Azure does for some creates; the others 201/200.
    if (dep && rec.path.includes('/batchEndpoints/')) return this.send(res, 202, undefined, {'azure-asyncoperation': op})
    return this.send(res, exists ? 200 : 201, stored, {'azure-asyncoperation': op})
  }

  private async handleBlob(rec: RecordedRequest, res: ServerResponse): Promise<void> {
    if (this.blobDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.blobDelayMs))
    if (rec.query.sig !== 'FAKESASSIGNATURE') {
      return this.send(res, 403, '<?xml version="1.0"?><Error><Code>AuthenticationFailed</Code><Message>bad SAS</Message></Error>')
    }
    if (rec.method !== 'PUT') return this.send(res, 405, '<Error><Code>UnsupportedHttpVerb</Code><Message>only PUT</Message></Error>')
    const md5 = rec.headers['content-md5']
    if (md5 && createHash('md5').update(rec.body).digest('base64') !== md5) {
      return this.send(res, 400, '<Error><Code>Md5Mismatch</Code><Message>Content-MD5 does not match</Message></Error>')
    }
    const key = rec.path.slice('/blob/'.length)
    if (rec.query.comp === 'block') {
      const blocks = this.uncommitted.get(key) ?? new Map<string, Buffer>()
      blocks.set(rec.query.blockid, rec.body)
      this.uncommitted.set(key, blocks)
      return this.send(res, 201)
    }
    if (rec.query.comp === 'blocklist') {
      const ids = [...rec.body.toString('utf8').matchAll(/<Latest>([^<]+)<\/Latest>/g)].map((m) => m[1])
      const blocks = this.uncommitted.get(key)
      const parts: Buffer[] = []
      for (const id of ids) {
        const b = blocks?.get(id)
        if (!b) return this.send(res, 400, '<Error><Code>InvalidBlockList</Code><Message>unknown block</Message></Error>')
        parts.push(b)
      }
      this.blobs.set(key, Buffer.concat(parts))
      this.uncommitted.delete(key)
      return this.send(res, 201)
    }
    if (rec.headers['x-ms-blob-type'] !== 'BlockBlob') {
      return this.send(res, 400, '<Error><Code>MissingRequiredHeader</Code><Message>x-ms-blob-type</Message></Error>')
    }
    this.blobs.set(key, rec.body)
    return this.send(res, 201)
  }
}
