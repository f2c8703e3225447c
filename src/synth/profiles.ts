/**
 * Profile canonicals declared in meta.profile. nl-core (zib2020) and MP9 profiles where one exists; for
 * resource types without a Dutch profile (directory, scheduling, documents) the FHIR core profile, so every
 * resource still names the profile it is meant to satisfy.
 */
const NICTIZ = 'http://nictiz.nl/fhir/StructureDefinition/';
const CORE = 'http://hl7.org/fhir/StructureDefinition/';

export const PROFILE = {
  patient: `${NICTIZ}nl-core-Patient`,
  organization: `${NICTIZ}nl-core-HealthcareProvider-Organization`,
  location: `${NICTIZ}nl-core-HealthcareProvider`,
  practitioner: `${NICTIZ}nl-core-HealthProfessional-Practitioner`,
  practitionerRole: `${NICTIZ}nl-core-HealthProfessional-PractitionerRole`,
  payerOrganization: `${NICTIZ}nl-core-Payer-Organization`,
  coverage: `${NICTIZ}nl-core-Payer.InsuranceCompany`,
  problem: `${NICTIZ}nl-core-Problem`,
  allergy: `${NICTIZ}nl-core-AllergyIntolerance`,
  encounter: `${NICTIZ}nl-core-Encounter`,
  procedure: `${NICTIZ}nl-core-Procedure-event`,
  vaccination: `${NICTIZ}nl-core-Vaccination-event`,
  lab: `${NICTIZ}nl-core-LaboratoryTestResult`,
  specimen: `${NICTIZ}nl-core-LaboratoryTestResult.Specimen`,
  bloodPressure: `${NICTIZ}nl-core-BloodPressure`,
  bodyWeight: `${NICTIZ}nl-core-BodyWeight`,
  bodyHeight: `${NICTIZ}nl-core-BodyHeight`,
  heartRate: `${NICTIZ}nl-core-HeartRate`,
  o2Saturation: `${NICTIZ}nl-core-O2Saturation`,
  tobaccoUse: `${NICTIZ}nl-core-TobaccoUse`,
  barthel: `${NICTIZ}nl-core-BarthelADLIndex`,
  painScore: `${NICTIZ}nl-core-PainScore`,
  nursingIntervention: `${NICTIZ}nl-core-NursingIntervention`,
  medicationAgreement: `${NICTIZ}mp-MedicationAgreement`,
  medicationDispense: `${NICTIZ}mp-MedicationDispense`,
  medicationUse: `${NICTIZ}mp-MedicationUse2`,
  pharmaceuticalProduct: `${NICTIZ}mp-PharmaceuticalProduct`,
  endpoint: `${CORE}Endpoint`,
  healthcareService: `${CORE}HealthcareService`,
  appointment: `${CORE}Appointment`,
  questionnaireResponse: `${CORE}QuestionnaireResponse`,
  documentReference: `${CORE}DocumentReference`,
  binary: `${CORE}Binary`,
} as const;

export const meta = (profile: string) => ({ profile: [profile] });
