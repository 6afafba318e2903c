/**
 * The three services (contract ids) and what each shows. Discovery is built from this list and the
 * data requirements in src/fhir/queries.ts, so a query is declared once.
 */
import type { Hook } from '../schemas.ts';

export interface ServiceDefinition {
  id: string;
  hook: Hook;
  title: string;
  description: string;
}

export const SERVICES: readonly ServiceDefinition[] = [
  {
    id: 'alk-ros1-patient-view',
    hook: 'patient-view',
    title: 'ALK/ROS1 NSCLC: biomarkers, therapy options and pre-therapy checks',
    description:
      'For advanced NSCLC: ALK and ROS1 status (with testing advice when unknown, unconfirmed or discordant), guideline-concordant TKIs for the current line with their evidence, pending pre-therapy checks, and local-therapy information. Links to the SMART app.',
  },
  {
    id: 'alk-ros1-order-select',
    hook: 'order-select',
    title: 'ALK/ROS1 NSCLC: check the selected TKI or immunotherapy order',
    description:
      'Checks the selected draft orders against the patient: wrong gene, non-preferred agent, poor CNS penetration with brain metastases, prior progression, immunotherapy in ALK+/ROS1+ disease, interactions with current medications, and missing pre-therapy checks.',
  },
  {
    id: 'alk-ros1-order-sign',
    hook: 'order-sign',
    title: 'ALK/ROS1 NSCLC: check orders before signing',
    description:
      'The same checks as order-select on every draft order about to be signed; cards already shown at order-select for the same draft are not repeated.',
  },
];

export const serviceById = (id: string) => SERVICES.find((s) => s.id === id);
