/**
 * Responses of the real CDS service (captured from `createApp` with the ROS1+ brain-metastases record
 * of test/fixtures/cds/records.ts, hookInstance fixed): an order-select answer for a draft of
 * alectinib (`MedicationRequest/draft-1`) and the patient-view answer. Tests rewrite the draft id.
 */
export const ORDER_SELECT_ALECTINIB_ROS1 = {
  cards: [
    {
      uuid: '85ed9e95-4755-507c-a94e-a5ed7227f90f',
      summary: 'Alectinib does not work in ROS1+ NSCLC: do not give; consider entrectinib, repotrectinib',
      detail:
        'Draft order: **alectinib**.\n\n- Alectinib \\(Alecensa\\) in ROS1-positive NSCLC: Alectinib does not work in ROS1-positive NSCLC and should never be used for it.\n\n**Sources**\n\n- **ros1ders-2022**: ROS1ders: Treating Stage 4 ROS1+ Cancer (patient information, last updated 19 Feb 2022). Alectinib does not work for ROS1 and should never be used; brigatinib and ensartinib are much less effective than crizotinib, entrectinib or repotrectinib. Avoid single-agent checkpoint inhibitors (ineffective and may prevent a later TKI). Crizotinib does not treat the brain; entrectinib and repotrectinib do; lorlatinib with many brain metastases or leptomeningeal disease. Rebiopsy or liquid biopsy at progression; oligoprogression can be treated locally while continuing the TKI; pemetrexed-based chemotherapy if TKIs are unavailable.\n- **ros1-first-line-qa-2025**: What is the recommended first-line treatment for patients with ROS1 mutant NSCLC? (clinical Q&A summary, updated 5 Nov 2025). ROS1 first line: crizotinib or entrectinib, repotrectinib if available; ceritinib or lorlatinib weaker. Brain metastases: entrectinib or repotrectinib. After crizotinib/ceritinib: repotrectinib or lorlatinib (entrectinib also an option, esp. CNS progression). After entrectinib/repotrectinib: repotrectinib if not given, lorlatinib, chemotherapy. Do not use alectinib; avoid immunotherapy after targeted therapy; broad molecular profiling at progression. Before a ROS1 TKI evaluate LVEF, uric acid, QT interval and electrolytes. Oligometastatic/oligoprogression: local therapy.',
      indicator: 'critical',
      source: {
        label: 'ALK/ROS1 NSCLC decision support (knowledge base 0.1.0)',
        topic: {
          system: 'urn:alk-ros1-cds:topic',
          code: 'order-concordance',
          display: 'Order concordance',
        },
      },
      suggestions: [
        {
          uuid: 'adea52d6-7346-5a1c-a02d-f25ee9b1570f',
          label: 'Replace with entrectinib',
          actions: [
            {
              type: 'delete',
              description: 'Remove the draft order for alectinib',
              resourceId: 'MedicationRequest/draft-1',
            },
            {
              type: 'create',
              description: 'Draft a MedicationRequest for entrectinib',
              resource: {
                resourceType: 'MedicationRequest',
                status: 'draft',
                intent: 'order',
                subject: {
                  reference: 'Patient/ros1-bm',
                },
                medicationCodeableConcept: {
                  text: 'entrectinib',
                },
                reasonCode: [
                  {
                    coding: [
                      {
                        system: 'http://snomed.info/sct',
                        code: '254637007',
                        display: 'Non-small cell lung cancer (disorder)',
                      },
                    ],
                  },
                ],
              },
            },
          ],
        },
        {
          uuid: '908eea5d-b8c1-5190-a06b-1c3b468914b8',
          label: 'Replace with repotrectinib',
          actions: [
            {
              type: 'delete',
              description: 'Remove the draft order for alectinib',
              resourceId: 'MedicationRequest/draft-1',
            },
            {
              type: 'create',
              description: 'Draft a MedicationRequest for repotrectinib',
              resource: {
                resourceType: 'MedicationRequest',
                status: 'draft',
                intent: 'order',
                subject: {
                  reference: 'Patient/ros1-bm',
                },
                medicationCodeableConcept: {
                  text: 'repotrectinib',
                },
                reasonCode: [
                  {
                    coding: [
                      {
                        system: 'http://snomed.info/sct',
                        code: '254637007',
                        display: 'Non-small cell lung cancer (disorder)',
                      },
                    ],
                  },
                ],
              },
            },
          ],
        },
      ],
      selectionBehavior: 'at-most-one',
      overrideReasons: [
        {
          system: 'urn:alk-ros1-cds:override-reason',
          code: 'clinical-judgement',
          display: 'Clinical judgement: benefit outweighs the concern',
        },
        {
          system: 'urn:alk-ros1-cds:override-reason',
          code: 'patient-preference',
          display: 'Patient preference or shared decision',
        },
        {
          system: 'urn:alk-ros1-cds:override-reason',
          code: 'clinical-trial',
          display: 'Part of a clinical trial',
        },
        {
          system: 'urn:alk-ros1-cds:override-reason',
          code: 'record-incomplete',
          display: 'The record is incomplete or out of date',
        },
        {
          system: 'urn:alk-ros1-cds:override-reason',
          code: 'already-arranged',
          display: 'Already done or arranged elsewhere',
        },
      ],
      links: [
        {
          label: 'Open the ALK/ROS1 summary',
          url: 'http://localhost:3000/app/launch.html',
          type: 'smart',
        },
      ],
    },
  ],
};

export const PATIENT_VIEW_ROS1 = {
  cards: [
    {
      uuid: '87d85642-1189-54cf-853e-7eaccc1acdaa',
      summary: 'ROS1+ NSCLC, first-line TKI, with brain metastases: entrectinib, repotrectinib preferred',
      detail:
        '**ROS1-positive, first-line TKI, with brain metastases** (rule `ros1-first-line-cns`). Biomarker: ROS1 positive by NGS \\(RNA\\) \\(2026-08-24, Observation/ros1-bm-ros1-ngs\\).\n\n**Preferred**\n\n- **Entrectinib (Rozlytrek)** 600 mg orally once daily, with or without food. Before the first dose: LVEF (echocardiogram) missing; Uric acid missing. _[aslan-ch11-3.2, aslan-ch11-5.1, ros1-first-line-qa-2025, ros1ders-2022]_\n- **Repotrectinib (Augtyro)** 160 mg orally once daily for 14 days, then 160 mg twice daily (step-up), with or without food. Dizziness and light-headedness in the first 1-2 weeks (about 30%). Repotrectinib induces CYP3A4 (US label): levels of CYP3A substrates such as tacrolimus or hormonal contraceptives fall. A textbook chapter calls it a CYP3A inhibitor; the label says otherwise. Before the first dose: Uric acid missing; LVEF (echocardiogram) missing. _[ros1-first-line-qa-2025, ros1ders-2022, aslan-ch11-4.1]_\n\n**Other options**\n\n- **Lorlatinib (Lorbrena)** Especially with many brain metastases or leptomeningeal disease. 100 mg orally once daily, with or without food; CrCl 15 to &lt; 30 mL/min: 75 mg once daily. CNS effects (cognition, mood, speech, psychosis, seizures) in about half of patients; hyperlipidaemia in 65-70%: prefer pitavastatin, pravastatin or rosuvastatin. Before the first dose: LVEF (echocardiogram) missing; Uric acid missing. _[ros1ders-2022]_\n- **Taletrectinib (Ibtrozi)** Intracranial ORR 67% in TKI-naive patients (TRUST-II). 600 mg orally once daily on an empty stomach (no food 2 h before and 2 h after); avoid grapefruit; sun protection during treatment and for 5 days after. Before the first dose: Uric acid missing; LVEF (echocardiogram) missing. _[trial-trust]_\n\n**Avoid**\n\n- **Crizotinib (Xalkori)**: Crizotinib does not treat the brain effectively; entrectinib or repotrectinib are preferred with brain metastases. _[aslan-ch11-3.2, ros1-first-line-qa-2025, ros1ders-2022]_\n- **Alectinib (Alecensa)**: Alectinib does not work in ROS1-positive NSCLC and should never be used for it. _[ros1ders-2022, ros1-first-line-qa-2025]_\n- **Brigatinib (Alunbrig)**: Much less effective than ROS1 TKIs in ROS1-positive NSCLC. _[ros1ders-2022]_\n- **Ensartinib (Ensacove)**: Much less effective than ROS1 TKIs in ROS1-positive NSCLC. _[ros1ders-2022]_\n- **Pembrolizumab (Keytruda)**: Single-agent immunotherapy should not be used in ROS1-positive NSCLC (less effective regardless of PD-L1, and its side effects can prevent a later TKI); avoid it after progression on targeted therapy too. _[aslan-ch11-2, ros1-first-line-qa-2025, ros1ders-2022]_\n- **Nivolumab (Opdivo)**: Single-agent immunotherapy should not be used in ROS1-positive NSCLC (less effective regardless of PD-L1, and its side effects can prevent a later TKI); avoid it after progression on targeted therapy too. _[aslan-ch11-2, ros1-first-line-qa-2025, ros1ders-2022]_\n- **Atezolizumab (Tecentriq)**: Single-agent immunotherapy should not be used in ROS1-positive NSCLC (less effective regardless of PD-L1, and its side effects can prevent a later TKI); avoid it after progression on targeted therapy too. _[aslan-ch11-2, ros1-first-line-qa-2025, ros1ders-2022]_\n- **Durvalumab (Imfinzi)**: Single-agent immunotherapy should not be used in ROS1-positive NSCLC (less effective regardless of PD-L1, and its side effects can prevent a later TKI); avoid it after progression on targeted therapy too. _[aslan-ch11-2, ros1-first-line-qa-2025, ros1ders-2022]_\n- **Ipilimumab (Yervoy)**: Immunotherapy is frequently ineffective in ROS1-positive NSCLC and can prevent a later TKI. _[ros1-first-line-qa-2025, ros1ders-2022]_\n- **Cemiplimab (Libtayo)**: Single-agent immunotherapy should not be used in ROS1-positive NSCLC (less effective regardless of PD-L1). _[aslan-ch11-2, ros1-first-line-qa-2025, ros1ders-2022]_\n- **Tremelimumab (Imjudo)**: Immunotherapy is frequently ineffective in ROS1-positive NSCLC and can prevent a later TKI. _[ros1-first-line-qa-2025, ros1ders-2022]_\n\n**Sources**\n\n- **ros1-first-line-qa-2025**: What is the recommended first-line treatment for patients with ROS1 mutant NSCLC? (clinical Q&A summary, updated 5 Nov 2025). ROS1 first line: crizotinib or entrectinib, repotrectinib if available; ceritinib or lorlatinib weaker. Brain metastases: entrectinib or repotrectinib. After crizotinib/ceritinib: repotrectinib or lorlatinib (entrectinib also an option, esp. CNS progression). After entrectinib/repotrectinib: repotrectinib if not given, lorlatinib, chemotherapy. Do not use alectinib; avoid immunotherapy after targeted therapy; broad molecular profiling at progression. Before a ROS1 TKI evaluate LVEF, uric acid, QT interval and electrolytes. Oligometastatic/oligoprogression: local therapy.\n- **ros1ders-2022**: ROS1ders: Treating Stage 4 ROS1+ Cancer (patient information, last updated 19 Feb 2022). Alectinib does not work for ROS1 and should never be used; brigatinib and ensartinib are much less effective than crizotinib, entrectinib or repotrectinib. Avoid single-agent checkpoint inhibitors (ineffective and may prevent a later TKI). Crizotinib does not treat the brain; entrectinib and repotrectinib do; lorlatinib with many brain metastases or leptomeningeal disease. Rebiopsy or liquid biopsy at progression; oligoprogression can be treated locally while continuing the TKI; pemetrexed-based chemotherapy if TKIs are unavailable.\n- **aslan-ch11-5.3**: Aslan V. ALK and ROS1-Positive Non-Small Cell Lung Cancer: Molecular Characteristics, Diagnostic Strategies, and Targeted Therapeutic Approaches (book chapter 11) (\u00a75.3 Local treatment options and eligibility criteria). With CNS involvement prioritise CNS-penetrant TKIs; symptomatic or bulky lesions: SRS (limited), WBRT (multiple), surgery (large, symptomatic); with a CNS-active TKI radiation may be deferred. Oligometastatic disease (1-3 lesions): consider local ablative therapy (SBRT, surgery, RFA).\n- **aslan-ch11-3.2**: Aslan V. ALK and ROS1-Positive Non-Small Cell Lung Cancer: Molecular Characteristics, Diagnostic Strategies, and Targeted Therapeutic Approaches (book chapter 11) (\u00a73.2 TKIs and resistance in ROS1-positive NSCLC). Crizotinib: ORR 72%, PFS 19.2 months, limited CNS penetration. Entrectinib has intracranial activity and is favoured with CNS disease. G2032R (about one third after crizotinib) reduces crizotinib and entrectinib activity; repotrectinib retains activity.\n- **aslan-ch11-5.1**: Aslan V. ALK and ROS1-Positive Non-Small Cell Lung Cancer: Molecular Characteristics, Diagnostic Strategies, and Targeted Therapeutic Approaches (book chapter 11) (\u00a75.1 Molecularly targeted systemic therapy algorithm). ALK: alectinib, brigatinib, lorlatinib first line with equal strength (category 1); crizotinib or ceritinib only when preferred agents are not accessible. ROS1: crizotinib or entrectinib first line (entrectinib with brain metastases); repotrectinib where available, not EMA-approved at the time of writing.\n- **aslan-ch11-4.1**: Aslan V. ALK and ROS1-Positive Non-Small Cell Lung Cancer: Molecular Characteristics, Diagnostic Strategies, and Targeted Therapeutic Approaches (book chapter 11) (\u00a74.1 Progression-free and overall survival outcomes). Repotrectinib (TRIDENT-1): ORR 79% TKI-naive, 38% pretreated, 59% with G2032R; intracranial response 89% naive, 42% pretreated.\n- **trial-trust**: TRUST-I / TRUST-II: taletrectinib in ROS1 NSCLC (FDA approval summaries (June 2025)). TKI-naive ORR 90% / 85%; pretreated ORR 52% / 62%; TRUST-II intracranial ORR 67% naive, 56% pretreated.\n- **aslan-ch11-2**: Aslan V. ALK and ROS1-Positive Non-Small Cell Lung Cancer: Molecular Characteristics, Diagnostic Strategies, and Targeted Therapeutic Approaches (book chapter 11) (\u00a72 Molecular Diagnostic Techniques and Biomarkers). Test ALK and ROS1 in all advanced NSCLC regardless of age, sex or smoking; tissue first, plasma ctDNA if tissue is inadequate. ALK IHC (Ventana D5F3) strong diffuse staining suffices; equivocal/weak staining needs FISH or NGS. ROS1 FISH positive at &gt;=15% of cells; ROS1 IHC (SP384, D4D6) is a sensitive screen with limited specificity: confirm by FISH or RNA-based NGS. DNA-based NGS may miss fusions; RNA is more sensitive. Single-agent checkpoint inhibitors have limited efficacy in these tumours regardless of PD-L1.',
      indicator: 'info',
      source: {
        label: 'ALK/ROS1 NSCLC decision support (knowledge base 0.1.0)',
        topic: {
          system: 'urn:alk-ros1-cds:topic',
          code: 'therapy-selection',
          display: 'Therapy selection',
        },
      },
      suggestions: [
        {
          uuid: '1887f2d1-e3ea-54ad-ba3d-9bc852b1bab3',
          label: 'Order Entrectinib (Rozlytrek) (preferred)',
          actions: [
            {
              type: 'create',
              description: 'Draft a MedicationRequest for entrectinib',
              resource: {
                resourceType: 'MedicationRequest',
                status: 'draft',
                intent: 'order',
                subject: {
                  reference: 'Patient/ros1-bm',
                },
                medicationCodeableConcept: {
                  text: 'entrectinib',
                },
                reasonCode: [
                  {
                    coding: [
                      {
                        system: 'http://snomed.info/sct',
                        code: '254637007',
                        display: 'Non-small cell lung cancer (disorder)',
                      },
                    ],
                  },
                ],
                note: [
                  {
                    text: '600 mg orally once daily, with or without food.',
                  },
                ],
              },
            },
          ],
          extension: {
            'urn:alk-ros1-cds:preference': 'preferred',
          },
        },
        {
          uuid: '4a06a509-37e5-5d9a-a048-5db86e9d1392',
          label: 'Order Repotrectinib (Augtyro) (preferred)',
          actions: [
            {
              type: 'create',
              description: 'Draft a MedicationRequest for repotrectinib',
              resource: {
                resourceType: 'MedicationRequest',
                status: 'draft',
                intent: 'order',
                subject: {
                  reference: 'Patient/ros1-bm',
                },
                medicationCodeableConcept: {
                  text: 'repotrectinib',
                },
                reasonCode: [
                  {
                    coding: [
                      {
                        system: 'http://snomed.info/sct',
                        code: '254637007',
                        display: 'Non-small cell lung cancer (disorder)',
                      },
                    ],
                  },
                ],
                note: [
                  {
                    text: '160 mg orally once daily for 14 days, then 160 mg twice daily (step-up), with or without food.',
                  },
                ],
              },
            },
          ],
          extension: {
            'urn:alk-ros1-cds:preference': 'preferred',
          },
        },
        {
          uuid: 'c0e8911a-f657-519b-8d7e-ef97c685f6bd',
          label: 'Order Lorlatinib (Lorbrena)',
          actions: [
            {
              type: 'create',
              description: 'Draft a MedicationRequest for lorlatinib',
              resource: {
                resourceType: 'MedicationRequest',
                status: 'draft',
                intent: 'order',
                subject: {
                  reference: 'Patient/ros1-bm',
                },
                medicationCodeableConcept: {
                  coding: [
                    {
                      system: 'http://www.nlm.nih.gov/research/umls/rxnorm',
                      code: '2103164',
                      display: 'lorlatinib',
                    },
                  ],
                  text: 'lorlatinib',
                },
                reasonCode: [
                  {
                    coding: [
                      {
                        system: 'http://snomed.info/sct',
                        code: '254637007',
                        display: 'Non-small cell lung cancer (disorder)',
                      },
                    ],
                  },
                ],
                note: [
                  {
                    text: '100 mg orally once daily, with or without food; CrCl 15 to < 30 mL/min: 75 mg once daily.',
                  },
                ],
              },
            },
          ],
          extension: {
            'urn:alk-ros1-cds:preference': 'other',
          },
        },
        {
          uuid: '77086881-bb2d-58e6-8a5f-02a0d97b4bfb',
          label: 'Order Taletrectinib (Ibtrozi)',
          actions: [
            {
              type: 'create',
              description: 'Draft a MedicationRequest for taletrectinib',
              resource: {
                resourceType: 'MedicationRequest',
                status: 'draft',
                intent: 'order',
                subject: {
                  reference: 'Patient/ros1-bm',
                },
                medicationCodeableConcept: {
                  text: 'taletrectinib',
                },
                reasonCode: [
                  {
                    coding: [
                      {
                        system: 'http://snomed.info/sct',
                        code: '254637007',
                        display: 'Non-small cell lung cancer (disorder)',
                      },
                    ],
                  },
                ],
                note: [
                  {
                    text: '600 mg orally once daily on an empty stomach (no food 2 h before and 2 h after); avoid grapefruit; sun protection during treatment and for 5 days after.',
                  },
                ],
              },
            },
          ],
          extension: {
            'urn:alk-ros1-cds:preference': 'other',
          },
        },
      ],
      selectionBehavior: 'at-most-one',
      overrideReasons: [
        {
          system: 'urn:alk-ros1-cds:override-reason',
          code: 'clinical-judgement',
          display: 'Clinical judgement: benefit outweighs the concern',
        },
        {
          system: 'urn:alk-ros1-cds:override-reason',
          code: 'patient-preference',
          display: 'Patient preference or shared decision',
        },
        {
          system: 'urn:alk-ros1-cds:override-reason',
          code: 'clinical-trial',
          display: 'Part of a clinical trial',
        },
        {
          system: 'urn:alk-ros1-cds:override-reason',
          code: 'record-incomplete',
          display: 'The record is incomplete or out of date',
        },
        {
          system: 'urn:alk-ros1-cds:override-reason',
          code: 'already-arranged',
          display: 'Already done or arranged elsewhere',
        },
      ],
      links: [
        {
          label: 'Open the ALK/ROS1 summary',
          url: 'http://localhost:3000/app/launch.html',
          type: 'smart',
        },
      ],
    },
    {
      uuid: '687ec25d-beed-56b5-8deb-b6ce42d1f13d',
      summary: 'Before Entrectinib, Repotrectinib: missing: LVEF, Uric acid',
      detail:
        '- **LVEF (echocardiogram): missing.** LVEF: no result on file.\n- **Uric acid: missing.** Uric acid: no result on file.\n\nLook-back windows: LVEF (echocardiogram) 180 days; Uric acid 30 days.\n\n**Sources**\n\n- **label-entrectinib-chf**: [ROZLYTREK (entrectinib) US Prescribing Information](https://dailymed.nlm.nih.gov/dailymed/search.cfm?labeltype=all&query=entrectinib) (Warnings and Precautions: Congestive Heart Failure). Assess LVEF prior to initiation (post-10/2023 wording; earlier labels limited this to patients with symptoms or risk factors).\n- **ros1-first-line-qa-2025**: What is the recommended first-line treatment for patients with ROS1 mutant NSCLC? (clinical Q&A summary, updated 5 Nov 2025). ROS1 first line: crizotinib or entrectinib, repotrectinib if available; ceritinib or lorlatinib weaker. Brain metastases: entrectinib or repotrectinib. After crizotinib/ceritinib: repotrectinib or lorlatinib (entrectinib also an option, esp. CNS progression). After entrectinib/repotrectinib: repotrectinib if not given, lorlatinib, chemotherapy. Do not use alectinib; avoid immunotherapy after targeted therapy; broad molecular profiling at progression. Before a ROS1 TKI evaluate LVEF, uric acid, QT interval and electrolytes. Oligometastatic/oligoprogression: local therapy.\n- **local-check-defaults**: Project clinical specification \u00a73: pre-therapy check defaults. Default look-back windows (LVEF 180 days; ECG, labs 30 days; lipids, glucose 90 days) and abnormal thresholds (LVEF &lt; 50%, QTc &gt; 470 ms warning / &gt; 500 ms critical, HR &lt; 50, uric acid &gt; ULN (7.0 mg/dL), K &lt; 3.5 mmol/L, Mg &lt; 0.7 mmol/L, ALT/AST &gt; 3x ULN, bilirubin &gt; 1.5x ULN, CK &gt; 2.5x ULN, TG &gt; 500 or cholesterol &gt; 300 mg/dL, glucose &gt; 180 mg/dL, HbA1c &gt; 8%, lipase/amylase &gt; 2x ULN, BP &gt;= 160/100). Configurable per site.\n- **label-entrectinib-hyperuricemia**: [ROZLYTREK (entrectinib) US Prescribing Information](https://dailymed.nlm.nih.gov/dailymed/search.cfm?labeltype=all&query=entrectinib) (Warnings and Precautions: Hyperuricemia). Serum uric acid before initiation and periodically.',
      indicator: 'info',
      source: {
        label: 'ALK/ROS1 NSCLC decision support (knowledge base 0.1.0)',
        url: 'https://dailymed.nlm.nih.gov/dailymed/search.cfm?labeltype=all&query=entrectinib',
        topic: {
          system: 'urn:alk-ros1-cds:topic',
          code: 'pretherapy-checks',
          display: 'Pre-therapy checks',
        },
      },
      suggestions: [
        {
          uuid: 'ce348e8b-69df-57bb-8b57-d1962b6974dc',
          label: 'Order Echocardiography',
          actions: [
            {
              type: 'create',
              description: 'Draft a ServiceRequest: Echocardiography',
              resource: {
                resourceType: 'ServiceRequest',
                status: 'draft',
                intent: 'order',
                subject: {
                  reference: 'Patient/ros1-bm',
                },
                category: [
                  {
                    coding: [
                      {
                        system: 'http://snomed.info/sct',
                        code: '363679005',
                        display: 'Imaging',
                      },
                    ],
                  },
                ],
                code: {
                  coding: [
                    {
                      system: 'http://snomed.info/sct',
                      code: '40701008',
                      display: 'Echocardiography',
                    },
                  ],
                  text: 'Echocardiography',
                },
                reasonCode: [
                  {
                    text: 'LVEF (echocardiogram) before Entrectinib, Repotrectinib',
                  },
                ],
              },
            },
          ],
        },
        {
          uuid: 'c67f7b92-f070-56df-bf40-e629e2cf3cb6',
          label: 'Order Urate [Mass/volume] in Serum or Plasma',
          actions: [
            {
              type: 'create',
              description: 'Draft a ServiceRequest: Urate [Mass/volume] in Serum or Plasma',
              resource: {
                resourceType: 'ServiceRequest',
                status: 'draft',
                intent: 'order',
                subject: {
                  reference: 'Patient/ros1-bm',
                },
                category: [
                  {
                    coding: [
                      {
                        system: 'http://snomed.info/sct',
                        code: '108252007',
                        display: 'Laboratory procedure',
                      },
                    ],
                  },
                ],
                code: {
                  coding: [
                    {
                      system: 'http://loinc.org',
                      code: '3084-1',
                      display: 'Urate [Mass/volume] in Serum or Plasma',
                    },
                  ],
                  text: 'Urate [Mass/volume] in Serum or Plasma',
                },
                reasonCode: [
                  {
                    text: 'Uric acid before Entrectinib, Repotrectinib',
                  },
                ],
              },
            },
          ],
        },
      ],
      selectionBehavior: 'any',
      overrideReasons: [
        {
          system: 'urn:alk-ros1-cds:override-reason',
          code: 'clinical-judgement',
          display: 'Clinical judgement: benefit outweighs the concern',
        },
        {
          system: 'urn:alk-ros1-cds:override-reason',
          code: 'patient-preference',
          display: 'Patient preference or shared decision',
        },
        {
          system: 'urn:alk-ros1-cds:override-reason',
          code: 'clinical-trial',
          display: 'Part of a clinical trial',
        },
        {
          system: 'urn:alk-ros1-cds:override-reason',
          code: 'record-incomplete',
          display: 'The record is incomplete or out of date',
        },
        {
          system: 'urn:alk-ros1-cds:override-reason',
          code: 'already-arranged',
          display: 'Already done or arranged elsewhere',
        },
      ],
      links: [
        {
          label: 'Open the ALK/ROS1 summary',
          url: 'http://localhost:3000/app/launch.html',
          type: 'smart',
        },
        {
          label: 'ROZLYTREK (entrectinib) US Prescribing Information',
          url: 'https://dailymed.nlm.nih.gov/dailymed/search.cfm?labeltype=all&query=entrectinib',
          type: 'absolute',
        },
      ],
    },
    {
      uuid: 'f17e22cb-9019-5e06-aa5b-a54051935dc8',
      summary:
        'Brain metastases: SRS, WBRT or surgery may be considered; radiation may be deferred on a CNS-active TKI',
      detail:
        'Brain metastases: symptomatic or bulky lesions may need SRS (few lesions), WBRT (many) or surgery (large symptomatic lesions); with a CNS-active TKI, radiation may be deferred in selected patients.\n\n**Sources**\n\n- **aslan-ch11-5.3**: Aslan V. ALK and ROS1-Positive Non-Small Cell Lung Cancer: Molecular Characteristics, Diagnostic Strategies, and Targeted Therapeutic Approaches (book chapter 11) (\u00a75.3 Local treatment options and eligibility criteria). With CNS involvement prioritise CNS-penetrant TKIs; symptomatic or bulky lesions: SRS (limited), WBRT (multiple), surgery (large, symptomatic); with a CNS-active TKI radiation may be deferred. Oligometastatic disease (1-3 lesions): consider local ablative therapy (SBRT, surgery, RFA).\n- **ros1ders-2022**: ROS1ders: Treating Stage 4 ROS1+ Cancer (patient information, last updated 19 Feb 2022). Alectinib does not work for ROS1 and should never be used; brigatinib and ensartinib are much less effective than crizotinib, entrectinib or repotrectinib. Avoid single-agent checkpoint inhibitors (ineffective and may prevent a later TKI). Crizotinib does not treat the brain; entrectinib and repotrectinib do; lorlatinib with many brain metastases or leptomeningeal disease. Rebiopsy or liquid biopsy at progression; oligoprogression can be treated locally while continuing the TKI; pemetrexed-based chemotherapy if TKIs are unavailable.',
      indicator: 'info',
      source: {
        label: 'ALK/ROS1 NSCLC decision support (knowledge base 0.1.0)',
        topic: {
          system: 'urn:alk-ros1-cds:topic',
          code: 'local-therapy',
          display: 'Local therapy',
        },
      },
      links: [
        {
          label: 'Open the ALK/ROS1 summary',
          url: 'http://localhost:3000/app/launch.html',
          type: 'smart',
        },
      ],
    },
  ],
};

/** Discovery as the service answers it (prefetch templates of the service). */
export const DISCOVERY = {
  services: [
    {
      hook: 'patient-view',
      title: 'ALK/ROS1 NSCLC: biomarkers, therapy options and pre-therapy checks',
      description:
        'For advanced NSCLC: ALK and ROS1 status (with testing advice when unknown, unconfirmed or discordant), guideline-concordant TKIs for the current line with their evidence, pending pre-therapy checks, and local-therapy information. Links to the SMART app.',
      id: 'alk-ros1-patient-view',
      prefetch: {
        patient: 'Patient/{{context.patientId}}',
        conditions:
          'Condition?patient={{context.patientId}}&category=http://terminology.hl7.org/CodeSystem/condition-category|problem-list-item,http://terminology.hl7.org/CodeSystem/condition-category|encounter-diagnosis,http://hl7.org/fhir/us/core/CodeSystem/condition-category|health-concern&clinical-status=active,recurrence,relapse,inactive,remission,resolved&_count=200',
        'biomarker-observations':
          'Observation?patient={{context.patientId}}&code=http://loinc.org|78205-2,http://loinc.org|78210-2,http://loinc.org|78233-4,http://loinc.org|79206-9,http://loinc.org|100019-9,http://loinc.org|21787-7,http://loinc.org|21813-1,http://loinc.org|88744-8,http://loinc.org|90305-4,http://loinc.org|104276-1,http://loinc.org|102038-7,http://loinc.org|81747-8,http://loinc.org|104290-2,http://loinc.org|69548-6&_count=100',
        'biomarker-lab-observations':
          'Observation?patient={{context.patientId}}&category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory&_count=200',
        reports:
          'DiagnosticReport?patient={{context.patientId}}&category=http://terminology.hl7.org/CodeSystem/v2-0074|GE,http://terminology.hl7.org/CodeSystem/v2-0074|LAB,http://terminology.hl7.org/CodeSystem/v2-0074|PAT,http://terminology.hl7.org/CodeSystem/v2-0074|SP,http://terminology.hl7.org/CodeSystem/v2-0074|CP&_count=100',
        labs: 'Observation?patient={{context.patientId}}&category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory&code=http://loinc.org|3084-1,http://loinc.org|14933-6,http://loinc.org|2823-3,http://loinc.org|6298-4,http://loinc.org|19123-9,http://loinc.org|2601-3,http://loinc.org|17861-6,http://loinc.org|49765-1,http://loinc.org|1742-6,http://loinc.org|1920-8,http://loinc.org|1975-2,http://loinc.org|14631-6,http://loinc.org|2157-6,http://loinc.org|2093-3,http://loinc.org|35200-5,http://loinc.org|2571-8,http://loinc.org|35217-9,http://loinc.org|2345-7,http://loinc.org|2339-0,http://loinc.org|1558-6,http://loinc.org|4548-4,http://loinc.org|3040-3,http://loinc.org|1798-8,http://loinc.org|2106-3,http://loinc.org|2112-1,http://loinc.org|19080-1,http://loinc.org|21198-7&_count=200',
        'vital-signs':
          'Observation?patient={{context.patientId}}&category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs&code=http://loinc.org|8867-4,http://loinc.org|8480-6,http://loinc.org|8462-4,http://loinc.org|85354-9&_count=100',
        'cardiac-studies':
          'Observation?patient={{context.patientId}}&code=http://loinc.org|10230-1,http://loinc.org|8806-2,http://loinc.org|8807-0,http://loinc.org|18043-0,http://loinc.org|8808-8,http://loinc.org|8636-3&_count=100',
        'disease-status':
          'Observation?patient={{context.patientId}}&code=http://loinc.org|21908-9,http://loinc.org|21902-2,http://loinc.org|97509-4&_count=100',
        'medication-requests':
          'MedicationRequest?patient={{context.patientId}}&status=active,on-hold,completed,stopped,cancelled,draft,unknown&_count=200',
        'medication-statements':
          'MedicationStatement?patient={{context.patientId}}&status=active,completed,stopped,on-hold,intended,unknown,not-taken&_count=200',
        'medication-administrations': 'MedicationAdministration?patient={{context.patientId}}&_count=200',
      },
    },
    {
      hook: 'order-select',
      title: 'ALK/ROS1 NSCLC: check the selected TKI or immunotherapy order',
      description:
        'Checks the selected draft orders against the patient: wrong gene, non-preferred agent, poor CNS penetration with brain metastases, prior progression, immunotherapy in ALK+/ROS1+ disease, interactions with current medications, and missing pre-therapy checks.',
      id: 'alk-ros1-order-select',
      prefetch: {
        patient: 'Patient/{{context.patientId}}',
        conditions:
          'Condition?patient={{context.patientId}}&category=http://terminology.hl7.org/CodeSystem/condition-category|problem-list-item,http://terminology.hl7.org/CodeSystem/condition-category|encounter-diagnosis,http://hl7.org/fhir/us/core/CodeSystem/condition-category|health-concern&clinical-status=active,recurrence,relapse,inactive,remission,resolved&_count=200',
        'biomarker-observations':
          'Observation?patient={{context.patientId}}&code=http://loinc.org|78205-2,http://loinc.org|78210-2,http://loinc.org|78233-4,http://loinc.org|79206-9,http://loinc.org|100019-9,http://loinc.org|21787-7,http://loinc.org|21813-1,http://loinc.org|88744-8,http://loinc.org|90305-4,http://loinc.org|104276-1,http://loinc.org|102038-7,http://loinc.org|81747-8,http://loinc.org|104290-2,http://loinc.org|69548-6&_count=100',
        'biomarker-lab-observations':
          'Observation?patient={{context.patientId}}&category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory&_count=200',
        reports:
          'DiagnosticReport?patient={{context.patientId}}&category=http://terminology.hl7.org/CodeSystem/v2-0074|GE,http://terminology.hl7.org/CodeSystem/v2-0074|LAB,http://terminology.hl7.org/CodeSystem/v2-0074|PAT,http://terminology.hl7.org/CodeSystem/v2-0074|SP,http://terminology.hl7.org/CodeSystem/v2-0074|CP&_count=100',
        labs: 'Observation?patient={{context.patientId}}&category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory&code=http://loinc.org|3084-1,http://loinc.org|14933-6,http://loinc.org|2823-3,http://loinc.org|6298-4,http://loinc.org|19123-9,http://loinc.org|2601-3,http://loinc.org|17861-6,http://loinc.org|49765-1,http://loinc.org|1742-6,http://loinc.org|1920-8,http://loinc.org|1975-2,http://loinc.org|14631-6,http://loinc.org|2157-6,http://loinc.org|2093-3,http://loinc.org|35200-5,http://loinc.org|2571-8,http://loinc.org|35217-9,http://loinc.org|2345-7,http://loinc.org|2339-0,http://loinc.org|1558-6,http://loinc.org|4548-4,http://loinc.org|3040-3,http://loinc.org|1798-8,http://loinc.org|2106-3,http://loinc.org|2112-1,http://loinc.org|19080-1,http://loinc.org|21198-7&_count=200',
        'vital-signs':
          'Observation?patient={{context.patientId}}&category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs&code=http://loinc.org|8867-4,http://loinc.org|8480-6,http://loinc.org|8462-4,http://loinc.org|85354-9&_count=100',
        'cardiac-studies':
          'Observation?patient={{context.patientId}}&code=http://loinc.org|10230-1,http://loinc.org|8806-2,http://loinc.org|8807-0,http://loinc.org|18043-0,http://loinc.org|8808-8,http://loinc.org|8636-3&_count=100',
        'disease-status':
          'Observation?patient={{context.patientId}}&code=http://loinc.org|21908-9,http://loinc.org|21902-2,http://loinc.org|97509-4&_count=100',
        'medication-requests':
          'MedicationRequest?patient={{context.patientId}}&status=active,on-hold,completed,stopped,cancelled,draft,unknown&_count=200',
        'medication-statements':
          'MedicationStatement?patient={{context.patientId}}&status=active,completed,stopped,on-hold,intended,unknown,not-taken&_count=200',
        'medication-administrations': 'MedicationAdministration?patient={{context.patientId}}&_count=200',
      },
    },
    {
      hook: 'order-sign',
      title: 'ALK/ROS1 NSCLC: check orders before signing',
      description:
        'The same checks as order-select on every draft order about to be signed; cards already shown at order-select for the same draft are not repeated.',
      id: 'alk-ros1-order-sign',
      prefetch: {
        patient: 'Patient/{{context.patientId}}',
        conditions:
          'Condition?patient={{context.patientId}}&category=http://terminology.hl7.org/CodeSystem/condition-category|problem-list-item,http://terminology.hl7.org/CodeSystem/condition-category|encounter-diagnosis,http://hl7.org/fhir/us/core/CodeSystem/condition-category|health-concern&clinical-status=active,recurrence,relapse,inactive,remission,resolved&_count=200',
        'biomarker-observations':
          'Observation?patient={{context.patientId}}&code=http://loinc.org|78205-2,http://loinc.org|78210-2,http://loinc.org|78233-4,http://loinc.org|79206-9,http://loinc.org|100019-9,http://loinc.org|21787-7,http://loinc.org|21813-1,http://loinc.org|88744-8,http://loinc.org|90305-4,http://loinc.org|104276-1,http://loinc.org|102038-7,http://loinc.org|81747-8,http://loinc.org|104290-2,http://loinc.org|69548-6&_count=100',
        'biomarker-lab-observations':
          'Observation?patient={{context.patientId}}&category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory&_count=200',
        reports:
          'DiagnosticReport?patient={{context.patientId}}&category=http://terminology.hl7.org/CodeSystem/v2-0074|GE,http://terminology.hl7.org/CodeSystem/v2-0074|LAB,http://terminology.hl7.org/CodeSystem/v2-0074|PAT,http://terminology.hl7.org/CodeSystem/v2-0074|SP,http://terminology.hl7.org/CodeSystem/v2-0074|CP&_count=100',
        labs: 'Observation?patient={{context.patientId}}&category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory&code=http://loinc.org|3084-1,http://loinc.org|14933-6,http://loinc.org|2823-3,http://loinc.org|6298-4,http://loinc.org|19123-9,http://loinc.org|2601-3,http://loinc.org|17861-6,http://loinc.org|49765-1,http://loinc.org|1742-6,http://loinc.org|1920-8,http://loinc.org|1975-2,http://loinc.org|14631-6,http://loinc.org|2157-6,http://loinc.org|2093-3,http://loinc.org|35200-5,http://loinc.org|2571-8,http://loinc.org|35217-9,http://loinc.org|2345-7,http://loinc.org|2339-0,http://loinc.org|1558-6,http://loinc.org|4548-4,http://loinc.org|3040-3,http://loinc.org|1798-8,http://loinc.org|2106-3,http://loinc.org|2112-1,http://loinc.org|19080-1,http://loinc.org|21198-7&_count=200',
        'vital-signs':
          'Observation?patient={{context.patientId}}&category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs&code=http://loinc.org|8867-4,http://loinc.org|8480-6,http://loinc.org|8462-4,http://loinc.org|85354-9&_count=100',
        'cardiac-studies':
          'Observation?patient={{context.patientId}}&code=http://loinc.org|10230-1,http://loinc.org|8806-2,http://loinc.org|8807-0,http://loinc.org|18043-0,http://loinc.org|8808-8,http://loinc.org|8636-3&_count=100',
        'disease-status':
          'Observation?patient={{context.patientId}}&code=http://loinc.org|21908-9,http://loinc.org|21902-2,http://loinc.org|97509-4&_count=100',
        'medication-requests':
          'MedicationRequest?patient={{context.patientId}}&status=active,on-hold,completed,stopped,cancelled,draft,unknown&_count=200',
        'medication-statements':
          'MedicationStatement?patient={{context.patientId}}&status=active,completed,stopped,on-hold,intended,unknown,not-taken&_count=200',
        'medication-administrations': 'MedicationAdministration?patient={{context.patientId}}&_count=200',
      },
    },
  ],
};
