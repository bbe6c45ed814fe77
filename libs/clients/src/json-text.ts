/**
 * A service's JSON answer as text, unparsed, of the shape `T`: what a client method answers when its caller
 * passes the answer on as it is (a page of 100 objects), so that no one parses and re-serializes it.
 */
export type JsonText<T> = string & { readonly __jsonOf?: T };
