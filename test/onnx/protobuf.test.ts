import {describe, expect, it} from 'vitest'

import {ProtoMessage, encodeVarint} from '../../src/onnx/protobuf.js'

describe('protobuf wire encoding', () => {
  it('encodes varints as the protobuf spec examples do', () => {
    expect([...encodeVarint(1)]).toEqual([0x01])
    expect([...encodeVarint(150)]).toEqual([0x96, 0x01])
    expect([...encodeVarint(300)]).toEqual([0xac, 0x02])
    // int64 -1 is ten bytes of two's complement.
    expect([...encodeVarint(-1)]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])
  })

  it('encodes fields, nested messages and lazy bytes with the right length prefixes', async () => {
    // The spec's example: message Test1 { int32 a = 1; } with a = 150 -> 08 96 01.
    expect([...(await new ProtoMessage().varint(1, 150).toBytes())]).toEqual([0x08, 0x96, 0x01])
    // Test2 { string b = 2; } with b = "testing" -> 12 07 74 65 73 74 69 6e 67.
    expect(Buffer.from(await new ProtoMessage().string(2, 'testing').toBytes()).toString('hex')).toBe('120774657374696e67')
    // Test3 { Test1 c = 3; } -> 1a 03 08 96 01.
    const inner = new ProtoMessage().varint(1, 150)
    expect(Buffer.from(await new ProtoMessage().message(3, inner).toBytes()).toString('hex')).toBe('1a03089601')
    const big = new Uint8Array(200).fill(7)
    const lazy = new ProtoMessage().lazyBytes(9, {length: 200, produce: async () => big})
    const bytes = await new ProtoMessage().message(1, lazy).toBytes()
    // outer tag 0a, len 203 (= 09 tag... 4a c8 01 + 200) as varint cb 01, inner tag 4a, len c8 01.
    expect([...bytes.subarray(0, 6)]).toEqual([0x0a, 0xcb, 0x01, 0x4a, 0xc8, 0x01])
    expect(bytes.length).toBe(206)
    expect(bytes.subarray(6).every((b) => b === 7)).toBe(true)
  })

  it('refuses a lazy field that produces a different length than announced', async () => {
    const m = new ProtoMessage().lazyBytes(1, {length: 4, produce: async () => new Uint8Array(3)})
    await expect(m.toBytes()).rejects.toThrow(/announced 4 bytes but produced 3/)
  })
})
