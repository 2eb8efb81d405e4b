"""Benchmarks: scripts that measure and print numbers. Tests check behaviour; these report figures."""
