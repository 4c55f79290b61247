/** @pawwork/secrets — removal of every trace of known secrets from text that may echo them. */
export { SecretSet, REDACTED, FRAGMENT, MIN_SECRET } from "./secret-set"
export { normalise, MAX_ROUNDS, type Normalised } from "./normalise"
