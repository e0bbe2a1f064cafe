/**
 * The current time, injected where expiry is decided (co-signer tokens), so
 * tests move time forward instead of sleeping.
 */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();
