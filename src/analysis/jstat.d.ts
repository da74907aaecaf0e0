// jStat ships no type declarations; only the Student's t functions statistics.ts uses are declared.
declare module 'jstat' {
  interface StudentT {
    cdf(x: number, dof: number): number;
    inv(p: number, dof: number): number;
  }
  const jstat: { jStat: { studentt: StudentT } };
  export default jstat;
}
