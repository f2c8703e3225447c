/** The bulk round trip on a 200-patient region (≈9,500 resources), every engine. */
import { defineRoundTrip } from './roundtrip.ts';

defineRoundTrip(200);
