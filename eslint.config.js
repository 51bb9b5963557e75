// typescript-eslint strict, type-aware, zero warnings (CONVENTIONS.md "Tooling that pays for itself").
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: [".cache/**", "**/node_modules/**", "tools/**/*.py", "eslint.config.js"] },
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
    },
  },
);
