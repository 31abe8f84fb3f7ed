"""Benchmark tools: task suites and their evaluators."""
