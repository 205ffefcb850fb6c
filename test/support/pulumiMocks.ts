// Loaded by mocha's --require before any test file: Pulumi mocks must be in place before a component or
// program module is imported, or resources bypass them silently.
import { installMocks } from "../../scripts/offline/pulumiMocks";

installMocks();
