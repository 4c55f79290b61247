import pkg from "../../package.json" with { type: "json" }

export const VERSION: string = pkg.version
/** Release channel as it appears in the User-Agent (`opencode/<channel>/<version>/<client>`). */
export const CHANNEL = "pawwork"
