// Minimal typings for @lhncbc/ucum-lhc 7.1.9 (the package ships none); only what src/fhir/units.ts uses.
declare module '@lhncbc/ucum-lhc' {
  interface ConversionResult {
    status: 'succeeded' | 'failed' | 'error';
    toVal: number | null;
    msg: string[];
  }
  interface UcumLhcUtils {
    convertUnitTo(
      fromUnit: string,
      fromVal: number,
      toUnit: string,
      options?: { molecularWeight?: number; charge?: number },
    ): ConversionResult;
    validateUnitString(unit: string): { status: 'valid' | 'invalid' | 'error'; msg: string[] };
  }
  const ucum: { UcumLhcUtils: { getInstance(): UcumLhcUtils } };
  export default ucum;
}
