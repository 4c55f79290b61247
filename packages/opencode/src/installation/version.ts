import pkg from "../../package.json" with { type: "json" }

/** This package's own version: what the runtime reports unless a host sets its own (installation.ts). */
export const VERSION: string = pkg.version
/** Default release channel as it appears in the User-Agent (`opencode/<channel>/<version>/<client>`). */
export const CHANNEL = "pawwork"
