export const SCHAKEL_VERSION = '0.1.0';
