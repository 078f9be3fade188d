import {describe, expect, it} from 'vitest'

import {InvalidInputError, UsageError} from '../../src/core/errors.js'
import {applySetAssignment, parseSetAssignment, type SetTarget} from '../../src/generate/set-path.js'

function targets(): SetTarget[] {
  return [
    {role: 'endpoint', schema: 'managedOnlineEndpoint', data: {name: 'ep-one', auth_mode: 'key'}},
    {role: 'deployment', schema: 'managedOnlineDeployment', data: {name: 'blue', endpoint_name: 'ep-one', instance_count: 1, liveness_probe: {period: 10}}},
  ]
}

const set = (arg: string, t = targets()) => {
  applySetAssignment(parseSetAssignment(arg), t)
  return t
}

describe('--set path=value', () => {
  it('sets a field of the one document that has it, typed by the schema', () => {
    const t = set('instance_count=3')
    expect(t[1].data.instance_count).toBe(3)
    expect(set('liveness_probe.timeout=299')[1].data.liveness_probe).toEqual({period: 10, timeout: 299})
    expect(set('deployment.tags.team=vision')[1].data.tags).toEqual({team: 'vision'})
  })

  it('keeps a value as text where the schema wants text', () => {
    expect(set('endpoint.description=123')[0].data.description).toBe('123')
    expect(() => set('deployment.name=123')).toThrow(/a letter first/)
    expect(set('deployment.tags.build=42')[1].data.tags).toEqual({build: 42})
  })

  it('addresses a field both documents have by role, and refuses it without', () => {
    expect(set('endpoint.name=ep-two')[0].data.name).toBe('ep-two')
    expect(() => set('name=x')).toThrow(UsageError)
    expect(() => set('name=x')).toThrow(/endpoint\.name or deployment\.name/)
  })

  it('refuses a path the schema does not have (usage error) and leaves the document unchanged', () => {
    const t = targets()
    expect(() => set('instance_cnt=2', t)).toThrow(UsageError)
    expect(() => set('liveness_probe.perod=2', t)).toThrow(/'perod' is not a field of liveness_probe/)
    expect(() => set('instance_count.x=2', t)).toThrow(/instance_count is a value/)
    expect(t).toEqual(targets())
  })

  it('refuses a value of the wrong type or outside the enum (invalid input)', () => {
    const t = targets()
    expect(() => set('instance_count=two', t)).toThrow(InvalidInputError)
    expect(() => set('instance_count=two', t)).toThrow(/instance_count must be integer/)
    expect(() => set('endpoint.auth_mode=password', t)).toThrow(/must be one of "key", "aml_token", "aad_token"/)
    expect(() => set('liveness_probe.period=0', t)).toThrow(/must be >= 1/)
    expect(t).toEqual(targets())
  })

  it('refuses a malformed assignment', () => {
    expect(() => parseSetAssignment('instance_count')).toThrow(UsageError)
    expect(() => parseSetAssignment('=3')).toThrow(UsageError)
    expect(() => parseSetAssignment('a..b=3')).toThrow(/empty segment/)
  })
})
