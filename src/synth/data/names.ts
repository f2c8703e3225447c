/**
 * Hand-written Dutch name lists (common given names by sex across generations, common surnames with their
 * voorvoegsel split off, because nl-core's NameInformation keeps prefix and own name apart).
 */

export const MALE_GIVEN = [
  'Jan', 'Johannes', 'Cornelis', 'Hendrik', 'Willem', 'Gerrit', 'Pieter', 'Jacobus', 'Dirk', 'Klaas',
  'Adrianus', 'Theodorus', 'Petrus', 'Gerardus', 'Hans', 'Peter', 'Kees', 'Henk', 'Wim', 'Ton',
  'Marcel', 'Erik', 'Mark', 'Martijn', 'Jeroen', 'Bas', 'Sander', 'Dennis', 'Ruben', 'Thomas',
  'Daan', 'Sem', 'Lucas', 'Finn', 'Levi', 'Noah', 'Bram', 'Luuk', 'Milan', 'Jesse',
  'Mohammed', 'Youssef', 'Ahmet', 'Mehmet', 'Rayan', 'Stijn', 'Tim', 'Koen', 'Niels', 'Joost',
] as const;

export const FEMALE_GIVEN = [
  'Maria', 'Johanna', 'Cornelia', 'Anna', 'Wilhelmina', 'Elisabeth', 'Hendrika', 'Geertruida', 'Catharina', 'Adriana',
  'Ingrid', 'Monique', 'Marjolein', 'Annemiek', 'Petra', 'Sandra', 'Linda', 'Esther', 'Marieke', 'Karin',
  'Sanne', 'Lisa', 'Anouk', 'Femke', 'Iris', 'Laura', 'Eva', 'Fleur', 'Lotte', 'Sophie',
  'Emma', 'Julia', 'Mila', 'Tess', 'Zoë', 'Sara', 'Nora', 'Yara', 'Noor', 'Liv',
  'Fatima', 'Aïcha', 'Elif', 'Zeynep', 'Naima', 'Merel', 'Roos', 'Janneke', 'Ilse', 'Wendy',
] as const;

/** [voorvoegsel, achternaam]; the prefix is '' when there is none. */
export const SURNAMES: readonly (readonly [string, string])[] = [
  ['de', 'Jong'], ['', 'Jansen'], ['de', 'Vries'], ['van den', 'Berg'], ['van', 'Dijk'], ['', 'Bakker'],
  ['', 'Janssen'], ['', 'Visser'], ['', 'Smit'], ['', 'Meijer'], ['de', 'Boer'], ['', 'Mulder'],
  ['de', 'Groot'], ['', 'Bos'], ['', 'Vos'], ['', 'Peters'], ['', 'Hendriks'], ['van', 'Leeuwen'],
  ['', 'Dekker'], ['', 'Brouwer'], ['de', 'Wit'], ['', 'Dijkstra'], ['', 'Smits'], ['de', 'Graaf'],
  ['van der', 'Meer'], ['van der', 'Linden'], ['', 'Kok'], ['', 'Jacobs'], ['de', 'Haan'], ['', 'Vermeulen'],
  ['van den', 'Heuvel'], ['van der', 'Veen'], ['van den', 'Broek'], ['de', 'Bruijn'], ['de', 'Bruin'],
  ['van der', 'Heijden'], ['', 'Schouten'], ['van', 'Beek'], ['', 'Willems'], ['van', 'Vliet'],
  ['van de', 'Ven'], ['', 'Hoekstra'], ['', 'Maas'], ['', 'Verhoeven'], ['', 'Koster'], ['van', 'Dam'],
  ['van der', 'Wal'], ['', 'Prins'], ['', 'Blom'], ['', 'Huisman'], ['', 'Yilmaz'], ['', 'El Amrani'],
  ['', 'Kaya'], ['', 'Bouzid'], ['', 'Ramdin'], ['', 'Pinas'], ['', 'Nguyen'], ['van', 'Wijk'],
  ['', 'Kuipers'], ['', 'Postma'],
];
