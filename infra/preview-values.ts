/**
 * How a recorded input that is unknown at preview reads (the SDK's `unknown` serializes to nothing
 * useful). Its own module so the diff can use it without loading the SDK.
 */
export const UNKNOWN_AT_PREVIEW = "[unknown at preview]";
