/**
 * Turns a client address into the identity the gateway counts free usage
 * against. IPv6 clients are grouped by /64 like the real gateway does, so a
 * whole home or office prefix is one client; IPv4-mapped IPv6 addresses are
 * the IPv4 client they wrap, or dual-stack listeners would split one client
 * in two.
 */
export function clientIdentityFromAddress(raw: string): string {
  const address = stripDecorations(raw.trim());
  if (!address.includes(":")) return address;
  const groups = parseIPv6(address);
  if (!groups) return address.toLowerCase();
  const isV4Mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (isV4Mapped) {
    const hi = groups[6] ?? 0;
    const lo = groups[7] ?? 0;
    return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join(".");
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;
}

// x-real-ip and socket addresses can arrive as "[v6]", "[v6]:port" or with a zone id ("fe80::1%eth0").
function stripDecorations(address: string): string {
  let out = address;
  const bracketed = /^\[([^\]]*)\](?::\d+)?$/.exec(out);
  if (bracketed) out = bracketed[1] ?? "";
  const zone = out.indexOf("%");
  return zone === -1 ? out : out.slice(0, zone);
}

/** Eight 16-bit groups, or null when the text is not an IPv6 address. */
function parseIPv6(text: string): number[] | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0] ?? "");
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? "") : [];
  if (!head || !tail) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

function parseGroups(part: string): number[] | null {
  if (part === "") return [];
  const out: number[] = [];
  const pieces = part.split(":");
  for (const [i, piece] of pieces.entries()) {
    // An embedded dotted quad ("::ffff:1.2.3.4") may only be the last piece.
    if (piece.includes(".") && i === pieces.length - 1) {
      const quad = parseIPv4(piece);
      if (!quad) return null;
      out.push((quad[0]! << 8) | quad[1]!, (quad[2]! << 8) | quad[3]!);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
      out.push(Number.parseInt(piece, 16));
    } else {
      return null;
    }
  }
  return out;
}

function parseIPv4(text: string): number[] | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : Number.NaN));
  return bytes.every((b) => b >= 0 && b <= 255) ? bytes : null;
}
