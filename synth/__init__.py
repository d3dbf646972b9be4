"""synth: verifiable spatial-reasoning video QA datasets from simulators."""
