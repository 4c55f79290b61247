/**
 * Pull the text of inline `<script>` elements out of an HTML document the way
 * a browser tokenizer would: content runs to the first `</script`, which is
 * why serializers write `<` inside strings as `\u003C`.
 */

const OPEN_OR_COMMENT = /<!--|<script(?=[\s/>])/gi
const CLOSE = /<\/script(?=[\s/>]|$)/gi

export interface InlineScript {
  text: string
  /** Offset of the script text in the document, for diagnostics. */
  offset: number
}

export function extractInlineScripts(html: string): InlineScript[] {
  const scripts: InlineScript[] = []
  forEachInlineScript(html, (text, offset) => {
    scripts.push({ text, offset })
  })
  return scripts
}

/** Streaming form: big pages hold many scripts, and holding them all only feeds the GC. */
export function forEachInlineScript(html: string, visit: (text: string, offset: number) => void): void {
  forEachInlineScriptRange(html, (start, end) => visit(html.slice(start, end), start))
}

/** Same walk, reporting `[start, end)` offsets: callers that skip most scripts need not copy them. */
export function forEachInlineScriptRange(html: string, visit: (start: number, end: number) => void): void {
  // `test` + `lastIndex` rather than `exec`: no match array per tag on pages with thousands of scripts.
  let pos = 0
  while (pos < html.length) {
    OPEN_OR_COMMENT.lastIndex = pos
    if (!OPEN_OR_COMMENT.test(html)) break
    const matchEnd = OPEN_OR_COMMENT.lastIndex
    // The two alternatives end in different characters: `<!--` and `<script`.
    if (html.charCodeAt(matchEnd - 1) === 45) {
      const end = html.indexOf("-->", matchEnd)
      if (end < 0) break
      pos = end + 3
      continue
    }
    const tagEnd = findTagEnd(html, matchEnd)
    if (tagEnd < 0) break
    const start = tagEnd + 1
    CLOSE.lastIndex = start
    const closed = CLOSE.test(html)
    const end = closed ? CLOSE.lastIndex - "</script".length : html.length
    // A bare `<script>` (the usual hydration tag) needs no attribute checks.
    const plain = tagEnd === matchEnd
    if (plain || isInlineJavaScript(html.slice(matchEnd, tagEnd))) visit(start, end)
    if (!closed) break
    pos = end + 8
  }
}

function isInlineJavaScript(attrs: string): boolean {
  return !hasSrc(attrs) && isJavaScriptType(attrs)
}

/** Index of the `>` closing a start tag, honouring quoted attribute values. */
function findTagEnd(html: string, from: number): number {
  let quote = 0
  for (let i = from; i < html.length; i++) {
    const c = html.charCodeAt(i)
    if (quote) {
      if (c === quote) quote = 0
    } else if (c === 34 || c === 39) quote = c
    else if (c === 62) return i
  }
  return -1
}

const SRC_ATTR = /(?:^|[\s"'])src\s*=/i
const TYPE_ATTR = /(?:^|[\s"'])type\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i

function hasSrc(attrs: string): boolean {
  return SRC_ATTR.test(attrs)
}

/** JSON, templates and the like are data islands, not the hydration script. */
function isJavaScriptType(attrs: string): boolean {
  const m = TYPE_ATTR.exec(attrs)
  if (!m) return true
  const type = (m[1] ?? m[2] ?? m[3] ?? "").trim().toLowerCase()
  return type === "" || type === "module" || type === "text/javascript" || type === "application/javascript"
}
