/**
 * Small hand-written regions: municipalities with a plausible 4-digit postcode range and street names.
 * Postcodes are generated inside the range with two letters, which gives valid-looking Dutch postcodes
 * (they need not exist). Unknown region names fall back to the first region's geography.
 */

export interface City {
  name: string;
  municipality: string;
  postcodeFrom: number;
  postcodeTo: number;
  /** Relative population weight inside the region. */
  weight: number;
  /** Telephone area code without the leading 0. */
  areaCode: string;
}

export interface RegionGeo {
  name: string;
  cities: City[];
}

export const REGIONS: readonly RegionGeo[] = [
  {
    name: 'Utrecht',
    cities: [
      { name: 'Utrecht', municipality: 'Utrecht', postcodeFrom: 3511, postcodeTo: 3585, weight: 36, areaCode: '30' },
      { name: 'Amersfoort', municipality: 'Amersfoort', postcodeFrom: 3811, postcodeTo: 3829, weight: 16, areaCode: '33' },
      { name: 'Nieuwegein', municipality: 'Nieuwegein', postcodeFrom: 3431, postcodeTo: 3439, weight: 6, areaCode: '30' },
      { name: 'Zeist', municipality: 'Zeist', postcodeFrom: 3701, postcodeTo: 3709, weight: 6, areaCode: '30' },
      { name: 'Houten', municipality: 'Houten', postcodeFrom: 3991, postcodeTo: 3995, weight: 5, areaCode: '30' },
      { name: 'Bilthoven', municipality: 'De Bilt', postcodeFrom: 3720, postcodeTo: 3723, weight: 4, areaCode: '30' },
      { name: 'IJsselstein', municipality: 'IJsselstein', postcodeFrom: 3401, postcodeTo: 3404, weight: 3, areaCode: '30' },
      { name: 'Woerden', municipality: 'Woerden', postcodeFrom: 3441, postcodeTo: 3447, weight: 5, areaCode: '348' },
    ],
  },
  {
    name: 'Groningen',
    cities: [
      { name: 'Groningen', municipality: 'Groningen', postcodeFrom: 9711, postcodeTo: 9747, weight: 40, areaCode: '50' },
      { name: 'Hoogezand', municipality: 'Midden-Groningen', postcodeFrom: 9601, postcodeTo: 9608, weight: 8, areaCode: '598' },
      { name: 'Veendam', municipality: 'Veendam', postcodeFrom: 9641, postcodeTo: 9648, weight: 5, areaCode: '598' },
      { name: 'Delfzijl', municipality: 'Eemsdelta', postcodeFrom: 9931, postcodeTo: 9936, weight: 5, areaCode: '596' },
      { name: 'Haren', municipality: 'Groningen', postcodeFrom: 9751, postcodeTo: 9752, weight: 4, areaCode: '50' },
      { name: 'Leek', municipality: 'Westerkwartier', postcodeFrom: 9351, postcodeTo: 9351, weight: 4, areaCode: '594' },
      { name: 'Winschoten', municipality: 'Oldambt', postcodeFrom: 9671, postcodeTo: 9675, weight: 5, areaCode: '597' },
    ],
  },
  {
    name: 'Zuid-Limburg',
    cities: [
      { name: 'Maastricht', municipality: 'Maastricht', postcodeFrom: 6211, postcodeTo: 6229, weight: 30, areaCode: '43' },
      { name: 'Heerlen', municipality: 'Heerlen', postcodeFrom: 6411, postcodeTo: 6419, weight: 18, areaCode: '45' },
      { name: 'Sittard', municipality: 'Sittard-Geleen', postcodeFrom: 6131, postcodeTo: 6137, weight: 12, areaCode: '46' },
      { name: 'Kerkrade', municipality: 'Kerkrade', postcodeFrom: 6461, postcodeTo: 6471, weight: 9, areaCode: '45' },
      { name: 'Valkenburg', municipality: 'Valkenburg aan de Geul', postcodeFrom: 6301, postcodeTo: 6301, weight: 3, areaCode: '43' },
      { name: 'Brunssum', municipality: 'Brunssum', postcodeFrom: 6441, postcodeTo: 6446, weight: 6, areaCode: '45' },
    ],
  },
];

export const STREETS = [
  'Kerkstraat', 'Dorpsstraat', 'Schoolstraat', 'Molenweg', 'Stationsweg', 'Julianastraat', 'Beatrixlaan',
  'Wilhelminastraat', 'Oranjelaan', 'Kastanjelaan', 'Eikenlaan', 'Lindenlaan', 'Berkenlaan', 'Parkweg',
  'Nieuwstraat', 'Hoofdstraat', 'Marktplein', 'Prinses Irenestraat', 'Tulpstraat', 'Rozenstraat',
  'Vondellaan', 'Rembrandtlaan', 'Van Goghstraat', 'Mozartlaan', 'Zonnebloemstraat', 'Meidoornlaan',
  'Sportlaan', 'Industrieweg', 'Vaartweg', 'Dijkstraat', 'Wethouder Jansenlaan', 'Burgemeester de Withstraat',
  'Laan van Nieuw Oost', 'Singel', 'Havenstraat', 'Spoorstraat', 'Esdoornstraat', 'Populierenlaan',
] as const;

/** Letters allowed in the second part of a postcode (the combinations SA, SD and SS are not issued). */
export const POSTCODE_LETTERS = 'ABCDEFGHJKLMNPRSTVWXZ';

export function findRegion(name: string | undefined): RegionGeo {
  if (!name) return REGIONS[0];
  const lower = name.toLowerCase();
  return REGIONS.find((r) => r.name.toLowerCase() === lower) ?? { name, cities: REGIONS[0].cities };
}
