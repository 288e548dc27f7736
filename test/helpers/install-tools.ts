import { CFN_LINT_VERSION } from './cfn-lint.js';
import { CHECKOV_VERSION } from './checkov.js';
import { pythonTool } from './python-tool.js';

// The template linters, installed before the suite so that their first use does not
// count against a test's time (each also installs itself on first use).
pythonTool('cfn-lint', CFN_LINT_VERSION);
pythonTool('checkov', CHECKOV_VERSION);
