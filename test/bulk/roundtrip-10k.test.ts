/**
 * The done-criterion: a 10,000-patient region (≈480,000 resources) round-trips through import and
 * $export with identical counts per type. Too slow for the regular suite on a shared 2-core runner (see the
 * measurements in bench/bulk.ts's report), so it runs only when SCHAKEL_TEST_FULL=1; SQLite only.
 */
import { defineRoundTrip } from './roundtrip.ts';

defineRoundTrip(10_000, { engines: ['sqlite'], skip: process.env.SCHAKEL_TEST_FULL === '1' ? false : 'set SCHAKEL_TEST_FULL=1 to run the 10k-patient round trip' });
