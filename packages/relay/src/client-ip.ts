import { isIP } from "node:net"

/**
 * The client address the per-address allowances count, and the key it is counted under. Behind a
 * load balancer (`trustProxy`), `x-real-ip`, else the last `x-forwarded-for` entry: the one the
 * balancer itself appended (earlier entries are whatever the client sent). Without it, the socket's
 * address: a client cannot choose its own bucket by sending a header.
 */
export function clientAddress(headers: Headers, socketAddress: string | null, trustProxy: boolean): string {
  if (trustProxy) {
    const real = headers.get("x-real-ip")?.trim()
    if (real && isIP(real)) return real
    const forwarded = headers.get("x-forwarded-for")?.split(",").at(-1)?.trim()
    if (forwarded && isIP(forwarded)) return forwarded
  }
  return socketAddress ?? "unknown"
}

/**
 * The bucket: an IPv4 address whole (an IPv4-mapped IPv6 address as its IPv4), an IPv6 address by
 * its /64, worked out from the parsed address so that `2001:db8::1` and `2001:db8:0:0::2` share one,
 * unlike the gateway's cut of the address as written.
 */
export function addressKey(address: string): string {
  if (isIP(address) === 4) return address
  if (isIP(address) !== 6) return address.slice(0, 64)
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address)
  if (mapped) return mapped[1]!
  return `${expand(address).slice(0, 4).join(":")}::/64`
}

function expand(address: string): string[] {
  let text = address.split("%")[0]!.toLowerCase()
  // An embedded IPv4 tail (::ffff:1.2.3.4 and friends) as two groups.
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text)
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number]
    text = text.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, tail] = text.split("::") as [string, string | undefined]
  const left = head ? head.split(":") : []
  const right = tail === undefined ? [] : tail ? tail.split(":") : []
  const fill = tail === undefined ? [] : Array(8 - left.length - right.length).fill("0")
  return [...left, ...fill, ...right].map((g) => g.replace(/^0+(?=.)/, ""))
}
