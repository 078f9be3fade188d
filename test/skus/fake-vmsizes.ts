/** An in-process fake of the ARM vmSizes endpoint on 127.0.0.1, recording what it was asked. */
import {createServer, type IncomingMessage, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'

export const SUBSCRIPTION = '11111111-2222-3333-4444-555555555555'

/** What the real API answers, in its own field names (values chosen to differ from the bundled catalog once). */
export const VM_SIZES = [
  {name: 'Standard_DS3_v2', family: 'standardDSv2Family', vCPUs: 4, gpus: 0, osVhdSizeMB: 1047552, maxResourceVolumeMB: 28672, memoryGB: 14, lowPriorityCapable: true, premiumIO: true},
  {name: 'Standard_E2s_v3', family: 'standardESv3Family', vCPUs: 2, gpus: 0, osVhdSizeMB: 1047552, maxResourceVolumeMB: 32768, memoryGB: 16},
  {name: 'Standard_NC4as_T4_v3', family: 'Standard NCASv3_T4 Family', vCPUs: 4, gpus: 1, osVhdSizeMB: 1047552, maxResourceVolumeMB: 180224, memoryGB: 28},
  // Suppose this region reports the docs figures for ND96amsr: the comparison must show it.
  {name: 'Standard_ND96amsr_A100_v4', family: 'standardNDAMSv4_A100Family', vCPUs: 96, gpus: 8, osVhdSizeMB: 1047552, maxResourceVolumeMB: 6553600, memoryGB: 1900},
  {name: 'Standard_Broken', family: 'x', vCPUs: 2},
]

export interface FakeArm {
  url: string
  requests: Array<{method: string; url: string; authorization?: string}>
  /** Replaces the answer: status and JSON body. */
  answer: {status: number; body: unknown}
  close(): Promise<void>
}

export async function startFakeArm(): Promise<FakeArm> {
  const fake = {
    requests: [] as FakeArm['requests'],
    answer: {status: 200, body: {value: VM_SIZES}} as FakeArm['answer'],
  }
  const server: Server = createServer((req: IncomingMessage, res) => {
    fake.requests.push({method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization})
    const expected = `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.MachineLearningServices/locations/eastus/vmSizes`
    const path = (req.url ?? '').split('?')[0]
    res.setHeader('content-type', 'application/json')
    if (req.headers.authorization !== 'Bearer fake-token') {
      res.statusCode = 401
      res.end(JSON.stringify({error: {code: 'AuthenticationFailed', message: 'bad token'}}))
    } else if (path !== expected) {
      res.statusCode = 404
      res.end(JSON.stringify({error: {code: 'NoRegisteredProviderFound', message: `no such location ${path}`}}))
    } else {
      res.statusCode = fake.answer.status
      res.end(JSON.stringify(fake.answer.body))
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  })
}
