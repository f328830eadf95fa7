module.exports = require('@backstage/cli/config/eslint-factory')(__dirname, {
  rules: {
    // The app tests share their checks as functions named expect* (in
    // src/__testUtils__/appBrowser.ts), which assert with expect.
    'jest/expect-expect': ['warn', { assertFunctionNames: ['expect*'] }],
  },
});
