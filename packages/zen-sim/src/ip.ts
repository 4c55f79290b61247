/**
 * Turns a client address into the key the gateway counts free usage against, exactly as the
 * gateway's source does it (gateway-drift-2026.md, section 3, row 5): an address with a colon
 * is cut to its first four colon-separated fields as written, so a fully written IPv6 address
 * is grouped by /64 but a compressed one by its written prefix (`2001:db8::1` stays whole,
 * `2a02:1234:5678::1` becomes `2a02:1234:5678:`), and IPv4-mapped forms (`::ffff:1.2.3.4`) are
 * kept as written, so they are not the IPv4 client they wrap. A missing or empty address is the
 * one literal bucket `unknown`. Nothing is parsed or normalised: two spellings of one address are
 * two clients, as at the gateway.
 */
export function ipKey(raw: string | null | undefined): string {
  const address = raw?.trim() ?? "";
  if (address === "") return "unknown";
  return address.includes(":") ? address.split(":", 4).join(":") : address;
}
