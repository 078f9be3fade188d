/**
 * Which IP addresses a URL fetched for a request (serve/score --allow-urls) may reach: public unicast only, unless
 * --allow-private-urls. Refused: unspecified, loopback, private (RFC 1918), carrier-grade NAT, link-local (cloud
 * metadata at 169.254.169.254), IETF/benchmark/documentation ranges, multicast, reserved and broadcast (IPv4); and
 * unspecified, loopback, unique-local fc00::/7, link-local fe80::/10, site-local, multicast, documentation (IPv6), with
 * IPv4 embedded in IPv6 (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo)
 * judged by its IPv4 address. Anything that does not parse is refused.
 */
import {isIPv4, isIPv6} from 'node:net'

const V4_BLOCKED: ReadonlyArray<readonly [number, number]> = (
  [
    ['0.0.0.0', 8], // "this network", unspecified
    ['10.0.0.0', 8],
    ['100.64.0.0', 10], // carrier-grade NAT
    ['127.0.0.0', 8],
    ['169.254.0.0', 16], // link-local, cloud metadata
    ['172.16.0.0', 12],
    ['192.0.0.0', 24], // IETF protocol assignments
    ['192.0.2.0', 24], // documentation
    ['192.88.99.0', 24], // 6to4 relay anycast
    ['192.168.0.0', 16],
    ['198.18.0.0', 15], // benchmarking
    ['198.51.100.0', 24],
    ['203.0.113.0', 24],
    ['224.0.0.0', 4], // multicast
    ['240.0.0.0', 4], // reserved, broadcast
  ] as const
).map(([a, bits]) => [v4ToInt(a)!, bits] as const)

function v4ToInt(text: string): number | undefined {
  if (!isIPv4(text)) return undefined
  return text.split('.').reduce((n, part) => n * 256 + Number(part), 0)
}

function v4Blocked(n: number): boolean {
  return V4_BLOCKED.some(([base, bits]) => Math.floor(n / 2 ** (32 - bits)) === Math.floor(base / 2 ** (32 - bits)))
}

/** Eight 16-bit groups of an IPv6 address (zone id dropped), or undefined. */
function v6Groups(text: string): number[] | undefined {
  const addr = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  if (!isIPv6(addr)) return undefined
  let tail: number[] = []
  let head = addr
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(addr)
  if (dotted) {
    const n = v4ToInt(dotted[1])
    if (n === undefined) return undefined
    tail = [Math.floor(n / 65536), n % 65536]
    head = addr.slice(0, -dotted[1].length)
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1)
  }
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)))
  let groups: number[]
  if (head.includes('::')) {
    const [l, r] = head.split('::')
    const left = parse(l)
    const right = [...parse(r), ...tail]
    groups = [...left, ...Array.from({length: 8 - left.length - right.length}, () => 0), ...right]
  } else {
    groups = [...parse(head), ...tail]
  }
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined
}

/** True when `ip` (an IPv4 or IPv6 literal) is a public unicast address a fetch may connect to. */
export function isPublicAddress(ip: string): boolean {
  const v4 = v4ToInt(ip)
  if (v4 !== undefined) return !v4Blocked(v4)
  const g = v6Groups(ip)
  if (!g) return false
  const embedded = (hi: number, lo: number): boolean => !v4Blocked(hi * 65536 + lo)
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0)) {
    // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible), and :: / ::1 themselves
    if (g[5] === 0 && g[6] === 0 && g[7] <= 1) return false
    return embedded(g[6], g[7])
  }
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return embedded(g[6], g[7]) // NAT64
  if (g[0] === 0x2002) return embedded(g[1], g[2]) // 6to4
  if (g[0] === 0x2001 && g[1] === 0) return embedded(g[6] ^ 0xffff, g[7] ^ 0xffff) // Teredo: client address, inverted
  if ((g[0] & 0xfe00) === 0xfc00) return false // unique-local
  if ((g[0] & 0xffc0) === 0xfe80 || (g[0] & 0xffc0) === 0xfec0) return false // link-local, site-local
  if ((g[0] & 0xff00) === 0xff00) return false // multicast
  if (g[0] === 0x2001 && g[1] === 0x0db8) return false // documentation
  if (g[0] === 0x0100 && g.slice(1, 4).every((x) => x === 0)) return false // discard-only
  return true
}
