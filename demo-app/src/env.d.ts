/** Text files imported with Vite's `?raw` (the demo shows its own rule files). */
declare module '*.edn?raw' {
  const text: string;
  export default text;
}
